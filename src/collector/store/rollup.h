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
//   quarter_wh        the same at hour + 15, 30 and 45 minutes (schema 6)
//   quarter_peak_wh   the largest rise of the register over one of the hour's four quarters
//                     whose both ends are known (the last end is the next hour's start): the
//                     bill's 15-minute interval demand (derive/period_demand.h) is 4 x the
//                     period's largest, without interpolating again
//   per reading and the reading before it (of any hour; none for a meter's first):
//   flags             kRollupRestart: the epoch or the reset counter changed (period_demand's
//                     restart); kRollupRose: same epoch and counter, the peak register rose;
//                     kRollupEpochChange; kRollupSameTime: two readings at one instant;
//                     kRollupLongGap: a silence before it whose hours have no rows
//   reset_advances    the reset counter's advances (mod 256) within one epoch (resets_in)
//   peak_first/last, peak_since_restart_counts: the peak register at the hour's first and
//                     last reading, and its largest value from the hour's last restart on
//                     (from the hour's first reading when there is none)
// A bill over whole UTC hours (report/bill_source.cpp) is computed from these when they give
// the readings' answer exactly (docs/collector.md "Billing from rollups").
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "collector/model.h"

namespace imsm::collector {

inline constexpr std::int64_t kHourMicros = 3'600'000'000;
// Longest run of reading-less hours given rows (a 31-day outage); beyond, boundaries inside
// the gap are left unknown rather than writing a row for every hour of a long silence.
inline constexpr std::int64_t kMaxGapHours = 31 * 24;
inline constexpr std::int64_t kQuarterMicros = kHourMicros / 4;

inline constexpr std::uint8_t kRollupRestart = 1;
inline constexpr std::uint8_t kRollupRose = 2;
inline constexpr std::uint8_t kRollupEpochChange = 4;
inline constexpr std::uint8_t kRollupSameTime = 8;
// The reading before is more than kMaxGapHours earlier, with whole hours between: those hours
// have no rows (their boundaries are left unknown).
inline constexpr std::uint8_t kRollupLongGap = 16;

// floor(t / 1 h) * 1 h: the start of t's UTC hour (also before 1970).
[[nodiscard]] constexpr UtcMicros hour_start(UtcMicros t) {
  return (t / kHourMicros - (t % kHourMicros < 0 ? 1 : 0)) * kHourMicros;
}

// Daily rollups (rollups_daily) fold a meter's hourly rows of one UTC day: n and
// reset_advances summed, flags OR-ed, peak_max_counts and quarter_peak_wh the largest.
inline constexpr std::int64_t kDayMicros = 24 * kHourMicros;
[[nodiscard]] constexpr UtcMicros day_start(UtcMicros t) {
  return (t / kDayMicros - (t % kDayMicros < 0 ? 1 : 0)) * kDayMicros;
}

// A reading and the one before it: a silence whose hours have no rows (compute_rollups).
[[nodiscard]] constexpr bool long_gap(UtcMicros prev_at, UtcMicros at) {
  return at - prev_at > kMaxGapHours * kHourMicros &&
         hour_start(at) - hour_start(prev_at) > kHourMicros;
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
  std::array<std::optional<std::int64_t>, 3> quarter_wh;  // hour + 15, 30, 45 min
  std::optional<std::int64_t> quarter_peak_wh;
  std::uint16_t peak_first_counts = 0, peak_last_counts = 0, peak_since_restart_counts = 0;
  std::uint32_t reset_advances = 0;
  std::uint8_t flags = 0;
  bool operator==(const HourRollup&) const = default;

  // The register at hour + k x 15 min, k = 0..3.
  [[nodiscard]] const std::optional<std::int64_t>& boundary_wh(int k) const {
    return k == 0 ? start_wh : quarter_wh[static_cast<std::size_t>(k - 1)];
  }
  [[nodiscard]] std::optional<std::int64_t>& boundary_wh(int k) {
    return k == 0 ? start_wh : quarter_wh[static_cast<std::size_t>(k - 1)];
  }
};

// Counts reading `r` (received in h's hour) into h; `prev` is the meter's reading before r.
void add_reading(HourRollup& h, const Reading& r, const Reading* prev);
// The register at instant `q` from `a` (the last reading before q, if any) and `b` (the first
// at or after q): b itself when it is at q, else both of one epoch and (for an hour without
// readings, `empty_hour`) at most kMaxGapHours apart; nullopt otherwise.
[[nodiscard]] std::optional<std::int64_t> boundary_value(const Reading* a, const Reading& b,
                                                         UtcMicros q, bool empty_hour);
// Sets every boundary of h (its start and quarters) later than a (every one when a is null)
// and not later than b, from a and b as boundary_value does. True when one was set.
bool set_boundaries(HourRollup& h, const Reading* a, const Reading& b, bool empty_hour);
// h.quarter_peak_wh from its boundaries and the register at the next hour's start.
void set_quarter_peak(HourRollup& h, const std::optional<std::int64_t>& next_start_wh);

// The rollups of the hours [first_hour, last_hour] of one meter, from `before` (its last
// reading before first_hour, if any) and `rows` (every reading received in those hours, in
// order of time then frame id). Every hour with a reading gets a row, and every reading-less
// hour whose start is bracketed by two readings of one epoch (gap <= kMaxGapHours).
[[nodiscard]] std::vector<HourRollup> compute_rollups(std::uint16_t meter,
                                                      const std::optional<Reading>& before,
                                                      const std::vector<Reading>& rows,
                                                      UtcMicros first_hour, UtcMicros last_hour,
                                                      const std::optional<Reading>& after);

// A meter's rollups_daily row: the fold of its hourly rows of one UTC day.
struct DayRollup {
  std::uint16_t meter_id = 0;
  UtcMicros day = 0;  // day_start
  std::int64_t n = 0;
  std::uint8_t flags = 0;
  std::optional<std::uint16_t> peak_max_counts;  // of the rows with readings
  std::optional<std::int64_t> quarter_peak_wh;
  std::uint32_t reset_advances = 0;
  void add(const HourRollup& h);
  [[nodiscard]] static DayRollup empty(std::uint16_t meter, UtcMicros day) {
    DayRollup d;
    d.meter_id = meter;
    d.day = day;
    return d;
  }
};

// A meter's rollups over whole hours [from, to) folded into what a bill needs
// (report/bill_source.cpp); Store::rollup_span gives the same from the database.
struct RollupSpan {
  std::int64_t n = 0;                 // readings
  std::uint8_t flags = 0;             // OR of the rows' flags
  std::uint16_t peak_max_counts = 0;  // of the rows with readings
  std::optional<std::int64_t> quarter_peak_wh;
  std::optional<HourRollup> first, last;  // the first and last rows with readings
  // With kRollupRestart: the last row with it, the largest peak_max_counts of the rows after
  // it, and the rows' reset advances (0 without a restart: an advance is a restart).
  std::optional<HourRollup> last_restart;
  std::uint16_t peak_after_restart_counts = 0;
  std::uint32_t reset_advances = 0;
  bool operator==(const RollupSpan&) const = default;
};
[[nodiscard]] RollupSpan fold_rollups(const std::vector<HourRollup>& rows);

}  // namespace imsm::collector
