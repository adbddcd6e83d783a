// The second lookahead (docs/collector.md "Hindsight"): the frame that would decide held frames
// against the newest of them waits for the meter's next frame, and is rejected as the odd one
// when that frame continues the held frames and not it. Hand-built frames; each expectation
// is derived in the comment beside it.
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

// 120 V x 100 A x 1.1 = 13,200 W: at most floor(1.1) + 1 = 2 kWh per 5 minutes.
constexpr std::int64_t kSmallMeterW = 13'200;
// 120,000 W: at most floor(10) + 1 = 11 kWh per 5 minutes, floor(20) + 1 = 21 per 10.
constexpr std::int64_t kMidMeterW = 120'000;

// Meter 7, registered with `max_w`, after its first reading (frame 1 at kT0, counter 0).
struct Meter7 {
  Meter7(std::int64_t max_w, std::uint32_t kwh, std::uint16_t peak) {
    v.register_meter(7, max_w);
    v.process(obs(1, 7, kwh, peak, 0, kT0), d);
    d.clear();
  }
  // Frame `id` at `minutes` after the first.
  void frame(std::int64_t id, std::uint32_t kwh, std::uint16_t peak, std::uint8_t resets,
             std::int64_t minutes, Burst burst = Burst::Alone) {
    v.process(obs(id, 7, kwh, peak, resets, kT0 + minutes * kMinute, burst), d);
  }
  [[nodiscard]] std::vector<std::int64_t> readings() const {
    std::vector<std::int64_t> out;
    for (const auto& r : d.readings) out.push_back(r.frame_id);
    return out;
  }
  [[nodiscard]] std::vector<std::int64_t> rejections() const {
    std::vector<std::int64_t> out;
    for (const auto& r : d.rejections) out.push_back(r.frame_id);
    return out;
  }
  [[nodiscard]] std::size_t events(EventKind k) const {
    return static_cast<std::size_t>(std::count_if(d.events.begin(), d.events.end(),
                                                  [k](const Event& e) { return e.kind == k; }));
  }
  [[nodiscard]] const MeterState& state() const { return *v.meter(7); }
  Validator v{ValidationSettings{}};
  Decisions d;
};

// A neighbour 10 bytes behind ORs 0x10 into the kWh low byte: the true 66 and 68 read 82 and
// 84 (overlapped, held: each continues the one before). Frame 4, alone, is the true 70: it
// continues neither and waits for the meter's next frame.
void merges_then_true_frame(Meter7& m) {
  m.frame(2, 82, 300, 0, 10, Burst::Overlapped);
  m.frame(3, 84, 300, 0, 15, Burst::Overlapped);
  m.frame(4, 70, 300, 0, 20);
  EXPECT_TRUE(m.d.readings.empty());
  EXPECT_EQ(m.state().decider->frame_id, 4);
}

TEST(ValidatorLookahead, Issue10_ABitErrorInTheDecidingFrameAloneDoesNotRejectTheChain) {
  // Held: an overlapped frame (102, +5 min) and the shared frames that continue it (104 at +10,
  // 106 at +15); only a frame alone decides them. Frame 5, alone at +20, has a flipped bit in
  // its counter (0 -> 4). It continues frame 2 (4 resets in 15 minutes: at most 1 + 900 / 300
  // = 4) but not frames 3 and 4 (at most 1 + 600 / 300 = 3 and 1 + 300 / 300 = 2): alone it
  // would accept 2 and reject the true 3 and 4. It waits instead. Frame 6, alone at +25 (108,
  // counter 0), continues frame 4 (+2 kWh) and not frame 5 (4 -> 0 is back): frame 5 is the odd
  // one, rejected; frame 6 confirms the chain: 2, 3, 4 and 6 are readings, no demand reset.
  Meter7 m(kMidMeterW, 100, 300);
  m.frame(2, 102, 300, 0, 5, Burst::Overlapped);
  m.frame(3, 104, 300, 0, 10, Burst::Shared);
  m.frame(4, 106, 300, 0, 15, Burst::Shared);
  m.frame(5, 107, 300, 4, 20);
  EXPECT_TRUE(m.d.readings.empty());
  EXPECT_TRUE(m.d.rejections.empty());
  EXPECT_EQ(m.d.held, (std::vector<std::int64_t>{2, 3, 4, 5}));
  ASSERT_TRUE(m.state().decider);
  EXPECT_EQ(m.state().decider->frame_id, 5);
  m.frame(6, 108, 300, 0, 25);
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{2, 3, 4, 6}));
  ASSERT_EQ(m.rejections(), std::vector<std::int64_t>{5});
  EXPECT_EQ(m.d.rejections[0].reason, RejectReason::HeldNotConfirmed);
  EXPECT_NE(m.d.rejections[0].detail.find("second lookahead"), std::string::npos);
  EXPECT_EQ(m.events(EventKind::DemandReset), 0u);
  EXPECT_FALSE(m.state().decider);
  EXPECT_FALSE(m.state().held);
}

TEST(ValidatorLookahead, ABitErrorInTheFrameAfterAHeldPeakRiseDoesNotRejectIt) {
  // Held: a true rise of the peak, 300 -> 306 counts (frame 2, alone). Frame 3 has a flipped
  // counter bit (0 -> 4): plausible after the reading (600 / 19 + 1 = 32 resets possible) but
  // not a continuation of frame 2 (at most 1 + 300 / 300 = 2): alone it would reject frame 2.
  // Frame 4 (53 kWh, peak 306, counter 0) continues frame 2 (+2 kWh in 10 minutes, at most
  // floor(2.2) + 1 = 3) and not frame 3 (4 -> 0): frame 3 is rejected, 2 and 4 are readings.
  Meter7 m(kSmallMeterW, 50, 300);
  m.frame(2, 51, 306, 0, 5);
  m.frame(3, 52, 306, 4, 10);
  EXPECT_TRUE(m.d.readings.empty());
  EXPECT_TRUE(m.d.rejections.empty());
  m.frame(4, 53, 306, 0, 15);
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{2, 4}));
  EXPECT_EQ(m.rejections(), std::vector<std::int64_t>{3});
  EXPECT_EQ(m.events(EventKind::DemandReset), 0u);
  EXPECT_EQ(m.state().last_peak, 306);
}

TEST(ValidatorLookahead, ASharedFrameWithABitErrorAsBeforeDoesNotRejectTheChain) {
  // Held: an overlapped frame (2001, +5 min) and 12 shared frames continuing it, +1 kWh per 5
  // minutes up to 2013 at +65. Frame 15, shared at +70, has bit 5 of its kWh set: 2014 | 0x20 =
  // 2046. It continues neither the chain's last frame (+33 in 5 minutes, at most 11) nor the
  // one before (+34 in 10, at most 21), but the last reading as it was (+46 in 70 minutes, at
  // most floor(140) + 1; peak and counter unchanged), so as before the chain it would reject
  // all 13 held frames. But it is too far ahead of the chain's last frame (+33 > 11), which a
  // true frame after a merge (one that only raises bits) never is: it is rejected at once.
  // Frame 16, shared (2015), continues frame 14 (+2 in 10 minutes) and joins the chain, and
  // frame 17 (alone, 2016) confirms all of them.
  Meter7 m(kMidMeterW, 2000, 300);
  m.frame(2, 2001, 300, 0, 5, Burst::Overlapped);
  for (int k = 0; k < 12; ++k)
    m.frame(3 + k, 2002 + static_cast<std::uint32_t>(k), 300, 0, 10 + 5 * k, Burst::Shared);
  m.frame(15, 2014 | 0x20, 300, 0, 70, Burst::Shared);
  EXPECT_EQ(m.rejections(), std::vector<std::int64_t>{15});
  m.frame(16, 2015, 300, 0, 75, Burst::Shared);
  EXPECT_EQ(m.rejections(), std::vector<std::int64_t>{15});
  EXPECT_TRUE(m.d.readings.empty());
  m.frame(17, 2016, 300, 0, 80);
  std::vector<std::int64_t> want;
  for (std::int64_t f = 2; f <= 14; ++f) want.push_back(f);
  want.push_back(16);
  want.push_back(17);
  EXPECT_EQ(m.readings(), want);
  EXPECT_EQ(m.state().last_kwh24, 2016u);
}

TEST(ValidatorLookahead, ARealReplacementConfirmedByTwoFramesIsStillAccepted) {
  // The negative: after a second reading (5001, frame 2) and a held chain (5002 overlapped at
  // +10, 5003 shared at +15) the meter is replaced: frames 5 (12 kWh) and 6 (13 kWh), both
  // alone, 5 minutes apart. Frame 5 continues no held frame and waits; frame 6 continues frame
  // 5, not the chain (13 after 5003 is back), so frame 5 decides as it would have alone: the
  // chain is rejected, frame 5 is held as a contradiction of the reading (back by 4989) and
  // frame 6, agreeing with it, waits for the frame after it (the same bit error twice would look
  // the same); frame 7 (14) continues it: a new epoch, audited by a `replaced` event. (The
  // second reading matters: an epoch's lone first reading would be retracted instead.)
  Meter7 m(kMidMeterW, 5000, 300);
  m.frame(2, 5001, 300, 0, 5);
  m.frame(3, 5002, 300, 0, 10, Burst::Overlapped);
  m.frame(4, 5003, 300, 0, 15, Burst::Shared);
  m.frame(5, 12, 0, 0, 20);
  EXPECT_EQ(m.readings(), std::vector<std::int64_t>{2});
  EXPECT_TRUE(m.d.rejections.empty());
  m.frame(6, 13, 0, 0, 25);
  EXPECT_EQ(m.rejections(), (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(m.readings(), std::vector<std::int64_t>{2});
  m.frame(7, 14, 0, 0, 30);
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{2, 5, 6, 7}));
  EXPECT_EQ(m.events(EventKind::Replaced), 1u);
  EXPECT_TRUE(m.d.retracted.empty());
  EXPECT_EQ(m.state().epoch, 1u);
  EXPECT_EQ(m.state().last_kwh24, 14u);
}

TEST(ValidatorLookahead, AFrameAloneIsNotOverruledByASharedMergeRepeatingTheChain) {
  // The negative for the burst rule, after merges_then_true_frame. Frame 5 is the neighbour's
  // next merge, true 72 | 0x10 = 88 (shared): it continues frame 3 (+4) and not frame 4 (+18 in
  // 5 minutes, at most 11), but a shared frame does not overrule a frame alone in its burst.
  // Frame 4 decides as it would have alone: 2 and 3 are rejected, 70 is the reading, and 88
  // (too fast after it) is rejected.
  Meter7 m(kMidMeterW, 64, 300);
  merges_then_true_frame(m);
  m.frame(5, 88, 300, 0, 25, Burst::Overlapped);
  EXPECT_EQ(m.readings(), std::vector<std::int64_t>{4});
  EXPECT_EQ(m.rejections(), (std::vector<std::int64_t>{2, 3, 5}));
  EXPECT_EQ(m.state().last_kwh24, 70u);
}

TEST(ValidatorLookahead, ADeciderTheNextFrameAlsoContinuesIsNeverOverruled) {
  // The negative for the odd-one rule, after merges_then_true_frame. The meter's next frame
  // comes a cycle late, 10 minutes after frame 4: 86 continues frame 3 (+2) and frame 4 too
  // (+16 in 10 minutes, at most 21). Two true frames of a meter always continue each other, so
  // nothing shows frame 4 to be the odd one: it decides as it would have alone (2 and 3
  // rejected, 70 the reading), then 86 follows it.
  Meter7 m(kMidMeterW, 64, 300);
  merges_then_true_frame(m);
  m.frame(5, 86, 300, 0, 30);
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{4, 5}));
  EXPECT_EQ(m.rejections(), (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(m.state().last_kwh24, 86u);
}

TEST(ValidatorLookahead, ANextFrameThatContinuesTheHeldFrameOnlyThroughAResetDoesNotOverrule) {
  // Two bit errors outvoting one true frame (the BER 1e-3 sweep's 128-meter cell). Held: frame
  // 2, peak 300 | 0x10 = 316 (a flipped bit reads as a rise). Frame 3 is true (peak 300,
  // counter 0): the peak fell without a reset, so it does not continue frame 2, and waits as the
  // decider. Frame 4 has a second bit error, counter 0 -> 3 (bits 0 and 1): it continues frame 2
  // (two cadences: at most 1 + 2 = 3 resets, and after a reset the peak may fall) and not frame
  // 3 (one cadence: at most 1 + 1 = 2). It does not repeat frame 2's state (counter 3, not 0; peak
  // 300 below 316), so it does not overrule frame 3: frame 3 decides as it would have alone (frame
  // 2 rejected, frame 3 the reading), then frame 4 comes after it and is held (a counter change
  // waits for the next frame). Overruling on "continues" alone made 2 and 4 readings: a false peak
  // of 316 and a false demand reset.
  Meter7 m(kSmallMeterW, 50, 300);
  m.frame(2, 51, 300 | 0x10, 0, 5);
  m.frame(3, 52, 300, 0, 10);
  ASSERT_TRUE(m.state().decider);
  m.frame(4, 53, 300, 3, 15);
  EXPECT_EQ(m.readings(), std::vector<std::int64_t>{3});
  EXPECT_EQ(m.rejections(), std::vector<std::int64_t>{2});
  ASSERT_TRUE(m.state().held);
  EXPECT_EQ(m.state().held->frame_id, 4);
  EXPECT_EQ(m.events(EventKind::DemandReset), 0u);
  EXPECT_EQ(m.state().last_peak, 300);
}

// A shared chain's merges (docs/collector.md "Hindsight"): a meter whose neighbour transmits at
// a near-constant offset sends shared frames for hours; some carry the neighbour's bytes OR-ed
// into the peak or counter, and the chain continues through them (a peak may rise). The true
// frame after them continues an earlier frame of the chain, not its newest ones.

// Meter 7 (120 kW) after its reading of 2000 kWh: an overlapped frame (2001 at +5) held, and
// the shared frames 3.. continuing it, +1 kWh per 5 minutes, peak 300, counter 0.
void shared_chain(Meter7& m, int shared_frames) {
  m.frame(2, 2001, 300, 0, 5, Burst::Overlapped);
  for (int k = 0; k < shared_frames; ++k)
    m.frame(3 + k, 2002 + static_cast<std::uint32_t>(k), 300, 0, 10 + 5 * k, Burst::Shared);
}

TEST(ValidatorLookahead, Issue10_MergesAtTheEndOfASharedChainAreCutNotTheChain) {
  // Frames 5 and 6 (2004, 2005 at +20, +25) have a neighbour's byte OR-ed into the peak: 300 |
  // 0x1000 = 4396 counts (87.9 kW, below 1.25 x 120 kW): a rise, so they continue the chain.
  // Frame 7 (2006, peak 300, +30) continues neither 6 nor 5 (the peak falls without a reset)
  // but continues frame 4 (+3 kWh in 15 minutes, at most floor(30) + 1), repeats its peak and
  // counter, and 5 and 6 both differ from frame 4 in the peak: they are cut (rejected), and 7
  // joins the chain. Frame 8 (2007, alone) confirms 2, 3, 4 and 7. Before, frame 7 (as the
  // reading was) rejected all of 2-6: three true frames lost.
  Meter7 m(kMidMeterW, 2000, 300);
  shared_chain(m, 2);
  m.frame(5, 2004, 300 | 0x1000, 0, 20, Burst::Shared);
  m.frame(6, 2005, 300 | 0x1000, 0, 25, Burst::Shared);
  m.frame(7, 2006, 300, 0, 30, Burst::Shared);
  EXPECT_EQ(m.rejections(), (std::vector<std::int64_t>{5, 6}));
  EXPECT_TRUE(m.d.readings.empty());
  m.frame(8, 2007, 300, 0, 35);
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{2, 3, 4, 7, 8}));
  EXPECT_EQ(m.rejections(), (std::vector<std::int64_t>{5, 6}));
  EXPECT_EQ(m.state().last_peak, 300);
  EXPECT_EQ(m.state().last_kwh24, 2007u);
}

TEST(ValidatorLookahead, Issue10_AMergeAfterAConsistentChainDoesNotCutIt) {
  // The negative: six shared frames (2002-2007 at +10 to +35) continue frame 2. Frame 9 (2008,
  // +60) has a neighbour's 0x0C OR-ed into the counter (0 -> 12). It continues frame 2 only
  // (12 resets in 55 minutes: at most 1 + 3300 / 300 = 12; from frame 3, 50 minutes: 11), but
  // it does not repeat frame 2's counter, and frames 3-8 agree with frame 2: it is the merge.
  // It is rejected and the chain waits; frame 10 (2009, alone, +65) confirms 2-8. Cutting by a
  // run that differs from frame 9 instead would have rejected six true frames.
  Meter7 m(kMidMeterW, 2000, 300);
  shared_chain(m, 6);
  m.frame(9, 2008, 300, 12, 60, Burst::Shared);
  EXPECT_EQ(m.rejections(), std::vector<std::int64_t>{9});
  EXPECT_TRUE(m.d.readings.empty());
  m.frame(10, 2009, 300, 0, 65);
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{2, 3, 4, 5, 6, 7, 8, 10}));
  EXPECT_EQ(m.events(EventKind::DemandReset), 0u);
  EXPECT_EQ(m.state().last_resets, 0);
}

TEST(ValidatorLookahead, Issue10_ARepeatedMergeTooFarAheadOfTheChainDoesNotRejectIt) {
  // Twelve shared frames (2002-2013, +10 to +65) continue frame 2. A neighbour at a constant
  // offset ORs bit 5 into the kWh of the next two: 2014 | 0x20 = 2046 at +70 and +75. Each is
  // plausible after the reading (+46 in 70 minutes, at most floor(140) + 1) with its peak and
  // counter as they were, but too far ahead of the chain's last frame (+33 in 5 and 10 minutes,
  // at most 11 and 21), which a true frame after merges (they only raise bits) never is: both
  // are rejected. Frame 17 (2016, alone, +80) confirms the chain. Before, frame 15 waited as
  // the decider, frame 16 continued it, and the 13 true frames were rejected.
  Meter7 m(kMidMeterW, 2000, 300);
  shared_chain(m, 12);
  m.frame(15, 2014 | 0x20, 300, 0, 70, Burst::Shared);
  m.frame(16, 2014 | 0x20, 300, 0, 75, Burst::Shared);
  EXPECT_EQ(m.rejections(), (std::vector<std::int64_t>{15, 16}));
  m.frame(17, 2016, 300, 0, 80);
  std::vector<std::int64_t> want;
  for (std::int64_t f = 2; f <= 14; ++f) want.push_back(f);
  want.push_back(17);
  EXPECT_EQ(m.readings(), want);
  EXPECT_EQ(m.state().last_kwh24, 2016u);
}

TEST(ValidatorLookahead, Issue10_ASharedDeciderThatStepsBackFromTheChainIsOverruled) {
  // A meter of the largest model (1,373,760 W: at most floor(114.48) + 1 = 115 kWh per 5
  // minutes). Six shared frames (2002-2007, +10 to +35) continue frame 2. Frame 9 (shared, +40)
  // has bit 3 of 2008 cleared: 2000, back from the chain and continuing no frame of it, but as
  // the reading was (2000, peak and counter unchanged): it waits as the decider. Frame 10
  // (shared, 2009 at +45) continues the chain's last frame and repeats its state; it also
  // continues frame 9 (+9 kWh in 5 minutes, well under 115), so "continues the decider" cannot
  // protect the lone step back: frame 9 is overruled, frame 10 joins the chain and frame 11
  // (alone, 2010) confirms it. Before, frame 9 decided alone and rejected the six true frames.
  Meter7 m(kLargestModelPowerW, 2000, 300);
  shared_chain(m, 6);
  m.frame(9, 2008 & ~0x8u, 300, 0, 40, Burst::Shared);
  EXPECT_TRUE(m.d.rejections.empty());
  ASSERT_TRUE(m.state().decider);
  m.frame(10, 2009, 300, 0, 45, Burst::Shared);
  EXPECT_EQ(m.rejections(), std::vector<std::int64_t>{9});
  m.frame(11, 2010, 300, 0, 50);
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{2, 3, 4, 5, 6, 7, 8, 10, 11}));
  EXPECT_EQ(m.state().last_kwh24, 2010u);
}

TEST(ValidatorLookahead, Issue10_ASharedDeciderOneKwhBelowARaisedChainIsNotOverruled) {
  // The negative (128 meters, no noise, meter 9028): the held frame is overlapped and a
  // neighbour's bits raised its kWh, 7704 | 0x05 = 7709. The meter's true frames are lost for
  // a while; frame 3 (shared, +40) is the true 7708: one back from the held frame, as the
  // reading was, so it waits as the decider. Frame 4 (shared, +45) is the true 7709: it continues
  // and repeats the held frame, and continues frame 3 (+1). The step back (1) is not larger than
  // frame 4's advance past the held frame (0) plus 1, so frame 3 is not overruled: it decides as
  // before: the held frame is rejected, frame 3 is held (a shared frame whose kWh changed) and
  // frame 4 confirms it as a reading, then is held itself for the same reason.
  Meter7 m(kLargestModelPowerW, 7703, 300);
  m.frame(2, 7704 | 0x05, 300, 0, 5, Burst::Overlapped);
  m.frame(3, 7708, 300, 0, 40, Burst::Shared);
  ASSERT_TRUE(m.state().decider);
  m.frame(4, 7709, 300, 0, 45, Burst::Shared);
  EXPECT_EQ(m.rejections(), std::vector<std::int64_t>{2});
  EXPECT_EQ(m.readings(), std::vector<std::int64_t>{3});
  EXPECT_EQ(m.state().last_kwh24, 7708u);
  ASSERT_TRUE(m.state().held);
  EXPECT_EQ(m.state().held->frame_id, 4);
}

TEST(ValidatorLookahead, Issue10_ASharedDeciderAFewKwhBelowASharedChainIsOverruled) {
  // 256 meters, BER 1e-3, meter 18084 (365,640 W: at most floor(30.47) + 1 = 31 kWh per 5
  // minutes): after its reading of 24270, frames 2-4 (24273, 24274, 24276 at +5 to +15), true,
  // wait as the held frame (overlapped) and its chain (shared). Frame 5 (shared, +20) was sent as
  // 24277 = 0x5ED5 and received with bit 2 cleared, 0x5ED1 = 24273: back 3 from the chain's last
  // frame, it waits as the decider. Frame 6 (shared, 24279 at +25) continues and repeats the
  // chain's last frame, 3 ahead of it. The chain's last frame is shared, not overlapped: no
  // neighbour's head in its low kWh byte, so the step back is lone however small: frame 5 is
  // overruled and frame 7 (alone, 24280) confirms the chain. With the overlapped tail's margin
  // applied here (3 is not more than 3 + 1) frame 5 decided, and the chain was rejected: the
  // sweep lost 67 true frames of this meter.
  Meter7 m(365'640, 24270, 0x1c29);
  m.frame(2, 24273, 0x1c29, 0, 5, Burst::Overlapped);
  m.frame(3, 24274, 0x1c29, 0, 10, Burst::Shared);
  m.frame(4, 24276, 0x1c29, 0, 15, Burst::Shared);
  m.frame(5, 24277 & ~0x4u, 0x1c29, 0, 20, Burst::Shared);
  ASSERT_TRUE(m.state().decider);
  m.frame(6, 24279, 0x1c29, 0, 25, Burst::Shared);
  EXPECT_EQ(m.rejections(), std::vector<std::int64_t>{5});
  m.frame(7, 24280, 0x1c29, 0, 30);
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{2, 3, 4, 6, 7}));
  EXPECT_EQ(m.state().last_kwh24, 24280u);
}

TEST(ValidatorLookahead, Issue10_SharedFramesWhosePeakTrulyRoseRefuteAHeldCounterMerge) {
  // 256 meters, no noise, meter 613 (peak 0x162 = 354 counts): frames 2-5 alone (101-104 kWh, +5
  // to +20). Frame 6 (shared, +40) is a merge: counter 0 -> 53 (0x35) and peak 0x1ef, plausible
  // after 20 minutes (up to 64 resets), held for a frame alone. The meter's true frames 7 and 8
  // (shared, 106 and 107) carry counter 0 and a peak that truly rose to 0x168: they continue the
  // last reading, not the held frame (its counter cannot go back to 0). Frame 7 waits as the
  // decider; frame 8 continues it and not the held frame, so frame 6 is rejected and frame 7
  // is held in turn (a shared frame whose peak rose), frame 8 waiting with it; frame 9 (alone,
  // 108, peak 0x169) confirms both. Before, a shared frame had to repeat the old peak to count
  // against the held frame: 7 and 8 were rejected as noise (13 true frames in the sweep).
  Meter7 m(kMidMeterW, 100, 0x162);
  for (int k = 1; k <= 4; ++k) m.frame(1 + k, 100 + static_cast<std::uint32_t>(k), 0x162, 0, 5 * k);
  m.frame(6, 106, 0x1ef, 53, 40, Burst::Shared);
  m.frame(7, 106, 0x168, 0, 45, Burst::Shared);
  EXPECT_TRUE(m.rejections().empty());
  ASSERT_TRUE(m.state().decider);
  m.frame(8, 107, 0x168, 0, 50, Burst::Shared);
  EXPECT_EQ(m.rejections(), std::vector<std::int64_t>{6});
  m.frame(9, 108, 0x169, 0, 55);
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{2, 3, 4, 5, 7, 8}));
  EXPECT_EQ(m.state().last_peak, 0x168);
}

// 256 meters, no noise, meter 41084 (the largest model here: 115 kWh per 5 minutes): after its
// reading of 2129, frame 2 (2130, +5, overlapped) is held and frames 3-6 (2131-2134, shared)
// continue it. Frames 7 and 8 (+30, +35, in `merges`) carry a neighbour's bits OR-ed into their
// low kWh byte, 2135 = 0x857 -> 0x877 = 2167 and 2136 = 0x858 -> 0x878 = 2168, peak and counter
// untouched; plausible, so they continue the chain. Frame 9 (shared, the true 2137 at +40) goes
// back from both and continues frame 6 with its state.
void chain_with_kwh_merges(Meter7& m, Burst merges) {
  m.frame(2, 2130, 300, 0, 5, Burst::Overlapped);
  for (int k = 0; k < 4; ++k)
    m.frame(3 + k, 2131 + static_cast<std::uint32_t>(k), 300, 0, 10 + 5 * k, Burst::Shared);
  m.frame(7, 2135 | 0x20, 300, 0, 30, merges);
  m.frame(8, 2136 | 0x20, 300, 0, 35, merges);
  m.frame(9, 2137, 300, 0, 40, Burst::Shared);
}

TEST(ValidatorLookahead, Issue10_OverlappedMergesThatRaisedOnlyKwhAreCutFromAChain) {
  // Frames 7 and 8 overlapped: the run differs from frame 6 in kWh only, but each of its frames
  // may end in a neighbour's head and lies above frame 9: merges, cut (rejected), and frame 9
  // joins the chain; frame 10 (alone, 2138) confirms it. Before, frame 9 continued neither,
  // waited as the decider and rejected the whole chain (15 true frames in the sweep).
  Meter7 m(kLargestModelPowerW, 2129, 300);
  chain_with_kwh_merges(m, Burst::Overlapped);
  EXPECT_EQ(m.rejections(), (std::vector<std::int64_t>{7, 8}));
  m.frame(10, 2138, 300, 0, 45);
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{2, 3, 4, 5, 6, 9, 10}));
  EXPECT_EQ(m.state().last_kwh24, 2138u);
}

TEST(ValidatorLookahead, Issue10_ASharedRunThatRaisedOnlyKwhIsNotCut) {
  // The negative: frames 7 and 8 shared, not overlapped (no neighbour's head can lie in their
  // kWh), so frame 9 does not cut them: it waits as the decider, as before.
  Meter7 m(kLargestModelPowerW, 2129, 300);
  chain_with_kwh_merges(m, Burst::Shared);
  EXPECT_TRUE(m.rejections().empty());
  EXPECT_TRUE(m.state().decider);
}

// After its reading (kWh `kwh`, peak `peak`), the held frame 2 (overlapped, +5) and shared frames
// 3-5 (+10 to +20): a chain, each frame advancing by `step` kWh with the chain's `chain_peak`.
void chain_after_reading(Meter7& m, std::uint32_t kwh, std::uint32_t step,
                         std::uint16_t chain_peak) {
  m.frame(2, kwh + step, chain_peak, 0, 5, Burst::Overlapped);
  for (std::uint32_t k = 1; k <= 3; ++k)
    m.frame(2 + k, kwh + (k + 1) * step, chain_peak, 0, 5 + 5 * k, Burst::Shared);
  ASSERT_TRUE(m.state().held);
  EXPECT_EQ(m.state().shared_chain.size(), 3u);
}

// Frame 6 (alone, +25) contradicts the chain and waits as the decider; frame 7 (alone, +30).
void decider_then_next(Meter7& m, std::uint32_t d_kwh, std::uint16_t d_peak, std::uint32_t n_kwh,
                       std::uint16_t n_peak) {
  m.frame(6, d_kwh, d_peak, 0, 25);
  ASSERT_TRUE(m.state().decider);
  m.frame(7, n_kwh, n_peak, 0, 30);
}

// Frame 6 was overruled and frame 7 confirmed the chain (frames 2-5).
void expect_chain_confirmed(const Meter7& m) {
  EXPECT_EQ(m.rejections(), std::vector<std::int64_t>{6});
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{2, 3, 4, 5, 7}));
}

TEST(ValidatorLookahead, Issue10_ADeciderAloneWithAPeakBitClearedIsOverruled) {
  // 256 meters, BER 1e-4, meter 33580: the reading and a true chain with peak 0x1aaf (6,831
  // counts, 136.6 kW: the largest model). Frame 6, alone at +25, was sent with 0x1aaf and
  // received with bit 1 cleared, 0x1aad: its peak fell without a reset from the chain and from
  // the reading alike, so it waits as the decider. Frame 7 (alone, +30) continues the chain and
  // repeats its peak; it also continues frame 6 (a peak rise of 2 counts needs 0.68 kWh in 15
  // minutes; the meter moved 3), so only the rule "a lone step down" overrules frame 6: it is
  // rejected and frame 7 confirms the chain. Before, frame 6 decided alone and rejected the
  // chain's 4 true frames (7 in the sweep).
  Meter7 m(kLargestModelPowerW, 13215, 0x1aaf);
  chain_after_reading(m, 13215, 1, 0x1aaf);
  decider_then_next(m, 13220, 0x1aad, 13221, 0x1aaf);
  expect_chain_confirmed(m);
  EXPECT_NE(m.d.rejections[0].detail.find("the last reading alike"), std::string::npos);
  EXPECT_EQ(m.state().last_peak, 0x1aafu);
}

TEST(ValidatorLookahead, Issue10_ADeciderAloneWithAKwhBitClearedIsOverruled) {
  // 256 meters, BER 1e-4, meter 50270: after the reading of 8460, a true chain 8461-8464. Frame
  // 6 (alone, +25) was sent as 8464 = 0x2110 and received with bit 4 cleared, 0x2100 = 8448:
  // back from the chain and from the reading alike, so it waits as the decider. Frame 7 (alone,
  // 8465 at +30) continues the chain; it continues frame 6 too (+17 kWh in 5 minutes, under the
  // largest model's 115), so only "a lone step down" overrules frame 6. Before, frame 6 decided
  // alone and rejected the chain (6 true frames in the sweep).
  Meter7 m(kLargestModelPowerW, 8460, 300);
  chain_after_reading(m, 8460, 1, 300);
  decider_then_next(m, 8464 & ~0x10u, 300, 8465, 300);
  expect_chain_confirmed(m);
  EXPECT_EQ(m.state().last_kwh24, 8465u);
}

TEST(ValidatorLookahead, Issue10_ATrueDeciderAloneAfterMergesThatRaisedThePeakDecides) {
  // The negative: a neighbour in lock-step ORs 0x0a into the peak of the held frame and its
  // chain: 0x120 (288 counts, 5.76 kW) reads 0x12a. Frame 6 (alone, +25) is true, 0x120: it falls
  // from the chain but agrees with the reading, so it is no lone step down. Frame 7 (alone, +30)
  // is true too and its peak truly rose to 0x12a (298 counts need 1.49 kWh in 15 minutes; the
  // meter moved 6): it repeats the chain's peak and continues it, and it continues frame 6, so
  // frame 6 decides: the merged chain is rejected, frame 6 is the reading and frame 7 waits (a
  // risen peak waits for the frame after it).
  Meter7 m(kMidMeterW, 500, 0x120);
  chain_after_reading(m, 500, 2, 0x12a);
  decider_then_next(m, 510, 0x120, 512, 0x12a);
  EXPECT_EQ(m.rejections(), (std::vector<std::int64_t>{2, 3, 4, 5}));
  EXPECT_EQ(m.readings(), std::vector<std::int64_t>{6});
  ASSERT_TRUE(m.state().held);
  EXPECT_EQ(m.state().held->frame_id, 7);
}

TEST(ValidatorLookahead, Issue10_ATrueDeciderAloneAfterMergesThatRaisedKwhDecides) {
  // The negative for kWh: a neighbour's head ORs 0x10 into the chain's low kWh byte: the true
  // 8461-8464 read 8477-8480. Frame 6 (alone, the true 8465 at +25) is back from the chain but
  // not from the reading (8460), so it is no lone step down. Frame 7 (alone, +30): the meter
  // truly moved 16 kWh to 8481 (under 115 in 5 minutes), so it continues the chain and frame 6
  // alike: frame 6 decides, the chain is rejected, frames 6 and 7 are the readings.
  Meter7 m(kLargestModelPowerW, 8460, 300);
  chain_after_reading(m, 8460 | 0x10, 1, 300);
  decider_then_next(m, 8465, 300, 8481, 300);
  EXPECT_EQ(m.rejections(), (std::vector<std::int64_t>{2, 3, 4, 5}));
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{6, 7}));
}

// Meter 7 at 62 kWh, counter 0. Frame 2, alone at +5: counter 4 (bit 2 set: a held reset, it
// waits for the next frame). Frame 3, alone at +10: 55 kWh, counter 0. It contradicts the held
// frame (counter 4 -> 0 goes back) and the last reading (62 -> 55 goes back), so it waits as the
// decider.
void reset_bit_then_kwh_bit(Meter7& m) {
  m.frame(2, 62, 300, 4, 5);
  m.frame(3, 55, 300, 0, 10);
  EXPECT_TRUE(m.d.readings.empty());
  EXPECT_TRUE(m.d.rejections.empty());
  ASSERT_TRUE(m.state().decider);
  EXPECT_EQ(m.state().decider->frame_id, 3);
}

TEST(ValidatorLookahead, Issue10_TwoFramesOffTheLineInARowAreBothRejected) {
  // Frame 4, alone at +15: 63 kWh, counter 0. It continues the last reading (+1 kWh in 15
  // minutes, at most 31) and not the held frame (4 -> 0): both frames were one-off errors. Frame
  // 2 is held_not_confirmed, frame 3 kwh_backwards, frame 4 the reading; no demand reset, no
  // new epoch. (256 meters, BER 1e-4, meter 52123; decided alone, frame 3 let frame 2 be a
  // reading: a false reset, then a false `replaced`.)
  Meter7 m(kMidMeterW, 62, 300);
  reset_bit_then_kwh_bit(m);
  m.frame(4, 63, 300, 0, 15);
  EXPECT_EQ(m.readings(), std::vector<std::int64_t>{4});
  ASSERT_EQ(m.rejections(), (std::vector<std::int64_t>{3, 2}));
  EXPECT_EQ(m.d.rejections[0].reason, RejectReason::KwhBackwards);
  EXPECT_EQ(m.d.rejections[1].reason, RejectReason::HeldNotConfirmed);
  EXPECT_EQ(m.events(EventKind::DemandReset), 0u);
  EXPECT_EQ(m.events(EventKind::Replaced), 0u);
  EXPECT_EQ(m.state().last_kwh24, 63u);
}

// Meter 62266 (BER 1e-3, 256 meters), about 1 kWh a cadence, peak 0: readings 4306-4308 (frames
// 1-3). Frame 4 (+15, alone): the true 4309 with peak bit 1 set (0 -> 2): a risen peak, held.
// Frame 5 (+20, alone): the true 4309 with kWh bit 2 cleared, 4305, peak 0: back from the last
// reading and a fallen peak from frame 4: the decider.
void peak_bit_then_kwh_bit(Meter7& m) {
  m.frame(2, 4307, 0, 0, 5);
  m.frame(3, 4308, 0, 0, 10);
  m.frame(4, 4309, 2, 0, 15);
  m.frame(5, 4305, 0, 0, 20);
  ASSERT_TRUE(m.state().decider);
  EXPECT_EQ(m.state().decider->frame_id, 5);
}

TEST(ValidatorLookahead, Issue10_ASharedFrameBelowTheHeldPeakShowsTwoErrorsInARow) {
  // Frame 6 (+25) is from a shared burst: 4310, peak 0. It continues the last reading (+2 kWh in
  // 15 minutes, at most 1 + 3 x 1 = 4 at 13,200 W) and not frame 4 (2 -> 0 without a reset). A
  // merge only sets bits, so a peak of 0 in it means the meter's peak was never 2: frames 4 and
  // 5 were both errors and are rejected. Frame 6, a changed kWh from a shared burst, waits for
  // frame 7 (4311, alone), which confirms it. Decided alone, frame 5 had let frame 4 be a
  // reading, and the meter's next 25 frames, all shared, were rejected against its peak of 2.
  Meter7 m(kSmallMeterW, 4306, 0);
  peak_bit_then_kwh_bit(m);
  m.frame(6, 4310, 0, 0, 25, Burst::Shared);
  EXPECT_EQ(m.rejections(), (std::vector<std::int64_t>{5, 4}));
  m.frame(7, 4311, 0, 0, 30);
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{2, 3, 6, 7}));
  EXPECT_EQ(m.events(EventKind::Replaced), 0u);
  EXPECT_EQ(m.state().last_peak, 0);
}

TEST(ValidatorLookahead, Issue10_ASharedFrameBelowTheHeldCounterShowsTwoErrorsInARow) {
  // Meter 20763 (BER 1e-3, 256 meters), 2 kWh a cadence, peak 0x426: frame 2 (15086) a reading;
  // frame 3 (+10) the true 15088 with counter bit 2 set (0 -> 4), held; frame 4 (+15) the true
  // 15090 with peak bit 2 cleared (0x426 -> 0x422): a fallen peak from the last reading and
  // from frame 3 (counter 4 -> 0 goes back), the decider. Frame 5 (+20, shared) reads counter 0
  // and continues the last reading (+5 kWh in 15 minutes, at most 31 at 120 kW): a merge only
  // sets bits and the counter only rises, so the 4 was never the meter's. Frames 3 and 4 are
  // rejected, 5 waits for frame 6 (alone), which confirms it; no demand reset.
  Meter7 m(kMidMeterW, 15084, 0x426);
  m.frame(2, 15086, 0x426, 0, 5);
  m.frame(3, 15088, 0x426, 4, 10);
  m.frame(4, 15090, 0x422, 0, 15);
  ASSERT_TRUE(m.state().decider);
  m.frame(5, 15091, 0x426, 0, 20, Burst::Shared);
  EXPECT_EQ(m.rejections(), (std::vector<std::int64_t>{4, 3}));
  m.frame(6, 15093, 0x426, 0, 25);
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{2, 5, 6}));
  EXPECT_EQ(m.events(EventKind::DemandReset), 0u);
  EXPECT_EQ(m.state().last_resets, 0);
}

TEST(ValidatorLookahead, Issue10_ASharedFrameWhosePeakFellThroughAResetIsNoSuchEvidence) {
  // The negative: frame 6, shared, has peak 0 with counter 1: a demand reset explains the fall,
  // so it continues frame 4 and says nothing about its peak; frame 5 decides alone as before,
  // and frame 4 (the held frame alone, plausible) is a reading.
  Meter7 m(kSmallMeterW, 4306, 0);
  peak_bit_then_kwh_bit(m);
  m.frame(6, 4310, 0, 1, 25, Burst::Shared);
  const auto r = m.readings();
  EXPECT_NE(std::find(r.begin(), r.end(), 4), r.end());
}

TEST(ValidatorLookahead,
     Issue10_Guide3_8_AResetThatTheNextFrameRepeatsStandsAfterAFrameOffTheLine) {
  // The negative: a real reset, one key turn (guide 3.8). Frame 2 (+5): counter 0 -> 1, held.
  // Frame 3 (+10): 55 kWh, counter 0: back from both, the decider. Frame 4 (63 kWh, +15)
  // repeats counter 1: it continues the held frame and not frame 3 (back in kWh), so frame 3 is
  // the odd one; 2 and 4 are readings, with one demand reset.
  Meter7 m(kMidMeterW, 62, 300);
  m.frame(2, 62, 300, 1, 5);
  m.frame(3, 55, 300, 0, 10);
  ASSERT_TRUE(m.state().decider);
  m.frame(4, 63, 300, 1, 15);
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{2, 4}));
  EXPECT_EQ(m.rejections(), std::vector<std::int64_t>{3});
  EXPECT_EQ(m.events(EventKind::DemandReset), 1u);
}

// Meter 7 at 62 kWh, counter 0, one kWh a cadence. Frame 2 (+5): counter bit 3 set, 0 -> 8:
// plausible by the 19 s bound (300 / 19 + 1 = 16 resets), held. Frame 3 (+10, 63 kWh) has
// counter 0 again: it continues the last reading, not frame 2 (a counter never goes back), so
// it waits as the decider.
void counter_bit_twice(Meter7& m) {
  m.frame(2, 62, 300, 8, 5);
  m.frame(3, 63, 300, 0, 10);
  ASSERT_TRUE(m.state().decider);
  EXPECT_EQ(m.state().decider->frame_id, 3);
}

TEST(ValidatorLookahead, Issue10_Guide3_8_ACounterBitFlippedTwiceIsNotAReset) {
  // Frame 4 (+15, 64 kWh) has bit 3 set again: counter 8, repeating frame 2. Eight key turns in
  // 5 minutes are rarer than one bit flipped twice (BER 1e-3, 256 meters: meters 613, 1482,
  // 26814, 49212 and 57726), so frame 4 does not overrule frame 3 (it would have: it does not
  // continue frame 3, 0 -> 8 in one cadence being more than one turn a cadence). Frame 3
  // decides as alone: frame 2 is rejected, frame 3 is the reading. Frame 4, a counter change
  // after it, is held; frame 5 (+20, 65 kWh, counter 0) waits as the decider and frame 6 (+25,
  // 66 kWh, counter 0) does not repeat frame 4: frame 4 is rejected, 5 and 6 are readings. No
  // demand reset, no new epoch. (Before: frames 2 and 4 readings, a false reset, and frames 5
  // and 6 a false `replaced`.)
  Meter7 m(kMidMeterW, 62, 300);
  counter_bit_twice(m);
  m.frame(4, 64, 300, 8, 15);
  EXPECT_EQ(m.readings(), std::vector<std::int64_t>{3});
  EXPECT_EQ(m.rejections(), std::vector<std::int64_t>{2});
  m.frame(5, 65, 300, 0, 20);
  m.frame(6, 66, 300, 0, 25);
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{3, 5, 6}));
  EXPECT_EQ(m.rejections(), (std::vector<std::int64_t>{2, 4}));
  EXPECT_EQ(m.events(EventKind::DemandReset), 0u);
  EXPECT_EQ(m.events(EventKind::Replaced), 0u);
  EXPECT_EQ(m.state().last_resets, 0);
}

TEST(ValidatorLookahead, Issue10_Guide3_8_ACounterThatStaysAfterItsJumpIsStillAReset) {
  // The negative: the jump was the meter's. Frame 4 (+15) repeats counter 8 and frame 5 (+20)
  // repeats it again: whatever frame 3 decided, frames 4 and 5 agree with each other and not
  // with the counter 0 before them, so the counter stands at 8 (a jump the meter's own frames
  // keep is a physical event, or the meter's register) and is never silently dropped.
  Meter7 m(kMidMeterW, 62, 300);
  counter_bit_twice(m);
  m.frame(4, 64, 300, 8, 15);
  m.frame(5, 65, 300, 8, 20);
  m.frame(6, 66, 300, 8, 25);
  EXPECT_EQ(m.state().last_resets, 8);
  EXPECT_EQ(m.state().last_kwh24, 66u);
}

TEST(ValidatorLookahead, Issue10_AReplacementAfterAHeldFrameIsNotOffTheLine) {
  // The negative: a real replacement. The new meter reads 55, then 56 (frame 4, +1 kWh in 5
  // minutes): frame 4 continues frame 3, not the last reading (62 -> 56 goes back). Frame 3 is
  // not rejected as off the line: decided alone as before, it and frame 4 start a new epoch once
  // frame 5 (57) continues them.
  Meter7 m(kMidMeterW, 62, 300);
  reset_bit_then_kwh_bit(m);
  m.frame(4, 56, 300, 0, 15);
  m.frame(5, 57, 300, 0, 20);
  const auto r = m.readings();
  EXPECT_NE(std::find(r.begin(), r.end(), 3), r.end());
  EXPECT_NE(std::find(r.begin(), r.end(), 4), r.end());
  EXPECT_EQ(m.events(EventKind::Replaced), 1u);
  EXPECT_EQ(m.state().last_kwh24, 57u);
}

TEST(ValidatorLookahead, Issue10_AHeldPeakRiseTheNextFrameContinuesThroughAResetStands) {
  // The negative: the next frame continues both the last reading and the held frame. Held: a
  // true peak rise 300 -> 306 (frame 2, alone, +5). Frame 3 (+10) reads 55 kWh: back from both,
  // the decider. Frame 4 (+15): 63 kWh, counter 1, peak 100: a demand reset (the peak starts
  // again), plausible after the last reading and after frame 2 alike, and not a repeat of frame
  // 2's counter, so it does not overrule frame 3 either. Frame 2 is not off the line: it is a
  // reading and frame 3 is rejected; frame 4, a changed counter, waits for its next frame, and
  // frame 5 (64 kWh, counter 1) confirms it: one demand reset.
  Meter7 m(kMidMeterW, 62, 300);
  m.frame(2, 62, 306, 0, 5);
  m.frame(3, 55, 306, 0, 10);
  ASSERT_TRUE(m.state().decider);
  m.frame(4, 63, 100, 1, 15);
  EXPECT_EQ(m.readings(), std::vector<std::int64_t>{2});
  EXPECT_EQ(m.rejections(), std::vector<std::int64_t>{3});
  m.frame(5, 64, 100, 1, 20);
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{2, 4, 5}));
  EXPECT_EQ(m.events(EventKind::DemandReset), 1u);
}

// 300,000 W: at most floor(25) + 1 = 26 kWh per 5 minutes, floor(50) + 1 = 51 per 10.
constexpr std::int64_t kLargeMeterW = 300'000;

// 400,000 W: at most floor(33.3) + 1 = 34 kWh per 5 minutes.
constexpr std::int64_t kHugeMeterW = 400'000;

// Meter 11382 (BER 1e-3, 256 meters, no registry) as meter 7 of 400 kW, 1 kWh a cadence, peak
// 0x6dd: readings 0x1d5 (frame 1, at kT0), 0x1d6 (2, +5) and 0x1d7 (3, +10); frame 4 (+15) is
// the true 0x1d9 with bit 5 set, 0x1f9: +34 in 5 minutes is plausible (at most 34) and only kWh
// moved, so it is a reading at once.
void raised_then_two_frames(Meter7& m) {
  m.frame(2, 0x1d6, 0x6dd, 0, 5);
  m.frame(3, 0x1d7, 0x6dd, 0, 10);
  m.frame(4, 0x1f9, 0x6dd, 0, 15);
  ASSERT_EQ(m.readings(), (std::vector<std::int64_t>{2, 3, 4}));
}

TEST(ValidatorLookahead, Issue10_TwoFramesThatContinueTheReadingBeforeTheLastRetractIt) {
  // Frame 5 (+20) is the true 0x1da with peak bit 4 cleared (0x6cd): back from 0x1f9, held.
  // Frame 6 (+25, 0x1db, 0x6dd) goes back from the last reading too and continues frame 5 (its
  // peak rose): the two agree, so the frame after them decides (a new meter?). Frame 7 (+30,
  // 0x1dd) continues frame 6 and is back from the last reading. Frames 6 and 7 continue frame 3
  // (the reading before the last; same peak and counter) and frame 5 does not (its peak fell
  // from 0x6dd): the last reading was raised and the held frame was off in its peak. Frame 4 is
  // retracted, frame 5 rejected, 6 and 7 are readings, and no `replaced` (before: a new epoch at
  // frame 5, its false peak a reading).
  Meter7 m(kHugeMeterW, 0x1d5, 0x6dd);
  raised_then_two_frames(m);
  m.frame(5, 0x1da, 0x6cd, 0, 20);
  m.frame(6, 0x1db, 0x6dd, 0, 25);
  m.frame(7, 0x1dd, 0x6dd, 0, 30);
  ASSERT_EQ(m.d.retracted.size(), 1u);
  EXPECT_EQ(m.d.retracted[0].frame_id, 4);
  EXPECT_EQ(m.rejections(), (std::vector<std::int64_t>{4, 5}));
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{2, 3, 4, 6, 7}));
  EXPECT_EQ(m.events(EventKind::Replaced), 0u);
  EXPECT_EQ(m.state().epoch, 0u);
  EXPECT_EQ(m.state().last_kwh24, 0x1ddu);
  EXPECT_EQ(m.state().last_peak, 0x6dd);
}

TEST(ValidatorLookahead, Issue10_TwoRisenPeaksThatTwoFramesFallBackFromAreBothRetracted) {
  // Meter 31402 (BER 1e-3, 256 meters, no registry), 1 kWh a cadence, peak 0x176: readings 0xcc
  // (frame 1) and 0xcd (2, +5). Frame 3 (+10): peak bit 3 set, 0x17e: held (a risen peak). Frame
  // 4 (+15): peak bit 7 set, 0x1f6: plausible after frame 3, so it confirms it (a reading) and
  // is held itself. Frame 5 (+20, 0xcf, 0x176) falls from both: the decider. Frame 6 (+25, 0xd0,
  // 0x176) continues frame 5 and not frame 4 (its peak fell). Frames 5 and 6 continue frame 2
  // (the reading before the last) with its counter, and contradict the last reading: frame 3 is
  // retracted, frame 4 rejected, 5 and 6 are readings (before: frame 4 a reading, then a
  // `replaced` for frames 5 and 6).
  Meter7 m(kMidMeterW, 0xcc, 0x176);
  m.frame(2, 0xcd, 0x176, 0, 5);
  m.frame(3, 0xce, 0x17e, 0, 10);
  m.frame(4, 0xce, 0x1f6, 0, 15);
  ASSERT_EQ(m.readings(), (std::vector<std::int64_t>{2, 3}));
  m.frame(5, 0xcf, 0x176, 0, 20);
  m.frame(6, 0xd0, 0x176, 0, 25);
  ASSERT_EQ(m.d.retracted.size(), 1u);
  EXPECT_EQ(m.d.retracted[0].frame_id, 3);
  EXPECT_EQ(m.rejections(), (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{2, 3, 5, 6}));
  EXPECT_EQ(m.events(EventKind::Replaced), 0u);
  EXPECT_EQ(m.state().last_peak, 0x176);
}

TEST(ValidatorLookahead, Issue10_ATrueRiseIsKeptWhenOnlyTheFrameAfterItFalls) {
  // The negative: frame 5 falls back alone, and frame 6 repeats frame 4's peak (0x1f6): frame 6
  // continues the held frame, so frame 5 is the odd one; frames 3 and 4 stand.
  Meter7 m(kMidMeterW, 0xcc, 0x176);
  m.frame(2, 0xcd, 0x176, 0, 5);
  m.frame(3, 0xce, 0x17e, 0, 10);
  m.frame(4, 0xce, 0x1f6, 0, 15);
  m.frame(5, 0xcf, 0x176, 0, 20);
  m.frame(6, 0xd0, 0x1f6, 0, 25);
  EXPECT_TRUE(m.d.retracted.empty());
  EXPECT_EQ(m.rejections(), std::vector<std::int64_t>{5});
  EXPECT_EQ(m.state().last_peak, 0x1f6);
}

TEST(ValidatorLookahead, Issue10_AFrameThatFellBackAloneDoesNotRetractTheLastReading) {
  // The negative (meter 30344, BER 1e-3, 256 meters): the last reading is the true 0xe8d (frame
  // 2), frame 3 (+10) a peak bit error (0 -> 512, held), frame 4 (+15) the true 0xe8e with bit 1
  // cleared, 0xe8c: back from both, the decider, and it continues frame 1 (0xe8c). Frame 5 (+20)
  // is the true 0xe8e: it continues frame 4, but it continues the last reading too, so the last
  // reading stands: frame 3 is rejected and frame 4 with it, and nothing is retracted.
  Meter7 m(kMidMeterW, 0xe8c, 0);
  m.frame(2, 0xe8d, 0, 0, 5);
  m.frame(3, 0xe8d, 0x200, 0, 10);
  m.frame(4, 0xe8c, 0, 0, 15);
  m.frame(5, 0xe8e, 0, 0, 20);
  EXPECT_TRUE(m.d.retracted.empty());
  const auto r = m.readings();
  EXPECT_EQ(std::count(r.begin(), r.end(), 2), 1);
  EXPECT_EQ(std::count(r.begin(), r.end(), 5), 1);
  EXPECT_EQ(m.state().last_kwh24, 0xe8eu);
}

TEST(ValidatorLookahead, Issue10_ANewMeterAfterARaisedReadingIsStillAReplacement) {
  // The negative: frames 5-7 are a new meter (12, 13, 14 kWh, peak 0): frame 6 does not continue
  // frame 3 (0x1d7 -> 13 goes back), so nothing is retracted and a new epoch begins.
  Meter7 m(kHugeMeterW, 0x1d5, 0x6dd);
  raised_then_two_frames(m);
  m.frame(5, 12, 0, 0, 20);
  m.frame(6, 13, 0, 0, 25);
  m.frame(7, 14, 0, 0, 30);
  EXPECT_TRUE(m.d.retracted.empty());
  EXPECT_EQ(m.events(EventKind::Replaced), 1u);
  EXPECT_EQ(m.state().epoch, 1u);
}

TEST(ValidatorLookahead, Issue10_ARaisedKwhOffTheLineDoesNotTakeAHeldPeakRisesPlace) {
  // 15 kWh per 5 minutes. Frame 3 (725, +10 min) raises the peak 0x22c1 -> 0x2306: held.
  // Frame 4 (+15 min) is the true 741 with bit 4 set, 757: +32 in 5 minutes from frame 3 is
  // too fast (26), so it waits as the decider. Frame 5 (757, +20 min) continues frame 3 (+32 in
  // 10 minutes, at most 51) and frame 4 alike, its peak risen again (0x2470: no step down from
  // either). On the line from frame 2 (710 at 5 min) to frame 5 (757 at 20): 725.67 at 10 min,
  // 741.33 at 15; frame 3 is 0.67 off it, frame 4 15.67: frame 4 is the odd one. Deciding alone
  // it would have rejected the true frame 3 and been a reading. Frame 5's rise waits for frame
  // 6 (772 at 25 min), which repeats it.
  Meter7 m(kLargeMeterW, 695, 0x22c1);
  m.frame(2, 710, 0x22c1, 0, 5);
  m.frame(3, 725, 0x2306, 0, 10);
  m.frame(4, 757, 0x23a6, 0, 15);
  EXPECT_EQ(m.state().decider->frame_id, 4);
  m.frame(5, 757, 0x2470, 0, 20);
  m.frame(6, 772, 0x2470, 0, 25);
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{2, 3, 5, 6}));
  EXPECT_EQ(m.rejections(), std::vector<std::int64_t>{4});
  EXPECT_EQ(m.d.rejections.back().reason, RejectReason::HeldNotConfirmed);
  EXPECT_EQ(m.state().last_kwh24, 772u);
}

TEST(ValidatorLookahead, Issue10_ADeciderOnTheLineStillOverrulesAHeldFrameOffIt) {
  // The negative: the held frame is the odd one. Frame 3 (711 at 10 min, its peak risen) is
  // 14.67 off the line from frame 2 (710 at 5) to frame 5 (757 at 20), frame 4 (741 at 15,
  // +30 from frame 3: too fast, the decider) 0.33: frame 4 decides as it would have alone,
  // rejecting frame 3, and frame 5 continues it.
  Meter7 m(kLargeMeterW, 695, 0x22c1);
  m.frame(2, 710, 0x22c1, 0, 5);
  m.frame(3, 711, 0x2306, 0, 10);
  m.frame(4, 741, 0x2306, 0, 15);
  EXPECT_EQ(m.state().decider->frame_id, 4);
  m.frame(5, 757, 0x2306, 0, 20);
  EXPECT_EQ(m.readings(), (std::vector<std::int64_t>{2, 4, 5}));
  EXPECT_EQ(m.rejections(), std::vector<std::int64_t>{3});
}

}  // namespace
}  // namespace imsm::collector
