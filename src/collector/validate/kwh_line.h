// Which of two readings of a meter that contradict each other only in kWh lies off the meter's
// line (docs/collector.md "Hindsight", "kWh off the line"). A bit error that raises a reading's
// kWh by a few units is plausible against the reading before it; the meter's next true frame
// then goes back by a little, and the frame after agrees with both. Both stories are single bit
// errors (the last reading raised, or the held frame lowered); the register's steady advance
// tells them apart: the true one of the two lies on the line between the readings around them.
#pragma once

#include <cstdint>
#include <span>

#include "collector/model.h"

namespace imsm::collector {

struct KwhPoint {
  UtcMicros at = 0;
  std::uint32_t kwh24 = 0;
};

// `last` and `held` lie between `before` and `after` in time (in that order) and each is
// plausible between them. True when `last` lies farther from the straight line from `before` to
// `after` than `held` does, by more than half a kWh (the register truncates to whole kWh, so
// points of a steady load lie within a kWh of their line).
[[nodiscard]] bool last_is_off_the_line(KwhPoint before, KwhPoint last, KwhPoint held,
                                        KwhPoint after);

// A reading as the unwrapped register (kWh since the epoch began).
struct KwhTotal {
  UtcMicros at = 0;
  std::int64_t total_kwh = 0;
};

// Whether one steady load explains the readings: a rate r >= 0 and an offset E0 exist with
// floor(E0 + r * at) = total_kwh at every point (the register truncates its energy to whole
// kWh). `points` in time order. Exact (integer cross-products), and linear in the pairs.
[[nodiscard]] bool one_steady_load(std::span<const KwhTotal> points);

}  // namespace imsm::collector
