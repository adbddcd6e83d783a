// MeterConfig: what one emulated IMS Series 1000/2000 meter is (guide 2.1-2.3; SPEC "The
// meter"). Built from a model number (the foundation's parser) plus per-meter options:
// meter ID, demand override, accumulation mode, class-error model and CT wiring.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/result.h"
#include "common/units.h"
#include "protocol/model_number.h"

namespace imsm::meter {

inline constexpr int kMaxElements = 3;  // L1..L3 (Series 2000)
inline constexpr int kMaxLines = 3;     // lines a CT can sit on
inline constexpr int kMaxCtSets = 3;    // paralleled CT sets per element (guide 5, FAQ)

// How the per-element active energies combine into the registered total (research/metrology.md
// 2.7, Microchip DETENT). The IMS behaviour is not documented; Net is the default.
enum class AccumulationMode : std::uint8_t {
  Net,        // signed sum of the elements; a negative net registers nothing (detent)
  Absolute,   // sum of |P| per element (a reversed CT still registers)
  Delivered,  // sum of the positive elements only (negative elements are dropped)
};
[[nodiscard]] const char* to_string(AccumulationMode m);
[[nodiscard]] std::optional<AccumulationMode> accumulation_mode_from(std::string_view s);

// One CT set feeding an element's current input.
struct CtSetWiring {
  int line = -1;          // the line (0..2) whose conductor this CT is clamped on; -1 = own line
  bool reversed = false;  // H1 facing the load instead of the source: the meter sees -i
};

// The CTs of one element (meter input CT1..CT3). Up to three paralleled sets; the meter
// sees the sum of their secondary currents.
struct ElementWiring {
  int ct_sets = 1;  // 1..3
  std::array<CtSetWiring, kMaxCtSets> sets{};
};

// Optional class-error model imitating a real meter (off by default): per element a ratio
// (gain) error and a phase error of the current channel, P' = (1+g)·V·I·cos(phi - delta).
struct ErrorModel {
  bool enabled = false;
  std::array<double, kMaxElements> gain_error_ppm{};    // e.g. +2000 = +0.2 %
  std::array<double, kMaxElements> phase_error_mrad{};  // CT output leading by delta > 0
  // A deterministic draw within the guide's class (+/-0.5 % at PF 1, +/-0.75 % at PF 0.5):
  // |g| <= 0.3 %, |delta| <= 1.5 mrad (0.086 deg).
  [[nodiscard]] static ErrorModel from_seed(std::uint64_t seed);
};

// The sample-mode analog front end and its firmware corrections, like a metering IC
// (research/metrology.md 2.2: ADE7953-style ADC, DC-blocking high-pass filter, phase
// calibration). Phasor mode ignores it.
struct FrontEnd {
  int adc_bits = 24;        // quantisation of both channels (sigma-delta); 0 = ideal samples
  double v_full_scale = 0;  // ADC peak, volts; 0 = sqrt2 x 1.25 x the element's supply max
  double i_full_scale = 0;  // ADC peak, primary A; 0 = sqrt2 x 2 x rated (crest factor 2 at 110 %)
  double hpf_hz = 0.02;     // DC-blocking high-pass corner on both channels; 0 = off
  double current_skew_s = 0;      // the current channel is sampled this much after the voltage
  bool skew_compensation = true;  // the firmware re-aligns the current (cubic interpolation)
};

struct MeterOptions {
  MeterId meter_id{};
  std::optional<bool> demand;  // overrides the model; default: the model's option (old
                               // format numbers do not say: demand on)
  AccumulationMode accumulation = AccumulationMode::Net;
  ErrorModel error_model{};
  FrontEnd front_end{};
  std::array<ElementWiring, kMaxElements> wiring{};
  // Delay from the subinterval end to the frame's first start bit (firmware latency).
  std::int64_t tx_latency_ns = 0;
};

enum class ConfigError : std::uint8_t { BadModelNumber, BadCtSets, BadCtLine };
[[nodiscard]] const char* to_string(ConfigError e);

// Supply range of one element's voltage input (guide 2.2, Tables 1-2), volts L-N.
struct SupplyRange {
  double min_v = 0;
  double max_v = 0;
};

struct MeterConfig {
  protocol::ModelConfig model{};
  MeterId meter_id{};
  bool demand = true;
  int elements = 1;
  AccumulationMode accumulation = AccumulationMode::Net;
  ErrorModel error_model{};
  FrontEnd front_end{};
  std::array<ElementWiring, kMaxElements> wiring{};
  std::int64_t tx_latency_ns = 0;
  // Derived from the model:
  double ct_ratio = 1000.0;                      // primary A per secondary A (100:0.1 -> 1000)
  double rated_primary_a = 100.0;                // CT primary rating (I_r)
  std::array<double, kMaxElements> nominal_v{};  // L-N nominal per element
  std::array<SupplyRange, kMaxElements> supply{};

  [[nodiscard]] static Result<MeterConfig, ConfigError> from_model(const protocol::ModelConfig& m,
                                                                   const MeterOptions& o = {});
  [[nodiscard]] static Result<MeterConfig, ConfigError> from_model_number(
      std::string_view model_number, const MeterOptions& o = {});

  // Maximum current (rated + 10 %), primary amperes (SPEC "CTs").
  [[nodiscard]] double max_primary_a() const { return rated_primary_a * 1.1; }
  // Anti-creep (no-load) threshold on an element's measured current, primary amperes:
  // 0.05 % of the CT rating (50 uA secondary on a 0.1 A CT). See docs/meter.md.
  [[nodiscard]] double creep_threshold_a() const { return rated_primary_a * 0.0005; }
};

}  // namespace imsm::meter
