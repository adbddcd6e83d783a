// The accuracy matrix (sim/accuracy_matrix.h): coverage, the fidelity limits on the exact
// meter, and the negative test: a meter with a 0.1 % gain and a 0.1 degree phase error
// fails exactly the points whose predicted error exceeds the class limit (research 1.5-1.6).
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "sim/accuracy_matrix.h"
#include "sim/exact_energy.h"

namespace imsm::sim {
namespace {

constexpr double kPi = 3.14159265358979323846;

const std::vector<AccuracyPoint>& exact_matrix() {
  static const std::vector<AccuracyPoint> pts = *run_accuracy_matrix({});
  return pts;
}

TEST(AccuracyMatrix, CoversServicesCurrentsPfsFrequenciesAndCases) {
  const auto& pts = exact_matrix();
  std::set<std::string> services, cases;
  std::set<double> currents, freqs;
  std::size_t core = 0;
  for (const auto& p : pts) {
    services.insert(p.service);
    cases.insert(p.kase);
    if (p.kase == "sine") currents.insert(p.current_percent);
    freqs.insert(p.frequency_hz);
    core += p.core;
  }
  EXPECT_EQ(services.size(), 9u);
  EXPECT_EQ(cases,
            (std::set<std::string>{"sine", "harmonics", "near_nyquist", "above_nyquist", "skew",
                                   "parallel_ct", "creep", "reversed_ct", "wrong_phase"}));
  EXPECT_EQ(currents, (std::set<double>{0.1, 0.5, 1, 2, 5, 10, 20, 50, 100, 120}));
  EXPECT_EQ(freqs, (std::set<double>{49.5, 50, 59.97, 60, 60.5}));
  // 9 services x 7 core currents x 3 PF x 2 nominal frequencies (research 6.2).
  EXPECT_EQ(core, 378u);
}

TEST(AccuracyMatrix, WindowsAreNotWholeCyclesAndStartAnglesVary) {
  std::size_t whole = 0;
  double min_start = 360, max_start = 0;
  for (const auto& p : exact_matrix()) {
    const double cycles = p.window_s * p.frequency_hz;
    whole += std::fabs(cycles - std::round(cycles)) < 0.01;
    min_start = std::min(min_start, p.start_deg);
    max_start = std::max(max_start, p.start_deg);
  }
  EXPECT_LT(whole, exact_matrix().size() / 20);  // ~2 % land within 0.01 cycle by chance
  EXPECT_LT(min_start, 10);
  EXPECT_GT(max_start, 350);
}

TEST(AccuracyMatrix, ExactMeterPassesFidelityLimits) {
  for (const auto& p : exact_matrix()) {
    EXPECT_TRUE(p.pass) << p.kase << " " << p.service << " " << p.current_percent << "% pf " << p.pf
                        << " " << p.frequency_hz << " Hz: " << p.error_ppm << " ppm";
    if (p.kase == "creep") {
      EXPECT_EQ(p.registered_wh, 0.0);
    }
    if (p.kase == "sine" && p.current_percent >= 1) {
      EXPECT_EQ(p.limit_ppm, 50);
    }
  }
}

TEST(AccuracyMatrix, BadModelNamesTheFieldAndCharacter) {
  MatrixOptions o;
  o.models = {"S2-480-N-01-01-999-01"};
  const auto r = run_accuracy_matrix(o);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find("S2-480-N-01-01-999-01"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("ct"), std::string::npos) << r.error();
}

// The error a meter with gain g and phase lead d registers at one point, derived from the
// definition of the injected error (research 1.6), not from the meter: the current is scaled
// by (1 + g) and every current phasor leads by d at the fundamental (h d at harmonic h, a time
// shift), so the registered energy is exact_energy of that modified input.
double predicted_ppm(const AccuracyPoint& p, double g, double d_deg) {
  if (p.kase != "sine") return NAN;
  auto c = meter::MeterConfig::from_model_number(p.model);
  const double lag = p.pf_sense == "lead" ? -std::acos(p.pf) : std::acos(p.pf);
  auto in = meter::PhasorInput::balanced(*c, c->rated_primary_a * p.current_percent / 100,
                                         lag * 180 / kPi, p.frequency_hz);
  if (p.high_leg_v) in.voltage[2].rms_v = *p.high_leg_v;
  const double t0 = p.start_deg / 360 / p.frequency_hz;
  const double truth = exact_energy(*c, in, t0, t0 + p.window_s).registered_j;
  for (auto& line : in.current) {
    line[0].rms_a *= 1 + g;
    line[0].lag_deg -= d_deg;
  }
  const double with_error = exact_energy(*c, in, t0, t0 + p.window_s).registered_j;
  return (with_error / truth - 1) * 1e6;
}

std::vector<AccuracyPoint> injected(AccuracyClass limits) {
  MatrixOptions o;
  o.inject = ErrorInjection{1000, 0.1};  // +0.1 % gain, 0.1 degree phase lead
  o.limits = limits;
  return *run_accuracy_matrix(o);
}

// Class 0.2 (research 1.5 table, as class 0.2S): PF 0.5 lag has +0.1 % + tan 60 x 1.745 mrad
// = +0.40 % > 0.3 % from 10 % of rated, so those fail; PF 0.5 lead (-0.20 %), PF 0.866 lag
// (+0.20 %) and PF 1 (+0.10 %) pass, and so does PF 0.5 lag below 10 % (limit 0.5 %).
TEST(AccuracyMatrix, Negative_Class02_FailsExactlyThePointsTheStandardFails) {
  std::size_t fails = 0, passes = 0;
  for (const auto& p : injected(AccuracyClass::Class02)) {
    if (p.kase != "sine") continue;
    const double pred = predicted_ppm(p, 1e-3, 0.1);
    // The meter's own error (fidelity: 50 ppm, 200 ppm below 1 %) comes on top of the
    // prediction, and the phase error's v * di term sees the ADC steps at 0.1 %.
    EXPECT_NEAR(p.error_ppm, pred, p.current_percent < 1 ? 300 : 100)
        << p.service << " " << p.current_percent;
    const bool should_fail = std::fabs(pred) > p.limit_ppm;
    EXPECT_EQ(!p.pass, should_fail) << p.service << " " << p.current_percent << "% " << p.pf << " "
                                    << p.pf_sense << " pred " << pred;
    const bool lag_half = p.pf == 0.5 && p.pf_sense == "lag" && p.current_percent >= 10;
    EXPECT_EQ(should_fail, lag_half) << p.service << " " << p.current_percent << " " << pred;
    (p.pass ? passes : fails)++;
  }
  EXPECT_GT(fails, 100u);
  EXPECT_GT(passes, 1000u);
}

// Class 0.5 (the guide's +/-0.5 % / +/-0.75 %): the same meter passes everywhere (worst
// +0.40 % at PF 0.5 lag); fidelity limits (50 ppm) fail every point that registers (the
// ones that do not: creep, and CT1 on L2 of a split phase, which nets to zero).
TEST(AccuracyMatrix, Negative_Class05PassesAndFidelityFailsEveryRegisteringPoint) {
  for (const auto& p : injected(AccuracyClass::Class05)) EXPECT_TRUE(p.pass) << p.kase;
  for (const auto& p : injected(AccuracyClass::Fidelity)) {
    EXPECT_EQ(p.pass, p.kase == "creep" || p.expected_wh == 0)
        << p.kase << " " << p.service << " " << p.error_ppm;
  }
}

TEST(AccuracyMatrix, SeededErrorModelStaysInClassAndChangesRegistration) {
  MatrixOptions o;
  o.seeded_error_model = true;
  o.limits = AccuracyClass::Class05;
  std::size_t changed = 0;
  const auto r = run_accuracy_matrix(o);
  ASSERT_TRUE(r.has_value());
  for (const auto& p : *r) {
    EXPECT_TRUE(p.pass) << p.kase << " " << p.error_ppm;
    changed += std::fabs(p.error_ppm) > 100;
  }
  EXPECT_GT(changed, 1000u);
}

}  // namespace
}  // namespace imsm::sim
