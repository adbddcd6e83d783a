// The collector's configuration (docs/collector.md "Configuration"): TOML, every option also
// settable from the command line. Parsing validates everything and names the file, line and
// key of the first problem.
//
//   [collector]  sources = ["serial:/dev/ttyUSB0", "tcp:10.0.0.5:4001"], database = "...",
//                commit_interval_ms = 1000
//   [validation] confirm_frames = 2, default_max_power_w = 1373760, cadence_s = 300,
//                silent_after_cadences = 3, idle_gap_ms = 20, collision_window_ms = 2,
//                collision_drift_ppm = 20, collision_horizon_cadences = 12
//   [billing]    time_zone = "America/New_York"   (bills' --tz default; UTC when absent)
//   [[tariff]]   name, currency, energy_per_kwh = "0.1432", demand_per_kw = "12.50",
//                fixed_per_meter = "4.00", minimum_bill = "10.00",
//                demand_when_quiet = "interval" | "register"
//                (money: exact decimal strings, at most 6 fractional digits; a TOML float
//                is refused)
//     [[tariff.tou]]   name = "on_peak", days = "weekdays" | "weekends" | "all",
//                      start = "12:00", end = "18:00", energy_per_kwh = "0.2500"
//                      (local time; energy outside every window is at energy_per_kwh)
//     [[tariff.tier]]  up_to_kwh = 500, energy_per_kwh = "0.10"   (the last block has no
//                      up_to_kwh; tiers replace energy_per_kwh and exclude tou)
//   [[meter]]    id, model, label, tenant, location, tariff, modbus_unit (1..247)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/model_number.h"

namespace imsm::collector {

// A bad configuration: what() reads "FILE:LINE: KEY: problem".
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Money in micro-units of the currency (1 USD = 1,000,000): exact, integer.
using Micros = std::int64_t;

// A time-of-use window: local time of day [start, end) on the days it names.
struct TouWindow {
  std::string name;
  bool weekdays = true;   // Monday..Friday
  bool weekends = false;  // Saturday, Sunday
  int start_min = 0;      // minutes after local midnight
  int end_min = 24 * 60;  // exclusive; 1440 is the next midnight
  Micros energy_per_kwh = 0;
};

// A block of a tiered energy price: the period's kWh up to `up_to_kwh` (cumulative, over the
// blocks before it) at this price; the last block has no limit.
struct TierBlock {
  std::optional<std::int64_t> up_to_kwh;
  Micros energy_per_kwh = 0;
};

struct Tariff {
  Tariff() = default;
  // A flat tariff: the original five fields (bench and tests build these).
  Tariff(std::string name_, std::string currency_, Micros energy, Micros demand, Micros fixed)
      : name(std::move(name_)),
        currency(std::move(currency_)),
        energy_per_kwh(energy),
        demand_per_kw(demand),
        fixed_per_meter(fixed) {}

  std::string name = "default";
  std::string currency = "USD";
  Micros energy_per_kwh = 0;   // micro-units per kWh (off-peak with TOU windows)
  Micros demand_per_kw = 0;    // micro-units per kW of the period's own peak demand
  Micros fixed_per_meter = 0;  // micro-units per meter per bill
  std::vector<TouWindow> tou;
  std::vector<TierBlock> tiers;
  Micros minimum_bill = 0;                  // a meter's total is at least this
  bool demand_when_quiet_register = false;  // quiet register: bill it instead of the interval peak
};

struct BillingSettings {
  std::string time_zone;  // empty: UTC
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
  BillingSettings billing;
  std::vector<Tariff> tariffs;
  std::vector<MeterEntry> meters;
  // [[meter]] modbus_unit: meter ID -> Modbus TCP gateway unit ID, 1..247, unique
  // (docs/modbus.md); a meter without one answers at its position in the registry.
  std::map<std::uint16_t, std::uint8_t> modbus_units;

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
