// Could a known meter's frame be one of the parts OR-ed into a frame heard at its phase
// (docs/collector.md "Collisions")? A collision ORs the parts' bytes: the merge holds every bit
// of each part, so each of its fields is at least the part's. A due meter whose frame cannot
// lie inside the frame heard is not a part of it: that frame is not its merge.
#pragma once

#include <cstdint>
#include <optional>

#include "protocol/frame.h"

namespace imsm::collector {

// What a part can have sent since its last reading.
struct PartBounds {
  std::uint32_t kwh24 = 0;  // its last kWh; it has advanced by at most `kwh_advance`
  std::uint64_t kwh_advance = 0;
  std::uint16_t peak = 0;   // its last peak: it stays or rises unless the counter moved
  std::uint8_t resets = 0;  // its last counter: it stays or moves on by at most `max_resets`
  std::int64_t max_resets = 0;
};

// The smallest value >= `floor` whose bits all lie in `mask`; nullopt when there is none.
[[nodiscard]] std::optional<std::uint32_t> least_submask_at_least(std::uint32_t mask,
                                                                  std::uint32_t floor);

// True when some frame the part may have sent lies inside `merge`, field by field.
[[nodiscard]] bool could_be_part(const PartBounds& part, const protocol::Frame& merge);

}  // namespace imsm::collector
