// The collector's configuration (docs/collector.md "Configuration"): TOML, every option also
// settable from the command line. Parsing validates everything and names the file, line and
// key of the first problem.
//
//   [collector]  sources = ["serial:/dev/ttyUSB0", "tcp:10.0.0.5:4001"], database = "...",
//                commit_interval_ms = 1000
//   [validation] confirm_frames = 2, default_max_power_w = 1373760, cadence_s = 300,
//                silent_after_cadences = 3, idle_gap_ms = 20, collision_window_ms = 2,
//                collision_drift_ppm = 20, collision_horizon_cadences = 12
//   [[tariff]]   name, currency, energy_per_kwh = "0.1432", demand_per_kw = "12.50",
//                fixed_per_meter = "4.00"   (exact decimals, at most 6 fractional digits)
//   [[meter]]    id, model, label, tenant, location, tariff
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/model_number.h"

namespace imsm::collector {

// A bad configuration: what() reads "FILE:LINE: KEY: problem".
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Money in micro-units of the currency (1 USD = 1,000,000): exact, integer.
using Micros = std::int64_t;

struct Tariff {
  std::string name = "default";
  std::string currency = "USD";
  Micros energy_per_kwh = 0;   // micro-units per kWh
  Micros demand_per_kw = 0;    // micro-units per kW of peak demand in the period
  Micros fixed_per_meter = 0;  // micro-units per meter per bill
};

struct MeterEntry {
  std::uint16_t id = 0;
  std::string model;  // empty: unknown model
  std::optional<protocol::ModelConfig> model_config;
  std::string label;
  std::string tenant;
  std::string location;
  std::string tariff;  // empty: the default tariff
};

// The largest power any IMS model can register: S2 347/600 V, three elements, 1200 A CTs,
// +10%: 3 x 347 x 1200 x 1.1 = 1,373,760 W. The default for meters of unknown model, so a
// true reading is never rejected for want of a model number.
inline constexpr std::int64_t kLargestModelPowerW = 1'373'760;

struct ValidationSettings {
  int confirm_frames = 2;                                  // unknown ID: frames to become known
  std::int64_t default_max_power_w = kLargestModelPowerW;  // unknown model
  std::int64_t cadence_s = 300;                            // one frame every 5 minutes (2.5)
  int silent_after_cadences = 3;                           // silent event after 3 missed cadences
  double idle_gap_ms = 20.0;                               // framer idle gap (SPEC)
  // Lock-step collisions (docs/collector.md "Collision phantoms"): a meter is due when a frame
  // arrives within window + drift x (time since its last frame) of a whole number of cadences
  // after its last frame, and that frame is at most `collision_horizon_cadences` old.
  double collision_window_ms = 2.0;   // 0 turns the defence off
  double collision_drift_ppm = 20.0;  // relative clock drift of a meter against the collector
  int collision_horizon_cadences = 12;
};

struct CollectorConfig {
  std::string path;  // the file it came from, empty for defaults
  std::vector<std::string> sources;
  std::string database;
  std::int64_t commit_interval_ms = 1000;
  ValidationSettings validation;
  std::vector<Tariff> tariffs;
  std::vector<MeterEntry> meters;

  [[nodiscard]] const MeterEntry* find_meter(std::uint16_t id) const;
  // The tariff named `name`, else the one named "default", else the first, else null.
  [[nodiscard]] const Tariff* find_tariff(std::string_view name) const;
};

inline constexpr const char* kDefaultConfigPath = "/etc/imsmeter/imsmeter.toml";

// Parses TOML text; `path` names the file in errors. Throws ConfigError.
[[nodiscard]] CollectorConfig parse_config(std::string_view text, const std::string& path);
// Reads and parses a file. Throws ConfigError (also for an unreadable file).
[[nodiscard]] CollectorConfig load_config(const std::string& path);

// Exact decimal text ("12.5", "0.1432", "3") to micro-units; nullopt when not a decimal
// with at most 6 fractional digits or out of range.
[[nodiscard]] std::optional<Micros> parse_decimal_micros(std::string_view text);
// Micro-units to text with `decimals` fractional digits, rounded half away from zero.
[[nodiscard]] std::string format_micros(Micros value, int decimals);

// Maximum power of a model (guide 2.1, SPEC "CTs"): elements x nominal L-N voltage x CT
// primary x 1.1, in whole watts rounded up.
[[nodiscard]] std::int64_t model_max_power_w(const protocol::ModelConfig& model);

}  // namespace imsm::collector

namespace imsm::collector {
// `path` when given; else the default file when present; else built-in defaults.
[[nodiscard]] CollectorConfig load_config_or_default(const std::string& path);
}  // namespace imsm::collector
