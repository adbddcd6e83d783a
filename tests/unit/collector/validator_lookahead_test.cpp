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

std::vector<std::int64_t> ids(const std::vector<Reading>& v) {
  std::vector<std::int64_t> out;
  for (const auto& r : v) out.push_back(r.frame_id);
  return out;
}

std::vector<std::int64_t> ids(const std::vector<Rejection>& v) {
  std::vector<std::int64_t> out;
  for (const auto& r : v) out.push_back(r.frame_id);
  return out;
}

std::size_t count(const Decisions& d, EventKind k) {
  return static_cast<std::size_t>(
      std::count_if(d.events.begin(), d.events.end(), [k](const Event& e) { return e.kind == k; }));
}

TEST(ValidatorLookahead, Issue10_ABitErrorInTheDecidingFrameAloneDoesNotRejectTheChain) {
  // Held: an overlapped frame (102, +5 min) and the shared frames that continue it (104 at +10,
  // 106 at +15); only a frame alone decides them. Frame 5, alone at +20, has a flipped bit in
  // its counter (0 -> 4). It continues frame 2 (4 resets in 15 minutes: at most 1 + 900 / 300
  // = 4) but not frames 3 and 4 (at most 1 + 600 / 300 = 3 and 1 + 300 / 300 = 2): alone it
  // would accept 2 and reject the true 3 and 4. It waits instead. Frame 6, alone at +25 (108,
  // counter 0), continues frame 4 (+2 kWh) and not frame 5 (4 -> 0 is back): frame 5 is the odd
  // one, rejected; frame 6 confirms the chain: 2, 3, 4 and 6 are readings, no demand reset.
  Validator v(ValidationSettings{});
  v.register_meter(7, kMidMeterW);
  Decisions d;
  v.process(obs(1, 7, 100, 300, 0, kT0), d);
  d.clear();
  v.process(obs(2, 7, 102, 300, 0, kT0 + 5 * kMinute, Burst::Overlapped), d);
  v.process(obs(3, 7, 104, 300, 0, kT0 + 10 * kMinute, Burst::Shared), d);
  v.process(obs(4, 7, 106, 300, 0, kT0 + 15 * kMinute, Burst::Shared), d);
  v.process(obs(5, 7, 107, 300, 4, kT0 + 20 * kMinute), d);
  EXPECT_TRUE(d.readings.empty());
  EXPECT_TRUE(d.rejections.empty());
  EXPECT_EQ(d.held, (std::vector<std::int64_t>{2, 3, 4, 5}));
  ASSERT_TRUE(v.meter(7)->decider);
  EXPECT_EQ(v.meter(7)->decider->frame_id, 5);
  v.process(obs(6, 7, 108, 300, 0, kT0 + 25 * kMinute), d);
  EXPECT_EQ(ids(d.readings), (std::vector<std::int64_t>{2, 3, 4, 6}));
  ASSERT_EQ(ids(d.rejections), std::vector<std::int64_t>{5});
  EXPECT_EQ(d.rejections[0].reason, RejectReason::HeldNotConfirmed);
  EXPECT_NE(d.rejections[0].detail.find("second lookahead"), std::string::npos);
  EXPECT_EQ(count(d, EventKind::DemandReset), 0u);
  EXPECT_FALSE(v.meter(7)->decider);
  EXPECT_FALSE(v.meter(7)->held);
}

TEST(ValidatorLookahead, ABitErrorInTheFrameAfterAHeldPeakRiseDoesNotRejectIt) {
  // Held: a true rise of the peak, 300 -> 306 counts (frame 2, alone). Frame 3 has a flipped
  // counter bit (0 -> 4): plausible after the reading (600 / 19 + 1 = 32 resets possible) but
  // not a continuation of frame 2 (at most 1 + 300 / 300 = 2): alone it would reject frame 2.
  // Frame 4 (53 kWh, peak 306, counter 0) continues frame 2 (+2 kWh in 10 minutes, at most
  // floor(2.2) + 1 = 3) and not frame 3 (4 -> 0): frame 3 is rejected, 2 and 4 are readings.
  Validator v(ValidationSettings{});
  v.register_meter(7, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 7, 50, 300, 0, kT0), d);
  d.clear();
  v.process(obs(2, 7, 51, 306, 0, kT0 + 5 * kMinute), d);
  v.process(obs(3, 7, 52, 306, 4, kT0 + 10 * kMinute), d);
  EXPECT_TRUE(d.readings.empty());
  EXPECT_TRUE(d.rejections.empty());
  v.process(obs(4, 7, 53, 306, 0, kT0 + 15 * kMinute), d);
  EXPECT_EQ(ids(d.readings), (std::vector<std::int64_t>{2, 4}));
  EXPECT_EQ(ids(d.rejections), std::vector<std::int64_t>{3});
  EXPECT_EQ(count(d, EventKind::DemandReset), 0u);
  EXPECT_EQ(v.meter(7)->last_peak, 306);
}

TEST(ValidatorLookahead, ASharedFrameWithABitErrorAsBeforeDoesNotRejectTheChain) {
  // Held: an overlapped frame (2001, +5 min) and 12 shared frames continuing it, +1 kWh per 5
  // minutes up to 2013 at +65. Frame 15, shared at +70, has bit 5 of its kWh set: 2014 | 0x20 =
  // 2046. It continues neither the chain's last frame (+33 in 5 minutes, at most 11) nor the
  // one before (+34 in 10, at most 21), but the last reading as it was (+46 in 70 minutes, at
  // most floor(140) + 1; peak and counter unchanged): alone it would reject all 13 held frames.
  // Frame 16, shared (2015), continues frame 14 (+2) and not frame 15 (back by 31): frame 15
  // is rejected, frame 16 joins the chain, and frame 17 (alone, 2016) confirms all of them.
  Validator v(ValidationSettings{});
  v.register_meter(7, kMidMeterW);
  Decisions d;
  v.process(obs(1, 7, 2000, 300, 0, kT0), d);
  d.clear();
  v.process(obs(2, 7, 2001, 300, 0, kT0 + 5 * kMinute, Burst::Overlapped), d);
  for (int k = 0; k < 12; ++k)
    v.process(obs(3 + k, 7, 2002 + static_cast<std::uint32_t>(k), 300, 0,
                  kT0 + (10 + 5 * k) * kMinute, Burst::Shared),
              d);
  v.process(obs(15, 7, 2014 | 0x20, 300, 0, kT0 + 70 * kMinute, Burst::Shared), d);
  EXPECT_TRUE(d.rejections.empty());
  v.process(obs(16, 7, 2015, 300, 0, kT0 + 75 * kMinute, Burst::Shared), d);
  EXPECT_EQ(ids(d.rejections), std::vector<std::int64_t>{15});
  EXPECT_TRUE(d.readings.empty());
  v.process(obs(17, 7, 2016, 300, 0, kT0 + 80 * kMinute), d);
  std::vector<std::int64_t> want;
  for (std::int64_t f = 2; f <= 14; ++f) want.push_back(f);
  want.push_back(16);
  want.push_back(17);
  EXPECT_EQ(ids(d.readings), want);
  EXPECT_EQ(v.meter(7)->last_kwh24, 2016u);
}

TEST(ValidatorLookahead, ARealReplacementConfirmedByTwoFramesIsStillAccepted) {
  // The negative: after a held chain (5001 overlapped at +5, 5002 shared at +10) the meter is
  // replaced: frames 4 (12 kWh) and 5 (13 kWh), both alone, 5 minutes apart. Frame 4 continues
  // no held frame and waits; frame 5 continues frame 4, not the chain (13 after 5002 is back),
  // so frame 4 decides as it would have alone: the chain is rejected, frame 4 is held as a
  // contradiction of the reading (back by 4988) and frame 5, agreeing with it, makes them a
  // new epoch, audited by a `replaced` event.
  Validator v(ValidationSettings{});
  v.register_meter(7, kMidMeterW);
  Decisions d;
  v.process(obs(1, 7, 5000, 300, 0, kT0), d);
  d.clear();
  v.process(obs(2, 7, 5001, 300, 0, kT0 + 5 * kMinute, Burst::Overlapped), d);
  v.process(obs(3, 7, 5002, 300, 0, kT0 + 10 * kMinute, Burst::Shared), d);
  v.process(obs(4, 7, 12, 0, 0, kT0 + 15 * kMinute), d);
  EXPECT_TRUE(d.rejections.empty());
  v.process(obs(5, 7, 13, 0, 0, kT0 + 20 * kMinute), d);
  EXPECT_EQ(ids(d.rejections), (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(ids(d.readings), (std::vector<std::int64_t>{4, 5}));
  EXPECT_EQ(count(d, EventKind::Replaced), 1u);
  EXPECT_EQ(v.meter(7)->epoch, 1u);
  EXPECT_EQ(v.meter(7)->last_kwh24, 13u);
}

TEST(ValidatorLookahead, AFrameAloneIsNotOverruledByASharedMergeRepeatingTheChain) {
  // The negative for the burst rule: a neighbour 10 bytes behind ORs 0x10 into the kWh low
  // byte: true 66 and 68 read 82 and 84 (overlapped, held). Frame 4, alone, is the true 70: it
  // continues neither and waits. Frame 5 is the neighbour's next merge, true 72 | 0x10 = 88
  // (shared): it continues frame 3 (+4) and not frame 4 (+18 in 5 minutes, at most 11), but a
  // shared frame does not overrule a frame alone in its burst. Frame 4 decides as it would have
  // alone: 2 and 3 are rejected, 70 is the reading, and 88 (too fast after it) is rejected.
  Validator v(ValidationSettings{});
  v.register_meter(7, kMidMeterW);
  Decisions d;
  v.process(obs(1, 7, 64, 300, 0, kT0), d);
  d.clear();
  v.process(obs(2, 7, 82, 300, 0, kT0 + 10 * kMinute, Burst::Overlapped), d);
  v.process(obs(3, 7, 84, 300, 0, kT0 + 15 * kMinute, Burst::Overlapped), d);
  v.process(obs(4, 7, 70, 300, 0, kT0 + 20 * kMinute), d);
  EXPECT_TRUE(d.readings.empty());
  v.process(obs(5, 7, 88, 300, 0, kT0 + 25 * kMinute, Burst::Overlapped), d);
  EXPECT_EQ(ids(d.readings), std::vector<std::int64_t>{4});
  EXPECT_EQ(ids(d.rejections), (std::vector<std::int64_t>{2, 3, 5}));
  EXPECT_EQ(v.meter(7)->last_kwh24, 70u);
}

TEST(ValidatorLookahead, ADeciderTheNextFrameAlsoContinuesIsNeverOverruled) {
  // The negative for the odd-one rule: held, the merges 82 and 84 of the test above; frame 4,
  // alone, the true 70, waits. The meter's next frame comes a cycle late, 10 minutes after it:
  // 86 continues frame 3 (+2) and frame 4 too (+16 in 10 minutes, at most 21). Two true frames
  // of a meter always continue each other, so nothing shows frame 4 to be the odd one: it
  // decides as it would have alone (2 and 3 rejected, 70 the reading), then 86 follows it.
  Validator v(ValidationSettings{});
  v.register_meter(7, kMidMeterW);
  Decisions d;
  v.process(obs(1, 7, 64, 300, 0, kT0), d);
  d.clear();
  v.process(obs(2, 7, 82, 300, 0, kT0 + 10 * kMinute, Burst::Overlapped), d);
  v.process(obs(3, 7, 84, 300, 0, kT0 + 15 * kMinute, Burst::Overlapped), d);
  v.process(obs(4, 7, 70, 300, 0, kT0 + 20 * kMinute), d);
  EXPECT_TRUE(d.readings.empty());
  v.process(obs(5, 7, 86, 300, 0, kT0 + 30 * kMinute), d);
  EXPECT_EQ(ids(d.readings), (std::vector<std::int64_t>{4, 5}));
  EXPECT_EQ(ids(d.rejections), (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(v.meter(7)->last_kwh24, 86u);
}

}  // namespace
}  // namespace imsm::collector
