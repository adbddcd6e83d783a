// Derived data (docs/collector.md): interpolated consumption, rollups, demand; exact money.
#include <gtest/gtest.h>

#include <random>

#include "collector/derive/consumption.h"
#include "collector/report/report.h"
#include "helpers.h"

namespace imsm::collector {
namespace {

using test::kMinute;
using test::kT0;

std::vector<Point> series(std::int64_t start_kwh, int n, std::int64_t step_us, std::mt19937& rng,
                          int max_step_kwh) {
  std::vector<Point> p;
  std::int64_t e = start_kwh;
  for (int i = 0; i < n; ++i) {
    p.push_back(Point{kT0 + i * step_us + static_cast<std::int64_t>(rng() % 1000), 0, e, 0, 0});
    e += static_cast<std::int64_t>(rng() % static_cast<unsigned>(max_step_kwh + 1));
  }
  return p;
}

TEST(Consumption, InterpolatesBoundariesExactlyInWattHours) {
  const std::vector<Point> p = {{kT0, 0, 100, 0, 0}, {kT0 + 3 * kMinute, 0, 101, 0, 0}};
  // 1 kWh over 3 minutes; at 1 minute: 333.33 Wh -> 333 (half up), at 1.5 min: 500.
  EXPECT_EQ(interpolate_wh(p[0], p[1], kT0 + kMinute), 100'333);
  EXPECT_EQ(interpolate_wh(p[0], p[1], kT0 + 90 * kMicrosPerSecond), 100'500);
  EXPECT_EQ(interpolate_wh(p[0], p[1], kT0 + 2 * kMinute), 100'667);
  const auto c = consumption(p, kT0 + kMinute, kT0 + 2 * kMinute);
  EXPECT_EQ(c.wh, 334);
  EXPECT_FALSE(c.partial_start);
  EXPECT_FALSE(c.partial_end);
}

TEST(Consumption, PeriodsAddUpExactly) {
  std::mt19937 rng(42);
  const auto p = series(678'299, 24 * 12 + 1, 5 * kMinute, rng, 7);
  const auto day = consumption(p, kT0 + 1, kT0 + 24 * 60 * kMinute - 7);
  const auto hours = rollup_wh(p, kT0 + 1, kT0 + 24 * 60 * kMinute - 7, 60 * kMinute);
  std::int64_t sum = 0;
  for (auto h : hours) sum += h;
  EXPECT_EQ(sum, day.wh);
  // Arbitrary split points.
  for (int k = 0; k < 50; ++k) {
    const UtcMicros a = kT0 + static_cast<std::int64_t>(rng() % 1000) * kMinute;
    const UtcMicros b = a + static_cast<std::int64_t>(rng() % 400) * kMinute + 1;
    const UtcMicros c = b + static_cast<std::int64_t>(rng() % 400) * kMinute + 1;
    EXPECT_EQ(consumption(p, a, b).wh + consumption(p, b, c).wh, consumption(p, a, c).wh);
  }
}

TEST(Consumption, ReplacementEpochsAreSummedSeparately) {
  const std::vector<Point> p = {{kT0, 0, 5000, 0, 0},
                                {kT0 + 5 * kMinute, 0, 5002, 0, 0},
                                {kT0 + 10 * kMinute, 1, 7, 0, 0},
                                {kT0 + 15 * kMinute, 1, 10, 0, 0}};
  const auto c = consumption(p, kT0, kT0 + 15 * kMinute);
  EXPECT_EQ(c.wh, 2000 + 3000);
  EXPECT_EQ(c.epochs, 2u);
}

TEST(Consumption, PeakFrom15MinuteDifferencesAndRegister) {
  std::vector<Point> p;
  const std::int64_t kwh_per_5min[] = {1, 1, 1, 4, 4, 4, 1, 1, 1};
  std::int64_t e = 0;
  for (int i = 0; i <= 9; ++i) {
    p.push_back(Point{kT0 + i * 5 * kMinute, 0, e, static_cast<std::uint16_t>(100 + i), 0});
    if (i < 9) e += kwh_per_5min[i];
  }
  // 12 kWh in the quarter 00:15-00:30 -> 48 kW.
  EXPECT_EQ(peak_15min_w(p, kT0, kT0 + 45 * kMinute), 48'000);
  // [from, to): the reading at 00:45 (109) is outside.
  EXPECT_EQ(register_peak_counts(p, kT0, kT0 + 45 * kMinute), 108);
  EXPECT_EQ(register_peak_counts(p, kT0, kT0 + 46 * kMinute), 109);
}

TEST(Consumption, ResetsCountedAcrossTheCounterWrap) {
  const std::vector<Point> p = {
      {kT0, 0, 0, 0, 254}, {kT0 + kMinute, 0, 0, 0, 255}, {kT0 + 2 * kMinute, 0, 0, 0, 1}};
  EXPECT_EQ(resets_in(p, kT0, kT0 + 3 * kMinute), 3u);
}

TEST(Billing, ChargesAreRoundedOnceToTheCentHalfUp) {
  // 1234.567 kWh at 0.1432/kWh = 176.789994... -> 176.79
  EXPECT_EQ(charge_cents(1'234'567, 143'200, 1000), 17679);
  // 0.5 cent exactly rounds up.
  EXPECT_EQ(charge_cents(1, 5'000, 1), 1);
  EXPECT_EQ(charge_cents(1, 4'999, 1), 0);
  // Guide 2.5.2: 3313 counts = 66.26 kW at 12.50/kW = 828.25.
  const auto& fv = imsm::test::frame_vectors().at(0);
  EXPECT_EQ(charge_cents(fv.peak_demand_counts, 12'500'000, 50), 82825);
  EXPECT_EQ(format_cents(82825), "828.25");
  EXPECT_EQ(format_kwh(1'234'567), "1234.567");
}

}  // namespace
}  // namespace imsm::collector
