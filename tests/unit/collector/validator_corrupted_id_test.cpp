// Corrupted IDs (docs/collector.md "Corrupted IDs"; SPEC "Validation beyond structure": no
// phantom meter ever discovered): a known meter's frame with a flipped ID bit is that meter's
// frame, not a new meter's, when the meter is due and the frame continues its last reading.
#include <gtest/gtest.h>

#include "collector/config.h"
#include "collector/validate/validator.h"
#include "helpers.h"

namespace imsm::collector {
namespace {

using test::kMinute;
using test::kT0;
using test::obs;

constexpr std::int64_t kMs = 1000;
constexpr std::int64_t kCycle = 5 * kMinute;
// 120 V x 100 A x 1.1 = 13,200 W: at most floor(13.2 kW x 5 min) + 1 = 2 kWh a cadence.
constexpr std::int64_t kSmallMeterW = 13'200;
// 15662 = 0x3D2E; with bit 12 cleared 0x2D2E = 11566 (the pair the BER-1e-3 sweep found: an
// 11566 confirmed by two consecutive frames of 15662 with the same bit flipped).
constexpr std::uint16_t kMeter = 15662;
constexpr std::uint16_t kOneBitOff = 11566;
static_assert((kMeter ^ kOneBitOff) == 0x1000);

// Meter 15662 read at kT0 + k cycles, k = 0..2: kWh 100 + k, peak 50 counts, counter 0.
Validator with_meter_read_three_times(Decisions& d) {
  Validator v{ValidationSettings{}};
  v.register_meter(kMeter, kSmallMeterW);
  for (int k = 0; k < 3; ++k)
    v.process(obs(k + 1, kMeter, 100 + static_cast<std::uint32_t>(k), 50, 0, kT0 + k * kCycle), d);
  EXPECT_EQ(d.readings.size(), 3u);
  d.clear();
  return v;
}

// Frames of ID 11566 in cycles 3 and 4, `offset` after 15662's phase: kWh `kwh` + 3 and + 4,
// peak 50 counts, counter 0.
void one_bit_off_twice(Validator& v, Decisions& d, std::uint32_t kwh, std::int64_t offset) {
  for (int k = 3; k <= 4; ++k)
    v.process(obs(k + 1, kOneBitOff, kwh + static_cast<std::uint32_t>(k), 50, 0,
                  kT0 + k * kCycle + offset),
              d);
}

TEST(ValidatorCorruptedId, SpecValidation_AFlippedIdBitOfADueMeterNeverConfirmsANewMeter) {
  Decisions d;
  Validator v = with_meter_read_three_times(d);
  // Cycles 3 and 4, 1 ms after the meter's phase (within the 2 ms window): ID 11566 carrying
  // what 15662 would send (kWh 103, 104; peak and counter unchanged). 15662 is due and was not
  // heard in either cycle; two such frames would confirm 11566 (confirm_frames = 2).
  one_bit_off_twice(v, d, 100, kMs);
  ASSERT_EQ(d.rejections.size(), 2u);
  for (const auto& r : d.rejections) {
    EXPECT_EQ(r.reason, RejectReason::CorruptedId);
    EXPECT_EQ(r.meter_id, kOneBitOff);
    EXPECT_NE(r.detail.find("ID 11566 is meter 15662 with 1 bit(s) flipped"), std::string::npos)
        << r.detail;
  }
  EXPECT_TRUE(d.readings.empty());
  EXPECT_TRUE(d.held.empty());
  EXPECT_EQ(v.meter(kOneBitOff), nullptr);
  EXPECT_EQ(v.provisional_ids(), 0u);
  EXPECT_STREQ(to_string(RejectReason::CorruptedId), "corrupted_id");
  // The meter's next true frame (kWh 105 after 102, three cycles: at most 4) is its reading.
  d.clear();
  v.process(obs(6, kMeter, 105, 50, 0, kT0 + 5 * kCycle + kMs), d);
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_EQ(d.readings[0].meter_id, kMeter);
  EXPECT_TRUE(d.rejections.empty());
}

TEST(ValidatorCorruptedId, TwoFlippedBitsAreTheMeterToo) {
  Decisions d;
  Validator v = with_meter_read_three_times(d);
  const auto two_off = static_cast<std::uint16_t>(kMeter ^ 0x0101);
  v.process(obs(4, two_off, 103, 50, 0, kT0 + 3 * kCycle + kMs), d);
  ASSERT_EQ(d.rejections.size(), 1u);
  EXPECT_EQ(d.rejections[0].reason, RejectReason::CorruptedId);
  EXPECT_NE(d.rejections[0].detail.find("with 2 bit(s) flipped"), std::string::npos);
}

// Negatives: a real meter whose ID is one bit from a known one is discovered as before.
TEST(ValidatorCorruptedId, ARealNeighbourIdAtItsOwnPhaseIsDiscovered) {
  Decisions d;
  Validator v = with_meter_read_three_times(d);
  // 97 s into each cycle: 15662 is not due then (its phase is at 0 s).
  one_bit_off_twice(v, d, 100, 97'000 * kMs);
  EXPECT_TRUE(d.rejections.empty());
  ASSERT_NE(v.meter(kOneBitOff), nullptr);
  EXPECT_TRUE(v.meter(kOneBitOff)->has_last);
}

TEST(ValidatorCorruptedId, AFrameAtTheDueMetersPhaseThatDoesNotContinueItIsANewId) {
  Decisions d;
  Validator v = with_meter_read_three_times(d);
  // At 15662's phase while it is due, but kWh 5,000: 4,898 kWh more than 15662's last reading
  // in one cycle, far above its 2 kWh: not 15662's frame.
  one_bit_off_twice(v, d, 5000, kMs);
  EXPECT_TRUE(d.rejections.empty());
  ASSERT_NE(v.meter(kOneBitOff), nullptr);
}

}  // namespace
}  // namespace imsm::collector
