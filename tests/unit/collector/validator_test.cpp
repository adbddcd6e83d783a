// Validation beyond structure (SPEC; guide 2.5.2): plausibility against the last accepted
// state, provisional unknown IDs, held contradictions, replacement epochs, collisions.
#include "collector/validate/validator.h"

#include <gtest/gtest.h>

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
  EXPECT_EQ(d.events[0].kind, "discovered");
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
  v.process(obs(4, 17, 8, 0, 0, kT0 + 15 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 3);
  EXPECT_EQ(d.readings[0].epoch, 1u);
  EXPECT_EQ(d.readings[0].total_kwh, 7);
  EXPECT_EQ(d.readings[1].total_kwh, 8);
  ASSERT_FALSE(d.events.empty());
  EXPECT_EQ(d.events[0].kind, "replaced");
  EXPECT_NE(d.events[0].detail.find("\"old_total_kwh\":5001"), std::string::npos);
  EXPECT_NE(d.events[0].detail.find("kwh_backwards"), std::string::npos);
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
  EXPECT_EQ(d.events[0].kind, "rollover");
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
  // Reset counter wraps 255 -> 0 with the peak cleared: a demand reset, accepted.
  v.process(obs(3, 5, 11, 0, 0, kT0 + 10 * kMinute), d);
  ASSERT_EQ(d.readings.size(), 1u);
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::PeakFell);
  bool reset_event = false;
  for (const auto& e : d.events) reset_event = reset_event || e.kind == "demand_reset";
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

TEST(Validator, SharedBurstNeverConfirmsANewMeter) {
  Validator v(settings());
  Decisions d;
  v.process(obs(1, 300, 1000, 0, 0, kT0, Burst::Shared), d);
  v.process(obs(2, 300, 1000, 0, 0, kT0 + 5 * kMinute, Burst::Shared), d);
  v.process(obs(3, 300, 1000, 0, 0, kT0 + 10 * kMinute, Burst::Shared), d);
  EXPECT_TRUE(d.readings.empty());
  ASSERT_EQ(d.rejections.size(), 3u);
  for (const auto& r : d.rejections) EXPECT_EQ(r.reason, RejectReason::SharedUnknown);
  EXPECT_EQ(v.meter(300), nullptr);
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
  // A plausible frame in a shared burst is a true reading.
  d.clear();
  v.process(obs(10, 17, 101, 10, 0, kT0 + 30 * kMinute, Burst::Shared), d);
  EXPECT_EQ(d.readings.size(), 1u);
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
  EXPECT_EQ(d.events[0].kind, "silent");
  EXPECT_EQ(d.events[0].at, kT0 + 15 * kMinute);
  d.clear();
  v.sweep(kT0 + 60 * kMinute, d);
  EXPECT_TRUE(d.events.empty());  // once
  v.process(obs(2, 17, 105, 0, 0, kT0 + 60 * kMinute), d);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].kind, "back_online");
}

TEST(Validator, OneOffCorruptedReadingIsRetractedWhenTheNextTwoAgreeWithTheOneBefore) {
  Validator v(settings());
  v.register_meter(17, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 17, 100, 199, 0, kT0), d);
  // A bit error raising the peak looks plausible on its own (peak may rise)...
  v.process(obs(2, 17, 101, 199 | 0x100, 0, kT0 + 5 * kMinute), d);
  EXPECT_EQ(d.readings.size(), 2u);
  d.clear();
  // ...but the next frames carry the true peak: held, then confirmed with the one before.
  v.process(obs(3, 17, 101, 199, 0, kT0 + 10 * kMinute), d);
  EXPECT_EQ(d.held.size(), 1u);
  v.process(obs(4, 17, 102, 199, 0, kT0 + 15 * kMinute), d);
  ASSERT_EQ(d.retracted.size(), 1u);
  EXPECT_EQ(d.retracted[0].frame_id, 2);
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::Retracted);
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].frame_id, 3);
  EXPECT_EQ(d.readings[1].frame_id, 4);
  EXPECT_EQ(v.meter(17)->epoch, 0u);  // not a replacement
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
  copy.process(ok, d);
  EXPECT_EQ(d.readings.size(), 1u);
  d.clear();
  v.process(bad, d);
  EXPECT_TRUE(d.readings.empty());
  EXPECT_EQ(m.held_reason, RejectReason::PeakTooHigh);
}

TEST(Validator, RegisteredMetersFirstFramesFromSharedBurstsNeedOnlyToAgree) {
  Validator v(settings());
  v.register_meter(17, kSmallMeterW);
  Decisions d;
  v.process(obs(1, 17, 100, 0, 0, kT0, Burst::Shared), d);
  EXPECT_TRUE(d.readings.empty());
  v.process(obs(2, 17, 101, 0, 0, kT0 + 5 * kMinute, Burst::Shared), d);
  EXPECT_EQ(d.readings.size(), 2u);
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

}  // namespace
}  // namespace imsm::collector
