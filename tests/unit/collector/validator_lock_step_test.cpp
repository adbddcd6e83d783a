// Lock-step pairs drifting through each other (SPEC "Validation beyond structure"; guide 2.5.2,
// one frame every 5 minutes): while their frames overlap, neither is heard on its own for longer
// than the collision horizon, and the byte-aligned merge that then arrives alone must still be
// recognised. Issue 10, 256 meters at BER 1e-4: meters 61414 and 17030 (17030's ID bits all in
// 61414's) went quiet together for 34 cadences; the merge (kWh 10500 | 3273 = 11725, +1,337 kWh
// in 2.8 h on a meter rising 1-2 kWh a cadence) was accepted as 61414's, and 58 of its true
// frames were refused against it until a false `replaced` event.
#include <gtest/gtest.h>

#include <cstdint>

#include "collector/config.h"
#include "collector/validate/validator.h"
#include "helpers.h"

namespace imsm::collector {
namespace {

using test::kMinute;
using test::kT0;
using test::obs;

constexpr std::int64_t kCycle = 5 * kMinute;
constexpr std::int64_t kMs = 1000;
// 201 = 0b11001001 holds every ID bit of 200 = 0b11001000: their merge carries ID 201.
constexpr std::uint16_t kPart = 200;
constexpr std::uint16_t kWhole = 201;
// 201 rises 1 kWh a cadence from 0x4000; 200 stands at 0x0300 (no load). kWh 0x4000 + k has
// no bit of 0x0300 for k < 256, so a merge's kWh is 0x4300 + k: 768 above 201's own.
constexpr std::uint32_t kWholeKwh = 0x4000;
constexpr std::uint32_t kPartKwh = 0x0300;

// Unknown models (the largest power: every rise of a few thousand kWh is plausible), four
// readings each, 200 half a millisecond after 201, at cadences 0..3; 201 from `whole_kwh` on.
Validator pair_heard_four_times(Decisions& d, std::uint32_t whole_kwh = kWholeKwh) {
  Validator v(ValidationSettings{});
  v.register_meter(kWhole, std::nullopt);
  v.register_meter(kPart, std::nullopt);
  for (int k = 0; k < 4; ++k) {
    v.process(
        obs(2 * k + 1, kWhole, whole_kwh + static_cast<std::uint32_t>(k), 0, 0, kT0 + k * kCycle),
        d);
    v.process(obs(2 * k + 2, kPart, kPartKwh, 0, 0, kT0 + k * kCycle + kMs / 2), d);
  }
  EXPECT_EQ(d.readings.size(), 8u);
  d.clear();
  return v;
}

TEST(ValidatorLockStep, Issue10_AMergeAfterAJointSilenceLongerThanTheHorizonIsAPhantom) {
  // Cadences 4..33: their frames overlap in shared bursts (nothing here is heard). From cadence
  // 34 on, 31 cadences after the last readings (the horizon is 12), the merge arrives alone:
  // kWh (0x4000 + 34) | 0x0300 = 0x4322, 799 above 201's last reading 0x4003. Plausible alone
  // (1,373,760 W for 9,300 s is 3,549 kWh), but its own rate (3 kWh in 3 cadences) allows
  // 4 x 31 + 2 = 126: it is the pair's merge, and so are the next two.
  Decisions d;
  Validator v = pair_heard_four_times(d);
  for (int k = 34; k <= 36; ++k)
    v.process(obs(100 + k, kWhole, (kWholeKwh + static_cast<std::uint32_t>(k)) | kPartKwh, 0, 0,
                  kT0 + k * kCycle),
              d);
  ASSERT_EQ(d.rejections.size(), 3u);
  for (const auto& r : d.rejections) EXPECT_EQ(r.reason, RejectReason::CollisionPhantom);
  EXPECT_TRUE(d.readings.empty());
  d.clear();
  // The clocks part: 201's own frame, 40 ms later, continues its last reading (+37 kWh in 37
  // cadences) and is its reading.
  v.process(obs(200, kWhole, kWholeKwh + 37, 0, 0, kT0 + 37 * kCycle + 40 * kMs), d);
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].frame_id, 200);
  EXPECT_EQ(v.meter(kWhole)->last_kwh24, kWholeKwh + 37);
}

TEST(ValidatorLockStep, Issue10_AMeterWhosePartnerWentQuietGoesOnAtItsOwnRate) {
  // 200 stops for good; 201's frames stop too (a bus fault) and come back 31 cadences later at
  // their phase, +31 kWh: its own rate, so no merge is looked for past the horizon and each is
  // a reading. 201 counts from 0x42F0 here: 0x42F0-0x42F3 lack bit 0x0100 of 200's 0x0300,
  // but 0x4312 on hold all of it, so by its bits each could be their merge: only the rate
  // tells it is not.
  Decisions d;
  constexpr std::uint32_t kFrom = 0x42F0;
  Validator v = pair_heard_four_times(d, kFrom);
  for (int k = 34; k <= 36; ++k)
    v.process(obs(100 + k, kWhole, kFrom + static_cast<std::uint32_t>(k), 0, 0, kT0 + k * kCycle),
              d);
  for (const auto& r : d.rejections) ADD_FAILURE() << to_string(r.reason) << ": " << r.detail;
  EXPECT_EQ(d.readings.size(), 3u);
}

TEST(ValidatorLockStep, Issue10_AJumpPastADayAfterTheLastReadingLooksForNoMerge) {
  // A merge-like jump 289 cadences (a day and 5 minutes) after the last readings: kWh
  // (0x4000 + 292) | 0x0F00 = 0x4F24 holds 200's 0x0300 and is 3,873 above 0x4003, where 201's
  // own rate allows 4 x 289 + 2 = 1,158. Merges are looked for past the horizon within a day
  // only (a real meter whose load jumped while its partner went quiet is refused no longer),
  // so it is 201's reading.
  Decisions d;
  Validator v = pair_heard_four_times(d);
  v.process(obs(500, kWhole, (kWholeKwh + 292) | 0x0F00, 0, 0, kT0 + 292 * kCycle), d);
  for (const auto& r : d.rejections) ADD_FAILURE() << to_string(r.reason) << ": " << r.detail;
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].frame_id, 500);
}

TEST(ValidatorLockStep, Issue10_APhaseThatAMergeMovedIsNotLookedForPastTheHorizon) {
  // 256 meters at BER 1e-3: meter 31694's true frames, far above its rate after a jump, were
  // rejected at the phase of 17030, which a false merge (18086 = 17030 | 18084) had moved to
  // 31694's phase. Here 6 and 201 send at one phase P (6 a millisecond before), 200 at another;
  // all three heard at cadences 0..3. At cadence 20, 206 = 200 | 6 arrives alone at P: a merge
  // of two known meters whose phases were lost, which moves 200's phase to P. At cadence 34,
  // 14 cadences later (the horizon is 12), 201 comes back at P far above its own rate: 200's
  // phase at P is a merge's, not its own reading's, so no merge is looked for and it is
  // 201's reading.
  Validator v(ValidationSettings{});
  for (const std::uint16_t id : {kWhole, kPart, std::uint16_t{6}})
    v.register_meter(id, std::nullopt);
  constexpr std::int64_t kOtherPhase = 100'000 * kMs;
  Decisions d;
  for (int k = 0; k < 4; ++k) {
    const auto n = static_cast<std::uint32_t>(k);
    v.process(obs(3 * k + 1, 6, 1, 0, 0, kT0 + k * kCycle - kMs), d);
    v.process(obs(3 * k + 2, kWhole, kWholeKwh + n, 0, 0, kT0 + k * kCycle), d);
    v.process(obs(3 * k + 3, kPart, kPartKwh, 0, 0, kT0 + k * kCycle + kOtherPhase), d);
  }
  ASSERT_EQ(d.readings.size(), 12u);
  d.clear();
  v.process(obs(100, 206, kPartKwh | 1, 0, 0, kT0 + 20 * kCycle - kMs), d);
  ASSERT_EQ(d.rejections.size(), 1u);
  ASSERT_EQ(d.rejections[0].reason, RejectReason::CollisionPhantom);
  d.clear();
  v.process(obs(101, kWhole, (kWholeKwh + 34) | kPartKwh, 0, 0, kT0 + 34 * kCycle), d);
  for (const auto& r : d.rejections) ADD_FAILURE() << to_string(r.reason) << ": " << r.detail;
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].frame_id, 101);
}

}  // namespace
}  // namespace imsm::collector
