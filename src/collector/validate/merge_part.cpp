#include "collector/validate/merge_part.h"

#include <algorithm>

namespace imsm::collector {

std::optional<std::uint32_t> least_submask_at_least(std::uint32_t mask, std::uint32_t floor) {
  if ((floor & ~mask) == 0) return floor;
  // A larger submask first differs from `floor` at a bit it sets and `floor` lacks, with the
  // bits above as in `floor` and none below; the lowest such bit gives the smallest.
  for (unsigned i = 0; i < 32; ++i) {
    const std::uint64_t bit = std::uint64_t{1} << i;
    const std::uint64_t above = floor & ~((bit << 1) - 1);
    if ((mask & bit) != 0 && (floor & bit) == 0 && (above & ~std::uint64_t{mask}) == 0)
      return static_cast<std::uint32_t>(above | bit);
  }
  return std::nullopt;
}

bool could_be_part(const PartBounds& part, const protocol::Frame& merge) {
  const unsigned counter = merge.demand_resets.value;
  // No reset: the counter's bits inside, and a peak at least the last (an OR is at least each
  // part). After a reset the peak may be anything; the counter moved on by 1..max_resets.
  bool fits = (part.resets & ~counter) == 0 && merge.peak_demand.value >= part.peak;
  const std::int64_t moves = std::min<std::int64_t>(part.max_resets, 255);
  for (std::int64_t j = 1; j <= moves && !fits; ++j)
    fits = ((static_cast<unsigned>(part.resets + j) & 0xFFu) & ~counter) == 0;
  if (!fits) return false;
  // Near the 24-bit wrap the register may have started again from 0: not judged.
  const std::uint64_t top = std::uint64_t{part.kwh24} + part.kwh_advance;
  if (top >= Kwh24::kModulus) return true;
  const auto least = least_submask_at_least(merge.total_kwh.value, part.kwh24);
  return least && *least <= top;
}

}  // namespace imsm::collector
