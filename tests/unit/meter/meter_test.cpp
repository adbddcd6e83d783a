// The meter, rule by rule (SPEC "The meter"; guide sections cited in each test name).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "meter_test_util.h"
#include "protocol/frame.h"
#include "protocol/stream_framer.h"
#include "support/vectors.h"

namespace imsm::meter::test {
namespace {

constexpr const char* kWye480 = "S2-480-N-01-01-121-01";    // 3 el, 277 V, 1200 A, demand
constexpr const char* kWye208 = "S2-208-N-01-01-011-01";    // 3 el, 120 V, 100 A, demand
constexpr const char* kSplit240 = "S1-240-N-01-01-011-01";  // 2 el, 120/240, 100 A
constexpr const char* kOne120 = "S1-120-N-01-01-011-00";    // 1 el, 120 V, 100 A, no demand
constexpr const char* kDelta = "BL-208-400-GL-PKG-SO";      // grounded delta, 400 A

// ---- configuration ----------------------------------------------------------------------

TEST(MeterConfig, Guide2_1_FromModelVectors) {
  for (const auto& v : imsm::test::guide_vectors()["models"]) {
    const std::string number = v["number"];
    const auto& e = v["expect"];
    if (!e.is_object()) continue;
    auto c = MeterConfig::from_model_number(number, with_id(7));
    ASSERT_TRUE(c.has_value()) << number;
    EXPECT_EQ(c->elements, e["elements"].get<int>()) << number;
    EXPECT_EQ(c->meter_id.value, 7);
    EXPECT_DOUBLE_EQ(c->rated_primary_a, e["ct_primary_a"].get<double>());
    EXPECT_DOUBLE_EQ(c->ct_ratio,
                     e["ct_primary_a"].get<double>() / e["ct_secondary_a"].get<double>());
    if (e["demand"].is_boolean()) {
      EXPECT_EQ(c->demand, e["demand"].get<bool>()) << number;
    }
  }
}

TEST(MeterConfig, DemandOverrideAndDefaults) {
  EXPECT_FALSE(make_config(kOne120).demand);
  EXPECT_TRUE(make_config(kWye208).demand);
  EXPECT_TRUE(make_config(kOne120, with_demand(true)).demand);
  EXPECT_TRUE(make_config(kDelta).demand);  // old numbers do not say: demand on
  EXPECT_EQ(make_config(kWye208).accumulation, AccumulationMode::Net);
  EXPECT_FALSE(make_config(kWye208).error_model.enabled);
}

TEST(MeterConfig, RejectsBadModelAndWiring) {
  EXPECT_FALSE(MeterConfig::from_model_number("S9-120").has_value());
  MeterOptions o;
  o.wiring[0].ct_sets = 4;
  EXPECT_EQ(MeterConfig::from_model_number(kWye208, o).error(), ConfigError::BadCtSets);
  MeterOptions o2;
  o2.wiring[1].sets[0].line = 3;
  EXPECT_EQ(MeterConfig::from_model_number(kWye208, o2).error(), ConfigError::BadCtLine);
}

// ---- frame and demand ---------------------------------------------------------------------

// Guide 2.5.2: a meter in the state of the worked example sends exactly its bytes.
TEST(Rs485, Guide2_5_2_MeterSendsTheWorkedExampleFrame) {
  const auto& fv = imsm::test::frame_vectors().at(0);
  MeterConfig c = make_config(kWye480, with_id(fv.meter_id));
  Meter m(c);
  m.preset_energy_wh(std::uint64_t{fv.total_kwh} * 1000);
  // 195 demand resets by key switch, one per peak-demand display window (12..18 s of 19 s).
  m.set_input(load_kw(c, 0.0));
  for (int r = 0; r < fv.demand_resets; ++r) {
    const std::int64_t cycle_start = m.power_up_ns() + r * 19 * kSec;
    m.step(cycle_start + 13 * kSec - m.now_ns());
    m.set_key_switch(KeyPosition::Right);
    m.step(kSec / 2);
    m.set_key_switch(KeyPosition::Locked);
  }
  ASSERT_EQ(m.demand_resets().value, fv.demand_resets);
  // Peak 3313 counts (66.26 kW): 66.275 kW for three whole subintervals after a boundary.
  m.step(m.next_subinterval_end_ns() - m.now_ns());
  // 66.275 kW x 15 min = 16568.75 Wh: start 16568 Wh below 678299 kWh to land on it.
  m.preset_energy_wh(std::uint64_t{fv.total_kwh} * 1000 - 16'568);
  FrameLog log;
  log.attach(m);
  m.set_input(load_kw(c, 66.275));
  m.step(3 * kSubintervalNs);
  ASSERT_EQ(log.frames.size(), 3u);
  const protocol::RawFrame& raw = log.frames.back().bytes;
  EXPECT_EQ(std::vector<std::uint8_t>(raw.begin(), raw.end()), fv.raw);
  const auto d = protocol::decode(raw);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->peak_demand.value, fv.peak_demand_counts);
  EXPECT_EQ(d->total_kwh.value, fv.total_kwh);
}

struct DemandCase {
  std::string name;
  std::vector<std::pair<std::int64_t, double>> segments;
  std::vector<std::int64_t> inst;
  std::vector<std::int64_t> rolling;  // -1 = not available
  std::uint64_t peak_centi_kw;
  std::uint16_t peak_counts;
};

std::vector<DemandCase> demand_cases() {
  std::vector<DemandCase> out;
  for (const auto& j : imsm::test::guide_vectors()["demand_vectors"]["cases"]) {
    DemandCase c;
    c.name = j["name"];
    for (const auto& s : j["segments"])
      c.segments.emplace_back(s[0].get<std::int64_t>(), s[1].get<double>());
    for (const auto& v : j["inst_centi_kw"]) c.inst.push_back(v.get<std::int64_t>());
    for (const auto& v : j["rolling_centi_kw"])
      c.rolling.push_back(v.is_null() ? -1 : v.get<std::int64_t>());
    c.peak_centi_kw = j["peak_centi_kw"];
    c.peak_counts = j["peak_counts"];
    out.push_back(c);
  }
  return out;
}

// research/metrology.md 3.4: each vector in phasor mode with 1 s steps and with whole
// segments in single steps: exact at every subinterval end.
TEST(Demand, Research3_4_DemandVectorsExact) {
  const auto cases = demand_cases();
  ASSERT_GE(cases.size(), 5u);
  for (const auto& dc : cases) {
    for (const bool one_second_steps : {true, false}) {
      SCOPED_TRACE(dc.name + (one_second_steps ? " (1 s steps)" : " (segment steps)"));
      MeterConfig c = make_config(kWye480, with_id(1));
      Meter m(c);
      std::vector<std::int64_t> inst, rolling;
      std::vector<std::uint16_t> wire_peaks;
      struct Ctx {
        Meter* m;
        std::vector<std::int64_t>* inst;
        std::vector<std::int64_t>* rolling;
        std::vector<std::uint16_t>* wire;
      } ctx{&m, &inst, &rolling, &wire_peaks};
      m.set_transmit_sink(&ctx, [](void* p, const TxFrame& f) {
        auto* x = static_cast<Ctx*>(p);
        x->inst->push_back(static_cast<std::int64_t>(x->m->demand().inst_centi_kw()));
        x->rolling->push_back(x->m->demand().rolling_available()
                                  ? static_cast<std::int64_t>(x->m->demand().rolling_centi_kw())
                                  : -1);
        x->wire->push_back(protocol::decode(f.bytes)->peak_demand.value);
      });
      for (const auto& [secs, kw] : dc.segments) {
        m.set_input(load_kw(c, kw));
        if (one_second_steps) {
          for (std::int64_t s = 0; s < secs; ++s) m.step(kSec);
        } else {
          m.step(secs * kSec);
        }
      }
      EXPECT_EQ(inst, dc.inst);
      EXPECT_EQ(rolling, dc.rolling);
      EXPECT_EQ(m.peak_demand_centi_kw(), dc.peak_centi_kw);
      EXPECT_EQ(m.peak_demand_counts().value, dc.peak_counts);
      ASSERT_FALSE(wire_peaks.empty());
      EXPECT_EQ(wire_peaks.back(), dc.peak_counts);
    }
  }
}

// SPEC "Demand": models without the option send 0 in peak and reset bytes.
TEST(Demand, Spec_NoDemandModelSendsZeroPeakAndResets) {
  MeterConfig c = make_config(kOne120, with_id(5));
  Meter m(c);
  FrameLog log;
  log.attach(m);
  m.set_input(load_kw(c, 10.0));
  m.step(4 * kSubintervalNs);
  ASSERT_EQ(log.frames.size(), 4u);
  const auto f = protocol::decode(log.frames.back().bytes);
  EXPECT_EQ(f->peak_demand.value, 0);
  EXPECT_EQ(f->demand_resets.value, 0);
  EXPECT_EQ(f->meter_id.value, 5);
  EXPECT_EQ(f->total_kwh.value, 3u);  // 10 kW x 20 min = 3.33 kWh
}

// SPEC "Demand": peak = the largest rolling demand since the last reset (an earlier, higher
// peak does not come back after a reset).
TEST(Demand, Spec_PeakIsLargestRollingSinceLastReset) {
  MeterConfig c = make_config(kWye480);
  Meter m(c);
  m.set_input(load_kw(c, 90.0));
  m.step(3 * kSubintervalNs);
  EXPECT_EQ(m.peak_demand_centi_kw(), 9000u);
  m.set_input(load_kw(c, 30.0));
  m.step(6 * kSubintervalNs);
  EXPECT_EQ(m.peak_demand_centi_kw(), 9000u);  // a lower rolling demand does not replace it
  // Reset during the next peak-demand display window.
  const std::int64_t since = m.now_ns() - m.power_up_ns();
  const std::int64_t next = (since / (19 * kSec) + 1) * 19 * kSec;
  m.step(next + 13 * kSec - since);
  m.set_key_switch(KeyPosition::Right);
  m.step(kSec / 2);
  m.set_key_switch(KeyPosition::Locked);
  EXPECT_EQ(m.peak_demand_counts().value, 0);
  m.step(m.next_subinterval_end_ns() - m.now_ns());
  EXPECT_EQ(m.peak_demand_centi_kw(), 3000u);  // rebuilt from windows after the reset
  EXPECT_EQ(m.peak_demand_counts().value, 1500);
}

// SPEC "Services and elements": voltage angles per service.
TEST(MeterConfig, Spec_ServiceVoltageAngles) {
  const struct {
    const char* model;
    double a1, a2;
  } cases[] = {{kSplit240, 180.0, 0.0},
               {"S1-208-N-01-01-011-00", -120.0, 0.0},
               {"S1-480-N-01-01-011-00", -120.0, 0.0},
               {kWye208, -120.0, 120.0},
               {kDelta, 180.0, 90.0}};
  for (const auto& cs : cases) {
    const MeterConfig c = make_config(cs.model);
    EXPECT_EQ(service_voltage_angle_deg(c.model, 0), 0.0) << cs.model;
    EXPECT_EQ(service_voltage_angle_deg(c.model, 1), cs.a1) << cs.model;
    if (c.elements == 3) {
      EXPECT_EQ(service_voltage_angle_deg(c.model, 2), cs.a2) << cs.model;
    }
  }
  const MeterConfig d = make_config(kDelta);
  EXPECT_NEAR(d.nominal_v[2], 207.846, 1e-3);  // the high leg, 120 * sqrt(3)
}

// ---- key switch (guide 2.4.2) -------------------------------------------------------------

struct KeyFixture {
  MeterConfig c = make_config(kWye208);
  Meter m{c};
  KeyFixture() {
    m.set_input(load_kw(c, 5.0));
    m.step(3 * kSubintervalNs);  // a peak exists
  }
  // Gesture with the right turn at `at_ns` since power-up, held `hold_ns`.
  void gesture(std::int64_t at_ns, std::int64_t hold_ns) {
    m.step(m.power_up_ns() + at_ns - m.now_ns());
    m.set_key_switch(KeyPosition::Right);
    m.step(hold_ns);
    m.set_key_switch(KeyPosition::Locked);
  }
  std::int64_t cycle_start() const {
    return (m.now_ns() - m.power_up_ns()) / (19 * kSec) * 19 * kSec;
  }
};

TEST(KeySwitch, Guide2_4_2_ResetDuringPeakDisplay) {
  KeyFixture f;
  ASSERT_GT(f.m.peak_demand_counts().value, 0);
  const std::int64_t next = f.cycle_start() + 19 * kSec;
  f.gesture(next + 12 * kSec + kSec / 10, 900'000'000);
  EXPECT_EQ(f.m.peak_demand_counts().value, 0);
  EXPECT_EQ(f.m.demand_resets().value, 1);
}

// Guide 5 FAQ / 2.4.1: the kWh total is non-resettable; a demand reset leaves it alone.
TEST(KeySwitch, Guide5_Faq_KwhIsNotResettable) {
  KeyFixture f;
  const Uint128 e = f.m.energy_fj();
  f.m.set_input(load_kw(f.c, 0.0));
  const std::int64_t next = f.cycle_start() + 19 * kSec;
  f.gesture(next + 12 * kSec + kSec / 10, kSec / 2);
  ASSERT_EQ(f.m.demand_resets().value, 1);
  EXPECT_TRUE(f.m.energy_fj() == e);
  EXPECT_GT(f.m.total_kwh(), 0u);
}

TEST(KeySwitch, Guide2_4_2_OutsidePeakWindowIgnored) {
  KeyFixture f;
  const auto peak = f.m.peak_demand_counts();
  const std::int64_t next = f.cycle_start() + 19 * kSec;
  f.gesture(next + 2 * kSec, 500'000'000);                 // during total kWh
  f.gesture(next + 7 * kSec, 500'000'000);                 // during instantaneous demand
  f.gesture(next + 18 * kSec + 100'000'000, 500'000'000);  // all-segment test
  f.gesture(next + 19 * kSec + 11 * kSec + 500'000'000, 800'000'000);  // straddles into peak
  EXPECT_EQ(f.m.peak_demand_counts(), peak);
  EXPECT_EQ(f.m.demand_resets().value, 0);
}

TEST(KeySwitch, Guide2_4_2_SlowTransitionIgnored) {
  KeyFixture f;
  const std::int64_t next = f.cycle_start() + 19 * kSec;
  f.gesture(next + 12 * kSec + kSec / 10, kSec + 1);
  EXPECT_EQ(f.m.demand_resets().value, 0);
  f.gesture(next + 19 * kSec + 12 * kSec + kSec / 10, kSec);  // exactly 1 s: accepted
  EXPECT_EQ(f.m.demand_resets().value, 1);
}

TEST(KeySwitch, Spec_AtMostOneResetPerPeakWindow) {
  KeyFixture f;
  const std::int64_t next = f.cycle_start() + 19 * kSec;
  f.gesture(next + 12 * kSec + kSec / 10, kSec / 5);
  f.gesture(next + 14 * kSec, kSec / 5);
  f.gesture(next + 16 * kSec, kSec / 5);
  EXPECT_EQ(f.m.demand_resets().value, 1);
  f.gesture(next + 19 * kSec + 13 * kSec, kSec / 5);  // next window: another reset
  EXPECT_EQ(f.m.demand_resets().value, 2);
}

TEST(KeySwitch, Spec_ResetCounterWrapsAt256) {
  KeyFixture f;
  const std::int64_t base = f.cycle_start() + 19 * kSec;
  for (int r = 0; r < 257; ++r) f.gesture(base + r * 19 * kSec + 13 * kSec, kSec / 5);
  EXPECT_EQ(f.m.demand_resets().value, 1);  // 257 mod 256
}

// SPEC "Power supply": while off the meter does nothing, so a gesture is not recognised.
TEST(KeySwitch, Spec_IgnoredWhileOff) {
  KeyFixture f;
  const std::int64_t next = f.cycle_start() + 19 * kSec;
  f.m.step(f.m.power_up_ns() + next + 12 * kSec - f.m.now_ns());
  PhasorInput off;
  f.m.set_input(off);
  ASSERT_FALSE(f.m.powered());
  f.m.set_key_switch(KeyPosition::Right);
  f.m.step(kSec / 4);
  f.m.set_key_switch(KeyPosition::Locked);
  EXPECT_EQ(f.m.demand_resets().value, 0);
  EXPECT_GT(f.m.peak_demand_counts().value, 0);
}

TEST(KeySwitch, Spec_NoDemandModelHasNoReset) {
  MeterConfig c = make_config(kOne120);
  Meter m(c);
  m.set_input(load_kw(c, 5.0));
  for (int s = 0; s < 40; ++s) {
    m.step(kSec / 2);
    m.set_key_switch(KeyPosition::Right);
    m.step(kSec / 4);
    m.set_key_switch(KeyPosition::Locked);
  }
  EXPECT_EQ(m.demand_resets().value, 0);
}

// ---- display (guide 2.4.1) ----------------------------------------------------------------

TEST(Display, Guide2_4_1_DemandCycle19Seconds) {
  MeterConfig c = make_config(kWye208);
  Meter m(c);
  EXPECT_EQ(m.display().mode, DisplayMode::Off);
  m.set_input(load_kw(c, 12.345));
  const struct {
    std::int64_t at_ms;
    DisplayMode mode;
  } expect[] = {{0, DisplayMode::TotalKwh},        {5999, DisplayMode::TotalKwh},
                {6000, DisplayMode::InstDemand},   {11999, DisplayMode::InstDemand},
                {12000, DisplayMode::PeakDemand},  {17999, DisplayMode::PeakDemand},
                {18000, DisplayMode::AllSegments}, {18999, DisplayMode::AllSegments},
                {19000, DisplayMode::TotalKwh}};
  for (const auto& e : expect) {
    m.step(m.power_up_ns() + e.at_ms * 1'000'000 - m.now_ns());
    EXPECT_EQ(m.display().mode, e.mode) << e.at_ms;
  }
  // Values and dots after 3 subintervals: 12.345 kW -> 12.34 (truncated).
  m.step(kSubintervalNs * 3);
  const std::int64_t cyc =
      (m.now_ns() - m.power_up_ns()) / (19 * kSec) * 19 * kSec + m.power_up_ns();
  m.step(cyc + 19 * kSec + 7 * kSec - m.now_ns());
  DisplayView v = m.display();
  EXPECT_EQ(v.mode, DisplayMode::InstDemand);
  EXPECT_TRUE(v.inst_dot);
  EXPECT_FALSE(v.peak_dot);
  EXPECT_STREQ(v.text.data(), "   12.34 kW  .inst");
  m.step(6 * kSec);
  v = m.display();
  EXPECT_TRUE(v.peak_dot);
  EXPECT_STREQ(v.text.data(), "   12.34 kW  .peak");
  m.step(5 * kSec + kSec / 2);  // 18.5 s into the cycle
  v = m.display();
  EXPECT_EQ(v.mode, DisplayMode::AllSegments);
  EXPECT_STREQ(v.text.data(), "88888888 kWh kW .inst .peak");
  m.step(1 * kSec);
  v = m.display();
  EXPECT_EQ(v.mode, DisplayMode::TotalKwh);
  EXPECT_EQ(v.value, m.total_kwh());
  EXPECT_STREQ(v.text.data(), "       3 kWh");
}

TEST(Display, Guide2_4_1_NoDemandAllSegmentsEvery18Seconds) {
  MeterConfig c = make_config(kOne120);
  Meter m(c);
  m.set_input(load_kw(c, 1.0));
  int tests = 0;
  for (int s = 0; s < 180; ++s) {
    if (m.display().mode == DisplayMode::AllSegments) {
      ++tests;
      EXPECT_EQ((m.now_ns() - m.power_up_ns()) % (18 * kSec), 17 * kSec);
      EXPECT_STREQ(m.display().text.data(), "88888888 kWh");
    } else {
      EXPECT_EQ(m.display().mode, DisplayMode::TotalKwh);
    }
    m.step(kSec);
  }
  EXPECT_EQ(tests, 10);
}

// ---- pulse outputs and LEDs (guide 2.3 Table 3) -------------------------------------------

TEST(Pulses, Guide2_3_OutputsAreExactFunctionsOfTheRegister) {
  MeterConfig c = make_config(kWye480);
  Meter m(c);
  EdgeLog edges;
  edges.attach(m);
  m.set_input(load_kw(c, 12.0));  // 12 kW: a 10 Wh pulse every 3 s, edges every 1.5 s
  m.step(3600 * kSec);            // 12 kWh
  const PulseState p = m.pulses();
  EXPECT_EQ(p.kh10_pulses, 1200u);
  EXPECT_EQ(p.kh10_edges, 2400u);
  EXPECT_EQ(p.kh1000_pulses, 12u);
  EXPECT_EQ(p.kh1000_edges, 24u);
  std::size_t kh10 = 0, kh1000 = 0;
  for (const auto& e : edges.edges) (e.output == PulseOutput::Kh10 ? kh10 : kh1000)++;
  EXPECT_EQ(kh10, p.kh10_edges);
  EXPECT_EQ(kh1000, p.kh1000_edges);
  // Edge times: every 1.5 s for Kh=10 (5 Wh at 12 kW), alternating on/off.
  std::size_t n = 0;
  for (const auto& e : edges.edges) {
    if (e.output != PulseOutput::Kh10) continue;
    ++n;
    EXPECT_EQ(e.time_ns, static_cast<std::int64_t>(n) * 1'500'000'000) << n;
    EXPECT_EQ(e.on, n % 2 == 1);
  }
  const LedState l = m.leds();
  EXPECT_EQ(l.d2_10wh, p.kh10_on);
  EXPECT_EQ(l.d3_1kwh, p.kh1000_on);
  // Any register value: state = floor(E / half) mod 2.
  m.preset_energy_wh(1'234'567);
  EXPECT_EQ(m.pulses().kh10_edges, 1'234'567u / 5);
  EXPECT_TRUE(m.pulses().kh10_on);  // 246913 odd
  EXPECT_EQ(m.pulses().kh1000_edges, 2469u);
  EXPECT_TRUE(m.pulses().kh1000_on);  // 2469 odd
}

// Guide 3.8: D1 needs more than 1 A (primary) on an element with negative power.
TEST(Leds, Guide3_8_ReversePhaseLedNeedsMoreThanOneAmp) {
  MeterOptions o;
  o.wiring[1].sets[0].reversed = true;
  MeterConfig c = make_config(kSplit240, o);
  Meter m(c);
  m.set_input(PhasorInput::balanced(c, 0.9, 0.0));
  EXPECT_FALSE(m.leds().d1_reverse_phase);
  m.set_input(PhasorInput::balanced(c, 1.1, 0.0));
  EXPECT_TRUE(m.leds().d1_reverse_phase);
  // Correct wiring never lights it.
  MeterConfig ok = make_config(kSplit240);
  Meter m2(ok);
  m2.set_input(PhasorInput::balanced(ok, 80.0, 60.0));
  EXPECT_FALSE(m2.leds().d1_reverse_phase);
}

// Guide 5 (troubleshooting): "One CT installed in the incorrect direction doesn't always
// illuminate the reverse phase LED". Reversed AND on the wrong line: the element's power
// is positive (cos 60 deg), so D1 stays dark while registration is wrong.
TEST(Leds, Guide5_SingleReversedCtNeedNotLightD1) {
  MeterOptions o;
  o.wiring[1].sets[0] = {2, true};  // CT2 clamped on L3, backwards
  MeterConfig c = make_config(kWye208, o);
  Meter m(c);
  m.set_input(PhasorInput::balanced(c, 50.0, 0.0));
  EXPECT_GT(m.element(1).p_w, 0.0);
  EXPECT_FALSE(m.leds().d1_reverse_phase);
  // Registration: 1 + 0.5 + 1 = 2.5 of 3 elements.
  EXPECT_NEAR(m.registered_power_w() / (3 * 120.0 * 50.0), 2.5 / 3.0, 1e-9);
  // Also: a reversed CT on a phase carrying under 1 A leaves D1 dark.
  MeterOptions o2;
  o2.wiring[2].sets[0].reversed = true;
  MeterConfig c2 = make_config(kWye208, o2);
  Meter m2(c2);
  PhasorInput in = PhasorInput::balanced(c2, 50.0, 0.0);
  in.current[2][0].rms_a = 0.8;
  m2.set_input(in);
  EXPECT_LT(m2.element(2).p_w, 0.0);
  EXPECT_FALSE(m2.leds().d1_reverse_phase);
}

// ---- wiring faults and accumulation modes (research 4.3) ------------------------------------

double registration(const char* model, int reversed_element, AccumulationMode mode) {
  MeterOptions o;
  o.accumulation = mode;
  o.wiring[static_cast<std::size_t>(reversed_element)].sets[0].reversed = true;
  MeterConfig c = make_config(model, o);
  Meter m(c);
  m.set_input(PhasorInput::balanced(c, 50.0, 0.0));
  m.step(600 * kSec);
  MeterConfig good = make_config(model);
  Meter ref(good);
  ref.set_input(PhasorInput::balanced(good, 50.0, 0.0));
  ref.step(600 * kSec);
  return static_cast<double>(m.energy_fj()) / static_cast<double>(ref.energy_fj());
}

TEST(Wiring, Research4_3_ReversedCtRegistration) {
  EXPECT_EQ(registration(kSplit240, 1, AccumulationMode::Net), 0.0);
  EXPECT_NEAR(registration(kWye208, 2, AccumulationMode::Net), 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(registration(kWye208, 0, AccumulationMode::Absolute), 1.0, 1e-12);
  EXPECT_NEAR(registration(kSplit240, 0, AccumulationMode::Absolute), 1.0, 1e-12);
  EXPECT_NEAR(registration(kWye208, 1, AccumulationMode::Delivered), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(registration(kSplit240, 1, AccumulationMode::Delivered), 0.5, 1e-12);
}

TEST(Wiring, Guide5_CtOnWrongPhase) {
  MeterOptions o;
  o.wiring[0].sets[0].line = 1;  // CT1 clamped on L2
  MeterConfig c = make_config(kWye208, o);
  Meter m(c);
  m.set_input(PhasorInput::balanced(c, 50.0, 0.0));
  // V1 at 0, I2 at -120: cos 120 = -0.5.
  EXPECT_NEAR(m.element(0).p_w, -0.5 * 120.0 * 50.0, 1e-6);
  EXPECT_TRUE(m.leds().d1_reverse_phase);
  EXPECT_NEAR(m.registered_power_w(), 1.5 * 120.0 * 50.0, 1e-6);
}

TEST(Wiring, Guide5_Faq_UpToThreeParalleledCtSetsAreSummed) {
  MeterOptions o;
  o.wiring[0].ct_sets = 3;
  MeterConfig c = make_config(kOne120, o);
  Meter m(c);
  PhasorInput in;
  in.voltage[0].rms_v = 120.0;
  in.current[0][0] = {20.0, 0.0, {}};
  in.current[0][1] = {30.0, 0.0, {}};
  in.current[0][2] = {10.0, 60.0, {}};
  m.set_input(in);
  EXPECT_NEAR(m.element(0).p_w, 120.0 * (20 + 30 + 10 * 0.5), 1e-9);
  // With one set reversed the meter sees the difference.
  MeterOptions o2 = o;
  o2.wiring[0].sets[1].reversed = true;
  MeterConfig c2 = make_config(kOne120, o2);
  Meter m2(c2);
  m2.set_input(in);
  EXPECT_NEAR(m2.element(0).p_w, 120.0 * (20 - 30 + 10 * 0.5), 1e-9);
}

TEST(Wiring, Guide2_2_OverloadAboveRatedPlus10PercentFlagged) {
  MeterConfig c = make_config(kOne120);  // 100 A CT
  Meter m(c);
  m.set_input(PhasorInput::balanced(c, 109.9, 0.0));
  EXPECT_FALSE(m.element(0).overload);
  m.set_input(PhasorInput::balanced(c, 110.1, 0.0));
  EXPECT_TRUE(m.element(0).overload);
  EXPECT_NEAR(m.element(0).i_secondary_a, 0.1101, 1e-12);
}

// ---- energy (SPEC "Energy") ----------------------------------------------------------------

TEST(Energy, Spec_AntiCreepAt110PercentVoltageAndZeroCurrent) {
  MeterConfig c = make_config(kWye208);
  Meter m(c);
  m.set_input(PhasorInput::balanced(c, 0.0, 0.0, 60.0, 1.10));
  ASSERT_TRUE(m.powered());
  m.step(600 * kSec);
  EXPECT_EQ(m.energy_fj(), 0u);
  EXPECT_EQ(m.pulses().kh10_edges, 0u);
  // Noise current under the threshold (0.01 % of rated), any phase: nothing registers.
  m.set_input(PhasorInput::balanced(c, c.rated_primary_a * 0.0001, 37.0, 60.0, 1.10));
  m.step(600 * kSec);
  EXPECT_EQ(m.energy_fj(), 0u);
  EXPECT_EQ(m.demand().peak_window_fj(), 0u);
  // 0.1 % of rated registers.
  m.set_input(PhasorInput::balanced(c, c.rated_primary_a * 0.001, 0.0));
  m.step(600 * kSec);
  EXPECT_NEAR(wh_of(m.energy_fj()), 3 * 120.0 * 0.1 * 600 / 3600.0, 1e-9);
}

TEST(Energy, Spec_NetNegativeRegistersNothing) {
  MeterConfig c = make_config(kWye208);
  Meter m(c);
  m.set_input(PhasorInput::balanced(c, 50.0, 180.0));  // exporting
  m.step(600 * kSec);
  EXPECT_EQ(m.energy_fj(), 0u);
}

TEST(Energy, Spec_24BitKwhWrapsOnTheWire) {
  MeterConfig c = make_config(kWye480, with_id(9));
  Meter m(c);
  FrameLog log;
  log.attach(m);
  m.preset_energy_wh((Kwh24::kModulus - 2ULL) * 1000ULL);
  m.set_input(load_kw(c, 600.0));  // 50 kWh per 5 minutes
  m.step(2 * kSubintervalNs);
  ASSERT_EQ(log.frames.size(), 2u);
  const auto f1 = protocol::decode(log.frames[0].bytes);
  const auto f2 = protocol::decode(log.frames[1].bytes);
  EXPECT_EQ(f1->total_kwh.value, 48u);  // 16777214 + 50 - 16777216
  EXPECT_EQ(f2->total_kwh.value, 98u);
  EXPECT_EQ(m.total_kwh(), Kwh24::kModulus - 2 + 100);
  EXPECT_EQ(f2->total_kwh.advance_since(Kwh24{Kwh24::kModulus - 2}), 100u);
}

// research 6.1: 10^9 simulated seconds at full load, no drift: the register equals an
// independent integer re-summation exactly, and the closed form P*t to the microwatt.
TEST(Energy, Research6_1_NoDriftOver1e9SecondsAtFullLoad) {
  MeterConfig c = make_config(kWye480);  // 3 x 277 V x 1200 A = 997.2 kW
  Meter m(c);
  m.set_input(PhasorInput::balanced(c, 1200.0, 0.0));
  const double p_w = m.registered_power_w();
  ASSERT_NEAR(p_w, 997'200.0, 1e-6);
  const std::int64_t step = 50 * kSec;
  const std::int64_t total = 1'000'000'000LL * kSec;  // 2e7 steps of 50 s
  for (std::int64_t t = 0; t < total; t += step) m.step(step);
  const Uint128 expect = static_cast<Uint128>(997'200'000'000ULL) * static_cast<Uint128>(total);
  EXPECT_TRUE(m.energy_fj() == expect);
  EXPECT_EQ(m.total_kwh(), 277'000'000u);  // 997.2 kW x 1e9 s / 3600
  EXPECT_EQ(m.kwh24().value, 277'000'000u % Kwh24::kModulus);
  // A non-round power: within 1 uW x t of closed form (the power is kept in integer uW).
  MeterConfig c2 = make_config(kWye208);
  Meter m2(c2);
  m2.set_input(PhasorInput::balanced(c2, 77.777, 31.7));
  for (std::int64_t t = 0; t < total; t += 4000 * kSec) m2.step(4000 * kSec);
  const double truth_wh =
      3 * 120.0 * 77.777 * std::cos(31.7 * 3.14159265358979323846 / 180) * 1e9 / 3600;
  EXPECT_NEAR(wh_of(m2.energy_fj()) / truth_wh - 1.0, 0.0, 1e-9);
}

// ---- supply and outage (SPEC; guide 2.2) --------------------------------------------------

TEST(Supply, Guide2_2_SupplyRangesPerService) {
  struct Case {
    const char* model;
    int line;
    double lo, hi;
  } cases[] = {{kOne120, 0, 102, 138},
               {"S1-277-N-01-01-011-00", 0, 235, 320},
               {"S2-600-N-01-01-011-01", 0, 295, 400},
               {kDelta, 2, 175, 240}};
  for (const auto& cs : cases) {
    MeterConfig c = make_config(cs.model);
    Meter m(c);
    PhasorInput in;
    const auto l = static_cast<std::size_t>(cs.line);
    for (double v : {cs.lo - 0.5, cs.lo, cs.hi, cs.hi + 0.5}) {
      in.voltage[l].rms_v = v;
      m.set_input(in);
      EXPECT_EQ(m.powered(), v >= cs.lo && v <= cs.hi) << cs.model << " " << v;
    }
  }
}

TEST(Supply, Spec_OutageMidSubintervalRestartsTiming) {
  MeterConfig c = make_config(kWye208, with_id(3));
  Meter m(c);
  FrameLog log;
  log.attach(m);
  const PhasorInput load = load_kw(c, 12.0);
  m.set_input(load);
  m.step(2 * kSubintervalNs + 150 * kSec);  // two frames, then half a subinterval
  ASSERT_EQ(log.frames.size(), 2u);
  const Uint128 before = m.energy_fj();
  const MeterSnapshot snap_before = m.snapshot();
  PhasorInput off = load;
  for (auto& v : off.voltage) v.rms_v = 0;
  m.set_input(off);
  EXPECT_FALSE(m.powered());
  EXPECT_EQ(m.display().mode, DisplayMode::Off);
  EXPECT_FALSE(m.leds().d2_10wh || m.leds().d3_1kwh || m.leds().d1_reverse_phase);
  m.step(1000 * kSec);
  EXPECT_EQ(log.frames.size(), 2u);      // no transmission while off
  EXPECT_TRUE(m.energy_fj() == before);  // no registration; registers survive
  EXPECT_EQ(m.demand().peak_window_fj(), snap_before.demand.peak_window_fj);
  const std::int64_t up = m.now_ns();
  m.set_input(load);
  EXPECT_EQ(m.power_up_ns(), up);
  EXPECT_EQ(m.display().mode, DisplayMode::TotalKwh);
  EXPECT_EQ(m.inst_demand_centi_kw(), 0u);  // no completed subinterval since power-up
  m.step(kSubintervalNs - 1);
  EXPECT_EQ(log.frames.size(), 2u);
  m.step(1);
  ASSERT_EQ(log.frames.size(), 3u);
  EXPECT_EQ(log.frames[2].start_ns, up + kSubintervalNs);  // timing restarted at power-up
  EXPECT_EQ(m.inst_demand_centi_kw(), 1200u);
  EXPECT_FALSE(m.demand().rolling_available());
  m.step(2 * kSubintervalNs);
  EXPECT_TRUE(m.demand().rolling_available());
  // The 12 kW load over 900 s since power-up plus 750 s before: exact.
  EXPECT_TRUE(m.energy_fj() == static_cast<Uint128>(12'000'000'000ULL) * (1650ULL * kSec));
}

// ---- RS485 transmitter --------------------------------------------------------------------

TEST(Rs485, Spec_FrameAtEachSubintervalEndWithByteTimes) {
  MeterConfig c = make_config(kWye208, with_id(2578, 2'000'000));
  Meter m(c);
  m.set_input(load_kw(c, 3.0));
  for (int s = 0; s < 1500; ++s) m.step(kSec);  // 5 subintervals in 1 s steps
  const auto frames = m.pending_frames();
  ASSERT_EQ(frames.size(), 5u);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].start_ns, static_cast<std::int64_t>(i + 1) * kSubintervalNs + 2'000'000);
    const auto f = protocol::decode(frames[i].bytes);
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->meter_id.value, 2578);
    EXPECT_EQ(frames[i].byte_start_ns(11), frames[i].start_ns + 11 * 1'041'667);
  }
  EXPECT_EQ(kByteTimeNs * 12, 12'500'004);  // 12.5 ms per frame
  EXPECT_EQ(std::chrono::nanoseconds(kByteTimeNs), protocol::kByteTime9600);
  m.clear_frames();
  EXPECT_TRUE(m.pending_frames().empty());
  // The queue is bounded: overflow is counted, never allocated.
  m.step(20 * kSubintervalNs);
  EXPECT_EQ(m.pending_frames().size(), kTxQueueCapacity);
  EXPECT_EQ(m.frames_dropped(), 20 - kTxQueueCapacity);
  EXPECT_EQ(m.frames_sent(), 25u);
}

// ---- snapshot and determinism -------------------------------------------------------------

TEST(Snapshot, RoundTripAndCorruptionDetected) {
  MeterConfig c = make_config(kWye480, with_id(44));
  Meter m(c);
  m.set_input(load_kw(c, 123.456));
  m.step(4000 * kSec + 123);
  const MeterSnapshot s = m.snapshot();
  const SnapshotBytes b = Meter::serialize(s);
  MeterSnapshot back;
  ASSERT_TRUE(Meter::deserialize(b, back));
  EXPECT_EQ(Meter::serialize(back), b);
  EXPECT_TRUE(back.energy_fj == s.energy_fj);
  EXPECT_EQ(back.demand.resets, s.demand.resets);
  SnapshotBytes bad = b;
  bad[20] ^= 1;
  EXPECT_FALSE(Meter::deserialize(bad, back));
  EXPECT_FALSE(Meter::deserialize(std::span<const std::uint8_t>(b.data(), 100), back));
  // A restored meter continues exactly like the original.
  Meter r(c);
  r.restore(s);
  r.set_input(load_kw(c, 123.456));
  m.step(3000 * kSec);
  r.step(3000 * kSec);
  EXPECT_EQ(Meter::serialize(r.snapshot()), Meter::serialize(m.snapshot()));
  EXPECT_EQ(r.frame(), m.frame());
}

TEST(Firmware, DeterministicByteIdenticalOutputs) {
  auto run = [] {
    MeterConfig c = make_config(kWye480, with_id(77));
    Meter m(c);
    FrameLog log;
    log.attach(m);
    for (int minute = 0; minute < 600; ++minute) {
      m.set_input(load_kw(c, 50.0 + 40.0 * std::sin(minute * 0.1), 10.0 * (minute % 7)));
      m.step(60 * kSec);
      if (minute % 50 == 10) {
        m.set_key_switch(KeyPosition::Right);
        m.step(kSec / 3);
        m.set_key_switch(KeyPosition::Locked);
      }
    }
    std::vector<std::uint8_t> out;
    for (const auto& f : log.frames) {
      for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(f.start_ns >> (8 * i)));
      out.insert(out.end(), f.bytes.begin(), f.bytes.end());
    }
    const auto s = Meter::serialize(m.snapshot());
    out.insert(out.end(), s.begin(), s.end());
    return out;
  };
  const auto a = run();
  const auto b = run();
  EXPECT_GT(a.size(), 100u);
  EXPECT_EQ(a, b);
}

// ---- metrology readings -------------------------------------------------------------------

TEST(Metrology, PhasorReadings) {
  MeterConfig c = make_config(kWye480);
  Meter m(c);
  PhasorInput in = PhasorInput::balanced(c, 600.0, 60.0, 50.0);
  in.current[0][0].harmonics.count = 1;
  in.current[0][0].harmonics.h[0] = {3, 0.2, 0.0};
  m.set_input(in);
  EXPECT_NEAR(m.element(1).v_rms, 277.0, 1e-9);
  EXPECT_NEAR(m.element(1).i_rms_a, 600.0, 1e-9);
  EXPECT_NEAR(m.element(1).pf, 0.5, 1e-12);
  EXPECT_NEAR(m.element(0).i_rms_a, 600.0 * std::sqrt(1.04), 1e-9);
  EXPECT_NEAR(m.element(0).p_w, 277.0 * 600.0 * 0.5, 1e-6);  // harmonics carry no power
  EXPECT_DOUBLE_EQ(m.frequency_hz(), 50.0);
}

// The class-error model (off by default): P' = (1 + g) V I cos(phi - delta) per element, and
// the seeded draw stays inside the guide's class (guide 2.2: +/-0.5 % at PF 1, +/-0.75 % at 0.5).
TEST(ErrorModel, Guide2_2_SeededModelWithinAccuracyClass) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    MeterOptions o;
    o.error_model = ErrorModel::from_seed(seed);
    ASSERT_TRUE(o.error_model.enabled);
    MeterConfig c = make_config(kWye208, o);
    for (const double lag : {0.0, 60.0, -60.0}) {
      Meter m(c);
      m.set_input(PhasorInput::balanced(c, 40.0, lag));
      double truth = 0, model = 0;
      for (std::size_t k = 0; k < 3; ++k) {
        const double g = 1 + o.error_model.gain_error_ppm[k] * 1e-6;
        const double d = o.error_model.phase_error_mrad[k] * 1e-3;
        truth += 120.0 * 40.0 * std::cos(lag * 3.14159265358979323846 / 180);
        model += g * 120.0 * 40.0 * std::cos(lag * 3.14159265358979323846 / 180 - d);
      }
      EXPECT_NEAR(m.registered_power_w(), model, 1e-6);
      const double err = m.registered_power_w() / truth - 1;
      EXPECT_LE(std::fabs(err), lag == 0.0 ? 0.005 : 0.0075) << seed << " " << lag;
    }
  }
  EXPECT_FALSE(make_config(kWye208).error_model.enabled);
  // Different seeds, different meters.
  EXPECT_NE(ErrorModel::from_seed(1).gain_error_ppm, ErrorModel::from_seed(2).gain_error_ppm);
}

}  // namespace
}  // namespace imsm::meter::test
