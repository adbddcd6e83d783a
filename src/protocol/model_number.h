// Model numbers of IMS Series 1000/2000 meters (guide 2.1, Figures 3 and 4; SPEC "Model
// numbers"). Both formats parse, with or without hyphens or spaces between fields:
//   old (before 2009-03-01): BL[wires]-voltage-ctratio[-GL]-PKG-SP|SO   BL3-240-200-PKG-SP
//   new:                     S1|S2-voltage-enclosure-capacity-installed-ctrating-options
//                                                                      S2-480-N-01-01-041-01
// A number that does not parse names the field at fault and what it expected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/result.h"

namespace imsm::protocol {

enum class ModelFormat : std::uint8_t { Old, New };

enum class Service : std::uint8_t {
  OnePhase2W,       // "1ph-2w": 1 element
  OnePhase3W,       // "1ph-3w": 1- or 2-phase 3-wire, 2 elements
  ThreePhaseWye,    // "3ph-4w-wye": 3 elements
  ThreePhaseDelta,  // "3ph-4w-delta": grounded (high-leg) delta, 3 elements
};

enum class NominalVoltage : std::uint8_t { V120, V277, V120_208, V120_240, V277_480, V347_600 };

enum class CtType : std::uint8_t { Split, Solid };

struct ModelConfig {
  ModelFormat format = ModelFormat::New;
  int series = 1000;
  Service service = Service::OnePhase2W;
  int elements = 1;
  NominalVoltage nominal_voltage = NominalVoltage::V120;
  int ct_primary_a = 100;
  int ct_secondary_ma = 100;      // 100 mA (N:0.1) or 200 mA (200:0.2)
  std::optional<CtType> ct_type;  // old format only
  std::optional<char> enclosure;  // new format only
  std::optional<int> capacity;    // new format only
  std::optional<int> installed;   // new format only
  std::optional<bool> demand;     // new format only (option 01)
  bool three_phase_feed = false;  // new format option 02
  friend bool operator==(const ModelConfig&, const ModelConfig&) = default;
};

enum class ModelField : std::uint8_t {
  Empty,
  Series,
  Wires,
  Voltage,
  CtRatio,
  Configuration,
  Package,
  CtType,
  Enclosure,
  Capacity,
  Installed,
  CtRating,
  Options,
  Separator,
  Trailing,
};

struct ModelError {
  ModelField field = ModelField::Empty;
  std::size_t position = 1;   // 1-based column in the text as given (people count from 1)
  const char* expected = "";  // what would have been valid there
};

[[nodiscard]] const char* to_string(ModelField f);
[[nodiscard]] const char* to_string(Service s);
[[nodiscard]] const char* to_string(NominalVoltage v);
[[nodiscard]] const char* to_string(CtType t);

// Line-to-neutral nominal voltage of element `index` (0-based) for this configuration, in
// volts; the high leg of a grounded delta is 120*sqrt(3) = 207.8 V.
[[nodiscard]] double element_nominal_voltage_v(const ModelConfig& c, int index);

[[nodiscard]] Result<ModelConfig, ModelError> parse_model_number(std::string_view text);

}  // namespace imsm::protocol
