// Sample mode (blocks of instantaneous samples) against the phasor path and closed form
// (SPEC "The meter": both paths produce the same registers within the tolerances).
#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "meter_test_util.h"
#include "support/vectors.h"

namespace imsm::meter::test {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Runs `seconds` of `in` through a meter in sample mode (blocks of `block` samples),
// powered up at t = 0 by the same input as phasors. Returns the meter.
void run_samples(Meter& m, const PhasorInput& in, double rate, double seconds, std::size_t block) {
  m.set_input(in);
  SampleStore store(block);
  const auto total = static_cast<std::size_t>(std::llround(seconds * rate));
  std::size_t done = 0;
  while (done < total) {
    const std::size_t n = std::min(block, total - done);
    const SampleBlock b = synthesize(in, rate, static_cast<double>(done) / rate, n, store.buffers);
    ASSERT_TRUE(m.step_samples(b));
    done += n;
  }
  m.flush_samples();
}

double closed_form_wh(const MeterConfig& c, const PhasorInput& in, double seconds) {
  double p = 0;
  for (int k = 0; k < c.elements; ++k) {
    const auto ki = static_cast<std::size_t>(k);
    p += in.voltage[ki].rms_v * in.current[ki][0].rms_a *
         std::cos(in.current[ki][0].lag_deg * kPi / 180);
  }
  return p * seconds / 3600.0;
}

// The arithmetic of the sample path with ideal samples (no ADC, no filter): exact to 1e-9.
MeterOptions ideal(MeterOptions o = {}) {
  o.front_end.adc_bits = 0;
  o.front_end.hpf_hz = 0;
  return o;
}

TEST(SampleMode, AgreesWithPhasorAndClosedFormSine) {
  const auto& fv = imsm::test::frame_vectors().at(0);  // every suite carries the guide vector
  MeterConfig c = make_config("S2-480-N-01-01-041-01", ideal(with_id(fv.meter_id)));
  for (const double f : {50.0, 60.0}) {
    for (const double lag : {0.0, 60.0, -60.0, 30.0}) {
      for (const double pct : {0.01, 0.5, 1.0, 1.2}) {
        const PhasorInput in = PhasorInput::balanced(c, c.rated_primary_a * pct, lag, f);
        Meter s(c);
        run_samples(s, in, 4000.0, 10.0, 1000);
        Meter p(c);
        p.set_input(in);
        p.step(10 * kSec);
        const double truth = closed_form_wh(c, in, 10.0);
        EXPECT_NEAR(wh_of(s.energy_fj()) / truth - 1, 0, 50e-6) << f << " " << lag << " " << pct;
        EXPECT_NEAR(wh_of(p.energy_fj()) / truth - 1, 0, 1e-9) << f << " " << lag << " " << pct;
        EXPECT_NEAR(s.element(2).v_rms, 277.0, 277.0 * 1e-9);
        EXPECT_NEAR(s.element(1).i_rms_a, c.rated_primary_a * pct, 1e-6);
        EXPECT_NEAR(s.element(0).pf, std::cos(lag * kPi / 180), 1e-6);
        EXPECT_NEAR(s.frequency_hz(), f, 1e-3);
      }
    }
  }
}

TEST(SampleMode, HarmonicsWithin100Ppm) {
  MeterConfig c = make_config("S2-208-N-01-01-011-01");
  PhasorInput in = PhasorInput::balanced(c, 50.0, 25.0, 60.0);
  for (std::size_t k = 0; k < 3; ++k) {
    in.current[k][0].harmonics.count = 3;
    in.current[k][0].harmonics.h[0] = {3, 0.20, 10.0};
    in.current[k][0].harmonics.h[1] = {5, 0.10, -30.0};
    in.current[k][0].harmonics.h[2] = {7, 0.05, 90.0};
  }
  Meter s(c);
  run_samples(s, in, 4000.0, 10.0, 4096);
  const double truth = closed_form_wh(c, in, 10.0);  // sine voltage: harmonics carry no power
  EXPECT_NEAR(wh_of(s.energy_fj()) / truth - 1, 0, 100e-6);
  EXPECT_NEAR(s.element(0).i_rms_a, 50.0 * std::sqrt(1 + 0.04 + 0.01 + 0.0025), 1e-3);
}

TEST(SampleMode, SubintervalEndsAtExactTimesAndMatchesPhasorDemand) {
  MeterConfig c = make_config("S2-208-N-01-01-011-01", with_id(12));
  const PhasorInput in = PhasorInput::balanced(c, 40.0, 20.0, 60.0);
  Meter s(c);
  FrameLog sl;
  sl.attach(s);
  run_samples(s, in, 2400.0, 930.0, 777);  // odd block size: boundaries fall inside blocks
  Meter p(c);
  FrameLog pl;
  pl.attach(p);
  p.set_input(in);
  p.step(930 * kSec);
  ASSERT_EQ(sl.frames.size(), 3u);
  ASSERT_EQ(pl.frames.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(sl.frames[i].start_ns, pl.frames[i].start_ns);
    EXPECT_EQ(sl.frames[i].start_ns, static_cast<std::int64_t>(i + 1) * kSubintervalNs);
  }
  const auto sd = static_cast<std::int64_t>(s.inst_demand_centi_kw());
  const auto pd = static_cast<std::int64_t>(p.inst_demand_centi_kw());
  EXPECT_LE(std::llabs(sd - pd), 1);
  EXPECT_LE(std::llabs(static_cast<std::int64_t>(s.peak_demand_counts().value) -
                       static_cast<std::int64_t>(p.peak_demand_counts().value)),
            1);
  EXPECT_EQ(s.now_ns(), 930 * kSec);
}

// Any rate >= 2 kHz, including rates whose sample period is not a whole number of ns.
TEST(SampleMode, AnyRateFrom2kHz) {
  MeterConfig c = make_config("S1-240-N-01-01-041-00");
  const PhasorInput in = PhasorInput::balanced(c, 123.0, 36.87, 60.0);
  for (const double rate : {2000.0, 3001.0, 4096.0, 7777.0, 20000.0}) {
    Meter s(c);
    run_samples(s, in, rate, 2.0, 1500);
    EXPECT_NEAR(wh_of(s.energy_fj()) / closed_form_wh(c, in, 2.0) - 1, 0, 50e-6) << rate;
    EXPECT_NEAR(static_cast<double>(s.now_ns()), 2e9, 1.0) << rate;
  }
}

// The error model means the same on both paths.
TEST(SampleMode, ErrorModelAgreesWithPhasorPath) {
  MeterOptions o;
  o.error_model = ErrorModel::from_seed(7);
  MeterConfig c = make_config("S2-480-N-01-01-041-01", o);
  for (const double lag : {0.0, 60.0, -60.0}) {
    const PhasorInput in = PhasorInput::balanced(c, 200.0, lag, 60.0);
    Meter s(c);
    run_samples(s, in, 4000.0, 2.0, 4000);
    Meter p(c);
    p.set_input(in);
    p.step(2 * kSec);
    EXPECT_NEAR(wh_of(s.energy_fj()) / wh_of(p.energy_fj()) - 1, 0, 100e-6) << lag;
  }
}

// Guide 3.8 from samples: a reversed CT with more than 1 A lights D1; D2/D3 follow the register.
TEST(SampleMode, Guide3_8_ReversePhaseLedFromSamples) {
  MeterOptions o;
  o.wiring[2].sets[0].reversed = true;
  MeterConfig c = make_config("S2-208-N-01-01-011-01", o);
  Meter m(c);
  run_samples(m, PhasorInput::balanced(c, 5.0, 10.0, 60.0), 4000.0, 0.5, 1000);
  EXPECT_TRUE(m.leds().d1_reverse_phase);
  EXPECT_LT(m.element(2).p_w, 0.0);
  EXPECT_EQ(m.leds().d2_10wh, m.pulses().kh10_on);
  Meter q(c);
  run_samples(q, PhasorInput::balanced(c, 0.9, 10.0, 60.0), 4000.0, 0.5, 1000);
  EXPECT_FALSE(q.leds().d1_reverse_phase);  // 0.9 A: not evaluated
}

TEST(SampleMode, RejectsRatesBelow2kHz) {
  MeterConfig c = make_config("S1-120-N-01-01-011-00");
  Meter m(c);
  SampleBlock b;
  b.sample_rate_hz = 1999.0;
  b.count = 10;
  EXPECT_FALSE(m.step_samples(b));
  EXPECT_EQ(m.now_ns(), 0);
}

TEST(SampleMode, PowerUpOutageAndCreepFromSamples) {
  MeterConfig c = make_config("S1-120-N-01-01-011-00", ideal());
  Meter m(c);
  SampleStore store(4000);
  // 110 % voltage, no current: the first 100 ms period finds the supply in range and the
  // meter powers up at its start (issue 13: the first period counts), registers nothing.
  PhasorInput in = PhasorInput::balanced(c, 0.0, 0.0, 60.0, 1.10);
  for (int s = 0; s < 60; ++s) {
    ASSERT_TRUE(m.step_samples(synthesize(in, 4000.0, s, 4000, store.buffers)));
  }
  EXPECT_TRUE(m.powered());
  EXPECT_EQ(m.power_up_ns(), 0);
  EXPECT_EQ(m.energy_fj(), 0u);
  // Zero voltage: off at the end of the period, registers kept.
  in = PhasorInput::balanced(c, 10.0, 0.0);
  ASSERT_TRUE(m.step_samples(synthesize(in, 4000.0, 60, 4000, store.buffers)));
  const Uint128 e = m.energy_fj();
  EXPECT_GT(e, 0u);
  PhasorInput off = in;
  off.voltage[0].rms_v = 0;
  ASSERT_TRUE(m.step_samples(synthesize(off, 4000.0, 61, 4000, store.buffers)));
  EXPECT_FALSE(m.powered());
  EXPECT_TRUE(m.energy_fj() == e);
}

// Fed only samples from t = 0 (never a phasor input), the meter registers the first 100 ms:
// 2 s at 50 A, 120 V, PF 1, 60 Hz (whole cycles) is 12000 J = 3.33333 Wh; losing the first
// period would read 10 % low.
TEST(SampleMode, FirstPeriodAfterPowerUpRegisters) {
  MeterConfig c = make_config("S1-120-N-01-01-011-00");
  Meter m(c);
  SampleStore store(4000);
  const PhasorInput in = PhasorInput::balanced(c, 50.0, 0.0, 60.0);
  for (int s = 0; s < 2; ++s) {
    ASSERT_TRUE(m.step_samples(synthesize(in, 4000.0, s, 4000, store.buffers)));
  }
  m.flush_samples();
  EXPECT_NEAR(wh_of(m.energy_fj()), 12000.0 / 3600, 12000.0 / 3600 * 50e-6);
  EXPECT_EQ(m.power_up_ns(), 0);
}

// The steady loop keeps the front end's state (filter memories, the skew history, the error
// model's previous sample) in registers and stores it at the end of each run of samples: cut
// the same 3 s of samples into blocks of 1, 7 and 4000 and the registers agree to rounding
// (the per-run partial sums are added in a different grouping, 1e-12 relative at most). A
// state lost at a block edge would show here: a filter restarting from rest, or a skew
// history restarting, costs far more than 1e-9.
TEST(SampleMode, FrontEndStateCarriesAcrossBlockEdges) {
  MeterOptions o;
  o.front_end.current_skew_s = 1.0 / 12000;  // a third of a sample: the cubic re-alignment
  o.error_model = ErrorModel::from_seed(3);
  const MeterConfig c = make_config("S2-480-N-01-01-041-01", o);
  const PhasorInput in = PhasorInput::balanced(c, 150.0, 35.0, 60.0);
  std::array<double, 3> wh{};
  const std::size_t blocks[] = {1, 7, 4000};
  for (std::size_t b = 0; b < 3; ++b) {
    Meter m(c);
    run_samples(m, in, 4000.0, 3.0, blocks[b]);
    wh[b] = static_cast<double>(m.energy_fj()) / 3.6e18;
  }
  EXPECT_GT(wh[2], 80.0);  // 3 x 277 V x 150 A x cos 35 deg x 3 s = 85 Wh, within the error model
  EXPECT_NEAR(wh[0], wh[2], wh[2] * 1e-12);
  EXPECT_NEAR(wh[1], wh[2], wh[2] * 1e-12);
}

}  // namespace
}  // namespace imsm::meter::test
