// Energy per interval (docs/collector.md "Interval export"): `report --rollup` and
// `readings --interval`. Intervals are 15 minutes, an hour, a local day or a local month in a
// time zone (a DST day has 23 or 25 hours; hours and quarters are aligned to local wall-clock
// time).
// Energy per interval is the same exact interpolation as the bill, so intervals sum exactly
// to the bill of their span. `complete` is true when one epoch's readings bracket the whole
// interval; an interval no reading touches has no energy (null, not 0).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/derive/consumption.h"
#include "collector/report/tz.h"

namespace imsm::collector {

enum class IntervalStep { Quarter, Hour, Day, Month };

// "15m", "1h", "1d", "1mo" (and "hour", "day", "month"); nullopt otherwise.
[[nodiscard]] std::optional<IntervalStep> parse_interval_step(std::string_view text);
// 900, 3600, 86400; 0 for a month (its length varies).
[[nodiscard]] std::int64_t nominal_seconds(IntervalStep step);

// Edges of the intervals covering [from, to): the first is the start of the interval that
// contains `from`, the last is at or after `to`.
[[nodiscard]] std::vector<UtcMicros> interval_edges(const TimeZone& tz, IntervalStep step,
                                                    UtcMicros from, UtcMicros to);

struct IntervalRow {
  std::uint16_t meter_id = 0;
  UtcMicros start = 0, end = 0;
  std::optional<std::int64_t> wh;  // nullopt: no reading touches the interval
  bool complete = false;
};

[[nodiscard]] std::vector<IntervalRow> meter_intervals(std::uint16_t meter,
                                                       const std::vector<Point>& points,
                                                       const std::vector<UtcMicros>& edges);

// format: "json" (one document), "csv", "table" or "espi" (Green Button XML).
void write_intervals(const std::vector<IntervalRow>& rows, const TimeZone& tz, IntervalStep step,
                     const std::string& format, std::string& out);

}  // namespace imsm::collector
