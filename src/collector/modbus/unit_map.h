// Which meter answers at which Modbus unit ID (docs/modbus.md "Unit IDs"). A meter's
// configured `modbus_unit` (config.h CollectorConfig::modbus_units) wins; every other meter takes
// its 1-based position in the registry (Store::meters(), ordered by meter ID) when that is 1..247
// and no meter is configured at it. Positions shift when a meter with a lower ID is discovered, so
// installations that poll from a building system should configure the units.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "collector/config.h"
#include "collector/store/store.h"

namespace imsm::collector::modbus {

inline constexpr int kMaxUnit = 247;  // Modbus unit IDs 1..247 (248..255 reserved)

// Unit ID -> meter ID. Configured units of meters absent from `registry` are left out.
[[nodiscard]] std::map<std::uint8_t, std::uint16_t> assign_units(
    const std::vector<MeterInfo>& registry, const CollectorConfig& config);

}  // namespace imsm::collector::modbus
