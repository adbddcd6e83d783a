// Validation beyond structure (SPEC; guide 2.5.2): plausibility against the last accepted
// state, provisional unknown IDs, held contradictions, replacement epochs, collisions.
#include "collector/validate/validator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <initializer_list>

#include "collector/config.h"
#include "helpers.h"

namespace imsm::collector {
namespace {

using protocol::Burst;
using test::kMinute;
using test::kT0;
using test::obs;

ValidationSettings settings() {
  return ValidationSettings{};
}

// 120 V x 100 A x 1.1 = 13,200 W (S1-120, 100:0.1 CTs).
constexpr std::int64_t kSmallMeterW = 13'200;

TEST(Validator, Guide2_5_2_RegisteredMeterIsKnownAtOnce) {
  Validator v(settings());
  const auto& fv = imsm::test::frame_vectors().at(0);
  v.register_meter(fv.meter_id, std::nullopt);
  Decisions d;
  v.process(test::guide_obs(1, kT0), d);
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].meter_id, fv.meter_id);
  EXPECT_EQ(d.readings[0].total_kwh, fv.total_kwh);
  EXPECT_EQ(d.readings[0].kwh24, fv.total_kwh);
  EXPECT_EQ(d.readings[0].peak_demand_counts, fv.peak_demand_counts);
  EXPECT_EQ(d.readings[0].demand_resets, fv.demand_resets);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(to_string(d.events[0].kind), std::string("discovered"));
}

TEST(Validator, MaxKwhAdvanceIsExactAndQuantised) {
  // 13,200 W for 5 minutes = 1.1 kWh -> at most 1 whole kWh more, +1 for quantisation.
  EXPECT_EQ(Validator::max_kwh_advance(kSmallMeterW, 5 * kMinute), 2u);
  // 3,600,000 W for 1 s = exactly 1 kWh -> 2.
  EXPECT_EQ(Validator::max_kwh_advance(3'600'000, kMicrosPerSecond), 2u);
  EXPECT_EQ(Validator::max_kwh_advance(3'600'000, kMicrosPerSecond - 1), 1u);
  EXPECT_EQ(Validator::max_kwh_advance(kSmallMeterW, 0), 1u);
  // Huge spans saturate at the 24-bit modulus without overflow.
  EXPECT_EQ(Validator::max_kwh_advance(100'000'000, std::int64_t{1} << 60), 1u << 24);
}

TEST(Validator, PlausibleSequenceAccepted) {
  Validator v(settings());
  v.register_meter(17, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 17, 100, 10, 0, kT0), d);
  v.process(obs(2, 17, 102, 12, 0, kT0 + 5 * kMinute), d);
  v.process(obs(3, 17, 103, 12, 0, kT0 + 10 * kMinute), d);
  EXPECT_EQ(d.readings.size(), 3u);
  EXPECT_TRUE(d.rejections.empty());
  EXPECT_EQ(d.readings.back().total_kwh, 103);
}

TEST(Validator, TooFastIsHeldThenRejectedWhenTheNextAgreesWithTheOldState) {
  Validator v(settings());
  v.register_meter(17, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 17, 100, 10, 0, kT0), d);
  d.clear();
  v.process(obs(2, 17, 150, 10, 0, kT0 + 5 * kMinute), d);  // +50 kWh in 5 min at 13.2 kW
  EXPECT_TRUE(d.readings.empty());
  EXPECT_TRUE(d.rejections.empty());
  ASSERT_EQ(d.held, std::vector<std::int64_t>{2});
  d.clear();
  v.process(obs(3, 17, 101, 10, 0, kT0 + 10 * kMinute), d);
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].frame_id, 2);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::KwhTooFast);
  EXPECT_EQ(d.released, std::vector<std::int64_t>{2});
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].frame_id, 3);
  EXPECT_EQ(v.meter(17)->epoch, 0u);
}

TEST(Validator, KwhBackwardsConfirmedByTheNextFrameStartsAnAuditedEpoch) {
  Validator v(settings());
  v.register_meter(17, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 17, 5000, 10, 3, kT0), d);
  v.process(obs(2, 17, 5001, 10, 3, kT0 + 5 * kMinute), d);
  d.clear();
  v.process(obs(3, 17, 7, 0, 0, kT0 + 10 * kMinute), d);  // a new meter: low register
  EXPECT_TRUE(d.readings.empty());
  d.clear();
  // Two frames agreeing with each other are a new meter or the same bit error twice: the frame
  // after them decides. 9 continues 8 (+1 in 5 minutes), not the old 5001.
  v.process(obs(4, 17, 8, 0, 0, kT0 + 15 * kMinute), d);
  EXPECT_TRUE(d.readings.empty());
  v.process(obs(5, 17, 9, 0, 0, kT0 + 20 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 3u);
  EXPECT_EQ(d.readings[0].frame_id, 3);
  EXPECT_EQ(d.readings[0].epoch, 1u);
  EXPECT_EQ(d.readings[0].total_kwh, 7);
  EXPECT_EQ(d.readings[1].total_kwh, 8);
  ASSERT_FALSE(d.events.empty());
  EXPECT_EQ(d.events[0].kind, EventKind::Replaced);
  EXPECT_NE(d.events[0].detail.json().find("\"old_total_kwh\":5001"), std::string::npos);
  EXPECT_NE(d.events[0].detail.json().find("kwh_backwards"), std::string::npos);
}

TEST(Validator, Guide2_5_2_RolloverOf24BitRegisterIsAdvanceNotBackwards) {
  Validator v(settings());
  v.register_meter(9, 1'000'000);
  Decisions d;
  v.process(obs(1, 9, Kwh24::kMask - 10, 0, 0, kT0), d);
  d.clear();
  v.process(obs(2, 9, 40, 0, 0, kT0 + 5 * kMinute), d);  // +51 kWh across the wrap
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].total_kwh, std::int64_t{Kwh24::kMask} + 41);
  EXPECT_EQ(d.readings[0].kwh24, 40u);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(to_string(d.events[0].kind), std::string("rollover"));
}

TEST(Validator, ResetCounterAndPeakDemandRules) {
  Validator v(settings());
  v.register_meter(5, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 5, 10, 500, 255, kT0), d);
  d.clear();
  // Peak falls without a reset: contradicts.
  v.process(obs(2, 5, 10, 400, 255, kT0 + 5 * kMinute), d);
  EXPECT_TRUE(d.readings.empty());
  EXPECT_EQ(d.held.size(), 1u);
  d.clear();
  // Reset counter wraps 255 -> 0 with the peak cleared: plausible (a demand reset), but a
  // reset-counter change waits for the meter's next frame (hindsight); the held frame 2 is
  // rejected, since frame 3 agrees with the last reading (frame 1).
  v.process(obs(3, 5, 11, 0, 0, kT0 + 10 * kMinute), d);
  EXPECT_TRUE(d.readings.empty());
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::PeakFell);
  EXPECT_EQ(d.held.back(), 3);
  // The next frame repeats counter 0: the reset is confirmed, both become readings.
  v.process(obs(4, 5, 11, 0, 0, kT0 + 15 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 3);
  EXPECT_EQ(d.readings[1].frame_id, 4);
  bool reset_event = false;
  for (const auto& e : d.events) reset_event = reset_event || e.kind == EventKind::DemandReset;
  EXPECT_TRUE(reset_event);
  // The counter going back is a contradiction.
  auto c = Validator::check(11, 0, 10, kT0, obs(9, 5, 11, 0, 9, kT0 + kMinute).frame(),
                            kT0 + kMinute, kSmallMeterW);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->reason, RejectReason::ResetsBackwards);
  // Five resets in one minute are more than the 19 s display cycle allows.
  c = Validator::check(11, 0, 10, kT0, obs(9, 5, 11, 0, 15, kT0 + kMinute).frame(), kT0 + kMinute,
                       kSmallMeterW);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->reason, RejectReason::ResetsTooFast);
}

TEST(Validator, UnknownIdIsProvisionalUntilSeenConsistently) {
  Validator v(settings());
  Decisions d;
  v.process(obs(1, 300, 1000, 0, 0, kT0), d);
  EXPECT_TRUE(d.readings.empty());
  EXPECT_EQ(d.held, std::vector<std::int64_t>{1});
  EXPECT_EQ(v.meter(300), nullptr);
  d.clear();
  v.process(obs(2, 300, 1001, 0, 0, kT0 + 5 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 2u);  // both frames become readings, in order
  EXPECT_EQ(d.readings[0].frame_id, 1);
  EXPECT_EQ(d.readings[1].frame_id, 2);
  EXPECT_EQ(d.released, std::vector<std::int64_t>{1});
  ASSERT_NE(v.meter(300), nullptr);
  EXPECT_FALSE(v.meter(300)->registered);
}

// Shared-burst frames of an unknown ID wait (held) and never confirm it; once the newest is
// older than the silent span (3 cadences = 15 min) they are rejected.
TEST(Validator, SharedBurstNeverConfirmsANewMeter) {
  Validator v(settings());
  Decisions d;
  v.process(obs(1, 300, 1000, 0, 0, kT0, Burst::Shared), d);
  v.process(obs(2, 300, 1000, 0, 0, kT0 + 5 * kMinute, Burst::Shared), d);
  v.process(obs(3, 300, 1000, 0, 0, kT0 + 10 * kMinute, Burst::Shared), d);
  EXPECT_TRUE(d.readings.empty());
  EXPECT_TRUE(d.rejections.empty());
  EXPECT_EQ(d.held, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(v.meter(300), nullptr);
  d.clear();
  v.sweep_all(kT0 + 10 * kMinute + 15 * kMinute + 1, d);  // 15 min + 1 us after frame 3
  ASSERT_EQ(d.rejections.size(), 3u);
  for (const auto& r : d.rejections) EXPECT_EQ(r.reason, RejectReason::SharedUnknown);
  EXPECT_EQ(d.released, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_TRUE(d.readings.empty());
  EXPECT_EQ(v.meter(300), nullptr);
}

// Once frames alone in their bursts confirm the ID, its waiting shared-burst frames that fit
// between them become readings, in time order: frame 1 (shared, kWh 1000) lies one cadence
// before frame 2 (alone, 1001) with the same peak and counter and 1 kWh in 5 min, plausible;
// frame 3 (alone, 1002) confirms (confirm_frames 2). Frame 4 (shared, kWh 5000: 4 MWh in
// 5 min, implausible) is rejected with the ID's shared-burst reason.
TEST(Validator, ASharedBurstFrameOfAnUnknownIdFittingItsConfirmedFramesBecomesAReading) {
  Validator v(settings());
  Decisions d;
  v.process(obs(1, 300, 1000, 0, 0, kT0, Burst::Shared), d);
  v.process(obs(4, 300, 5000, 0, 0, kT0 + 4 * kMinute, Burst::Shared), d);
  v.process(obs(2, 300, 1001, 0, 0, kT0 + 5 * kMinute), d);
  v.process(obs(3, 300, 1002, 0, 0, kT0 + 10 * kMinute), d);
  ASSERT_NE(v.meter(300), nullptr);
  std::vector<std::int64_t> ids;
  for (const auto& r : d.readings) ids.push_back(r.frame_id);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{1, 2, 3}));
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].frame_id, 4);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::SharedUnknown);
}

TEST(Validator, CollisionGarbageOfAKnownMeterIsRejectedNotHeldAndNeverStartsAnEpoch) {
  Validator v(settings());
  v.register_meter(17, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 17, 100, 10, 0, kT0), d);
  d.clear();
  // Meters in step collide every cycle: the same implausible merge, repeatedly.
  for (int k = 1; k <= 5; ++k)
    v.process(obs(1 + k, 17, 9000, 10, 0, kT0 + k * 5 * kMinute, Burst::Shared), d);
  EXPECT_TRUE(d.readings.empty());
  EXPECT_TRUE(d.held.empty());
  EXPECT_EQ(d.rejections.size(), 5u);
  EXPECT_EQ(v.meter(17)->epoch, 0u);
  // A plausible frame in a shared burst is a true reading once the meter's next frame
  // continues it (101 -> 102 kWh in 5 minutes at 13.2 kW: at most +2).
  d.clear();
  v.process(obs(10, 17, 101, 10, 0, kT0 + 30 * kMinute, Burst::Shared), d);
  EXPECT_TRUE(d.readings.empty());
  EXPECT_EQ(d.held, std::vector<std::int64_t>{10});
  v.process(obs(11, 17, 102, 10, 0, kT0 + 35 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 10);
  EXPECT_EQ(d.readings[1].frame_id, 11);
}

TEST(Validator, UnconfirmedCandidateExpiresAsRejected) {
  Validator v(settings());
  Decisions d;
  v.process(obs(1, 400, 1000, 0, 0, kT0), d);
  d.clear();
  v.sweep(kT0 + 16 * kMinute, d);  // 3 cadences of 5 minutes
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::Unconfirmed);
  EXPECT_EQ(v.provisional_ids(), 0u);
}

TEST(Validator, SilentAfterThreeCadencesThenBackOnline) {
  Validator v(settings());
  v.register_meter(17, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 17, 100, 0, 0, kT0), d);
  d.clear();
  v.sweep(kT0 + 15 * kMinute, d);
  EXPECT_TRUE(d.events.empty());  // exactly 3 cadences: not yet
  v.sweep(kT0 + 15 * kMinute + 1, d);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(to_string(d.events[0].kind), std::string("silent"));
  EXPECT_EQ(d.events[0].at, kT0 + 15 * kMinute);
  d.clear();
  v.sweep(kT0 + 60 * kMinute, d);
  EXPECT_TRUE(d.events.empty());  // once
  v.process(obs(2, 17, 105, 0, 0, kT0 + 60 * kMinute), d);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(to_string(d.events[0].kind), std::string("back_online"));
}

TEST(Validator, OneOffCorruptedReadingIsRetractedWhenTheNextTwoAgreeWithTheOneBefore) {
  Validator v(settings());
  v.register_meter(17, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 17, 100, 199, 0, kT0), d);
  // A bit error in kWh (true 101 = 0b1100101, bit 1 flipped: 103) looks plausible on its own:
  // +3 kWh in 10 minutes at 13.2 kW is at most floor(2.2) + 1 = 3.
  v.process(obs(2, 17, 103, 199, 0, kT0 + 10 * kMinute), d);
  EXPECT_EQ(d.readings.size(), 2u);
  d.clear();
  // ...but the next frames carry the true register: 101 is backwards from 103 (held), then
  // 102 continues 101, and 101 continues frame 1 (+1 in 15 minutes): frame 2 is retracted.
  v.process(obs(3, 17, 101, 199, 0, kT0 + 15 * kMinute), d);
  EXPECT_EQ(d.held.size(), 1u);
  v.process(obs(4, 17, 102, 199, 0, kT0 + 20 * kMinute), d);
  ASSERT_EQ(d.retracted.size(), 1u);
  EXPECT_EQ(d.retracted[0].frame_id, 2);
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::Retracted);
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 3);
  EXPECT_EQ(d.readings[1].frame_id, 4);
  EXPECT_EQ(v.meter(17)->epoch, 0u);  // not a replacement
}

TEST(Validator, HindsightBitErrorRaisingThePeakIsHeldAndRejectedByTheNextFrame) {
  Validator v(settings());
  v.register_meter(17, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 17, 100, 199, 0, kT0), d);
  d.clear();
  // 199 | 0x100 = 455 counts: plausible (a peak may rise), so it waits for the next frame.
  v.process(obs(2, 17, 101, 199 | 0x100, 0, kT0 + 5 * kMinute), d);
  EXPECT_TRUE(d.readings.empty());
  EXPECT_EQ(d.held, std::vector<std::int64_t>{2});
  // The next frame carries 199 again: a fall from 455 without a reset. It would reject frame 2,
  // so it waits for one frame more (the second lookahead); frame 4 continues frame 3, so frame
  // 2 was not the meter's; frames 3 and 4 continue frame 1 and are readings. Nothing was
  // published to withdraw.
  v.process(obs(3, 17, 101, 199, 0, kT0 + 10 * kMinute), d);
  EXPECT_TRUE(d.readings.empty());
  EXPECT_EQ(v.meter(17)->decider->frame_id, 3);
  v.process(obs(4, 17, 102, 199, 0, kT0 + 15 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 3);
  EXPECT_EQ(d.readings[1].frame_id, 4);
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].frame_id, 2);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::HeldNotConfirmed);
  EXPECT_TRUE(d.retracted.empty());
}

TEST(Validator, PeakAboveTheModelsMaximumPowerIsImplausible) {
  // 13,200 W x 1.25 = 16,500 W = 825 counts.
  const auto& f = obs(1, 17, 100, 826, 0, kT0 + kMinute).frame();
  auto c = Validator::check(100, 0, 0, kT0, f, kT0 + kMinute, kSmallMeterW);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->reason, RejectReason::PeakTooHigh);
  EXPECT_FALSE(Validator::check(100, 0, 0, kT0, obs(1, 17, 100, 825, 0, kT0).frame(), kT0 + kMinute,
                                kSmallMeterW)
                   .has_value());
}

TEST(Validator, Guide3_7_NewPeakDemandNeedsTheEnergyOf15Minutes) {
  Validator v(settings());
  v.register_meter(17, std::nullopt);  // unknown model: only the energy bound can tell
  Decisions d;
  for (int i = 0; i <= 6; ++i)  // 2 kWh per 5 minutes = 24 kW
    v.process(
        obs(i + 1, 17, 100 + 2 * static_cast<std::uint32_t>(i), 1000, 0, kT0 + i * 5 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 7u);
  // At 35 min: readings at or before 30 - 16 = 14 min: the one at 10 min (104 kWh); now 114:
  // at most 114 + 1 - 104 = 11 kWh in any 15 minutes = 44 kW = 2200 counts.
  const auto& m = *v.meter(17);
  auto ok = obs(20, 17, 114, 2200, 0, kT0 + 35 * kMinute);
  auto bad = obs(21, 17, 114, 2201, 0, kT0 + 35 * kMinute);
  Validator copy = v;
  d.clear();
  // A new peak within the bound is plausible; as a rise it waits for the next frame (hindsight),
  // which repeats it (+2 kWh in 5 minutes): both readings.
  copy.process(ok, d);
  EXPECT_TRUE(d.readings.empty());
  EXPECT_TRUE(copy.meter(17)->held_suspect);
  copy.process(obs(22, 17, 116, 2200, 0, kT0 + 40 * kMinute), d);
  EXPECT_EQ(d.readings.size(), 2u);
  d.clear();
  v.process(bad, d);
  EXPECT_TRUE(d.readings.empty());
  EXPECT_EQ(m.held_reason, RejectReason::PeakTooHigh);
}

TEST(Validator, RegisteredMetersFirstReadingNeedsAFrameAloneInItsBurst) {
  // A shared burst never starts an epoch: two (or more) agreeing shared-burst frames wait for
  // a frame alone in its burst, then become readings in their order.
  Validator v(settings());
  v.register_meter(17, kSmallMeterW);
  Decisions d;
  for (int k = 0; k < 3; ++k)
    v.process(obs(1 + k, 17, 100 + k, 0, 0, kT0 + k * 5 * kMinute, Burst::Shared), d);
  EXPECT_TRUE(d.readings.empty());
  EXPECT_EQ(d.held, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_FALSE(v.meter(17)->has_last);
  d.clear();
  v.process(obs(4, 17, 103, 0, 0, kT0 + 15 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(d.readings[i].frame_id, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(d.readings[i].total_kwh, static_cast<std::int64_t>(100 + i));
  }
  EXPECT_EQ(d.released.size(), 3u);
  EXPECT_TRUE(d.rejections.empty());
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(to_string(d.events[0].kind), std::string("discovered"));
  EXPECT_EQ(d.events[0].at, kT0);
}

TEST(Validator, SharedBurstFramesWaitingForAnAloneFrameAreBounded) {
  // A meter heard only in shared bursts keeps a day of frames pending; older ones are rejected.
  Validator v(settings());
  v.register_meter(17, kSmallMeterW);
  Decisions d;
  const auto n = static_cast<int>(MeterState::kMaxUnanchored) + 2;
  for (int k = 0; k < n; ++k)
    v.process(obs(1 + k, 17, 100, 0, 0, kT0 + k * 5 * kMinute, Burst::Shared), d);
  EXPECT_EQ(d.held.size(), static_cast<std::size_t>(n));
  ASSERT_EQ(d.rejections.size(), 2u);
  EXPECT_EQ(d.rejections[0].frame_id, 1);
  EXPECT_EQ(d.rejections[1].frame_id, 2);
  EXPECT_EQ(v.meter(17)->unanchored.size(), MeterState::kMaxUnanchored);
}

TEST(Validator, SharedBurstMergesBeforeTheFirstAloneFrameAreNotChainedToIt) {
  // The end-to-end pair at 0-3 ppm: the framer finds byte-shifted merges carrying 200's ID in
  // the pair's shared bursts. Early ones (kWh 0, the other's ID in the counter byte) are
  // plausible against true frames hours later, but not one cadence before a chained frame.
  Validator v(settings());
  v.register_meter(200, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 200, 0, 0, 201, kT0, Burst::Shared), d);
  v.process(obs(2, 200, 0, 0, 201, kT0 + 5 * kMinute, Burst::Shared), d);
  // 17 cycles later: true frames in shared bursts, one of them with a merge in its cycle.
  v.process(obs(3, 200, 5, 171, 0, kT0 + 19 * 5 * kMinute, Burst::Shared), d);
  v.process(obs(4, 200, 5, 171 | 228, 0, kT0 + 19 * 5 * kMinute + 3 * kMinute, Burst::Shared), d);
  v.process(obs(5, 200, 6, 171, 0, kT0 + 21 * 5 * kMinute, Burst::Shared), d);  // one missed
  v.process(obs(6, 200, 6, 171 | 228, 0, kT0 + 21 * 5 * kMinute + 1000, Burst::Shared), d);
  EXPECT_TRUE(d.readings.empty());
  d.clear();
  v.process(obs(7, 200, 6, 171, 0, kT0 + 22 * 5 * kMinute), d);
  std::vector<std::int64_t> read;
  for (const auto& r : d.readings) read.push_back(r.frame_id);
  EXPECT_EQ(read, (std::vector<std::int64_t>{3, 5, 7}));
  std::vector<std::int64_t> rejected;
  for (const auto& r : d.rejections) {
    rejected.push_back(r.frame_id);
    EXPECT_EQ(r.reason, RejectReason::HeldNotConfirmed);
  }
  std::sort(rejected.begin(), rejected.end());
  EXPECT_EQ(rejected, (std::vector<std::int64_t>{1, 2, 4, 6}));
  EXPECT_EQ(d.released.size(), 6u);
  EXPECT_EQ(v.meter(200)->epoch, 0u);
}

TEST(Validator, RestoredStateContinues) {
  Validator a(settings());
  a.register_meter(17, kSmallMeterW);
  Decisions d;
  a.process(obs(1, 17, Kwh24::kMask, 0, 0, kT0), d);
  a.process(obs(2, 17, 1, 0, 0, kT0 + 5 * kMinute), d);
  Validator b(settings());
  b.register_meter(17, kSmallMeterW);
  b.restore(*a.meter(17));
  d.clear();
  b.process(obs(3, 17, 2, 0, 0, kT0 + 10 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].total_kwh, std::int64_t{Kwh24::kModulus} + 2);
}

// Lock-step collisions (SPEC "Framing a stream", "Validation beyond structure"): two meters
// transmitting within a byte time put one OR-merged frame on the bus, alone in its burst.
constexpr std::int64_t kMs = 1000;
constexpr std::int64_t kCycle = 5 * kMinute;

TEST(Validator, SpecValidation_CollisionPhantomOfTwoDueMetersNeverConfirmsItsId) {
  Validator v(settings());
  v.register_meter(12, kSmallMeterW);
  v.register_meter(3, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 12, 256, 0, 1, kT0), d);
  v.process(obs(2, 3, 255, 0, 2, kT0 + kMs / 2), d);
  ASSERT_EQ(d.readings.size(), 2u);
  d.clear();
  // From now on they transmit within a byte time: 12 | 3 = 15, kWh 256 | 255 = 511, resets
  // 1 | 2 = 3, every cycle, alone in its burst; neither meter is heard on its own.
  for (int k = 1; k <= 4; ++k) v.process(obs(2 + k, 15, 511, 0, 3, kT0 + k * kCycle + kMs / 5), d);
  EXPECT_TRUE(d.readings.empty());
  EXPECT_TRUE(d.held.empty());
  ASSERT_EQ(d.rejections.size(), 4u);
  for (const auto& r : d.rejections) {
    EXPECT_EQ(r.reason, RejectReason::CollisionPhantom);
    EXPECT_EQ(r.meter_id, 15);
  }
  EXPECT_NE(d.rejections[0].detail.find("ID 15 = 3 | 12"), std::string::npos)
      << d.rejections[0].detail;
  EXPECT_NE(d.rejections[0].detail.find("reset counter 3 is the OR of theirs (3)"),
            std::string::npos)
      << d.rejections[0].detail;
  EXPECT_STREQ(to_string(RejectReason::CollisionPhantom), "collision_phantom");
  EXPECT_EQ(v.meter(15), nullptr);
  EXPECT_EQ(v.provisional_ids(), 0u);
}

TEST(Validator, CollisionPhantomOfThreeDueMetersIsRejected) {
  Validator v(settings());
  Decisions d;
  for (const std::uint16_t id : std::array<std::uint16_t, 3>{1, 2, 4})
    v.register_meter(id, kSmallMeterW);
  v.process(obs(1, 1, 10, 0, 0, kT0), d);
  v.process(obs(2, 2, 10, 0, 0, kT0 + kMs / 4), d);
  v.process(obs(3, 4, 10, 0, 0, kT0 + kMs / 2), d);
  d.clear();
  v.process(obs(4, 7, 10, 0, 0, kT0 + kCycle + kMs / 3), d);
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::CollisionPhantom);
  EXPECT_NE(d.rejections[0].detail.find("ID 7 = 1 | 2 | 4"), std::string::npos)
      << d.rejections[0].detail;
}

TEST(Validator, GenuineMeterWhoseIdIsTheOrOfKnownIdsIsConfirmedAtItsOwnPhase) {
  // Negative: meter 15 really exists; 12 and 3 are known and keep transmitting at their phase.
  Validator v(settings());
  v.register_meter(12, kSmallMeterW);
  v.register_meter(3, kSmallMeterW);
  Decisions d;
  for (int k = 0; k < 3; ++k) {
    v.process(obs(10 * k + 1, 12, 256, 0, 1, kT0 + k * kCycle), d);
    v.process(obs(10 * k + 2, 3, 255, 0, 2, kT0 + k * kCycle + kMs / 2), d);
    // 97 s later in each cycle: not the phase of 12 or 3.
    if (k > 0) v.process(obs(10 * k + 3, 15, 1000 + k, 0, 3, kT0 + k * kCycle + 97'000 * kMs), d);
  }
  for (const auto& r : d.rejections) ADD_FAILURE() << to_string(r.reason) << ": " << r.detail;
  ASSERT_NE(v.meter(15), nullptr);
  EXPECT_TRUE(v.meter(15)->has_last);
  // At the due meters' phase but after both were heard in this cycle: not a merge of theirs.
  Validator w(settings());
  w.register_meter(12, kSmallMeterW);
  w.register_meter(3, kSmallMeterW);
  d.clear();
  for (int k = 0; k < 3; ++k) {
    w.process(obs(10 * k + 1, 12, 256, 0, 1, kT0 + k * kCycle), d);
    w.process(obs(10 * k + 2, 3, 255, 0, 2, kT0 + k * kCycle + kMs / 2), d);
    w.process(obs(10 * k + 3, 15, 1000 + k, 0, 3, kT0 + k * kCycle + 40 * kMs), d);
  }
  EXPECT_TRUE(d.rejections.empty());
  ASSERT_NE(w.meter(15), nullptr);
}

TEST(Validator, CollisionPhantomCarryingARegisteredIdIsRejectedBeforeItsFirstReading) {
  // The end-to-end pair: 200 | 201 = 201. Meter 200 was heard only in shared bursts (held, so
  // its phase is known); the clean merge carries 201's ID and must not become its first reading.
  Validator v(settings());
  v.register_meter(200, kSmallMeterW);
  v.register_meter(201, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 200, 1, 171, 0, kT0, Burst::Shared), d);
  EXPECT_EQ(d.held.size(), 1u);
  d.clear();
  for (int k = 1; k <= 3; ++k)
    v.process(obs(1 + k, 201, 1, 171 | 228, 0, kT0 + k * kCycle - kMs / 2), d);
  ASSERT_EQ(d.rejections.size(), 3u);
  for (const auto& r : d.rejections) EXPECT_EQ(r.reason, RejectReason::CollisionPhantom);
  EXPECT_NE(d.rejections[0].detail.find("ID 201 = 200 | 201"), std::string::npos)
      << d.rejections[0].detail;
  EXPECT_FALSE(v.meter(201)->has_last);
  // The clocks drift apart: 201's own frame, 40 ms before 200's, is its first reading.
  d.clear();
  v.process(obs(10, 201, 2, 228, 0, kT0 + 4 * kCycle - 40 * kMs), d);
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].peak_demand_counts, 228);
}

TEST(Validator, CollisionPhantomOnARegisteredMeterWithStateIsCaughtEvenWithTheCheckOff) {
  // 12 | 3 = 15, and 15 is a registered meter transmitting 100 s later in each cycle.
  for (const double window_ms : {2.0, 0.0}) {
    ValidationSettings s = settings();
    s.collision_window_ms = window_ms;
    Validator v(s);
    for (const std::uint16_t id : std::array<std::uint16_t, 3>{12, 3, 15})
      v.register_meter(id, kSmallMeterW);
    Decisions d;
    v.process(obs(1, 12, 256, 0, 0, kT0), d);
    v.process(obs(2, 3, 255, 0, 0, kT0 + kMs / 2), d);
    v.process(obs(3, 15, 50, 0, 0, kT0 + 100'000 * kMs), d);
    ASSERT_EQ(d.readings.size(), 3u);
    d.clear();
    v.process(obs(4, 15, 511, 0, 0, kT0 + kCycle + kMs / 5), d);  // the merge
    v.process(obs(5, 15, 51, 0, 0, kT0 + kCycle + 100'000 * kMs), d);
    ASSERT_EQ(d.rejections.size(), 1u) << window_ms;
    EXPECT_EQ(d.rejections[0].frame_id, 4);
    // With the check, at once; without it, the existing contradiction logic holds the merge
    // (511 kWh after 50 is too fast) until 15's next frame agrees with its last reading.
    EXPECT_EQ(d.rejections[0].reason,
              window_ms > 0 ? RejectReason::CollisionPhantom : RejectReason::KwhTooFast);
    ASSERT_EQ(d.readings.size(), 1u);
    EXPECT_EQ(d.readings[0].frame_id, 5);
    EXPECT_EQ(v.meter(15)->epoch, 0u);
  }
}

TEST(Validator, CollisionPhasesSurviveARestartFromTheStoredLastReadings) {
  // Discovered (unregistered) meters; the store keeps only the last reading's fields.
  Validator a(settings());
  Decisions d;
  for (int k = 0; k < 2; ++k) {
    a.process(obs(10 * k + 1, 12, 256 + k, 0, 0, kT0 + k * kCycle), d);
    a.process(obs(10 * k + 2, 3, 255 + k, 0, 0, kT0 + k * kCycle + kMs / 2), d);
  }
  ASSERT_NE(a.meter(12), nullptr);
  ASSERT_NE(a.meter(3), nullptr);
  Validator b(settings());
  for (const std::uint16_t id : std::array<std::uint16_t, 2>{12, 3}) {
    const MeterState& m = *a.meter(id);
    MeterState stored;
    stored.id = m.id;
    stored.registered = m.registered;
    stored.discovered_at = m.discovered_at;
    stored.epoch = m.epoch;
    stored.has_last = m.has_last;
    stored.last_at = m.last_at;
    stored.last_total_kwh = m.last_total_kwh;
    stored.last_kwh24 = m.last_kwh24;
    stored.last_peak = m.last_peak;
    stored.last_resets = m.last_resets;
    b.restore(stored);
  }
  d.clear();
  b.process(obs(30, 15, 511, 0, 0, kT0 + 2 * kCycle + kMs / 5), d);
  b.process(obs(31, 15, 511, 0, 0, kT0 + 3 * kCycle + kMs / 5), d);
  ASSERT_EQ(d.rejections.size(), 2u);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::CollisionPhantom);
  EXPECT_EQ(b.meter(15), nullptr);
}

// Phases trusted for two cadences only; the given small meters registered.
Validator two_cadence_horizon(std::initializer_list<std::uint16_t> ids) {
  ValidationSettings s = settings();
  s.collision_horizon_cadences = 2;
  Validator v(s);
  for (std::uint16_t id : ids) v.register_meter(id, kSmallMeterW);
  return v;
}

TEST(Validator, CollisionCheckForgetsAPhaseOlderThanTheHorizon) {
  Validator v = two_cadence_horizon({12, 3});
  Decisions d;
  v.process(obs(1, 12, 256, 0, 0, kT0), d);
  v.process(obs(2, 3, 255, 0, 0, kT0 + kMs / 2), d);
  d.clear();
  // Three cadences later the phases are no longer trusted: an ordinary provisional ID (its
  // reset counter 4 is not 0 | 0, so its bytes do not corroborate a merge of 12 and 3 either).
  v.process(obs(3, 15, 511, 0, 4, kT0 + 3 * kCycle), d);
  EXPECT_TRUE(d.rejections.empty());
  EXPECT_EQ(d.held, std::vector<std::int64_t>{3});
}

TEST(Validator, MergeOfTwoKnownMetersWhosePhasesWereLostIsAPhantom) {
  // 12 and 3 drift into lock-step: their own frames stop (all merged) and their phases age past
  // the horizon. The merge carries ID 12 | 3 = 15, reset counter 1 | 2 = 3, peak 40 >= 30, 10
  // and kWh 511 >= 256, 255: the bytes corroborate it; 15 never becomes a meter.
  Validator v = two_cadence_horizon({12, 3});
  Decisions d;
  v.process(obs(1, 12, 256, 30, 1, kT0), d);
  v.process(obs(2, 3, 255, 10, 2, kT0 + kMs / 2), d);
  d.clear();
  for (int k = 3; k <= 6; ++k) v.process(obs(k, 15, 511, 40, 3, kT0 + k * kCycle), d);
  ASSERT_EQ(d.rejections.size(), 4u);
  for (const auto& r : d.rejections) EXPECT_EQ(r.reason, RejectReason::CollisionPhantom);
  EXPECT_EQ(v.meter(15), nullptr);
  EXPECT_EQ(v.provisional_ids(), 0u);
}

TEST(Validator, Issue10_AMergeToldByItsBytesDoesNotMoveAPhaseThatWasLost) {
  // 12 (kWh 100) and 3 (kWh 50) last heard at cadence 0, then silent: past the two-cadence
  // horizon their phases are lost. 13 (kWh 1000), 100 ms later in each cycle, goes on. At
  // cadence 4 an unknown ID 15 = 12 | 3 arrives alone at 13's phase (13's own frame lost), kWh
  // 100 | 50 = 118, counter 0 = 0 | 0: by its bytes a merge of 12 and 3, rejected. It does not
  // say when 12 sends, so 12's phase stays lost: 13's frame at cadence 5 (1001 kWh, +1 in a
  // cadence) is its reading, not a merge with 12 (12 = 0b1100 lies in 13 = 0b1101, and 12's
  // 100 kWh could lie in 1001: 104 = 64 + 32 + 8 is one of its submasks, within 12's 5.5 kWh of
  // 5 cadences). BER 1e-3, 256 meters: 18086 = 17030 | 18084 moved 17030's phase onto 31694's.
  Validator v = two_cadence_horizon({12, 3, 13});
  Decisions d;
  v.process(obs(1, 12, 100, 0, 0, kT0), d);
  v.process(obs(2, 3, 50, 0, 0, kT0 + kMs), d);
  for (int k = 0; k <= 3; ++k)
    v.process(obs(3 + k, 13, 1000, 0, 0, kT0 + k * kCycle + 100 * kMs), d);
  EXPECT_EQ(d.readings.size(), 6u);
  d.clear();
  v.process(obs(10, 15, 118, 0, 0, kT0 + 4 * kCycle + 100 * kMs), d);
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::CollisionPhantom);
  d.clear();
  v.process(obs(11, 13, 1001, 0, 0, kT0 + 5 * kCycle + 100 * kMs), d);
  for (const auto& r : d.rejections) ADD_FAILURE() << to_string(r.reason) << ": " << r.detail;
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].frame_id, 11);
}

TEST(Validator, ARunOfCleanMergesLongerThanTheHorizonStaysRecognised) {
  // The end-to-end pair at 1 ppm: 200 heard once (a shared burst), then 201's ID carried by
  // the clean merge for longer than the horizon. Each recognised merge moves 200's phase.
  Validator v = two_cadence_horizon({200, 201});
  Decisions d;
  v.process(obs(1, 200, 1, 171, 0, kT0, Burst::Shared), d);
  d.clear();
  for (int k = 1; k <= 6; ++k)
    v.process(obs(1 + k, 201, 1, 171 | 228, 0, kT0 + k * kCycle - k * kMs / 4), d);
  ASSERT_EQ(d.rejections.size(), 6u);
  for (const auto& r : d.rejections) EXPECT_EQ(r.reason, RejectReason::CollisionPhantom);
  EXPECT_TRUE(d.readings.empty());
  d.clear();
  v.process(obs(10, 201, 2, 228, 0, kT0 + 7 * kCycle - 40 * kMs), d);
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].frame_id, 10);
}

// 201 (kWh 10, peak 228) and 200 (kWh `kwh_200`, peak 171) half a millisecond apart, both
// readings; then 200 stops and 201 goes on at its phase for 5 cadences: their decisions.
Decisions meter_201_goes_on(Validator& v, std::uint32_t kwh_200) {
  Decisions d;
  v.process(obs(1, 201, 10, 228, 0, kT0), d);
  v.process(obs(2, 200, kwh_200, 171, 0, kT0 + kMs / 2), d);
  EXPECT_EQ(d.readings.size(), 2u);
  d.clear();
  for (int k = 1; k <= 5; ++k) v.process(obs(2 + k, 201, 10, 228, 0, kT0 + k * kCycle), d);
  return d;
}

TEST(Validator, AFrameThatContinuesItsMetersReadingsDoesNotExtendAPhase) {
  // 200 stops transmitting; 201, at its phase, goes on. 201's frames agree with its own
  // readings: rejected while 200's phase is trusted, never keeping that phase alive. (200's
  // frame could lie inside 201's: kWh 8 = 0b1000 inside 10 = 0b1010, peak 171 <= 228, counter 0.)
  Validator v = two_cadence_horizon({200, 201});
  const Decisions d = meter_201_goes_on(v, 8);
  ASSERT_EQ(d.rejections.size(), 2u);
  for (const auto& r : d.rejections) EXPECT_EQ(r.reason, RejectReason::CollisionPhantom);
  ASSERT_EQ(d.readings.size(), 3u);
  EXPECT_EQ(d.readings[0].frame_id, 5);
}

TEST(Validator, Issue10_AFrameBelowADueMetersLastKwhIsNotItsMerge) {
  // As above, but 200's last kWh is 20: 201's frames carry 10, and an OR is at least each of its
  // parts, so 200's frame is not inside them (merge_part.h). 256 meters, no noise: meter 47034's
  // true frames, alone, were rejected at the phase of 4922, whose own frames were lost in a
  // neighbour's burst (kWh 3451 against 4922's 3586).
  Validator v = two_cadence_horizon({200, 201});
  const Decisions d = meter_201_goes_on(v, 20);
  for (const auto& r : d.rejections) ADD_FAILURE() << to_string(r.reason) << ": " << r.detail;
  EXPECT_EQ(d.readings.size(), 5u);
}

TEST(Validator, Issue10_AnUnknownIdAtTheDueMetersPhaseThatCannotHoldTheirFramesIsNoPhantom) {
  // 12 | 3 = 15, due together; a frame of ID 15 with kWh 100, below both last readings (256,
  // 255): neither could be inside it, so it is not their merge but an unknown ID, held until
  // confirmed like any other. The merge itself (kWh 511) is still rejected.
  Validator v(settings());
  v.register_meter(12, kSmallMeterW);
  v.register_meter(3, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 12, 256, 0, 1, kT0), d);
  v.process(obs(2, 3, 255, 0, 2, kT0 + kMs / 2), d);
  d.clear();
  v.process(obs(3, 15, 100, 0, 3, kT0 + kCycle + kMs / 5), d);
  EXPECT_TRUE(d.rejections.empty());
  EXPECT_EQ(d.held, std::vector<std::int64_t>{3});
  d.clear();
  v.process(obs(4, 15, 511, 0, 3, kT0 + 2 * kCycle + kMs / 5), d);
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::CollisionPhantom);
}

}  // namespace
}  // namespace imsm::collector
