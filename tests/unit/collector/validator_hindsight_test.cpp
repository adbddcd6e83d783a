// Hindsight (docs/collector.md "Hindsight"; SPEC "Validation beyond structure"): a plausible
// frame that changes the reset counter, raises the peak, or comes from a shared burst with a
// changed field waits for the meter's next frame, which confirms it or shows it was not the
// meter's. Hand-built frames; each expectation is derived in the comment beside it.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "collector/config.h"
#include "collector/validate/validator.h"
#include "helpers.h"

namespace imsm::collector {
namespace {

using protocol::Burst;
using test::kMinute;
using test::kT0;
using test::obs;

// 120 V x 100 A x 1.1 = 13,200 W (S1-120, 100:0.1 CTs): at most floor(1.1) + 1 = 2 kWh per
// 5 minutes.
constexpr std::int64_t kSmallMeterW = 13'200;

std::size_t count(const Decisions& d, EventKind k) {
  return static_cast<std::size_t>(
      std::count_if(d.events.begin(), d.events.end(), [k](const Event& e) { return e.kind == k; }));
}

TEST(ValidatorHindsight, Guide3_8_ResetJumpNotRepeatedByTheNextFrameIsNoise) {
  // A neighbour's stop byte 0x0D lands in byte 6 of a merged window: counter 0 -> 13. Over
  // 25 minutes 13 key presses are possible (one per 19 s), so plausibility alone accepts it.
  Validator v(ValidationSettings{});
  v.register_meter(7, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 7, 50, 300, 0, kT0), d);
  d.clear();
  v.process(obs(2, 7, 52, 300, 0x0D, kT0 + 25 * kMinute, Burst::Shared), d);
  EXPECT_TRUE(d.readings.empty());
  EXPECT_EQ(d.held, std::vector<std::int64_t>{2});
  // The meter's next frame still says 0: 13 -> 0 is backwards, 0 -> 0 continues frame 1. It
  // would reject frame 2, so one frame more decides (the second lookahead): frame 4 continues
  // frame 3 (0 -> 0, +1 kWh), so frame 3 decides as it would have alone.
  v.process(obs(3, 7, 53, 300, 0, kT0 + 30 * kMinute), d);
  EXPECT_TRUE(d.rejections.empty());
  v.process(obs(4, 7, 54, 300, 0, kT0 + 35 * kMinute), d);
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].frame_id, 2);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::HeldNotConfirmed);
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 3);
  EXPECT_EQ(d.readings[0].demand_resets, 0);
  EXPECT_EQ(d.readings[1].frame_id, 4);
  EXPECT_EQ(count(d, EventKind::DemandReset), 0u);
  EXPECT_EQ(v.meter(7)->last_resets, 0);
}

TEST(ValidatorHindsight, Guide3_8_RealDemandResetIsConfirmedByTheNextFrame) {
  // Key switch: counter 4 -> 5 and the peak cleared (300 -> 0 counts); the next frame keeps
  // counter 5 with a new small peak (0 -> 20 counts, needs 20 x 20 W x 0.25 h = 0.1 kWh).
  Validator v(ValidationSettings{});
  v.register_meter(7, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 7, 50, 300, 4, kT0), d);
  d.clear();
  v.process(obs(2, 7, 51, 0, 5, kT0 + 5 * kMinute), d);
  EXPECT_TRUE(d.readings.empty());
  v.process(obs(3, 7, 52, 0, 5, kT0 + 10 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 2);
  EXPECT_EQ(d.readings[0].demand_resets, 5);
  EXPECT_EQ(d.readings[1].frame_id, 3);
  EXPECT_EQ(count(d, EventKind::DemandReset), 1u);
  EXPECT_TRUE(d.rejections.empty());
  // A rise of the peak after the reset waits in turn, and the frame after confirms it.
  d.clear();
  v.process(obs(4, 7, 53, 20, 5, kT0 + 15 * kMinute), d);
  EXPECT_TRUE(d.readings.empty());
  v.process(obs(5, 7, 54, 20, 5, kT0 + 20 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].peak_demand_counts, 20);
}

TEST(ValidatorHindsight, TrueFramesInSharedBurstsAfterAFalseJumpAreReadings) {
  // The false jump is held, not accepted, so the meter's true frames that follow, all from
  // shared bursts (a neighbour transmitting back to back), are never refused because of it:
  // each continues the last reading (+1 kWh per 5 minutes) and is confirmed by the next.
  Validator v(ValidationSettings{});
  v.register_meter(7, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 7, 50, 300, 0, kT0), d);
  v.process(obs(2, 7, 51, 0x1B7, 0x0D, kT0 + 5 * kMinute), d);  // peak and counter merged
  d.clear();
  for (int k = 0; k < 5; ++k)
    v.process(obs(3 + k, 7, 52 + static_cast<std::uint32_t>(k), 300, 0,
                  kT0 + (10 + 5 * k) * kMinute, Burst::Shared),
              d);
  // Frame 2 rejected by frame 3; frames 3..6 confirmed by their successors; 7 still waits.
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].frame_id, 2);
  ASSERT_EQ(d.readings.size(), 4u);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(d.readings[static_cast<std::size_t>(k)].frame_id, 3 + k);
  EXPECT_EQ(v.meter(7)->held->frame_id, 7);
}

TEST(ValidatorHindsight, KwhThatReallyJumpsAfterAnOutageIsAcceptedAtOnce) {
  // Three hours without frames (an outage of the collector's line), then +39 kWh: 13.2 kW x
  // 3 h = 39.6 kWh, so at most 40. A frame alone in its burst that only advances kWh needs no
  // hindsight: it is a reading at once.
  Validator v(ValidationSettings{});
  v.register_meter(7, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 7, 100, 0, 0, kT0), d);
  d.clear();
  v.process(obs(2, 7, 139, 0, 0, kT0 + 180 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].total_kwh, 139);
  EXPECT_TRUE(d.held.empty());
}

TEST(ValidatorHindsight, SharedFrameAgreeingWithNeitherLeavesTheHeldFrameWaiting) {
  // Held: a rise 300 -> 310 counts. Next, a shared-burst merge with kWh 50 -> 9000 (too fast
  // after both): rejected as noise; the held frame waits for the meter's next frame.
  Validator v(ValidationSettings{});
  v.register_meter(7, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 7, 50, 300, 0, kT0), d);
  v.process(obs(2, 7, 51, 310, 0, kT0 + 5 * kMinute), d);
  d.clear();
  v.process(obs(3, 7, 9000, 310, 0, kT0 + 10 * kMinute, Burst::Shared), d);
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].frame_id, 3);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::KwhTooFast);
  EXPECT_EQ(v.meter(7)->held->frame_id, 2);
  v.process(obs(4, 7, 52, 310, 0, kT0 + 15 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 2);
  EXPECT_EQ(d.readings[1].frame_id, 4);
}

TEST(ValidatorHindsight, PeakRiseInARunOfSharedBurstsWaitsForAFrameAloneInItsBurst) {
  // A neighbour transmits back to back with meter 7 for four cycles: its true frames are in
  // shared bursts. The first raises the peak 300 -> 306 counts; the next three repeat it (+1 kWh
  // each). None confirms a shared frame's peak; the frame alone after them does (peak 306, kWh
  // +1): all five are readings, in order.
  Validator v(ValidationSettings{});
  v.register_meter(7, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 7, 50, 300, 0, kT0), d);
  d.clear();
  for (int k = 0; k < 4; ++k)
    v.process(obs(2 + k, 7, 51 + static_cast<std::uint32_t>(k), 306, 0, kT0 + (5 + 5 * k) * kMinute,
                  Burst::Shared),
              d);
  EXPECT_TRUE(d.readings.empty());
  EXPECT_EQ(d.held.size(), 4u);
  v.process(obs(6, 7, 55, 306, 0, kT0 + 25 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 5u);
  for (int k = 0; k < 5; ++k) EXPECT_EQ(d.readings[static_cast<std::size_t>(k)].frame_id, 2 + k);
  EXPECT_TRUE(d.rejections.empty());
}

TEST(ValidatorHindsight, RunOfMergesRepeatingAFalsePeakIsRejectedByTheNextFrameAlone) {
  // A neighbour in near lock-step ORs its stop byte into meter 7's peak on four cycles:
  // 300 | 0x0D = 0x12C | 0x0D = 0x12D = 301 counts each time, mutually consistent. The next frame
  // alone carries the true peak 300: a fall without a reset after the merges, a continuation of
  // frame 1. The merges are rejected, never published, once frame 7 (alone, continuing frame 6)
  // shows that frame 6 is not the odd one (the second lookahead).
  Validator v(ValidationSettings{});
  v.register_meter(7, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 7, 50, 300, 0, kT0), d);
  d.clear();
  for (int k = 0; k < 4; ++k)
    v.process(obs(2 + k, 7, 51 + static_cast<std::uint32_t>(k), 300 | 0x0D, 0,
                  kT0 + (5 + 5 * k) * kMinute, Burst::Shared),
              d);
  v.process(obs(6, 7, 55, 300, 0, kT0 + 25 * kMinute), d);
  EXPECT_TRUE(d.readings.empty());
  v.process(obs(7, 7, 56, 300, 0, kT0 + 30 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 6);
  ASSERT_EQ(d.rejections.size(), 4u);
  for (const auto& r : d.rejections) EXPECT_EQ(r.reason, RejectReason::HeldNotConfirmed);
  EXPECT_TRUE(d.retracted.empty());
}

TEST(ValidatorHindsight, Guide3_8_CounterThatWentBackIsNotReadAsAnAdvanceOverALongGap) {
  // Held: counter 0 -> 117 after 45 minutes (plausible: 2700 s / 19 s + 1 = 143 presses). The
  // meter's next frame comes 90 minutes later with counter 0: 0 - 117 = 139 (mod 256), which
  // the 19 s bound would allow (5400 / 19 + 1 = 285) as an advance; but a confirming frame
  // repeats the counter or advances it by at most one per cadence (1 + 5400 / 300 = 19): not
  // confirmed. Frame 3 continues frame 1 (+10 kWh in 135 minutes at 13.2 kW: at most 30), and
  // frame 4 continues frame 3, so frame 3 decides (the second lookahead).
  Validator v(ValidationSettings{});
  v.register_meter(7, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 7, 50, 300, 0, kT0), d);
  d.clear();
  v.process(obs(2, 7, 51, 300, 117, kT0 + 45 * kMinute), d);
  EXPECT_TRUE(d.readings.empty());
  v.process(obs(3, 7, 60, 300, 0, kT0 + 135 * kMinute), d);
  EXPECT_TRUE(d.rejections.empty());
  v.process(obs(4, 7, 61, 300, 0, kT0 + 140 * kMinute), d);
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].frame_id, 2);
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 3);
  EXPECT_EQ(count(d, EventKind::DemandReset), 0u);
}

TEST(ValidatorHindsight, SharedMergeContinuingNeitherTheChainNorItsHeadIsNoise) {
  // Held from shared bursts: a rise 300 -> 306 counts (frames 2, 3). Frame 4, shared, carries a
  // neighbour's 0x0D in the counter: 0 -> 13 in 5 minutes after frame 3 (a confirming frame
  // advances the counter by at most 1 + 300 / 300 = 2) and in 10 after frame 2 (at most 3):
  // noise, rejected; the chain waits on and the frame alone after it confirms both.
  Validator v(ValidationSettings{});
  v.register_meter(7, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 7, 50, 300, 0, kT0), d);
  d.clear();
  v.process(obs(2, 7, 51, 306, 0, kT0 + 5 * kMinute, Burst::Shared), d);
  v.process(obs(3, 7, 52, 306, 0, kT0 + 10 * kMinute, Burst::Shared), d);
  v.process(obs(4, 7, 53, 306, 0x0D, kT0 + 15 * kMinute, Burst::Shared), d);
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].frame_id, 4);
  v.process(obs(5, 7, 54, 306, 0, kT0 + 20 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 3u);
  EXPECT_EQ(d.readings[0].frame_id, 2);
  EXPECT_EQ(d.readings[1].frame_id, 3);
  EXPECT_EQ(d.readings[2].frame_id, 5);
}

TEST(ValidatorHindsight, SharedFrameAsBeforeTheHeldChangeRejectsIt) {
  // Held from a shared burst: counter 0 -> 13 (a merge). The meter's next frame, shared too,
  // has counter 0 and peak 300 as the last reading and +1 kWh: it does not continue the held
  // frame (13 -> 0 is back) but continues the last reading unchanged, so the held change was
  // not the meter's, once frame 4 (continuing frame 3, not frame 2) shows that frame 3 is not
  // the odd one (the second lookahead). Frame 3 (shared, kWh changed) is then held, and frame
  // 4, alone and +1 kWh after it, confirms it.
  Validator v(ValidationSettings{});
  v.register_meter(7, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 7, 50, 300, 0, kT0), d);
  d.clear();
  v.process(obs(2, 7, 51, 300, 0x0D, kT0 + 5 * kMinute, Burst::Shared), d);
  v.process(obs(3, 7, 52, 300, 0, kT0 + 10 * kMinute, Burst::Shared), d);
  EXPECT_TRUE(d.rejections.empty());
  EXPECT_EQ(v.meter(7)->decider->frame_id, 3);
  v.process(obs(4, 7, 53, 300, 0, kT0 + 15 * kMinute), d);
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].frame_id, 2);
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 3);
  EXPECT_EQ(count(d, EventKind::DemandReset), 0u);
}

// A meter of 120,000 W: at most floor(120,000 x 300 / 3,600 / 1,000) + 1 = 11 kWh per 5 minutes.
constexpr std::int64_t kMidMeterW = 120'000;

TEST(ValidatorHindsight, Issue10_AnOverlappedFrameIsConfirmedOnlyByAFrameAlone) {
  // A neighbour 10 bytes behind ORs its ID high byte 0x10 into the kWh low byte cycle after
  // cycle: true 66 (0x42) reads 0x52 = 82, true 68 (0x44) reads 0x54 = 84. Both are plausible:
  // 82 comes 10 minutes after the reading of 64 (+18, at most floor(20) + 1 = 21 kWh), 84 five
  // minutes after 82 (+2). Each continues the one before, so a confirmation by a shared frame
  // would accept 82 and 84 and then refuse the true 70 (kwh_backwards). Only the frame alone
  // decides: 70 continues neither, so it waits for the meter's next frame (the second
  // lookahead); 72 continues 70 (and not 84: back by 12), so 70 is not the odd one: the held
  // frames are rejected, and 70, plausible after the reading of 64 (+6 in 20 minutes), and 72
  // are the readings.
  Validator v(ValidationSettings{});
  v.register_meter(7, kMidMeterW);
  Decisions d;
  v.process(obs(1, 7, 64, 300, 0, kT0), d);
  d.clear();
  v.process(obs(2, 7, 82, 300, 0, kT0 + 10 * kMinute, Burst::Overlapped), d);
  v.process(obs(3, 7, 84, 300, 0, kT0 + 15 * kMinute, Burst::Overlapped), d);
  EXPECT_TRUE(d.readings.empty());
  v.process(obs(4, 7, 70, 300, 0, kT0 + 20 * kMinute), d);
  EXPECT_TRUE(d.readings.empty());
  v.process(obs(5, 7, 72, 300, 0, kT0 + 25 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 4);
  EXPECT_EQ(d.readings[0].kwh24, 70u);
  ASSERT_EQ(d.rejections.size(), 2u);
  for (const auto& r : d.rejections) EXPECT_EQ(r.reason, RejectReason::HeldNotConfirmed);
  EXPECT_EQ(v.meter(7)->last_kwh24, 72u);
}

TEST(ValidatorHindsight, Issue10_AnIntactOverlappedFrameIsAReadingOnceAFrameAloneContinuesIt) {
  // The negative: the neighbour's bytes OR-ed only zero bits (kWh 66 reads 66). The next frame
  // alone (68, 5 minutes later, +2 kWh) continues it: both are readings, in order.
  Validator v(ValidationSettings{});
  v.register_meter(7, kMidMeterW);
  Decisions d;
  v.process(obs(1, 7, 64, 300, 0, kT0), d);
  d.clear();
  v.process(obs(2, 7, 66, 300, 0, kT0 + 5 * kMinute, Burst::Overlapped), d);
  EXPECT_TRUE(d.readings.empty());
  v.process(obs(3, 7, 68, 300, 0, kT0 + 10 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 2);
  EXPECT_EQ(d.readings[1].frame_id, 3);
  EXPECT_TRUE(d.rejections.empty());
}

TEST(ValidatorHindsight, Issue10_ASharedFrameWithAFalseCounterDoesNotDecideAHeldFrame) {
  // Held: a true shared frame (kWh 100 -> 101). The meter's next frame is shared too and carries
  // a neighbour's stop byte in byte 6 (counter 0 -> 13): it continues neither the held frame
  // (13 resets in 5 minutes is more than one per cadence) nor the reading as it was (its counter
  // changed). It is noise and rejected; the held frame waits, and the next frame alone (102,
  // counter 0) continues it: 101 and 102 are readings, no demand reset.
  Validator v(ValidationSettings{});
  v.register_meter(7, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 7, 100, 0, 0, kT0), d);
  d.clear();
  v.process(obs(2, 7, 101, 0, 0, kT0 + 5 * kMinute, Burst::Shared), d);
  v.process(obs(3, 7, 101, 0, 0x0D, kT0 + 10 * kMinute, Burst::Shared), d);
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].frame_id, 3);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::HeldNotConfirmed);
  EXPECT_TRUE(d.readings.empty());
  v.process(obs(4, 7, 102, 0, 0, kT0 + 15 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 2);
  EXPECT_EQ(d.readings[1].frame_id, 4);
  EXPECT_EQ(count(d, EventKind::DemandReset), 0u);
}

// Meter 7 read three times at peak 0x255 (7505-7507 kWh, one a cadence), then frames alone at
// +15 and +20 minutes with `p4` and `p5`: both below 0x255 with counter 0 (a peak falls only at a
// demand reset); frame 5 continues frame 4 (kWh +1, its peak no lower).
// Meter 7 (120,000 W) read alone at cadences 0..2: `kwh0` + k kWh, peak `peak`, counter 0.
Validator read_three_times(Decisions& d, std::uint32_t kwh0, std::uint16_t peak) {
  Validator v(ValidationSettings{});
  v.register_meter(7, kMidMeterW);
  for (int k = 0; k < 3; ++k)
    v.process(obs(1 + k, 7, kwh0 + static_cast<std::uint32_t>(k), peak, 0, kT0 + k * 5 * kMinute),
              d);
  d.clear();
  return v;
}

// Frames 4 and 5, alone at cadences 3 and 4, `kwh` and `kwh` + 1 at peaks `p4` and `p5`.
void frames_4_and_5(Validator& v, Decisions& d, std::uint32_t kwh, std::uint16_t p4,
                    std::uint16_t p5) {
  v.process(obs(4, 7, kwh, p4, 0, kT0 + 15 * kMinute), d);
  v.process(obs(5, 7, kwh + 1, p5, 0, kT0 + 20 * kMinute), d);
}

Validator peak_fell_twice(Decisions& d, std::uint16_t p4, std::uint16_t p5) {
  Validator v = read_three_times(d, 7505, 0x255);
  frames_4_and_5(v, d, 7508, p4, p5);
  return v;
}

TEST(ValidatorHindsight, Issue10_TwoFramesBelowThePeakAtTwoPeaksAreTwoBitErrorsNotANewMeter) {
  // 0x255 read 0x251 (bit 2 cleared), then 0x254 (bit 0 cleared): two peaks, where a new meter
  // would repeat its own. Frame 4 is rejected (peak_fell), frame 5 is held in its place, and
  // frame 6 (7510 kWh, 0x255), which continues the last reading, rejects it: no new epoch, and
  // the readings go on from 7507 to 7510. (BER 1e-3, 256 meters, meter 698.)
  Decisions d;
  Validator v = peak_fell_twice(d, 0x251, 0x254);
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].frame_id, 4);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::PeakFell);
  v.process(obs(6, 7, 7510, 0x255, 0, kT0 + 25 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].frame_id, 6);
  ASSERT_EQ(d.rejections.size(), 2u);
  EXPECT_EQ(d.rejections[1].frame_id, 5);
  EXPECT_EQ(count(d, EventKind::Replaced), 0u);
  EXPECT_EQ(v.meter(7)->epoch, 0);
}

TEST(ValidatorHindsight, Issue10_TwoFramesBelowThePeakAtOnePeakAreANewMeterAsBefore) {
  // The negative: both read 0x251, as a new meter at this ID repeats its peak; frame 6 (7510,
  // 0x251) continues them: a new epoch (`replaced`, audited), with frames 4-6 its readings.
  Decisions d;
  Validator v = peak_fell_twice(d, 0x251, 0x251);
  v.process(obs(6, 7, 7510, 0x251, 0, kT0 + 25 * kMinute), d);
  EXPECT_TRUE(d.rejections.empty());
  ASSERT_EQ(d.readings.size(), 3u);
  EXPECT_EQ(d.readings[0].frame_id, 4);
  EXPECT_EQ(count(d, EventKind::Replaced), 1u);
  EXPECT_EQ(v.meter(7)->epoch, 1);
}

TEST(ValidatorHindsight, Issue10_AReplacementWhosePeakRoseBetweenItsFirstFramesIsANewMeter) {
  // The negative: a real replacement. The new meter reads 12 kWh at peak 0x10, then 13 kWh at
  // 0x11: two peaks, but its register went back (kwh_backwards, not a fallen peak with the
  // register going on), so it is a new epoch as before once frame 6 (14 kWh) continues them.
  Decisions d;
  Validator v = read_three_times(d, 7505, 0x255);
  frames_4_and_5(v, d, 12, 0x10, 0x11);
  v.process(obs(6, 7, 14, 0x11, 0, kT0 + 25 * kMinute), d);
  EXPECT_TRUE(d.rejections.empty());
  ASSERT_EQ(d.readings.size(), 3u);
  EXPECT_EQ(count(d, EventKind::Replaced), 1u);
  EXPECT_EQ(v.meter(7)->last_kwh24, 14u);
}

// Meter 7 read three times at peak `p0` (1740-1742 kWh), then frames 4 and 5 alone (1743, 1744)
// with the same bit of the peak flipped in both (`p1`): they agree with each other and not with
// the last reading, as a new meter at this ID would. At BER 1e-3 one pair of frames in a million
// shares a flipped bit: ~190 a month at 256 meters. They wait for the frame after them.
Validator same_bit_twice(Decisions& d, std::uint16_t p0, std::uint16_t p1) {
  Validator v = read_three_times(d, 1740, p0);
  frames_4_and_5(v, d, 1743, p1, p1);
  EXPECT_TRUE(d.readings.empty());
  EXPECT_TRUE(d.rejections.empty());
  return v;
}

TEST(ValidatorHindsight, Issue10_TheSamePeakBitClearedInTwoFramesIsNoNewMeter) {
  // 0x88e read 0x08e twice (bit 11 cleared: the peak fell without a reset). Frame 6 (1745,
  // 0x88e) continues the last reading, and the frames 4 and 5 too (a cleared bit comes back as
  // a rise): the old state is kept, 4 and 5 are rejected (peak_fell), 6 is the reading, no
  // `replaced`, epoch 0. (BER 1e-3, 256 meters: meter 45261; 52565's 0x1857 read 0x1855 twice.)
  Decisions d;
  Validator v = same_bit_twice(d, 0x88e, 0x08e);
  v.process(obs(6, 7, 1745, 0x88e, 0, kT0 + 25 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].frame_id, 6);
  ASSERT_EQ(d.rejections.size(), 2u);
  for (const auto& r : d.rejections) EXPECT_EQ(r.reason, RejectReason::PeakFell);
  EXPECT_EQ(count(d, EventKind::Replaced), 0u);
  EXPECT_EQ(v.meter(7)->epoch, 0);
}

TEST(ValidatorHindsight, Issue10_ASharedFrameAfterTwoAgreeingFramesDoesNotUndoANewMeter) {
  // The negative: frame 6 continues the last reading but comes from a shared burst, whose bytes
  // may be a merge: it is no evidence, and frames 4 and 5 start a new epoch as they would have.
  Decisions d;
  Validator v = same_bit_twice(d, 0x88e, 0x08e);
  v.process(obs(6, 7, 1745, 0x88e, 0, kT0 + 25 * kMinute, Burst::Shared), d);
  EXPECT_EQ(count(d, EventKind::Replaced), 1u);
  ASSERT_GE(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 4);
  EXPECT_EQ(v.meter(7)->epoch, 1);
}

TEST(ValidatorHindsight, Issue10_FramesBelowAFirstReadingsPeakAreNotTakenForBitErrors) {
  // The negative: the meter's only reading is the error (peak 0x000 read 0x200). Its true frames
  // climb below it, 0x0b1 then 0x0c2: two peaks below the last reading's, but no reading before
  // it had that peak, so they are not rejected as bit errors; the third (0x0ce) continues them:
  // 2 and 3 are readings, and 4, a risen peak, waits for its next frame. (32 meters, BER 1e-3,
  // with a registry: meter 14824 lost four true frames to the rule without this bound.) Frame 1
  // was the epoch's first reading, which no frame continued: it is retracted, the epoch starts
  // again at frame 2, and no `replaced` is raised.
  Validator v(ValidationSettings{});
  v.register_meter(7, kMidMeterW);
  Decisions d;
  v.process(obs(1, 7, 0, 0x200, 0, kT0), d);
  d.clear();
  v.process(obs(2, 7, 0, 0x0b1, 0, kT0 + 5 * kMinute), d);
  v.process(obs(3, 7, 1, 0x0c2, 0, kT0 + 10 * kMinute), d);
  v.process(obs(4, 7, 1, 0x0ce, 0, kT0 + 15 * kMinute), d);
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].frame_id, 1);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::Retracted);
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 2);
  EXPECT_EQ(d.readings[1].frame_id, 3);
  EXPECT_EQ(count(d, EventKind::Replaced), 0u);
  EXPECT_EQ(count(d, EventKind::Retracted), 1u);
  EXPECT_EQ(v.meter(7)->epoch, 0u);
  ASSERT_TRUE(v.meter(7)->held);
  EXPECT_EQ(v.meter(7)->held->frame_id, 4);
}

// Meter 7's frames 8, 9, 10 kWh (ids `first`, +1, +2), alone, at 5, 10 and 15 minutes.
void eight_nine_ten(Validator& v, std::int64_t first, Decisions& d) {
  for (std::int64_t k = 0; k < 3; ++k)
    v.process(
        obs(first + k, 7, static_cast<std::uint32_t>(8 + k), 0, 0, kT0 + (5 + 5 * k) * kMinute), d);
}

TEST(ValidatorHindsight, Issue10_AFirstReadingWithAKwhBitSetIsRetractedNotAReplacement) {
  // A registered meter's first frame (alone) has kWh bit 18 set: the true 4 reads 262,148, and
  // starts the epoch at once. Frames 2-4 (8, 9, 10 kWh, 5 minutes apart) go back from it: frame 2
  // is held, frame 3 agrees with it and waits as the decider, frame 4 continues them and not the
  // reading. A meter replaced within 15 minutes of being first heard is far rarer than a bit
  // error in its first frame, and no frame ever continued that reading: it is retracted
  // (visibly: a `retracted` event), the epoch starts again at frame 2, and there is no
  // `replaced`. (BER 1e-3, 256 meters, with a registry: meter 4412, and 9 more a month.)
  Validator v(ValidationSettings{});
  v.register_meter(7, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 7, 262'148, 0, 0, kT0), d);
  ASSERT_EQ(d.readings.size(), 1u);
  d.clear();
  eight_nine_ten(v, 2, d);
  ASSERT_EQ(d.retracted.size(), 1u);
  EXPECT_EQ(d.retracted[0].frame_id, 1);
  ASSERT_EQ(d.readings.size(), 3u);
  EXPECT_EQ(d.readings[0].frame_id, 2);
  EXPECT_EQ(d.readings[2].frame_id, 4);
  EXPECT_EQ(count(d, EventKind::Replaced), 0u);
  EXPECT_EQ(count(d, EventKind::Retracted), 1u);
  EXPECT_EQ(v.meter(7)->epoch, 0u);
  EXPECT_EQ(v.meter(7)->last_kwh24, 10u);
}

TEST(ValidatorHindsight, Issue10_AReplacementAfterTwoReadingsIsStillAReplacement) {
  // The negative: the same frames after two readings that continue each other (262,148 and
  // 262,149): the old state is no lone first reading, so frames 2-4 are a new meter at this ID,
  // a new epoch audited by `replaced`, and nothing is retracted.
  Validator v(ValidationSettings{});
  v.register_meter(7, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 7, 262'148, 0, 0, kT0 - 5 * kMinute), d);
  v.process(obs(5, 7, 262'149, 0, 0, kT0), d);
  ASSERT_EQ(d.readings.size(), 2u);
  d.clear();
  eight_nine_ten(v, 6, d);
  EXPECT_TRUE(d.retracted.empty());
  EXPECT_EQ(d.readings.size(), 3u);
  EXPECT_EQ(count(d, EventKind::Replaced), 1u);
  EXPECT_EQ(v.meter(7)->epoch, 1u);
}

TEST(ValidatorHindsight, Guide3_7_APeakBeyondTheMetersEnergyDoesNotRetractTheReadingBeforeIt) {
  // A meter of unknown model (only the energy bound can tell) at 1 kWh per 5 minutes, its peak
  // 0x5cf = 1,487 counts from long ago, read nine times (frames 1-9, 1150-1158 kWh).
  Validator v(ValidationSettings{});
  v.register_meter(17, std::nullopt);
  Decisions d;
  for (std::uint32_t i = 0; i < 9; ++i)
    v.process(obs(i + 1, 17, 1150 + i, 0x5cf, 0, kT0 + i * 5 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 9u);
  d.clear();
  // Frame 10 (+45 min): bit 11 of the peak set, 0xdcf = 3,535 counts. The bound: the newest
  // reading at least 16 minutes before the last (40 - 16 = 24 min) is 1154 kWh at 20 min, so at
  // most 1159 + 1 - 1154 = 6 kWh = 1,200 counts in any 15 minutes: implausible, held.
  v.process(obs(10, 17, 1159, 0xdcf, 0, kT0 + 45 * kMinute), d);
  EXPECT_EQ(v.meter(17)->held_reason, RejectReason::PeakTooHigh);
  // Frame 11 (+50 min): bit 0 of the counter set (0 -> 1), the peak 0x5cf: as a reset it shows
  // a new peak, which needs 1,487 / 200 = 7.4 kWh; at most 1160 + 1 - 1154 = 7: it contradicts
  // the last reading (frame 9). Frames 10 and 11 agree with each other and with frame 8, which
  // used to retract the true frame 9 and accept both errors. The held frame's peak is beyond
  // the meter's energy whichever reading it follows, so frame 9 stands; frame 11 waits.
  v.process(obs(11, 17, 1160, 0x5cf, 1, kT0 + 50 * kMinute), d);
  EXPECT_TRUE(d.retracted.empty());
  EXPECT_TRUE(d.readings.empty());
  // Frame 12 (+55 min), the true 1161 with counter 0, continues frame 9: 10 and 11 rejected.
  v.process(obs(12, 17, 1161, 0x5cf, 0, kT0 + 55 * kMinute), d);
  EXPECT_TRUE(d.retracted.empty());
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].frame_id, 12);
  std::vector<std::int64_t> rejected;
  for (const auto& r : d.rejections) rejected.push_back(r.frame_id);
  std::sort(rejected.begin(), rejected.end());
  EXPECT_EQ(rejected, (std::vector<std::int64_t>{10, 11}));
  EXPECT_EQ(count(d, EventKind::DemandReset), 0u);
  EXPECT_EQ(count(d, EventKind::Retracted), 0u);
  EXPECT_EQ(v.meter(17)->last_peak, 0x5cf);
  EXPECT_EQ(v.meter(17)->last_resets, 0);
}

}  // namespace
}  // namespace imsm::collector
