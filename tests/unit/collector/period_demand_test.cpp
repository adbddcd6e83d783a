// The period's own peak demand (derive/period_demand.h; guide 2.4.2 key-switch reset, 2.5.2
// 0.02 kW per count, 3.7 15-minute rolling demand). Expectations derived by hand beside each.
#include <gtest/gtest.h>

#include "collector/derive/period_demand.h"
#include "helpers.h"

namespace imsm::collector {
namespace {

using test::kMinute;
using test::kT0;

Point pt(int minute, std::int64_t kwh, std::uint16_t peak, std::uint8_t resets,
         std::uint32_t epoch = 0) {
  return Point{kT0 + minute * kMinute, epoch, kwh, peak, resets};
}

TEST(PeriodDemand, Guide2_4_2_AcrossAResetOnlyThePeakAfterTheResetCounts) {
  // Before the period the register holds 500 (an earlier period's peak). Inside: 500, 520
  // (rose), then a reset (counter 3 -> 4) and 40, 60, 60. After the last reset the highest
  // value read is 60 counts = 60 x 20 W = 1200 W. Taking the period's largest register value
  // would bill 520 counts (10.4 kW) from before the reset.
  const std::vector<Point> p = {pt(-5, 10, 500, 3), pt(0, 11, 500, 3), pt(5, 12, 520, 3),
                                pt(10, 13, 40, 4),  pt(15, 14, 60, 4), pt(20, 15, 60, 4),
                                pt(25, 16, 90, 4)};
  const auto d = period_demand(p, kT0, kT0 + 25 * kMinute, false);
  EXPECT_EQ(d.method, DemandMethod::RegisterSinceReset);
  EXPECT_EQ(to_string(d.method), "register_since_reset");
  EXPECT_EQ(d.register_counts, 60);
  EXPECT_EQ(d.w, 1200);
  EXPECT_EQ(d.resets, 1u);
}

TEST(PeriodDemand, ARegisterThatRoseInsideThePeriodIsThePeriodsPeak) {
  // 300 before the period; inside 300, 300, 340, 340: the register rose to 340 counts inside
  // the period, so 340 x 20 W = 6800 W was reached inside it.
  const std::vector<Point> p = {pt(-5, 0, 300, 9), pt(0, 1, 300, 9), pt(5, 2, 300, 9),
                                pt(10, 3, 340, 9), pt(15, 4, 340, 9)};
  const auto d = period_demand(p, kT0, kT0 + 20 * kMinute, false);
  EXPECT_EQ(d.method, DemandMethod::Register);
  EXPECT_EQ(d.w, 6800);
  EXPECT_EQ(d.resets, 0u);
}

// A register stuck at the guide's 3313 counts (guide 2.5.2: 66.26 kW) with kWh per 5 minutes
// 1,0,1 | 2,1,1 | 0,0,1 from an aligned quarter: quarters of 2, 4 and 1 kWh.
std::vector<Point> quiet() {
  const int steps[] = {1, 0, 1, 2, 1, 1, 0, 0, 1};
  std::vector<Point> p;
  std::int64_t e = 1000;
  for (int i = 0; i <= 9; ++i) {
    p.push_back(pt(i * 5, e, 3313, 7));
    if (i < 9) e += steps[i];
  }
  return p;
}

TEST(PeriodDemand, AQuietRegisterIsNotThePeriodsPeakTheIntervalPeakIsUsed) {
  // The largest quarter holds 4 kWh: 4 kWh / 0.25 h = 16 kW = 16000 W (4 kW per kWh step).
  const auto d = period_demand(quiet(), kT0, kT0 + 45 * kMinute, false);
  EXPECT_EQ(d.method, DemandMethod::Interval15Min);
  EXPECT_EQ(d.w, 16'000);
  EXPECT_EQ(d.interval_w, 16'000);
  EXPECT_EQ(d.register_counts, 0);
}

TEST(PeriodDemand, AQuietRegisterIsCarriedWhenTheTariffSaysSo) {
  // 3313 counts x 20 W = 66,260 W (guide 2.5.2: 66.26 kW).
  const auto d = period_demand(quiet(), kT0, kT0 + 45 * kMinute, true);
  EXPECT_EQ(d.method, DemandMethod::RegisterCarried);
  EXPECT_EQ(d.w, 66'260);
  EXPECT_EQ(d.interval_w, 16'000);  // still reported beside it
}

TEST(PeriodDemand, AReplacementStartsTheCountAgain) {
  // The old meter (epoch 0) read 900 counts; the new one (epoch 1) 30 then 45: the new
  // meter's 45 counts = 900 W. Its reset counter change is no key-switch reset (0 counted).
  const std::vector<Point> p = {pt(0, 5000, 900, 3), pt(5, 5001, 900, 3), pt(10, 2, 30, 0, 1),
                                pt(15, 3, 45, 0, 1)};
  const auto d = period_demand(p, kT0, kT0 + 20 * kMinute, false);
  EXPECT_EQ(d.method, DemandMethod::RegisterSinceReset);
  EXPECT_EQ(d.w, 900);
  EXPECT_EQ(d.resets, 0u);
}

TEST(PeriodDemand, NoReadingNoDemand) {
  const auto d = period_demand({}, kT0, kT0 + kMinute, true);
  EXPECT_EQ(d.method, DemandMethod::None);
  EXPECT_EQ(d.w, 0);
}

}  // namespace
}  // namespace imsm::collector
