// Consumption, rollups and demand derived from stored readings (docs/collector.md
// "Derived data"). Exact integer arithmetic in watt-hours; never binary floating point.
//
// Method. Within one epoch (one physical meter at an ID) the register E(t) is known at each
// reading; between two readings a and b it is interpolated linearly:
//     E(t) = 1000 E_a + round_half_up( 1000 (E_b - E_a) (t - t_a) / (t_b - t_a) )   [Wh]
// computed with 128-bit integers. Consumption over [from, to) is, for each epoch the period
// overlaps, E(min(to, last reading)) - E(max(from, first reading)): a period boundary between
// readings is interpolated; before the first or after the last reading nothing is invented
// (the result says it is partial). Because every boundary value is computed one way,
// consumption is additive: hours sum exactly to their day, days to their month.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "collector/time_util.h"

namespace imsm::collector {

struct Point {
  UtcMicros at = 0;
  std::uint32_t epoch = 0;
  std::int64_t total_kwh = 0;
  std::uint16_t peak_demand_counts = 0;
  std::uint8_t demand_resets = 0;
};

// E(t) in Wh between a and b (a.at <= t <= b.at, same epoch).
[[nodiscard]] std::int64_t interpolate_wh(const Point& a, const Point& b, UtcMicros t);

struct Consumption {
  std::int64_t wh = 0;
  bool partial_start = false;  // no reading at or before `from`
  bool partial_end = false;    // no reading at or after `to`
  std::uint32_t epochs = 0;    // epochs overlapping the period (2+: a replacement inside)
  std::optional<Point> start;  // reading used at the start: last at/before from, else first after
  std::optional<Point> end;    // reading used at the end: first at/after to, else last before
};

// `points`: one meter's readings sorted by time, including the last reading before `from`
// and the first after `to` when they exist.
[[nodiscard]] Consumption consumption(const std::vector<Point>& points, UtcMicros from,
                                      UtcMicros to);

// Consumption per bucket of `step_us` from `from` (aligned by the caller), Wh each; buckets
// outside the readings are 0. Sums exactly to consumption(points, from, from + n*step).
[[nodiscard]] std::vector<std::int64_t> rollup_wh(const std::vector<Point>& points, UtcMicros from,
                                                  UtcMicros to, std::int64_t step_us);

// Largest average power over any aligned 15-minute interval fully covered by readings of one
// epoch, in W (Wh x 4), from interpolated kWh differences. nullopt when none is covered.
[[nodiscard]] std::optional<std::int64_t> peak_15min_w(const std::vector<Point>& points,
                                                       UtcMicros from, UtcMicros to);

// Demand resets counted in (from, to): the reset counter's advances (mod 256) between
// consecutive readings of one epoch, the first compared with the last reading before `from`.
[[nodiscard]] std::uint32_t resets_in(const std::vector<Point>& points, UtcMicros from,
                                      UtcMicros to);
// The register's interpolated value at the start and end of [from, to) within each epoch the
// period overlaps (clamped to the epoch's readings), in Wh: the boundary values that
// consumption() subtracts. Money anchored to these values adds up across consecutive periods.
struct EnergySpan {
  std::uint32_t epoch = 0;
  std::int64_t start_wh = 0, end_wh = 0;
};
[[nodiscard]] std::vector<EnergySpan> energy_spans(const std::vector<Point>& points, UtcMicros from,
                                                   UtcMicros to);

// Consumption in Wh between consecutive `edges` (ascending; n edges give n-1 buckets of any
// length, e.g. local days of 23, 24 or 25 hours). Sums exactly to consumption() over the span.
[[nodiscard]] std::vector<std::int64_t> rollup_edges_wh(const std::vector<Point>& points,
                                                        const std::vector<UtcMicros>& edges);

// Largest peak-demand register value among readings in [from, to).
[[nodiscard]] std::uint16_t register_peak_counts(const std::vector<Point>& points, UtcMicros from,
                                                 UtcMicros to);

}  // namespace imsm::collector
