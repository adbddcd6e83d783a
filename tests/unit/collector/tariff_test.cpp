// Tariffs (report/tariff.h, config.h): time-of-use windows by local weekday and time,
// tiered blocks, and their configuration. Expectations derived by hand beside each.
#include <gtest/gtest.h>

#include <string>

#include "collector/config.h"
#include "collector/report/tariff.h"
#include "helpers.h"

namespace imsm::collector {
namespace {

using test::kT0;  // 2026-11-01T00:00:00Z, a Sunday
constexpr std::int64_t kHour = 3600 * kMicrosPerSecond;

TimeZone new_york() {
  std::string error;
  return TimeZone::load("America/New_York", error).value_or(TimeZone{});
}

Tariff on_peak_tariff() {
  Tariff t;
  t.energy_per_kwh = 100'000;  // off-peak 0.10 / kWh
  t.tou.push_back(TouWindow{"on_peak", true, false, 12 * 60, 18 * 60, 250'000});  // 0.25
  return t;
}

TEST(Tariff, TimeOfUseSlicesFollowLocalTimeOnWeekdays) {
  // Monday 2026-11-02 in New York (EST, UTC-5): midnight 05:00Z, 12:00 = 17:00Z,
  // 18:00 = 23:00Z, next midnight 05:00Z on Tuesday.
  const auto ny = new_york();
  const UtcMicros mon = kT0 + 29 * kHour;
  const auto s = tou_slices(on_peak_tariff(), ny, mon, mon + 24 * kHour);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].from, mon);
  EXPECT_EQ(s[0].window, -1);
  EXPECT_EQ(s[1].from, kT0 + 41 * kHour);  // 2026-11-02T17:00Z
  EXPECT_EQ(s[1].to, kT0 + 47 * kHour);    // 23:00Z
  EXPECT_EQ(s[1].window, 0);
  EXPECT_EQ(s[2].to, mon + 24 * kHour);
  // Sunday Nov 1 (weekend, 25 hours): all off-peak.
  const auto sun = tou_slices(on_peak_tariff(), ny, kT0 + 4 * kHour, mon);
  ASSERT_EQ(sun.size(), 1u);
  EXPECT_EQ(sun[0].window, -1);
}

TEST(Tariff, TimeOfUseEnergyIsSplitAtTheWindowEdgeByTheSameInterpolation) {
  // Readings Monday 16:00Z (11:00 EST) at 100 kWh and 19:00Z (14:00 EST) at 103 kWh: 1 kWh
  // per hour. 11:00-12:00 off-peak 1000 Wh x 0.10 = 0.10; 12:00-14:00 on-peak 2000 Wh x 0.25
  // = 0.50.
  const auto ny = new_york();
  const UtcMicros a = kT0 + 40 * kHour, b = kT0 + 43 * kHour;
  const std::vector<Point> p = {{a, 0, 100, 0, 0}, {b, 0, 103, 0, 0}};
  const auto parts = energy_parts(on_peak_tariff(), ny, p, a, b);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].name, "on_peak");
  EXPECT_EQ(parts[0].wh, 2000);
  EXPECT_EQ(parts[0].cents, 50);
  EXPECT_EQ(parts[1].name, "off_peak");
  EXPECT_EQ(parts[1].wh, 1000);
  EXPECT_EQ(parts[1].cents, 10);
  // In UTC the same readings are 16:00-19:00 local: 1 kWh off-peak (16-18 is on-peak: 2 kWh).
  const auto utc = energy_parts(on_peak_tariff(), TimeZone{}, p, a, b);
  EXPECT_EQ(utc[0].wh, 2000);
  EXPECT_EQ(utc[1].wh, 1000);
  const auto shifted = energy_parts(on_peak_tariff(), TimeZone{}, p, a, b + kHour);
  EXPECT_EQ(shifted[0].wh, 2000);  // 17:00-18:00 UTC on-peak ends at 18:00
}

TEST(Tariff, TieredBlocksAreFilledInOrderAndRoundedOncePerBlock) {
  // First 500 kWh at 0.10, the rest at 0.12. 750.5 kWh: 500 kWh -> 50.00; 250.5 kWh x 0.12
  // = 30.06. 300 kWh: 30.00 and nothing in the second block.
  Tariff t;
  t.tiers = {TierBlock{500, 100'000}, TierBlock{std::nullopt, 120'000}};
  const std::vector<Point> big = {
      {kT0, 0, 1000, 0, 0}, {kT0 + kHour, 0, 1000 + 750, 0, 0}, {kT0 + 2 * kHour, 0, 1751, 0, 0}};
  // 1000 -> 1751 over two hours; the first hour 750 kWh, half of the second 0.5 kWh.
  const auto parts = energy_parts(t, TimeZone{}, big, kT0, kT0 + 3 * kHour / 2);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].wh, 500'000);
  EXPECT_EQ(parts[0].cents, 5000);
  EXPECT_EQ(parts[1].wh, 250'500);
  EXPECT_EQ(parts[1].cents, 3006);
  const std::vector<Point> small = {{kT0, 0, 0, 0, 0}, {kT0 + kHour, 0, 300, 0, 0}};
  const auto low = energy_parts(t, TimeZone{}, small, kT0, kT0 + kHour);
  EXPECT_EQ(low[0].cents, 3000);
  EXPECT_EQ(low[1].wh, 0);
}

TEST(TariffConfig, ParsesTimeOfUseTiersMinimumAndTheBillsTimeZone) {
  const auto c = parse_config(R"(
[billing]
time_zone = "America/New_York"
[[tariff]]
name = "tou"
energy_per_kwh = "0.10"
minimum_bill = "10.00"
demand_when_quiet = "register"
[[tariff.tou]]
name = "on_peak"
days = "weekdays"
start = "12:00"
end = "18:00"
energy_per_kwh = "0.25"
[[tariff]]
name = "tiered"
[[tariff.tier]]
up_to_kwh = 500
energy_per_kwh = "0.10"
[[tariff.tier]]
energy_per_kwh = "0.12"
)",
                              "t.toml");
  EXPECT_EQ(c.billing.time_zone, "America/New_York");
  ASSERT_EQ(c.tariffs.size(), 2u);
  const auto& t = c.tariffs[0];
  ASSERT_EQ(t.tou.size(), 1u);
  EXPECT_EQ(t.tou[0].start_min, 720);
  EXPECT_EQ(t.tou[0].end_min, 1080);
  EXPECT_TRUE(t.tou[0].weekdays);
  EXPECT_FALSE(t.tou[0].weekends);
  EXPECT_EQ(t.tou[0].energy_per_kwh, 250'000);
  EXPECT_EQ(t.minimum_bill, 10'000'000);
  EXPECT_TRUE(t.demand_when_quiet_register);
  ASSERT_EQ(c.tariffs[1].tiers.size(), 2u);
  EXPECT_EQ(c.tariffs[1].tiers[0].up_to_kwh, 500);
  EXPECT_FALSE(c.tariffs[1].tiers[1].up_to_kwh.has_value());
}

TEST(TariffConfig, AFloatPriceAndAnEmptyFileAreRefused) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"[[tariff]]\nenergy_per_kwh = 0.1432\n", "bad.toml:2: tariff[0].energy_per_kwh: a float"},
      {"", "bad.toml:1: the configuration is empty"},
      {"# only a comment\n", "bad.toml:1: the configuration is empty"},
      {"[[tariff]]\n[[tariff.tou]]\nname = \"p\"\nstart = \"18:00\"\nend = \"12:00\"\n"
       "energy_per_kwh = \"1\"\n",
       "bad.toml:5: tariff[0].tou[0].end"},
      {"[[tariff]]\n[[tariff.tou]]\nname = \"p\"\nstart = \"25:00\"\nend = \"26:00\"\n"
       "energy_per_kwh = \"1\"\n",
       "bad.toml:4: tariff[0].tou[0].start"},
      {"[[tariff]]\n[[tariff.tier]]\nenergy_per_kwh = \"1\"\n[[tariff.tier]]\n"
       "energy_per_kwh = \"2\"\n",
       "bad.toml:1: tariff[0].tier[0].up_to_kwh"},
      {"[billing]\ntz = \"UTC\"\n", "bad.toml:2: billing.tz"},
  };
  for (const auto& c : cases) {
    try {
      (void)parse_config(c.text, "bad.toml");
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(c.expect, 0), 0u) << e.what();
    }
  }
  try {
    (void)parse_config("[[tariff]]\nenergy_per_kwh = 0.1432\n", "bad.toml");
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("decimal string"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace imsm::collector
