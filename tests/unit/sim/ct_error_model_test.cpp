// The CT error model (sim/ct_error_model.h): the curve's interpolation, the temperature and
// frequency terms, and the seeded class-0.5 draw against the guide's envelope (guide 2.2,
// Tables 1-2: +/-0.5 % at PF 1, +/-0.75 % at PF 0.5, 1 % to 100 % of rated current).
#include "sim/ct_error_model.h"

#include <gtest/gtest.h>

#include <cmath>

namespace imsm::sim {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kRadPerMin = kPi / 10800.0;

CtErrorModel typical() {
  CtErrorModel m;
  m.curve = {{1, -0.4, 6}, {5, -0.2, 4}, {20, -0.1, 2}, {100, 0.0, 1}, {120, 0.0, 1}};
  return m;
}

// Linear between points: at 12.5 % (half way from 5 to 20) the ratio error is
// (-0.2 + -0.1) / 2 = -0.15 % and the phase (4 + 2) / 2 = 3'; on a point its own values;
// outside the curve the end points' values.
TEST(CtErrorModel, InterpolatesLinearlyBetweenPoints) {
  const CtErrorModel m = typical();
  EXPECT_NEAR(m.at(12.5, 23, 60).ratio, -0.0015, 1e-15);
  EXPECT_NEAR(m.at(12.5, 23, 60).phase_rad, 3 * kRadPerMin, 1e-15);
  EXPECT_NEAR(m.at(5, 23, 60).ratio, -0.002, 1e-15);
  EXPECT_NEAR(m.at(3, 23, 60).ratio, -0.003, 1e-15);  // 1 -> 5: -0.4 + (2/4) x 0.2
  EXPECT_NEAR(m.at(0.1, 23, 60).ratio, -0.004, 1e-15);
  EXPECT_NEAR(m.at(0.1, 23, 60).phase_rad, 6 * kRadPerMin, 1e-15);
  EXPECT_NEAR(m.at(300, 23, 60).ratio, 0.0, 1e-15);
  EXPECT_NEAR(m.at(60, 23, 60).ratio, -0.0005, 1e-15);  // 20 -> 100: -0.1 + (40/80) x 0.1
  const CtErrorModel ideal;
  EXPECT_EQ(ideal.at(50, 23, 60).ratio, 0.0);
  EXPECT_EQ(ideal.at(50, 23, 60).phase_rad, 0.0);
}

// 100 ppm/C at 33 C is +1000 ppm; -50 ppm/Hz at 50 Hz is -50 x -10 = +500 ppm; at the
// reference point (23 C, 60 Hz) nothing.
TEST(CtErrorModel, TemperatureAndFrequencyMoveTheRatio) {
  CtErrorModel m;
  m.temperature_ppm_per_c = 100;
  m.frequency_ppm_per_hz = -50;
  EXPECT_NEAR(m.at(50, 33, 60).ratio, 1000e-6, 1e-15);
  EXPECT_NEAR(m.at(50, 23, 50).ratio, 500e-6, 1e-15);
  EXPECT_NEAR(m.at(50, 33, 50).ratio, 1500e-6, 1e-15);
  EXPECT_EQ(m.at(50, 23, 60).ratio, 0.0);
  EXPECT_EQ(m.at(50, 33, 50).phase_rad, 0.0);
}

// Every seeded CT at every corner of the guide's conditions: P'/P = (1 + e) cos(phi - d) /
// cos(phi) within 0.5 % at PF 1 and 0.75 % at PF 0.5 lag (phi = +60 deg) and lead (-60 deg).
// And the draw is a real CT: negative error at 1 % for most CTs, a phase lead, and the
// draws differ.
TEST(CtErrorModel, Class05DrawStaysInsideTheGuideEnvelope) {
  double worst_pf1 = 0, worst_pf05 = 0;
  int negative_at_1pct = 0;
  const int kSeeds = 2000;
  for (int seed = 0; seed < kSeeds; ++seed) {
    const CtErrorModel m = CtErrorModel::class05(static_cast<std::uint64_t>(seed) * 7919 + 1);
    EXPECT_LE(std::fabs(m.temperature_ppm_per_c), 15.0);
    EXPECT_LE(std::fabs(m.frequency_ppm_per_hz), 40.0);
    if (m.at(1, 23, 60).ratio < 0) ++negative_at_1pct;
    for (double pct : {1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0}) {
      for (double t : {-30.0, 23.0, 60.0}) {
        for (double f : {50.0, 55.0, 60.0}) {
          const CtError e = m.at(pct, t, f);
          EXPECT_GT(e.phase_rad, 0.0);
          EXPECT_LE(e.phase_rad, 1.5e-3 + 1e-12);
          const double pf1 = (1 + e.ratio) * std::cos(e.phase_rad) - 1;
          worst_pf1 = std::max(worst_pf1, std::fabs(pf1));
          for (double phi : {kPi / 3, -kPi / 3}) {
            const double r = (1 + e.ratio) * std::cos(phi - e.phase_rad) / std::cos(phi) - 1;
            worst_pf05 = std::max(worst_pf05, std::fabs(r));
          }
        }
      }
    }
  }
  EXPECT_LT(worst_pf1, 0.005);
  EXPECT_LT(worst_pf05, 0.0075);
  // The envelope is used, not trivially met: the worst draws come within 0.2 % of it.
  EXPECT_GT(worst_pf1, 0.003);
  EXPECT_GT(worst_pf05, 0.0055);
  EXPECT_GT(negative_at_1pct, kSeeds * 9 / 10);
  EXPECT_NE(CtErrorModel::class05(1).at(50, 23, 60).ratio,
            CtErrorModel::class05(2).at(50, 23, 60).ratio);
}

// Larger error at low current, as a CT's magnetising current makes it (research 1.6).
TEST(CtErrorModel, Class05ErrorIsLargerAtLowCurrent) {
  for (std::uint64_t seed = 1; seed < 200; ++seed) {
    const CtErrorModel m = CtErrorModel::class05(seed);
    EXPECT_LE(m.at(1, 23, 60).ratio, m.at(100, 23, 60).ratio);
    EXPECT_GE(m.at(1, 23, 60).phase_rad, m.at(100, 23, 60).phase_rad);
  }
}

}  // namespace
}  // namespace imsm::sim
