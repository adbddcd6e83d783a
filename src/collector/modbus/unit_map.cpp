#include "collector/modbus/unit_map.h"

#include <set>

namespace imsm::collector::modbus {

std::map<std::uint8_t, std::uint16_t> assign_units(const std::vector<MeterInfo>& registry,
                                                   const CollectorConfig& config) {
  std::map<std::uint8_t, std::uint16_t> units;
  std::set<std::uint16_t> configured;
  for (const auto& m : registry)
    if (const auto it = config.modbus_units.find(m.id); it != config.modbus_units.end()) {
      units[it->second] = m.id;
      configured.insert(m.id);
    }
  // The config reserves its units even for meters not (yet) in the registry.
  std::set<int> reserved;
  for (const auto& [meter, unit] : config.modbus_units) reserved.insert(unit);
  std::set<std::uint16_t> ids;  // the registry's order: by meter ID
  for (const auto& m : registry) ids.insert(m.id);
  int position = 0;
  for (const auto id : ids) {
    ++position;
    if (position > kMaxUnit) break;
    if (configured.count(id) || reserved.count(position)) continue;
    units[static_cast<std::uint8_t>(position)] = id;
  }
  return units;
}

}  // namespace imsm::collector::modbus
