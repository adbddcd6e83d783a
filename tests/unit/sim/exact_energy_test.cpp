// The accuracy reference (sim/exact_energy.h): hand-derived values, one per service, and a
// property against numerical quadrature of the synthesized waveforms (research 6.1 layer A).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "meter/meter.h"
#include "meter/waveform_synth.h"
#include "sim/exact_energy.h"
#include "sim/rng.h"

namespace imsm::sim {
namespace {

constexpr double kPi = 3.14159265358979323846;

meter::MeterConfig config(const char* model, meter::MeterOptions o = {}) {
  auto c = meter::MeterConfig::from_model_number(model, o);
  EXPECT_TRUE(c.has_value()) << model;
  return *c;
}

// 1ph-2w 120 V, 100 A at PF 1, 60 Hz over a quarter of a half cycle [0, 1/480 s]:
// v i = 2 V I cos^2(wt) = V I (1 + cos 2wt), so E = V I (T + sin(2wT) / 2w), 2wT = pi/2:
// E = 12000 (1/480 + 1/(240 pi)) = 25 + 15.9155 = 40.91549 J. (The ripple is 39 % here.)
TEST(ExactEnergy, Hand_OnePhase2Wire120_RippleOverAnEighthCycle) {
  const auto c = config("S1-120-N-01-01-011-00");
  const auto in = meter::PhasorInput::balanced(c, 100.0, 0.0, 60.0);
  EXPECT_NEAR(exact_energy(c, in, 0, 1.0 / 480).registered_j, 25.0 + 50.0 / kPi, 1e-9);
}

// 1ph-2w 277 V, 200 A at PF 0.5 lag (phi = 60 deg), 50 Hz, [0, 1/200 s] (a quarter cycle):
// v i = V I [cos phi + cos(2wt - phi)], E = V I [T cos phi + (sin(2wT - phi) + sin phi) / 2w],
// 2wT = pi so the bracket is T cos phi + sin phi / w = 0.0025 + 0.8660254 / (100 pi):
// E = 55400 x 0.005256644 = 291.2181 J.
TEST(ExactEnergy, Hand_OnePhase2Wire277_PfHalfLagQuarterCycle) {
  const auto c = config("S1-277-N-01-01-021-00");
  const auto in = meter::PhasorInput::balanced(c, 200.0, 60.0, 50.0);
  const double expect = 55400.0 * (0.0025 + std::sqrt(3.0) / 2 / (100 * kPi));
  EXPECT_NEAR(exact_energy(c, in, 0, 1.0 / 200).registered_j, expect, 1e-9);
  EXPECT_NEAR(expect, 291.2181, 1e-4);
}

// 1ph-3w 120/240 (split phase, L2 at 180 deg), 100 A per leg at PF 1: each leg's ripple is
// cos(2wt + 2 x 180 deg) = cos 2wt, the same as L1's, so E = 2 x 40.91549 = 81.83099 J.
TEST(ExactEnergy, Hand_SplitPhase120_240_RipplesAdd) {
  const auto c = config("S1-240-N-01-01-041-00");
  const auto in = meter::PhasorInput::balanced(c, 100.0, 0.0, 60.0);
  EXPECT_NEAR(exact_energy(c, in, 0, 1.0 / 480).registered_j, 2 * (25.0 + 50.0 / kPi), 1e-9);
}

// 1ph-3w 120/208 (network: L2 at -120 deg), 50 A per leg at PF 1, [0, 1/480 s]:
// L1: V I (T + 1/2w); L2: V I (T + (sin(pi/2 - 240 deg) - sin(-240 deg)) / 2w)
//   = V I (T + (sin 210 - sin 120) / 2w) = V I (T - 1.3660254 / 2w);
// E = 6000 (2/480 + (1 - 1.3660254) / (240 pi)) = 25 - 2.91274 = 22.08726 J.
TEST(ExactEnergy, Hand_Network120_208_RipplesPartlyCancel) {
  const auto c = config("S1-208-N-01-01-022-00");
  const auto in = meter::PhasorInput::balanced(c, 50.0, 0.0, 60.0);
  const double expect = 6000.0 * (2.0 / 480 + (1 - 0.5 - std::sqrt(3.0) / 2) / (240 * kPi));
  EXPECT_NEAR(exact_energy(c, in, 0, 1.0 / 480).registered_j, expect, 1e-9);
  EXPECT_NEAR(expect, 22.08726, 1e-5);
}

// 3ph-4w wye 277/480, balanced 300 A at PF 0.866 lag: the three ripples cos(2wt - phi),
// cos(2wt - phi - 240), cos(2wt - phi + 240) sum to zero, so any window gives exactly
// E = 3 V I cos 30 (t1 - t0) = 3 x 277 x 300 x 0.8660254 x 0.4877 = 105294.49 J.
TEST(ExactEnergy, Hand_Wye277_480_BalancedHasNoRipple) {
  const auto c = config("S2-480-N-01-01-041-01");
  const auto in = meter::PhasorInput::balanced(c, 300.0, 30.0, 60.0);
  const double expect = 3 * 277.0 * 300 * std::cos(kPi / 6) * (0.5 - 0.0123);
  EXPECT_NEAR(exact_energy(c, in, 0.0123, 0.5).registered_j, expect, 1e-6);
  EXPECT_NEAR(expect, 105294.49, 0.01);
}

// 3ph-4w grounded delta: L1 120 V at 0, L2 120 V at 180, L3 (high leg) 207.8 V at 90 deg;
// 100 A per element at PF 1. L3's ripple is cos(2wt + 180) = -cos 2wt, so
// E = (2 x 120 + 207.8) 100 T + (2 x 120 - 207.8) 100 sin(2wT) / 2w, T = 1/480:
// E = 44780 / 480 + 3220 / (240 pi) = 93.29167 + 4.27065 = 97.56232 J.
TEST(ExactEnergy, Hand_GroundedDelta_HighLegRippleOpposes) {
  const auto c = config("BL-208-400-GL-PKG-SO");
  auto in = meter::PhasorInput::balanced(c, 100.0, 0.0, 60.0);
  in.voltage[2].rms_v = 207.8;
  EXPECT_NEAR(exact_energy(c, in, 0, 1.0 / 480).registered_j, 44780.0 / 480 + 3220 / (240 * kPi),
              1e-9);
}

// Two paralleled CT sets on one element, 60 A at PF 1 and 40 A at 60 deg lag, one whole
// cycle (ripple integrates to 0): E = 120 (60 + 40 x 0.5) / 60 = 160 J.
TEST(ExactEnergy, Hand_ParalleledSets_AddTheirPowers) {
  meter::MeterOptions o;
  o.wiring[0].ct_sets = 2;
  const auto c = config("S1-120-N-01-01-011-00", o);
  auto in = meter::PhasorInput::balanced(c, 60.0, 0.0, 60.0);
  in.current[0][1].rms_a = 40.0;
  in.current[0][1].lag_deg = 60.0;
  EXPECT_NEAR(exact_energy(c, in, 0, 1.0 / 60).registered_j, 160.0, 1e-9);
}

// A reversed CT on one of three balanced elements: the net is (1 + 1 - 1) / 3 of the truth;
// the element energies keep their signs and sum|P| stays 3 elements' worth.
TEST(ExactEnergy, ReversedCtIsSignedPerElement) {
  meter::MeterOptions o;
  o.wiring[1].sets[0].reversed = true;
  const auto c = config("S2-208-N-01-01-081-01", o);
  const auto in = meter::PhasorInput::balanced(c, 100.0, 0.0, 60.0);
  const ExactEnergy e = exact_energy(c, in, 0, 1.0);
  EXPECT_NEAR(e.element_j[1], -12000.0, 1e-6);
  EXPECT_NEAR(e.net_j, 12000.0, 1e-6);
  EXPECT_NEAR(e.abs_sum_j, 36000.0, 1e-6);
}

// Simpson's rule on the synthesized waveforms (an independent code path: waveform_synth
// evaluates the cosines directly) agrees with the closed form to 1e-9 relative for random
// inputs with harmonics, paralleled sets, reversed CTs, CTs on other lines, any window.
TEST(ExactEnergy, AgreesWithQuadratureOfTheWaveforms) {
  Rng rng(42);
  const char* models[] = {"S1-120-N-01-01-011-00", "S1-240-N-01-01-041-00", "S2-600-N-01-01-041-01",
                          "BL-208-400-GL-PKG-SO"};
  for (int trial = 0; trial < 24; ++trial) {
    meter::MeterOptions o;
    for (auto& w : o.wiring) {
      w.ct_sets = 1 + static_cast<int>(rng.below(3));
      for (auto& s : w.sets) {
        s.reversed = rng.uniform() < 0.2;
        s.line = rng.uniform() < 0.2 ? static_cast<int>(rng.below(3)) : -1;
      }
    }
    const auto c = config(models[trial % 4], o);
    meter::PhasorInput in = meter::PhasorInput::balanced(c, 50, 0, rng.uniform(45, 65));
    for (std::size_t l = 0; l < 3; ++l) {
      in.voltage[l].rms_v = l < static_cast<std::size_t>(c.elements) ? rng.uniform(100, 300) : 0;
      in.voltage[l].harmonics = {
          2, {{{3, rng.uniform(0, 0.05), rng.uniform(-90, 90)}, {7, rng.uniform(0, 0.03), 0}}}};
      for (auto& cur : in.current[l]) {
        cur.rms_a = rng.uniform(0, 100);
        cur.lag_deg = rng.uniform(-180, 180);
        cur.harmonics = {2, {{{3, rng.uniform(0, 0.3), 10}, {5, rng.uniform(0, 0.2), -30}}}};
      }
    }
    const double t0 = rng.uniform(0, 0.1);
    const double t1 = t0 + rng.uniform(0.001, 0.2);
    // Simpson with 2n intervals on v * i, per element, from synthesized samples.
    const std::size_t n2 = 20000;
    const double h = (t1 - t0) / static_cast<double>(n2);
    std::vector<double> buf(12 * (n2 + 1));
    meter::SampleBuffers b;
    for (std::size_t l = 0; l < 3; ++l) {
      b.voltage_v[l] = buf.data() + l * (n2 + 1);
      for (std::size_t s = 0; s < 3; ++s)
        b.current_a[l][s] = buf.data() + (3 + 3 * l + s) * (n2 + 1);
    }
    (void)meter::synthesize(in, 1.0 / h, t0, n2 + 1, b);
    double net = 0;
    for (int k = 0; k < c.elements; ++k) {
      const auto ki = static_cast<std::size_t>(k);
      double sum = 0;
      for (std::size_t j = 0; j <= n2; ++j) {
        double i = 0;
        for (int s = 0; s < c.wiring[ki].ct_sets; ++s) {
          const auto& w = c.wiring[ki].sets[static_cast<std::size_t>(s)];
          const auto line = static_cast<std::size_t>(w.line < 0 ? k : w.line);
          i += (w.reversed ? -1 : 1) * b.current_a[line][static_cast<std::size_t>(s)][j];
        }
        const double wgt = (j == 0 || j == n2) ? 1 : (j % 2 ? 4 : 2);
        sum += wgt * b.voltage_v[ki][j] * i;
      }
      net += sum * h / 3;
    }
    const ExactEnergy e = exact_energy(c, in, t0, t1);
    const double scale = std::max(1.0, e.abs_sum_j);
    EXPECT_NEAR(e.net_j, net, 1e-9 * scale) << "trial " << trial;
    EXPECT_EQ(e.registered_j, e.net_j > 0 ? e.net_j : 0.0);
  }
}

// Components at or above the band limit are left out: the 35th at 60 Hz (2100 Hz) with a
// 2 kHz band contributes nothing, so the energy equals that without the harmonic.
TEST(ExactEnergy, BandLimitDropsComponentsAboveIt) {
  const auto c = config("S1-120-N-01-01-011-00");
  auto in = meter::PhasorInput::balanced(c, 100.0, 0.0, 60.0);
  const double plain = exact_energy(c, in, 0.01, 0.73).registered_j;
  in.voltage[0].harmonics = {1, {{{35, 0.05, 0}}}};
  in.current[0][0].harmonics = {1, {{{35, 0.2, 0}}}};
  EXPECT_NEAR(exact_energy(c, in, 0.01, 0.73, 2000).registered_j, plain, 1e-9);
  // Without the limit, the 35th's own power (V 6 x I 20 A = 120 W) counts.
  // Cross terms with the fundamentals (34th, 36th) stay under V1 I35 / 34w = 0.19 J each.
  EXPECT_NEAR(exact_energy(c, in, 0.01, 0.73).registered_j - plain, 120 * 0.72, 0.5);
}

}  // namespace
}  // namespace imsm::sim
