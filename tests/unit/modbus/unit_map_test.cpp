// Unit IDs (docs/modbus.md "Unit IDs"): configured modbus_unit, else registry position.
#include "collector/modbus/unit_map.h"

#include <gtest/gtest.h>

namespace imsm::collector::modbus {
namespace {

MeterInfo info(std::uint16_t id) {
  MeterInfo m;
  m.id = id;
  return m;
}

std::vector<MeterInfo> registry(std::initializer_list<std::uint16_t> ids) {
  std::vector<MeterInfo> out;
  for (const auto id : ids) out.push_back(info(id));
  return out;
}

using Units = std::map<std::uint8_t, std::uint16_t>;

TEST(UnitMap, DefaultIsThePositionByMeterId) {
  // Given out of order: positions follow meter IDs 5, 9, 12.
  EXPECT_EQ(assign_units(registry({12, 5, 9}), CollectorConfig{}),
            (Units{{1, 5}, {2, 9}, {3, 12}}));
}

TEST(UnitMap, ConfiguredUnitWinsAndReservesItsPosition) {
  const auto c = parse_config(
      "[[meter]]\nid = 12\nmodbus_unit = 2\n[[meter]]\nid = 300\nmodbus_unit = 3\n", "t.toml");
  // 12 -> 2 (configured). 5 is at position 1. 9 is at position 2, taken by 12: not served.
  // Meter 300 is not in the registry: its unit 3 stays reserved, and unanswered.
  EXPECT_EQ(assign_units(registry({5, 9, 12}), c), (Units{{1, 5}, {2, 12}}));
}

TEST(UnitMap, PositionsStopAt247) {
  std::vector<MeterInfo> many;
  for (std::uint16_t id = 1000; id < 1250; ++id) many.push_back(info(id));
  const auto units = assign_units(many, CollectorConfig{});
  ASSERT_EQ(units.size(), 247u);
  EXPECT_EQ(units.begin()->second, 1000);
  EXPECT_EQ(units.rbegin()->first, 247);
  EXPECT_EQ(units.rbegin()->second, 1246);  // position 247 = 1000 + 246
}

TEST(UnitMap, ConfigRefusesBadAndDuplicateUnits) {
  for (const char* text :
       {"[[meter]]\nid = 1\nmodbus_unit = 0\n", "[[meter]]\nid = 1\nmodbus_unit = 248\n",
        "[[meter]]\nid = 1\nmodbus_unit = \"3\"\n",
        "[[meter]]\nid = 1\nmodbus_unit = 3\n[[meter]]\nid = 2\nmodbus_unit = 3\n"})
    EXPECT_THROW((void)parse_config(text, "t.toml"), ConfigError) << text;
  try {
    (void)parse_config("[[meter]]\nid = 1\nmodbus_unit = 3\n[[meter]]\nid = 2\nmodbus_unit = 3\n",
                       "t.toml");
    ADD_FAILURE() << "a duplicate unit was accepted";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "t.toml:6: meter[1].modbus_unit: Modbus unit 3 is already another meter's");
  }
}

}  // namespace
}  // namespace imsm::collector::modbus
