// Sample mode like a metering IC (meter FrontEnd, issue 13 item 2): ADC quantisation, the
// DC-blocking filter and channel-skew compensation, each judged against exact_energy() and
// each shown to matter by turning it off.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/accuracy_run.h"
#include "sim/exact_energy.h"

namespace imsm::sim {
namespace {

constexpr double kPi = 3.14159265358979323846;

meter::MeterConfig config(const meter::FrontEnd& fe) {
  meter::MeterOptions o;
  o.front_end = fe;
  return *meter::MeterConfig::from_model_number("S1-120-N-01-01-011-00", o);
}

// Registration error (ppm) of `in` over [start, start + seconds] at 4 kHz.
double error_ppm(const meter::MeterConfig& c, const meter::PhasorInput& in, double seconds,
                 double start = 0.0123) {
  RunSpec spec;
  spec.seconds = seconds;
  spec.start_s = start;
  const RunResult r = run_sample_window(c, in, spec);
  const double truth = exact_energy(c, in, start, start + r.window_s, 2000).registered_j / 3600;
  return (r.registered_wh / truth - 1) * 1e6;
}

// A current sampled half a sample period late (125 us at 4 kHz) is 2 pi 60 x 125e-6 =
// 47.1 mrad behind at 60 Hz: at PF 0.5 lag the uncompensated meter reads cos(60 - 2.7 deg) /
// cos 60 - 1 = +8.0 %; re-aligned by the cubic it is within the 50 ppm fidelity limit.
TEST(FrontEnd, SkewCompensationRealignsTheCurrent) {
  meter::FrontEnd fe;
  fe.current_skew_s = 0.5 / 4000;
  const auto c = config(fe);
  for (const double lag : {0.0, 60.0, -60.0}) {
    const auto in = meter::PhasorInput::balanced(c, 50.0, lag, 60.0);
    EXPECT_LT(std::fabs(error_ppm(c, in, 1.3)), 50) << lag;
  }
  fe.skew_compensation = false;
  const auto raw = config(fe);
  const auto in = meter::PhasorInput::balanced(raw, 50.0, 60.0, 60.0);
  const double expect = (std::cos((60 - 0.5 / 4000 * 360 * 60) * kPi / 180) / 0.5 - 1) * 1e6;
  EXPECT_NEAR(error_ppm(raw, in, 1.3), expect, 500);
  EXPECT_GT(expect, 79000);
}

// DC offsets of 0.1 % of full scale on both channels (0.1 % x sqrt2 x 1.25 x 138 V = 0.244 V;
// 0.1 % x sqrt2 x 2 x 100 A = 0.283 A) at 1 % of rated (1 A, 120 W): without the filter the
// product of the offsets registers 0.244 x 0.283 = 0.069 W, +575 ppm, for as long as it
// lasts; the filter (tau = 1 / (2 pi 0.02 Hz) = 8 s) removes it, leaving about
// d_v d_i tau / 2 = 0.28 J of 72 kJ over 10 min (4 ppm) plus bounded cross terms.
TEST(FrontEnd, HighPassFilterRemovesDcOffsets) {
  meter::FrontEnd fe;
  const auto c = config(fe);
  const auto in = meter::PhasorInput::balanced(c, 1.0, 0.0, 60.0);
  RunSpec spec;  // the offsets are added to the samples of every voltage and current channel
  spec.seconds = 600;
  spec.dc_offset_v = 0.001 * std::sqrt(2.0) * 1.25 * 138;
  spec.dc_offset_a = 0.001 * std::sqrt(2.0) * 2 * 100;
  const double truth = exact_energy(c, in, 0, 600).registered_j / 3600;
  const double with = (run_sample_window(c, in, spec).registered_wh / truth - 1) * 1e6;
  EXPECT_LT(std::fabs(with), 50);
  fe.hpf_hz = 0;
  const auto off = config(fe);
  const double without = (run_sample_window(off, in, spec).registered_wh / truth - 1) * 1e6;
  EXPECT_NEAR(without, 0.244 * 0.283 / 120 * 1e6, 30);
}

// Quantisation: a 24-bit ADC (LSB 1.7e-5 A on 2 x sqrt2 x 100 A) is invisible at 0.1 % of
// rated (0.1 A: 5800 LSB rms); a 10-bit ADC (LSB 0.55 A) sees 0.1 A as a fraction of one
// step and misregisters by far more than the 200 ppm limit.
TEST(FrontEnd, AdcBitsSetTheSmallestCurrentMeasuredWell) {
  meter::FrontEnd fe;
  const auto c24 = config(fe);
  const auto in = meter::PhasorInput::balanced(c24, 0.1, 30.0, 60.0);
  EXPECT_LT(std::fabs(error_ppm(c24, in, 1.1)), 200);
  fe.adc_bits = 10;
  const auto c10 = config(fe);
  EXPECT_GT(std::fabs(error_ppm(c10, in, 1.1)), 1000);
}

// The first period after power-up counts even with the filter starting from rest: 0.4 s
// from power-up at full load, any start angle, stays within 50 ppm.
TEST(FrontEnd, FirstPeriodFromPowerUpWithFilter) {
  const auto c = config({});
  for (int a = 0; a < 8; ++a) {
    const auto in = meter::PhasorInput::balanced(c, 100.0, 60.0, 50.0);
    EXPECT_LT(std::fabs(error_ppm(c, in, 0.4, a / 8.0 / 50)), 50) << a;
  }
}

}  // namespace
}  // namespace imsm::sim
