// The fleet configuration (TOML, docs/simulate.md): buses, meters, their loads, wiring
// faults, key presses and outages. Parsing validates everything and names the file, line
// and key of the first problem; the result is plain data, every time in integer ns.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocol/model_number.h"
#include "sim/ct_error_model.h"

namespace imsm::sim {

inline constexpr int kMaxElements = 3;

// A bad configuration: `what()` reads "FILE:LINE:COLUMN: KEY: problem".
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct BusConfig {
  std::string name = "main";
  double bit_error_rate = 0.0;     // per data bit on the wire
  double byte_drop_rate = 0.0;     // per byte on the wire: the receiver never sees it
  double garbage_per_hour = 0.0;   // bursts of random bytes (Poisson), e.g. switching noise
  int garbage_max_bytes = 8;       // each garbage burst holds 1..this many bytes
  std::int64_t tx_latency_ns = 0;  // subinterval end to first start bit, for every meter
};

enum class LoadKind : std::uint8_t { Constant, Residential, Office, Retail, Csv };
[[nodiscard]] const char* to_string(LoadKind k);

// One row of a CSV load: from t_ns (since the simulation start) until the next row.
struct CsvRow {
  std::int64_t t_ns = 0;
  std::array<double, kMaxElements> current_a{};  // primary amperes per element
  std::array<double, kMaxElements> pf{1.0, 1.0, 1.0};
};

struct LoadConfig {
  LoadKind kind = LoadKind::Constant;
  std::optional<std::array<double, kMaxElements>> voltage_v;  // default: nominal per element
  std::array<double, kMaxElements> current_a{};  // constant: the current; shapes: the peak
  double pf = 1.0;
  bool leading = false;  // pf_mode = "lead"
  double frequency_hz = 60.0;
  double noise = 0.10;  // daily shapes: relative randomness of the current (0..1)
  double temperature_c = kCtReferenceTemperatureC;  // ambient of the meter and its CTs
  bool shift_habits = true;  // daily shapes: shift each meter's by a random -30..+30 min
  // CSV
  std::string csv_path;  // resolved relative to the config file
  bool csv_repeat = false;
  std::vector<CsvRow> csv_rows;
};

struct WiringConfig {
  std::vector<int> reversed;    // 1-based elements whose CT faces the wrong way
  std::vector<int> ct_on_line;  // per element, 1-based line its CT really sits on
  std::vector<int> ct_sets;     // per element, paralleled CT sets 1..3 (the load splits evenly)
};

// A real meter's CT error (off by default: exact meters): a seeded class-0.5 CT per CT set,
// or one explicit curve for every CT of the meter ([meter.error_model]).
enum class ErrorModelKind : std::uint8_t { Exact, Class05, Explicit };

struct KeyPress {
  std::int64_t at_ns = 0;
  std::int64_t hold_ns = 500'000'000;
};

struct Outage {
  std::int64_t from_ns = 0;
  std::int64_t to_ns = 0;
};

struct MeterSpec {
  std::uint16_t id = 0;
  std::string bus;  // name of a BusConfig
  std::size_t bus_index = 0;
  std::string model;
  protocol::ModelConfig model_config{};
  std::optional<bool> demand;               // overrides the model's demand option
  std::optional<std::int64_t> power_up_ns;  // default: random in [0, 300 s)
  std::optional<double> drift_ppm;          // default: random in +-max_drift_ppm
  LoadConfig load;
  WiringConfig wiring;
  ErrorModelKind error_model = ErrorModelKind::Exact;  // error_model = "class-0.5" | table
  CtErrorModel explicit_ct_error;                      // ErrorModelKind::Explicit
  std::vector<KeyPress> key_presses;
  std::vector<Outage> outages;
  int source_line = 0;  // where [[meter]] starts, for later messages
};

struct FleetConfig {
  std::optional<std::uint64_t> seed;
  std::int64_t load_resolution_ns = 60'000'000'000;  // one meter step per interval
  double max_drift_ppm = 20.0;                       // for meters without drift_ppm
  std::vector<BusConfig> buses;                      // never empty after parsing
  std::vector<MeterSpec> meters;
  std::string source;  // the file name, for messages
};

// Parses and validates a TOML document; throws ConfigError. `source` names it in messages
// and anchors relative CSV paths.
[[nodiscard]] FleetConfig parse_fleet_config(std::string_view toml_text, const std::string& source);
[[nodiscard]] FleetConfig load_fleet_config(const std::string& path);

// Reads a CSV load file (header "t_s,i1_a[,i2_a,i3_a][,pf|pf1..]" or "t_s,kw[,pf]");
// `elements` and the voltages convert kW to per-element current. Throws ConfigError.
[[nodiscard]] std::vector<CsvRow> read_load_csv(const std::string& path, int elements,
                                                const std::array<double, kMaxElements>& voltage_v);

}  // namespace imsm::sim
