// Could a due meter's frame lie inside a frame heard at its phase (merge_part.h; docs/collector.md
// "Collisions")? A collision ORs the parts: every field of the merge holds each part's bits and
// is at least each part's value.
#include "collector/validate/merge_part.h"

#include <gtest/gtest.h>

namespace imsm::collector {
namespace {

TEST(MergePart, TheLeastSubmaskAtLeastAFloorMatchesAScan) {
  // Independent: for every 8-bit mask and floor, the first v >= floor (scanning up to 255) whose
  // bits lie in the mask.
  for (std::uint32_t mask = 0; mask < 256; ++mask)
    for (std::uint32_t floor = 0; floor < 256; ++floor) {
      std::optional<std::uint32_t> want;
      for (std::uint32_t v = floor; v < 256 && !want; ++v)
        if ((v & ~mask) == 0) want = v;
      ASSERT_EQ(least_submask_at_least(mask, floor), want) << mask << " " << floor;
    }
}

TEST(MergePart, TheSweepsLockStepPairs) {
  // Meter 21396's frame, kWh 9042 = 0x2352 (bits 13, 9, 8, 6, 4, 1), at the phase of meter 21252
  // (256 meters, no noise), whose last reading was 4874 = 0x130A 45 minutes before. 0x130A has
  // bit 12, which 0x2352 lacks; below bit 13 the mask holds at most 0x352 = 850: the least
  // submask at least 4874 is 0x2000 = 8192.
  EXPECT_EQ(least_submask_at_least(0x2352, 4874), 0x2000u);
  protocol::Frame f;
  f.total_kwh = Kwh24{9042};
  f.peak_demand = DemandCounts{0x637};
  PartBounds s{4874, 620, 0x437, 0, 142};  // 620 kWh: 830 kW for 45 minutes
  EXPECT_FALSE(could_be_part(s, f));       // 4874 + 620 < 8192
  s.kwh_advance = 8192 - 4874;
  EXPECT_TRUE(could_be_part(s, f));  // had it been allowed 3318 kWh, 8192 could be inside
}

TEST(MergePart, APeakBelowThePartsLastIsNoMergeWithoutAReset) {
  // Meter 64190's frame, peak 0 and counter 0, at the phase of meter 698 (peak 0x255, counter
  // 0), allowed 1000 kWh on so that kWh does not decide: 0 < 0x255, and a reset moves the counter
  // on to 1..16, none of which lies inside 0.
  protocol::Frame f;
  f.total_kwh = Kwh24{3468};
  PartBounds s{2665, 1000, 0x255, 0, 16};
  EXPECT_FALSE(could_be_part(s, f));
  f.demand_resets = ResetCounter{2};  // a counter of 2 could follow two resets
  EXPECT_TRUE(could_be_part(s, f));
  f.demand_resets = ResetCounter{0};
  f.peak_demand = DemandCounts{0x255};  // the same peak, no reset
  EXPECT_TRUE(could_be_part(s, f));
  // kWh: 2665 = 0xA69 is not inside 3468 = 0xD8C (0xA69 has bit 9, which 0xD8C lacks, so a
  // submask differs above it); the least submask at least 2665 is 0xC00 = 3072: within 1000 on,
  // not within 2.
  s.kwh_advance = 2;
  EXPECT_FALSE(could_be_part(s, f));
}

TEST(MergePart, ACounterThatWouldHaveToGoBackIsNoMerge) {
  // Meter 32081's frame, counter 0, at the phase of meter 5377 (counter 1): a counter moves on
  // by one per display cycle at most; from 1 it reaches 0 only after 255 resets.
  protocol::Frame f;
  f.total_kwh = Kwh24{58683};
  f.peak_demand = DemandCounts{0x237f};
  const PartBounds s{9010, 100, 0x2b1, 1, 16};
  EXPECT_FALSE(could_be_part(s, f));
  f.demand_resets = ResetCounter{1};
  // 9010 = 0x2332 inside 58683 = 0xE53B? 0x2332 & ~0xE53B = 0x200: no; least submask at least
  // 9010 is 0x2400 = 9216 (bit 9 of 0x2332 is not in the mask, bit 10 is), more than 100 on:
  // still no.
  EXPECT_FALSE(could_be_part(s, f));
  f.total_kwh = Kwh24{58683 | 0x2332};
  EXPECT_TRUE(could_be_part(s, f));
}

TEST(MergePart, NearTheWrapTheKwhIsNotJudged) {
  protocol::Frame f;
  f.total_kwh = Kwh24{5};
  const PartBounds s{Kwh24::kMask - 3, 10, 0, 0, 1};  // may have wrapped to 0..6
  EXPECT_TRUE(could_be_part(s, f));
}

}  // namespace
}  // namespace imsm::collector
