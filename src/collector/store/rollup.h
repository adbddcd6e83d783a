// Hourly rollups (docs/collector.md "Rollups"): one row per meter and UTC hour, maintained by
// the store in the same transaction as the readings, serving bills and charts without
// reading every reading.
//
//   n, first/last     the readings received in the hour (time, epoch, unwrapped kWh, resets)
//   peak_max_counts   the largest peak-demand register value read in the hour
//   start_wh          the register at the hour's first instant, in Wh, by the bill's exact
//                     interpolation (interpolate_wh) between the last reading at or before it
//                     and the first at or after it, when both are of one epoch; else unknown.
//                     Hours without readings between two readings of one epoch get a row with
//                     n = 0 so every bracketed boundary has its value (up to kMaxGapHours).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "collector/model.h"

namespace imsm::collector {

inline constexpr std::int64_t kHourMicros = 3'600'000'000;
// Longest run of reading-less hours given rows (a 31-day outage); beyond, boundaries inside
// the gap are left unknown rather than writing a row for every hour of a long silence.
inline constexpr std::int64_t kMaxGapHours = 31 * 24;

// floor(t / 1 h) * 1 h: the start of t's UTC hour (also before 1970).
[[nodiscard]] constexpr UtcMicros hour_start(UtcMicros t) {
  return (t / kHourMicros - (t % kHourMicros < 0 ? 1 : 0)) * kHourMicros;
}

struct HourRollup {
  std::uint16_t meter_id = 0;
  UtcMicros hour = 0;  // start of the UTC hour
  std::int64_t n = 0;
  UtcMicros first_at = 0, last_at = 0;
  std::uint32_t epoch_first = 0, epoch_last = 0;
  std::int64_t kwh_first = 0, kwh_last = 0;
  std::uint8_t resets_first = 0, resets_last = 0;
  std::uint16_t peak_max_counts = 0;
  std::optional<std::int64_t> start_wh;
  std::uint32_t start_epoch = 0;
  bool operator==(const HourRollup&) const = default;
};

// Counts reading `r` (received in h's hour) into h.
void add_reading(HourRollup& h, const Reading& r);
// The register at `hour` (a's at <= hour <= b's at, a before b) when a and b bracket it: b
// itself when it is at the hour, else both of one epoch and (for an hour without readings,
// `empty_hour`) at most kMaxGapHours apart. Sets h.start_wh and h.start_epoch.
void set_start(HourRollup& h, const Reading& a, const Reading& b, bool empty_hour);

// The rollups of the hours [first_hour, last_hour] of one meter, from `before` (its last
// reading before first_hour, if any) and `rows` (every reading received in those hours, in
// order of time then frame id). Every hour with a reading gets a row, and every reading-less
// hour whose start is bracketed by two readings of one epoch (gap <= kMaxGapHours).
[[nodiscard]] std::vector<HourRollup> compute_rollups(std::uint16_t meter,
                                                      const std::optional<Reading>& before,
                                                      const std::vector<Reading>& rows,
                                                      UtcMicros first_hour, UtcMicros last_hour,
                                                      const std::optional<Reading>& after);

}  // namespace imsm::collector
