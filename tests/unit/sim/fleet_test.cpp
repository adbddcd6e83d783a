// The fleet driving real meters (src/meter) on virtual buses: determinism, every config
// key's effect, the pure-ALOHA collision rate, truth against the bytes, and registers
// reproduced exactly over days (guide 2.5 frames, 3.7 demand reset, SPEC "The meter").
#include "sim/fleet.h"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <cmath>
#include <fstream>
#include <map>

#include "protocol/stream_framer.h"
#include "sim/duration.h"
#include "support/vectors.h"

namespace imsm::sim {
namespace {

constexpr std::int64_t kS = kNsPerSecond;

// Everything one bus carried, accumulated over a whole run.
struct Captured {
  std::vector<std::uint8_t> bytes;
  std::vector<io::BurstMark> marks;
  std::vector<TruthRecord> frames;
};

std::vector<Captured> run(Fleet& fleet, std::int64_t duration_ns,
                          std::int64_t chunk_ns = 3600 * kS) {
  std::vector<BusOutput> out(fleet.bus_count());
  std::vector<Captured> cap(fleet.bus_count());
  auto take = [&] {
    for (std::size_t b = 0; b < out.size(); ++b) {
      auto& c = cap[b];
      for (const auto& m : out[b].marks) {
        // Merge marks that merely continue the previous run (chunk edges).
        if (!c.marks.empty() && m.offset == c.bytes.size() &&
            m.time_ns == c.marks.back().time_ns +
                             static_cast<std::int64_t>(m.offset - c.marks.back().offset) * kByteNs)
          continue;
        c.marks.push_back(m);
      }
      c.bytes.insert(c.bytes.end(), out[b].bytes.begin(), out[b].bytes.end());
      c.frames.insert(c.frames.end(), out[b].frames.begin(), out[b].frames.end());
      out[b].clear(fleet.bus(b).stream_offset());
    }
  };
  for (std::int64_t t = chunk_ns;; t += chunk_ns) {
    fleet.advance(std::min(t, duration_ns), out);
    take();
    if (t >= duration_ns) break;
  }
  fleet.finish(out);
  take();
  return cap;
}

FleetConfig config(const std::string& toml) {
  return parse_fleet_config(toml, "test.toml");
}

std::string one_meter(const std::string& extra_meter_keys, const std::string& load_keys,
                      const std::string& tail = "") {
  return fmt::format(R"(seed = 1
[[meter]]
id = 2578
model = "S2-480-N-01-01-041-01"
power_up_s = 0.0
drift_ppm = 0.0
{}
[meter.load]
{}
{})",
                     extra_meter_keys, load_keys, tail);
}

protocol::Frame decoded(const TruthRecord& r) {
  return *protocol::decode(r.raw);
}

TEST(Fleet, Guide2_5_2_FramesEveryFiveMinutesWithTheWorkedExampleId) {
  Fleet fleet(config(one_meter("", "current_a = [100, 100, 100]")), 1);
  auto cap = run(fleet, 3600 * kS);
  ASSERT_EQ(cap[0].frames.size(), 12u);
  for (std::size_t k = 0; k < 12; ++k) {
    EXPECT_EQ(cap[0].frames[k].t_ns,
              static_cast<std::int64_t>(k + 1) * 300 * kS + fleet.meter(0).power_up_ns());
    EXPECT_EQ(decoded(cap[0].frames[k]).meter_id.value, test::frame_vectors().at(0).meter_id);
    EXPECT_TRUE(cap[0].frames[k].intact);
  }
  EXPECT_EQ(cap[0].bytes.size(), 144u);
}

// 3 x 277 V x 100 A at PF 1 = 83.1 kW: after k subintervals floor(6.925 k) kWh; a
// standalone meter given the same input in one-second steps agrees at every frame, and the
// peak demand is floor(83100 / 20) = 4155 counts once 15 minutes have passed.
TEST(Fleet, MultiDayRunReproducesTheMetersRegistersExactly) {
  const std::int64_t days = 3;
  Fleet fleet(config(one_meter("", "voltage_v = 277.0\ncurrent_a = [100, 100, 100]")), 1);
  auto cap = run(fleet, days * 86400 * kS, 7 * 3600 * kS + 13 * kS);
  const auto& frames = cap[0].frames;
  ASSERT_EQ(frames.size(), static_cast<std::size_t>(days * 288));

  meter::MeterOptions opt;
  opt.meter_id = MeterId{2578};
  auto cfg = meter::MeterConfig::from_model_number("S2-480-N-01-01-041-01", opt);
  ASSERT_TRUE(cfg);
  meter::Meter alone(*cfg);
  alone.set_input(meter::PhasorInput::balanced(*cfg, 100.0, 0.0));
  std::int64_t t = 0;
  for (std::size_t k = 0; k < frames.size(); ++k) {
    const protocol::Frame f = decoded(frames[k]);
    const std::uint64_t expect_kwh = (k + 1) * 6925 / 1000;
    ASSERT_EQ(f.total_kwh.value, expect_kwh) << "frame " << k;
    if (k >= 2) {
      ASSERT_EQ(f.peak_demand.value, 4155) << "frame " << k;
    }
    // The standalone meter, stepped a second at a time, up to just past this frame.
    while (t < frames[k].t_ns) {
      const std::int64_t dt = std::min(kS / 4, frames[k].t_ns - t);
      alone.step(dt);
      t += dt;
    }
    ASSERT_EQ(alone.frames_sent(), k + 1);
    const auto sent = alone.pending_frames();
    ASSERT_FALSE(sent.empty());
    EXPECT_EQ(sent.back().bytes, frames[k].raw) << "frame " << k;
    alone.clear_frames();
  }
  // Both at the end of the run: the same master register to the last unit.
  const std::int64_t end = days * 86400 * kS;
  if (end > t) alone.step(end - t);
  EXPECT_TRUE(fleet.meter(0).energy_nwh() == alone.energy_nwh());
  EXPECT_EQ(fleet.meter(0).energy_wh(), alone.energy_wh());
  EXPECT_EQ(fleet.meter(0).total_kwh(), 83100ull * 24 * days / 1000);
}

TEST(Fleet, DeterministicBySeed) {
  const std::string toml = R"(
[[bus]]
name = "main"
bit_error_rate = 1e-4
garbage_per_hour = 10
[[meter]]
id = 1
model = "S2-208-N-04-02-021-01"
[meter.load]
kind = "residential"
current_a = 80
[[meter]]
id = 2
model = "S1-240-R-12-01-011-01"
[meter.load]
kind = "office"
current_a = [40, 50]
[[meter]]
id = 3
model = "S2-480-N-01-01-041-01"
[meter.load]
kind = "retail"
current_a = 120
)";
  auto once = [&](std::uint64_t seed) {
    Fleet f(config(toml), seed);
    return run(f, 2 * 86400 * kS);
  };
  const auto a = once(7), b = once(7), c = once(8);
  EXPECT_EQ(a[0].bytes, b[0].bytes);
  ASSERT_EQ(a[0].marks.size(), b[0].marks.size());
  for (std::size_t i = 0; i < a[0].marks.size(); ++i)
    EXPECT_EQ(a[0].marks[i].time_ns, b[0].marks[i].time_ns);
  EXPECT_NE(a[0].bytes, c[0].bytes);
  // The seed also decides power-up offsets (within one subinterval) and drift.
  Fleet f7(config(toml), 7), f8(config(toml), 8);
  EXPECT_NE(f7.info(0).power_up_ns, f8.info(0).power_up_ns);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_GE(f7.info(i).power_up_ns, 0);
    EXPECT_LT(f7.info(i).power_up_ns, 300 * kS);
    EXPECT_LE(std::abs(f7.info(i).drift_ppm), 20.0);
    EXPECT_NE(f7.info(i).drift_ppm, 0.0);
  }
}

TEST(Fleet, ChunkingDoesNotChangeTheOutput) {
  const std::string toml = one_meter("", "kind = \"residential\"\ncurrent_a = 100") +
                           "[[meter]]\nid = 5\nmodel = \"S2-480-N-01-01-041-01\"\n[meter.load]\n"
                           "kind = \"office\"\ncurrent_a = 90\n";
  Fleet a(config(toml), 3), b(config(toml), 3);
  const auto ca = run(a, 86400 * kS, 3600 * kS);
  const auto cb = run(b, 86400 * kS, 97 * kS);
  EXPECT_EQ(ca[0].bytes, cb[0].bytes);
  ASSERT_EQ(ca[0].frames.size(), cb[0].frames.size());
  EXPECT_EQ(a.meter(1).energy_nwh(), b.meter(1).energy_nwh());
}

TEST(Fleet, PowerUpDelaysTheFirstFrameAndDriftStretchesTheCycle) {
  Fleet fleet(config(one_meter("", "current_a = 100")
                         .replace(one_meter("", "current_a = 100").find("power_up_s = 0.0"), 16,
                                  "power_up_s = 42.5")),
              1);
  auto cap = run(fleet, 1000 * kS);
  ASSERT_FALSE(cap[0].frames.empty());
  EXPECT_NEAR(static_cast<double>(cap[0].frames[0].t_ns), 342.5e9, 0.2e9);
  EXPECT_NEAR(static_cast<double>(cap[0].frames[1].t_ns - cap[0].frames[0].t_ns), 300e9, 1e3);

  std::string fast = one_meter("", "current_a = 100");
  fast.replace(fast.find("drift_ppm = 0.0"), 15, "drift_ppm = 100.0");
  Fleet f2(config(fast), 1);
  auto c2 = run(f2, 86400 * kS);
  ASSERT_GE(c2[0].frames.size(), 200u);
  // A meter 100 ppm fast ends its subintervals every 300 s / (1 + 1e-4) of bus time.
  const double period =
      static_cast<double>(c2[0].frames[200].t_ns - c2[0].frames[100].t_ns) / 100.0;
  EXPECT_NEAR(period, 300e9 / 1.0001, 2e3);
}

TEST(Fleet, Guide3_7_KeyPressWhilePeakShowsResetsDemand) {
  // With demand the LCD cycles 19 s from power-up: peak demand shows from 12 s to 18 s of
  // each cycle. 3623 s = 190 cycles + 13 s: peak is on the display.
  const auto cfgs = config(
      one_meter("", "current_a = 100", "[[meter.key_press]]\nat_s = 3623.0\nhold_s = 0.5\n"));
  ASSERT_EQ(meter::display_phase(3623 * kS, true).mode, meter::DisplayMode::PeakDemand);
  Fleet fleet(cfgs, 1);
  auto cap = run(fleet, 7200 * kS);
  for (const auto& r : cap[0].frames) {
    const auto f = decoded(r);
    EXPECT_EQ(f.demand_resets.value, r.t_ns < 3623 * kS ? 0 : 1) << r.t_ns;
  }
  // While total kWh shows (3613 s = 190 cycles + 3 s) the key does nothing.
  Fleet f2(config(one_meter("", "current_a = 100",
                            "[[meter.key_press]]\nat_s = 3613.0\nhold_s = 0.5\n")),
           1);
  auto c2 = run(f2, 7200 * kS);
  for (const auto& r : c2[0].frames) EXPECT_EQ(decoded(r).demand_resets.value, 0);
  // Held longer than a second, the turn is not a reset either (guide 3.7).
  Fleet f3(config(one_meter("", "current_a = 100",
                            "[[meter.key_press]]\nat_s = 3623.0\nhold_s = 2.0\n")),
           1);
  auto c3 = run(f3, 7200 * kS);
  for (const auto& r : c3[0].frames) EXPECT_EQ(decoded(r).demand_resets.value, 0);
}

TEST(Fleet, OutageStopsFramesAndRegistrationAndKeepsRegisters) {
  Fleet fleet(config(one_meter("", "current_a = 100",
                               "[[meter.outage]]\nfrom_s = 7200.0\nto_s = 7500.0\n")),
              1);
  auto cap = run(fleet, 3 * 3600 * kS);
  std::uint32_t kwh_before = 0;
  bool seen_after = false;
  for (const auto& r : cap[0].frames) {
    EXPECT_FALSE(r.t_ns > 7200 * kS && r.t_ns < 7800 * kS)
        << "frame during the outage at " << r.t_ns;
    const auto f = decoded(r);
    if (r.t_ns <= 7200 * kS) kwh_before = f.total_kwh.value;
    if (r.t_ns >= 7800 * kS && !seen_after) {
      seen_after = true;
      // Counting restarts at the restoration: 5 minutes after it, the register resumed
      // where it stopped (6.925 kWh per subinterval).
      EXPECT_GE(f.total_kwh.value, kwh_before + 6);
      EXPECT_LE(f.total_kwh.value, kwh_before + 8);
    }
  }
  EXPECT_TRUE(seen_after);
  // 3 h minus 5 min off: 83.1 kW x 175 min.
  EXPECT_EQ(fleet.meter(0).total_kwh(), 83100ull * 175 / 60 / 1000);
}

TEST(Fleet, WiringFaultsPowerFactorFrequencyAndVoltage) {
  auto energy = [](const std::string& meter_keys, const std::string& load,
                   const std::string& tail = "") {
    Fleet f(config(one_meter(meter_keys, load, tail)), 1);
    (void)run(f, 3600 * kS);
    return static_cast<double>(f.meter(0).energy_wh());
  };
  const double full = energy("", "current_a = 100");
  EXPECT_NEAR(full, 83100.0, 2.0);
  // One reversed CT of three at PF 1: net = P - P + P (guide 5: D1 lights, net registers).
  EXPECT_NEAR(energy("", "current_a = 100", "[meter.wiring]\nreversed = [2]\n"), full / 3, 2.0);
  // CTs of L2 and L3 swapped: each sees a current 120 degrees off: 1 - 0.5 - 0.5 = 0.
  EXPECT_NEAR(energy("", "current_a = 100", "[meter.wiring]\nct_on_line = [1, 3, 2]\n"), 0.0, 2.0);
  // PF 0.5 lagging or leading: half the power.
  EXPECT_NEAR(energy("", "current_a = 100\npf = 0.5\npf_mode = \"lag\""), full / 2, 2.0);
  EXPECT_NEAR(energy("", "current_a = 100\npf = 0.5\npf_mode = \"lead\""), full / 2, 2.0);
  EXPECT_NEAR(energy("", "current_a = 100\nfrequency_hz = 50.0"), full, 2.0);
  // Voltage scales the power; outside the supply range (235-320 V) the meter is off.
  EXPECT_NEAR(energy("", "current_a = 100\nvoltage_v = [300.0, 300.0, 300.0]"), full * 300 / 277,
              2.0);
  EXPECT_EQ(energy("", "current_a = 100\nvoltage_v = [200.0, 200.0, 200.0]"), 0.0);
  // demand = false: the frame carries 0 peak and 0 resets.
  Fleet nd(config(one_meter("demand = false", "current_a = 100")), 1);
  auto cap = run(nd, 3600 * kS);
  for (const auto& r : cap[0].frames) EXPECT_EQ(decoded(r).peak_demand.value, 0);
}

TEST(Fleet, DailyShapesFollowTheirHoursAndCsvFollowsItsRows) {
  auto hourly = [](const std::string& kind) {
    Fleet f(config(one_meter("", "kind = \"" + kind + "\"\ncurrent_a = 100\nnoise = 0.05")), 1);
    std::vector<double> wh;
    std::vector<BusOutput> out(1);
    double last = 0;
    for (int h = 1; h <= 24 * 7; ++h) {
      f.advance(h * 3600 * kS, out);
      wh.push_back(static_cast<double>(f.meter(0).energy_wh()) - last);
      last = static_cast<double>(f.meter(0).energy_wh());
    }
    return wh;
  };
  const auto res = hourly("residential");
  EXPECT_GT(res[19], 3 * res[3]);  // 19:00-20:00 against 03:00-04:00
  const auto off = hourly("office");
  EXPECT_GT(off[11], 3 * off[22]);
  EXPECT_GT(off[11], 3 * off[5 * 24 + 11]);  // Saturday
  const auto ret = hourly("retail");
  EXPECT_GT(ret[14], 4 * ret[2]);

  const std::string dir = ::testing::TempDir();
  {
    std::ofstream csv(dir + "/steps.csv");
    csv << "t_s,i1_a,i2_a,i3_a,pf\n0,100,100,100,1.0\n1800,50,50,50,1.0\n";
  }
  std::string toml = one_meter("", "kind = \"csv\"\npath = \"" + dir + "/steps.csv\"");
  Fleet f(config(toml), 1);
  (void)run(f, 3600 * kS);
  EXPECT_NEAR(static_cast<double>(f.meter(0).energy_wh()), 83100.0 * 0.75, 2.0);
}

// Pure ALOHA: with N meters at independent phases, a frame of length T survives when no
// other frame starts within T before or after it: P = exp(-2G), G = N T / 300 s.
TEST(Fleet, CollisionRateMatchesPureAloha) {
  const int n = 1000;
  std::string toml = "load_resolution_s = 300\n";
  for (int i = 0; i < n; ++i)
    toml += fmt::format(
        "[[meter]]\nid = {}\nmodel = \"S1-120-X-01-01-011-00\"\n[meter.load]\ncurrent_a = 10\n", i);
  const FleetConfig cfg = config(toml);
  std::uint64_t frames = 0, collided = 0;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    Fleet f(cfg, seed);
    auto cap = run(f, 3600 * kS);
    for (const auto& r : cap[0].frames) {
      ++frames;
      collided += !r.intact;
    }
  }
  const double g = n * (12.0 * kByteNs / 1e9) / 300.0;
  const double expected = 1.0 - std::exp(-2.0 * g);
  const double measured = static_cast<double>(collided) / static_cast<double>(frames);
  EXPECT_GT(frames, 80000u);
  EXPECT_NEAR(measured, expected, 0.10 * expected);
  std::printf("pure ALOHA: %llu frames, measured %.5f, expected %.5f\n",
              static_cast<unsigned long long>(frames), measured, expected);
}

// Every intact frame of the truth is in the bytes at its offset, at its time, and a framer
// reading the bytes with their .times finds it standing alone unless another transmission
// came within the idle gap.
TEST(Fleet, TruthIsConsistentWithTheBytes) {
  std::string toml =
      "load_resolution_s = 300\n[[bus]]\nname = \"main\"\nbit_error_rate = 2e-4\n"
      "byte_drop_rate = 1e-4\ngarbage_per_hour = 30\n";
  for (int i = 0; i < 300; ++i)
    toml += fmt::format(
        "[[meter]]\nid = {}\nmodel = \"S2-480-N-01-01-041-01\"\n[meter.load]\n"
        "kind = \"office\"\ncurrent_a = 200\n",
        1000 + i);
  Fleet f(config(toml), 9);
  auto cap = run(f, 6 * 3600 * kS);
  const Captured& c = cap[0];
  protocol::StreamFramer framer;
  std::vector<protocol::LocatedFrame> located;
  for (std::size_t k = 0; k < c.marks.size(); ++k) {
    const std::size_t end = k + 1 < c.marks.size() ? c.marks[k + 1].offset : c.bytes.size();
    framer.push({c.bytes.data() + c.marks[k].offset, end - c.marks[k].offset},
                protocol::Nanos{c.marks[k].time_ns}, protocol::kByteTime9600, located);
  }
  framer.finish(located);
  std::map<std::uint64_t, const protocol::LocatedFrame*> by_offset;
  for (const auto& l : located) by_offset[l.offset] = &l;
  std::size_t intact = 0, not_intact = 0, alone = 0;
  for (const auto& r : c.frames) {
    if (!r.intact) {
      ++not_intact;
      continue;
    }
    ++intact;
    ASSERT_TRUE(std::equal(r.raw.begin(), r.raw.end(),
                           c.bytes.begin() + static_cast<std::ptrdiff_t>(r.offset)));
    auto it = by_offset.find(r.offset);
    ASSERT_NE(it, by_offset.end()) << "intact frame at offset " << r.offset << " not decoded";
    EXPECT_EQ(protocol::encode(it->second->frame), r.raw);
    ASSERT_TRUE(it->second->time);
    if (it->second->burst == protocol::Burst::Alone) {
      ++alone;
      EXPECT_EQ(it->second->time->count(), r.t_ns);
    }
    // Standing alone is decided by the neighbours: no other byte within the 20 ms gap.
    const auto mk =
        std::upper_bound(c.marks.begin(), c.marks.end(), r.offset,
                         [](std::uint64_t o, const io::BurstMark& m) { return o < m.offset; }) -
        1;
    const std::size_t run_end = mk + 1 != c.marks.end() ? (mk + 1)->offset : c.bytes.size();
    const bool quiet_before =
        mk == c.marks.begin() ||
        (mk - 1)->time_ns + static_cast<std::int64_t>(mk->offset - (mk - 1)->offset - 1) * kByteNs +
                20'000'000 <
            mk->time_ns;
    const bool quiet_after =
        mk + 1 == c.marks.end() || mk->time_ns + 11 * kByteNs + 20'000'000 < (mk + 1)->time_ns;
    const bool expect_alone =
        mk->offset == r.offset && run_end == r.offset + 12 && quiet_before && quiet_after;
    EXPECT_EQ(it->second->burst == protocol::Burst::Alone, expect_alone) << "offset " << r.offset;
  }
  EXPECT_GT(intact, 3000u);
  EXPECT_GT(not_intact, 50u);
  EXPECT_GT(alone, 3000u);
}

}  // namespace
}  // namespace imsm::sim
