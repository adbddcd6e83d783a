// UTC time parsing and the TOML configuration (docs/collector.md "Configuration").
#include <gtest/gtest.h>

#include <cstdlib>

#include "collector/config.h"
#include "collector/time_util.h"
#include "helpers.h"

namespace imsm::collector {
namespace {

TEST(Time, ParsesIso8601FormsAsUtc) {
  EXPECT_EQ(parse_utc("2026-11-01"), test::kT0);
  EXPECT_EQ(parse_utc("2026-11-01T00:00:00Z"), test::kT0);
  EXPECT_EQ(parse_utc("2026-11-01T00:00Z"), test::kT0);
  EXPECT_EQ(parse_utc("2026-11-01 00:00:00"), test::kT0);
  EXPECT_EQ(parse_utc("2026-10-31T20:00:00-04:00"), test::kT0);
  EXPECT_EQ(parse_utc("2026-11-01T05:30:00+0530"), test::kT0);
  EXPECT_EQ(parse_utc("2026-11-01T00:00:01.25Z"), test::kT0 + 1'250'000);
  EXPECT_EQ(parse_utc("@1793491200"), test::kT0);
  for (const char* bad : {"", "2026-13-01", "2026-02-30", "2026-11-01T25:00", "yesterday",
                          "2026-11-01T00:00:00Q", "2026-11-01T00:00:00+5"})
    EXPECT_FALSE(parse_utc(bad).has_value()) << bad;
}

TEST(Time, FormatsUtcWithZWhateverTheLocalZone) {
  ::setenv("TZ", "America/New_York", 1);
  ::tzset();
  EXPECT_EQ(format_utc(test::kT0 + 300'012'500), "2026-11-01T00:05:00.012500Z");
  EXPECT_EQ(format_utc_seconds(test::kT0), "2026-11-01T00:00:00Z");
  EXPECT_EQ(format_utc(-1), "1969-12-31T23:59:59.999999Z");
  for (UtcMicros t : {test::kT0, test::kT0 + 123'456'789, UtcMicros{951'782'400'000'000}})
    EXPECT_EQ(parse_utc(format_utc(t)), t);
}

TEST(Config, ParsesRegistryTariffsAndValidation) {
  const auto& fv = imsm::test::frame_vectors().at(0);
  const std::string text = R"(
[collector]
sources = ["serial:/dev/ttyUSB0", "tcp:127.0.0.1:4001"]
database = "/var/lib/imsmeter/imsmeter.db"
[validation]
confirm_frames = 3
default_max_power_w = 50000
collision_window_ms = 1.5
collision_drift_ppm = 10
collision_horizon_cadences = 6
[[tariff]]
name = "standard"
energy_per_kwh = "0.1432"
demand_per_kw = "12.50"
fixed_per_meter = 4
[[meter]]
id = )" + std::to_string(fv.meter_id) +
                           R"(
model = "S2-480-N-01-01-041-01"
label = "Unit 4B"
tenant = "Acme"
tariff = "standard"
)";
  const auto c = parse_config(text, "x.toml");
  EXPECT_EQ(c.sources.size(), 2u);
  EXPECT_EQ(c.validation.confirm_frames, 3);
  EXPECT_EQ(c.validation.default_max_power_w, 50000);
  EXPECT_EQ(c.validation.collision_window_ms, 1.5);
  EXPECT_EQ(c.validation.collision_drift_ppm, 10.0);
  EXPECT_EQ(c.validation.collision_horizon_cadences, 6);
  ASSERT_EQ(c.tariffs.size(), 1u);
  EXPECT_EQ(c.tariffs[0].energy_per_kwh, 143'200);
  EXPECT_EQ(c.tariffs[0].demand_per_kw, 12'500'000);
  EXPECT_EQ(c.tariffs[0].fixed_per_meter, 4'000'000);
  const MeterEntry* m = c.find_meter(fv.meter_id);
  ASSERT_NE(m, nullptr);
  ASSERT_TRUE(m->model_config.has_value());
  // 3 elements x 277 V x 400 A x 1.1 = 365,640 W (guide 2.1 Figure 4 example).
  EXPECT_EQ(model_max_power_w(*m->model_config), 365'640);
}

TEST(Config, BadConfigNamesFileLineAndKey) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"[validation]\nconfirm_frames = 0\n", "bad.toml:2: validation.confirm_frames"},
      {"[validation]\ncollision_window_ms = -1\n", "bad.toml:2: validation.collision_window_ms"},
      {"[[meter]]\nid = 70000\n", "bad.toml:2: meter[0].id"},
      {"[[meter]]\nid = 1\n[[meter]]\nid = 1\n", "bad.toml:4: meter[1].id"},
      {"[[meter]]\nid = 1\nmodel = \"S9-480\"\n", "bad.toml:3: meter[0].model"},
      {"[[meter]]\nid = 1\ntariff = \"nope\"\n", "bad.toml:3: meter[0].tariff"},
      {"[[tariff]]\nenergy_per_kwh = \"0.1234567\"\n", "bad.toml:2: tariff[0].energy_per_kwh"},
      {"[collector]\nsourcez = []\n", "bad.toml:2: collector.sourcez"},
      {"[collector\n", "bad.toml:1:"},
  };
  for (const auto& c : cases) {
    try {
      (void)parse_config(c.text, "bad.toml");
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(c.expect, 0), 0u) << e.what();
    }
  }
}

TEST(Config, DecimalMoneyIsExact) {
  EXPECT_EQ(parse_decimal_micros("0.1432"), 143'200);
  EXPECT_EQ(parse_decimal_micros("12"), 12'000'000);
  EXPECT_EQ(parse_decimal_micros("0.000001"), 1);
  EXPECT_FALSE(parse_decimal_micros("0.0000001").has_value());
  EXPECT_FALSE(parse_decimal_micros("1,5").has_value());
  EXPECT_FALSE(parse_decimal_micros(".").has_value());
  EXPECT_EQ(format_micros(1'005'000, 2), "1.01");  // half away from zero
  EXPECT_EQ(format_micros(-1'005'000, 2), "-1.01");
}

}  // namespace
}  // namespace imsm::collector
