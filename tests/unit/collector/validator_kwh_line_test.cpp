// kWh off the line (docs/collector.md "kWh off the line"; SPEC "Validation beyond structure":
// no kWh accepted outside the envelope of the meter's true neighbouring readings). A bit error
// that raises a reading's kWh by a few units is plausible; the meter's next true frame then goes
// back by a little and is held; the frame after agrees with both. The one of the two that lies
// off the line through the readings around them is the corrupted one.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "collector/config.h"
#include "collector/validate/kwh_line.h"
#include "collector/validate/validator.h"
#include "helpers.h"

namespace imsm::collector {
namespace {

using test::kMinute;
using test::kT0;
using test::obs;

constexpr std::int64_t kCycle = 5 * kMinute;
constexpr std::uint16_t kMeter = 53188;
// A 480 V 3-phase 200 A meter: 166 kW, at most 14 kWh a cadence; the +10 kWh a cadence below
// is about 120 kW.
constexpr std::int64_t kMeterW = 166'277;

// Readings of kWh `kwh[k]` at kT0 + k cycles (frames 1, 2, ...), peak 500 counts, counter 3.
// Returns the decisions of the last frame.
Decisions feed(Validator& v, std::initializer_list<std::uint32_t> kwh) {
  Decisions d;
  int k = 0;
  for (std::uint32_t e : kwh) {
    d.clear();
    v.process(obs(k + 1, kMeter, e, 500, 3, kT0 + k * kCycle), d);
    ++k;
  }
  return d;
}

// No retraction: the held frame `frame_id` is rejected as kwh_backwards (the old decision).
void expect_held_frame_rejected(const Decisions& d, std::int64_t frame_id) {
  EXPECT_TRUE(d.retracted.empty());
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].frame_id, frame_id);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::KwhBackwards);
}

Validator registered() {
  Validator v{ValidationSettings{}};
  v.register_meter(kMeter, kMeterW);
  return v;
}

TEST(KwhLine, TheFartherPointFromTheLineIsOffIt) {
  // The line from (0 s, 27264) to (900 s, 27296) passes 27274.67 at 300 s and 27285.33 at
  // 600 s: 27290 at 300 s is 15.33 kWh off it, 27286 at 600 s 0.67 kWh.
  const KwhPoint before{0, 27264}, after{900, 27296};
  EXPECT_TRUE(last_is_off_the_line(before, {300, 27290}, {600, 27286}, after));
  // Swapped roles: 27275 at 300 s is 0.33 off, 27270 at 600 s 15.33 off.
  EXPECT_FALSE(last_is_off_the_line(before, {300, 27275}, {600, 27270}, after));
}

TEST(KwhLine, HalfAKwhIsWithinTheRegistersTruncation) {
  // Line (0, 0) to (4, 2): 0.5 at t = 1, 1.0 at t = 2. Last 1 at t = 1 is 0.5 off, held 1 at
  // t = 2 is on it: a difference of exactly half a kWh is not enough.
  EXPECT_FALSE(last_is_off_the_line({0, 0}, {1, 1}, {2, 1}, {4, 2}));
  // Last 2 at t = 1 is 1.5 off: more than half a kWh farther than the held one.
  EXPECT_TRUE(last_is_off_the_line({0, 0}, {1, 2}, {2, 1}, {4, 2}));
}

TEST(KwhLine, AdvancesAreTakenAcrossTheWrap) {
  // The first test's points shifted by -27270 modulo 2^24: the same distances.
  constexpr std::uint32_t kWrap = 1u << 24;
  EXPECT_TRUE(last_is_off_the_line({0, kWrap - 6}, {300, 20}, {600, 16}, {900, 26}));
  EXPECT_FALSE(last_is_off_the_line({0, kWrap - 6}, {300, 5}, {600, 0}, {900, 26}));
}

TEST(ValidatorKwhLine, SpecValidation_ARaisedKwhIsRetractedWhenTheNextTwoFramesAgree) {
  // Meter 53188 of the 32-meter, BER-1e-4 sweep cell: +10 kWh a cadence; the frame of cycle 4
  // was sent as 0x6A8A = 27274 and received as 0x6A9A = 27290 (bit 4 flipped), plausible after
  // 27264 (+26 in a cadence: the meter is registered at twice its size here, so that the flip
  // passes the power bound as the sweep's larger flips do). The true 27286 of cycle 5 then went
  // back by 4 and was held, and 27296 of cycle 6 agrees with 27290 and 27286 both. Off the line
  // from 27264 (cycle 3) to 27296 (cycle 6): 27290 by 15.33, 27286 by 0.67 (test above).
  Validator v{ValidationSettings{}};
  v.register_meter(kMeter, 2 * kMeterW);  // +26 kWh in 5 minutes is plausible at 332 kW
  Decisions d = feed(v, {27234, 27244, 27254, 27264, 27290, 27286});
  EXPECT_TRUE(d.readings.empty());
  ASSERT_EQ(d.rejections.size(), 0u);
  d.clear();
  v.process(obs(7, kMeter, 27296, 500, 3, kT0 + 6 * kCycle), d);
  ASSERT_EQ(d.retracted.size(), 1u);
  EXPECT_EQ(d.retracted[0].frame_id, 5);
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::Retracted);
  EXPECT_NE(d.rejections[0].detail.find("off the line"), std::string::npos)
      << d.rejections[0].detail;
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 6);
  EXPECT_EQ(d.readings[0].kwh24, 27286u);
  EXPECT_EQ(d.readings[1].frame_id, 7);
  // The unwrapped total continues from 27264 (frame 4), not from the retracted 27290.
  EXPECT_EQ(d.readings[1].total_kwh - d.readings[0].total_kwh, 10);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].kind, EventKind::Retracted);
  EXPECT_EQ(v.meter(kMeter)->last_kwh24, 27296u);
}

TEST(ValidatorKwhLine, ALoweredKwhOfTheHeldFrameIsRejectedAsBefore) {
  // The other single bit error: true 27264, 27275, 27286, 27296; the frame of cycle 5 sent
  // 0x6A96 = 27286 and received 0x6A86 = 27270 (bit 4 cleared): back by 5 from 27275, held.
  // 27296 agrees with both; off the line from 27264 to 27296: 27275 by 0.33, 27270 by 15.33.
  Validator v{ValidationSettings{}};
  v.register_meter(kMeter, 2 * kMeterW);
  const Decisions d = feed(v, {27234, 27244, 27254, 27264, 27275, 27270, 27296});
  expect_held_frame_rejected(d, 6);
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].frame_id, 7);
  EXPECT_EQ(d.readings[0].total_kwh, 27296);  // the epoch began at 27234: total = kWh
}

TEST(ValidatorKwhLine, ASlowRegisterThatCannotTellThemApartKeepsTheLastReading) {
  // Meter 5473 of the same cell, about 1 kWh an hour: 3870, 3870, 3870 (sent; the last received
  // 3871, bit 0 set), then 3870 held (back by 1) and 3871. Off the line from 3870 to 3871 over
  // three cycles: 3871 at cycle 1 by 0.67, 3870 at cycle 2 by 0.67: no difference, so the
  // held frame is rejected as before (a bit-0 flip either way fits both stories).
  Validator v = registered();
  expect_held_frame_rejected(feed(v, {3870, 3870, 3870, 3871, 3870, 3871}), 5);
}

TEST(ValidatorKwhLine, AHeldFrameThatAlsoRaisesItsPeakIsNotJudgedByKwh) {
  // As the first validator test, but the held frame and the one after it raise the peak from
  // 500 to 600 counts (12 kW, backed by the energy): the held frame's reason is its kWh, but it
  // differs from the last reading in more than kWh, so the line does not decide it.
  Validator v{ValidationSettings{}};
  v.register_meter(kMeter, 2 * kMeterW);
  Decisions d = feed(v, {27234, 27244, 27254, 27264, 27290});
  d.clear();
  v.process(obs(6, kMeter, 27286, 600, 3, kT0 + 5 * kCycle), d);
  ASSERT_EQ(d.held.size(), 1u);
  d.clear();
  v.process(obs(7, kMeter, 27296, 600, 3, kT0 + 6 * kCycle), d);
  EXPECT_TRUE(d.retracted.empty());
  ASSERT_GE(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].frame_id, 6);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::KwhBackwards);
}

// A raised last reading and shared frames (docs/collector.md "kWh off the line"): true 1000,
// 1001, 1002, 1003, 1004, ... a kWh a cadence, peak 500 and counter 3 throughout; frame 4 was
// sent as 1003 = 0x3EB and received 0x3FB = 1019 (bit 4 set), plausible after 1002 at twice
// the meter's size (+17 kWh in 5 minutes; 332 kW allow 27.7). Frame 5 (alone, the true 1004)
// goes back by 15 and is held. Frame 6 comes from a shared burst.
// No retraction: the shared frame `frame_id` is rejected as kwh_backwards (the old decision).
void expect_shared_frame_rejected(const Decisions& d, std::int64_t frame_id) {
  EXPECT_TRUE(d.retracted.empty());
  EXPECT_TRUE(d.readings.empty());
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].frame_id, frame_id);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::KwhBackwards);
  EXPECT_NE(d.rejections[0].detail.find("shared burst"), std::string::npos);
}

// Readings 1000-1002 and the raised frame 4 (1019), registered at twice the meter's size.
// (256 meters, BER 1e-4, meter 20449, is this with the meter's next frames all shared.)
Decisions raised_reading(Validator& v) {
  v.register_meter(kMeter, 2 * kMeterW);
  Decisions d = feed(v, {1000, 1001, 1002, 1003 | 0x10});
  EXPECT_EQ(d.readings.size(), 1u);
  d.clear();
  return d;
}

// Then frame 5 (alone, the true 1004), held.
Decisions raised_then_held(Validator& v) {
  Decisions d = raised_reading(v);
  v.process(obs(5, kMeter, 1004, 500, 3, kT0 + 4 * kCycle), d);
  EXPECT_EQ(d.held, std::vector<std::int64_t>{5});
  d.clear();
  return d;
}

// `d` holds the decisions of frame 6 (shared, 1005): frame 4 retracted, frame 5 a reading,
// frame 6 waiting; frame 7 (alone, 1006) confirms it.
void expect_retracted_then_confirmed(Validator& v, Decisions& d) {
  ASSERT_EQ(d.retracted.size(), 1u);
  EXPECT_EQ(d.retracted[0].frame_id, 4);
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::Retracted);
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].frame_id, 5);
  EXPECT_EQ(d.readings[0].total_kwh, 1004);  // the epoch began at 1000: total = kWh
  EXPECT_EQ(d.held, std::vector<std::int64_t>{6});
  d.clear();
  v.process(obs(7, kMeter, 1006, 500, 3, kT0 + 6 * kCycle), d);  // alone: confirms frame 6
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 6);
  EXPECT_EQ(d.readings[1].frame_id, 7);
  EXPECT_TRUE(d.rejections.empty());
  EXPECT_EQ(v.meter(kMeter)->last_kwh24, 1006u);
}

TEST(ValidatorKwhLine, Issue10_ASharedFrameThatContinuesTheHeldFrameRetractsARaisedReading) {
  // Frame 6 (shared, the true 1005) is 14 back from 1019 and +1 after the held 1004; 1004 is +2
  // after 1002. An OR only sets bits, so a merge of a true frame after a true 1019 would not be
  // below it: frame 4 is retracted at once, frame 5 becomes a reading, and frame 6 waits as any
  // shared frame whose kWh moved does. Before, frame 6 was rejected (kwh_backwards, shared
  // burst) and frame 4 was retracted only by the next frame alone, hours later on a busy bus.
  Validator v{ValidationSettings{}};
  Decisions d = raised_then_held(v);
  v.process(obs(6, kMeter, 1005, 500, 3, kT0 + 5 * kCycle, protocol::Burst::Shared), d);
  expect_retracted_then_confirmed(v, d);
}

TEST(ValidatorKwhLine, Issue10_AnOverlappedFrameDoesNotRetract) {
  // As above, but frame 6 overlaps another window of its burst (its tail may be a neighbour's
  // head): no evidence, rejected as before.
  Validator v{ValidationSettings{}};
  Decisions d = raised_then_held(v);
  v.process(obs(6, kMeter, 1005, 500, 3, kT0 + 5 * kCycle, protocol::Burst::Overlapped), d);
  expect_shared_frame_rejected(d, 6);
}

TEST(ValidatorKwhLine, Issue10_ASharedFrameThatAlsoRaisesThePeakDoesNotRetract) {
  // As the first, but frame 6 carries peak 600: more than kWh moved, rejected as before.
  Validator v{ValidationSettings{}};
  Decisions d = raised_then_held(v);
  v.process(obs(6, kMeter, 1005, 600, 3, kT0 + 5 * kCycle, protocol::Burst::Shared), d);
  expect_shared_frame_rejected(d, 6);
}

TEST(ValidatorKwhLine, Issue10_ASharedFrameDoesNotRetractForAHeldFrameBackFromTheReadingBefore) {
  // The last reading is true: 1000, 1001, 1002, 1003; frame 5 (1004 = 0x3EC, bit 3 cleared:
  // 0x3E4 = 996) is back from 1003 and from 1002, held; frame 6 (1005 = 0x3ED, bit 3 cleared
  // too: 997) continues it. The held frame is not plausible after the reading before the last,
  // so nothing says the last one was raised: frame 6 is rejected as before.
  Validator v{ValidationSettings{}};
  v.register_meter(kMeter, 2 * kMeterW);
  Decisions d = feed(v, {1000, 1001, 1002, 1003, 1004 & ~0x8u});
  EXPECT_EQ(d.held, std::vector<std::int64_t>{5});
  d.clear();
  v.process(obs(6, kMeter, 1005 & ~0x8u, 500, 3, kT0 + 5 * kCycle, protocol::Burst::Shared), d);
  expect_shared_frame_rejected(d, 6);
}

TEST(ValidatorKwhLine, Issue10_ASharedFrameBelowARaisedReadingWaitsAndTheNextRetractsIt) {
  // 256 meters, BER 1e-4, meter 20449: after the raised 1019, frame 5 (shared, the true 1004) is 15
  // back from 1019 and +2 after 1002, peak and counter as before: a merge only sets bits, so it is
  // the meter's true frame after a raised reading or another meter's bytes; it waits (held). Frame
  // 6 (shared, 1005) continues it: frame 4 is retracted, frame 5 becomes a reading, frame 6 waits
  // as any shared frame whose kWh moved, and frame 7 (alone, 1006) confirms it. Before, frames 5
  // and 6 were rejected (kwh_backwards, shared burst) until a frame alone came, or the register
  // passed 1019.
  Validator v{ValidationSettings{}};
  Decisions d = raised_reading(v);
  v.process(obs(5, kMeter, 1004, 500, 3, kT0 + 4 * kCycle, protocol::Burst::Shared), d);
  EXPECT_TRUE(d.rejections.empty());
  EXPECT_EQ(d.held, std::vector<std::int64_t>{5});
  d.clear();
  v.process(obs(6, kMeter, 1005, 500, 3, kT0 + 5 * kCycle, protocol::Burst::Shared), d);
  expect_retracted_then_confirmed(v, d);
}

TEST(ValidatorKwhLine, Issue10_AnOverlappedFrameBelowARaisedReadingIsRejectedAtOnce) {
  // As above, but frame 5 overlaps another window of its burst (its tail may be a neighbour's
  // head): not evidence, rejected at once as before.
  Validator v{ValidationSettings{}};
  Decisions d = raised_reading(v);
  v.process(obs(5, kMeter, 1004, 500, 3, kT0 + 4 * kCycle, protocol::Burst::Overlapped), d);
  expect_shared_frame_rejected(d, 5);
}

TEST(ValidatorKwhLine, Issue10_ASharedFrameBelowTheReadingBeforeIsRejectedAtOnce) {
  // True readings 1000-1003; frame 5 (shared, 996) is back from 1003 and from 1002: nothing
  // says the last reading was raised, rejected at once as before.
  Validator v{ValidationSettings{}};
  v.register_meter(kMeter, 2 * kMeterW);
  Decisions d = feed(v, {1000, 1001, 1002, 1003});
  d.clear();
  v.process(obs(5, kMeter, 996, 500, 3, kT0 + 4 * kCycle, protocol::Burst::Shared), d);
  expect_shared_frame_rejected(d, 5);
}

TEST(ValidatorKwhLine, Issue10_AHeldSharedFrameIsRejectedWhenTheNextAgreesWithTheReading) {
  // True readings 1000-1003; frame 5 (shared, 1002: another meter's bytes with this ID, or a
  // cleared bit) is back by 1 from 1003 and plausible after 1002: it waits. Frame 6 (alone,
  // 1004) agrees with the last reading: frame 5 is rejected (kwh_backwards) and frame 6 is a
  // reading: the true reading stays, one frame later than before.
  Validator v{ValidationSettings{}};
  v.register_meter(kMeter, 2 * kMeterW);
  Decisions d = feed(v, {1000, 1001, 1002, 1003});
  d.clear();
  v.process(obs(5, kMeter, 1002, 500, 3, kT0 + 4 * kCycle, protocol::Burst::Shared), d);
  EXPECT_EQ(d.held, std::vector<std::int64_t>{5});
  d.clear();
  v.process(obs(6, kMeter, 1004, 500, 3, kT0 + 5 * kCycle), d);
  EXPECT_TRUE(d.retracted.empty());
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].frame_id, 5);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::KwhBackwards);
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].frame_id, 6);
}

// Readings of one steady load fit floor(E0 + r t) for one rate r and offset E0.
std::vector<KwhTotal> cycles(std::initializer_list<std::pair<int, std::int64_t>> at_kwh) {
  std::vector<KwhTotal> out;
  for (const auto& [k, kwh] : at_kwh) out.push_back({k * kCycle, kwh});
  return out;
}

TEST(KwhLine, OneSteadyLoadFitsTheTicksOfOneRate) {
  // E = 100.5 + k / 3 kWh at cycle k: 100, 100, 101, 101, 101, 102 (floor).
  EXPECT_TRUE(
      one_steady_load(cycles({{0, 100}, {1, 100}, {2, 101}, {3, 101}, {4, 101}, {5, 102}})));
  // Ticks at cycles 1 and 7 after none from 1 to 5: from cycles 1 to 5 the rate is below
  // (1 - 1 + 1) / 4 = 1/4 a cycle, from 5 to 7 above (3 - 1 - 1) / 2 = 1/2: no one rate.
  EXPECT_FALSE(one_steady_load(cycles({{0, 100}, {1, 101}, {5, 101}, {7, 103}})));
  // A register that went back, and two readings at one instant that differ: no load at all.
  EXPECT_FALSE(one_steady_load(cycles({{0, 100}, {1, 99}})));
  EXPECT_FALSE(one_steady_load(cycles({{0, 100}, {1, 101}, {1, 102}})));
  EXPECT_TRUE(one_steady_load(cycles({{0, 100}})));
  // A stopped register is a rate of 0.
  EXPECT_TRUE(one_steady_load(cycles({{0, 100}, {1, 100}, {9, 100}})));
}

TEST(ValidatorKwhLine, Issue10_ATickOneCadenceEarlyIsRetractedWhenOneSteadyLoadTellsIt) {
  // E = 100 + (k + 0.5) / 3 kWh at cycle k: 100 100 100 101 101 101 102 102 103 (k = 0..6, 8, 9).
  // The frame of cycle 7 sent 102 (0x66) and was received 103 (bit 0 set): plausible, a
  // reading. Cycle 8's true 102 is back by 1 (held); cycle 9's 103 agrees with both. The line
  // from cycle 6 (102) to 9 (103) has both a 0.67 off, so it cannot tell. One rate fits the
  // history with 102 at cycle 8; with 103 at cycle 7 the register would tick after 3 cycles
  // (101 at 3, 102 at 6) and then after 1: from cycle 0 to 5, at most (101 - 100 + 1) / 5 = 0.4
  // a cycle; from 5 to 7 at least (103 - 101 - 1) / 2 = 0.5. The raised reading is retracted.
  Validator v = registered();
  const Decisions d = feed(v, {100, 100, 100, 101, 101, 101, 102, 103, 102, 103});
  ASSERT_EQ(d.retracted.size(), 1u);
  EXPECT_EQ(d.retracted[0].frame_id, 8);
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 9);
  EXPECT_EQ(d.readings[1].frame_id, 10);
  EXPECT_EQ(v.meter(kMeter)->last_kwh24, 103u);
}

TEST(ValidatorKwhLine, Issue10_ATrueTickIsKeptWhenTheHeldFrameBreaksTheSteadyLoad) {
  // The other story: E = 100 + (k + 2.5) / 3: 100 101 101 101 102 102 102 103 (k = 0..7), and
  // cycle 8's true 103 (0x67) received 102 (bit 0 cleared), held; cycle 9's 103. With 102 at
  // cycle 8 in place of 103 at 7, no one rate fits: from cycle 0 to 4 at least (102 - 100 - 1)
  // / 4 = 1/4 a cycle, from 4 to 8 below (102 - 102 + 1) / 4 = 1/4. The held frame is rejected.
  Validator v = registered();
  expect_held_frame_rejected(feed(v, {100, 101, 101, 101, 102, 102, 102, 103, 102, 103}), 9);
}

// Frames of kMeter (peak 500, counter 3) with kWh kwh[i] at kT0 + cycle[i] cycles; the decisions
// of the frames from index `from` on (frame ids 1, 2, ...).
Decisions feed_at(Validator& v, std::initializer_list<std::pair<int, std::uint32_t>> cycle_kwh,
                  std::size_t from) {
  Decisions d;
  std::int64_t id = 1;
  for (const auto& [k, kwh] : cycle_kwh) {
    if (static_cast<std::size_t>(id) == from) d.clear();
    v.process(obs(id++, kMeter, kwh, 500, 3, kT0 + k * kCycle), d);
  }
  return d;
}

TEST(ValidatorKwhLine, Issue10_NoiseAfterALoweredFrameLeavesItHeldForTheFrameThatDecides) {
  // Meter 28861's frames (BER 1e-3, 256 meters): the true 1190, 1191, 1192 (received 1194, a
  // reading), 1193 (back by 1: held), 1194 (lost), 1196 received 1192, then 1197. Frame 5 (1192)
  // is back from the last reading (1194) and from the held frame (1193): noise, rejected; the
  // held frame waits. Frame 6 (1197, 3 cadences after it) agrees with both: on the line from
  // frame 2 (1191 at cycle 1) to frame 6 (1197 at cycle 6), 1.2 kWh a cycle, the last reading
  // is 1.8 off (1192.2 at cycle 2), the held frame 0.4 (1193.4 at cycle 3): the last reading is
  // retracted, frames 4 and 6 are readings.
  Validator v = registered();
  const Decisions d =
      feed_at(v, {{0, 1190}, {1, 1191}, {2, 1194}, {3, 1193}, {4, 1192}, {6, 1197}}, 5);
  ASSERT_GE(d.rejections.size(), 2u);
  EXPECT_EQ(d.rejections[0].frame_id, 5);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::KwhBackwards);
  EXPECT_EQ(d.rejections[1].frame_id, 3);
  EXPECT_EQ(d.rejections[1].reason, RejectReason::Retracted);
  ASSERT_EQ(d.retracted.size(), 1u);
  EXPECT_EQ(d.retracted[0].frame_id, 3);
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 4);
  EXPECT_EQ(d.readings[1].frame_id, 6);
}

TEST(ValidatorKwhLine, Issue10_AHeldFrameBackFromTheReadingBeforeIsRejectedOnNoiseAsBefore) {
  // The negative: the held frame (1189) is back from the reading before the last too (1191), so
  // no story makes the last reading the raised one: the noise after it (1180, back from both)
  // rejects it as before, and the noise waits in its place.
  Validator v = registered();
  const Decisions d = feed_at(v, {{0, 1190}, {1, 1191}, {2, 1194}, {3, 1189}, {4, 1180}}, 5);
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].frame_id, 4);
  ASSERT_TRUE(v.meter(kMeter)->held);
  EXPECT_EQ(v.meter(kMeter)->held->frame_id, 5);
}

}  // namespace
}  // namespace imsm::collector

namespace imsm::collector {
namespace {

// An unregistered meter (judged against the default maximum power, 1,373,760 W: 115 kWh per 5
// minutes) confirmed by its first two frames alone: 100, 101, 102, 103 kWh, 5 minutes apart.
Validator unregistered_at_one_kwh_a_cadence(Decisions& d) {
  Validator v{ValidationSettings{}};
  for (std::uint32_t k = 0; k < 4; ++k)
    v.process(obs(k + 1, kMeter, 100 + k, 500, 3, kT0 + k * kCycle), d);
  EXPECT_EQ(v.meter(kMeter)->last_kwh24, 103u);
  d.clear();
  return v;
}

TEST(ValidatorKwhLine, Issue10_AnUnregisteredMetersRiseFarAboveItsOwnRateWaitsForTheNextFrame) {
  // Frame 5 (+20 min) is the true 104 with kWh bit 4 set, 120: +17 in 5 minutes, plausible at
  // the default power, but far above the meter's own rate (3 kWh in 15 minutes; the bound
  // (17 - 2) x 15 > 4 x 3 x 5). It waits as a suspect instead of becoming a reading at once.
  // Frame 6 (105) would reject it and waits as the decider; frame 7 (106) continues frame 6 and
  // not frame 5: frame 5 is rejected, 6 and 7 are readings, nothing was ever retracted (before:
  // 120 a reading for 10 minutes, then retracted).
  Decisions d;
  Validator v = unregistered_at_one_kwh_a_cadence(d);
  v.process(obs(5, kMeter, 120, 500, 3, kT0 + 4 * kCycle), d);
  EXPECT_TRUE(d.readings.empty());
  EXPECT_EQ(d.held, std::vector<std::int64_t>{5});
  v.process(obs(6, kMeter, 105, 500, 3, kT0 + 5 * kCycle), d);
  v.process(obs(7, kMeter, 106, 500, 3, kT0 + 6 * kCycle), d);
  EXPECT_TRUE(d.retracted.empty());
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].frame_id, 5);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::HeldNotConfirmed);
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 6);
  EXPECT_EQ(v.meter(kMeter)->last_kwh24, 106u);
}

TEST(ValidatorKwhLine, Issue10_AnUnregisteredMetersRealSurgeIsConfirmedByTheNextFrame) {
  // The negative: the load really rose to 17 kWh a cadence. Frame 5 (120) waits; frame 6 (137)
  // is plausible after it and confirms it; frame 7 (154) follows (+17 after a rate of 20 kWh in
  // 20 minutes is no longer far above it). All three are readings, one cadence late for 5.
  Decisions d;
  Validator v = unregistered_at_one_kwh_a_cadence(d);
  v.process(obs(5, kMeter, 120, 500, 3, kT0 + 4 * kCycle), d);
  v.process(obs(6, kMeter, 137, 500, 3, kT0 + 5 * kCycle), d);
  v.process(obs(7, kMeter, 154, 500, 3, kT0 + 6 * kCycle), d);
  EXPECT_TRUE(d.rejections.empty());
  ASSERT_EQ(d.readings.size(), 3u);
  EXPECT_EQ(d.readings[0].frame_id, 5);
  EXPECT_EQ(d.readings[2].frame_id, 7);
  EXPECT_EQ(v.meter(kMeter)->last_kwh24, 154u);
}

}  // namespace
}  // namespace imsm::collector
