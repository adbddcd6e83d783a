#include "collector/store/rollup.h"

#include <algorithm>

#include "collector/derive/consumption.h"

namespace imsm::collector {

namespace {

Point point_of(const Reading& r) {
  return Point{r.received_at, r.epoch, r.total_kwh, r.peak_demand_counts, r.demand_resets};
}

}  // namespace

void add_reading(HourRollup& h, const Reading& r, const Reading* prev) {
  if (h.n == 0) {
    h.first_at = r.received_at;
    h.epoch_first = r.epoch;
    h.kwh_first = r.total_kwh;
    h.resets_first = r.demand_resets;
    h.peak_first_counts = r.peak_demand_counts;
  }
  ++h.n;
  h.last_at = r.received_at;
  h.epoch_last = r.epoch;
  h.kwh_last = r.total_kwh;
  h.resets_last = r.demand_resets;
  h.peak_last_counts = r.peak_demand_counts;
  if (r.peak_demand_counts > h.peak_max_counts) h.peak_max_counts = r.peak_demand_counts;
  // The pair (prev, r) as period_demand reads it: a new epoch or a moved reset counter
  // restarts the count; otherwise a higher register value is a rise inside the period.
  bool restart = false;
  if (prev) {
    if (prev->received_at == r.received_at) h.flags |= kRollupSameTime;
    if (long_gap(prev->received_at, r.received_at)) h.flags |= kRollupLongGap;
    if (prev->epoch != r.epoch) {
      h.flags |= kRollupEpochChange;
      restart = true;
    } else {
      h.reset_advances += static_cast<std::uint8_t>(r.demand_resets - prev->demand_resets);
      if (r.demand_resets != prev->demand_resets)
        restart = true;
      else if (r.peak_demand_counts > prev->peak_demand_counts)
        h.flags |= kRollupRose;
    }
  }
  if (restart) {
    h.flags |= kRollupRestart;
    h.peak_since_restart_counts = 0;
  }
  h.peak_since_restart_counts = std::max(h.peak_since_restart_counts, r.peak_demand_counts);
}

std::optional<std::int64_t> boundary_value(const Reading* a, const Reading& b, UtcMicros q,
                                           bool empty_hour) {
  if (b.received_at == q) return b.total_kwh * 1000;
  if (!a || a->epoch != b.epoch) return std::nullopt;
  if (empty_hour && b.received_at - a->received_at > kMaxGapHours * kHourMicros)
    return std::nullopt;
  return interpolate_wh(point_of(*a), point_of(b), q);
}

bool set_boundaries(HourRollup& h, const Reading* a, const Reading& b, bool empty_hour) {
  bool set = false;
  for (int k = 0; k < 4; ++k) {
    const UtcMicros q = h.hour + k * kQuarterMicros;
    if ((a && q <= a->received_at) || q > b.received_at) continue;
    h.boundary_wh(k) = boundary_value(a, b, q, empty_hour);
    if (k == 0 && h.start_wh) h.start_epoch = b.epoch;
    set = true;
  }
  return set;
}

void set_quarter_peak(HourRollup& h, const std::optional<std::int64_t>& next_start_wh) {
  h.quarter_peak_wh.reset();
  for (int k = 0; k < 4; ++k) {
    const auto& e0 = h.boundary_wh(k);
    const auto& e1 = k == 3 ? next_start_wh : h.boundary_wh(k + 1);
    if (e0 && e1 && (!h.quarter_peak_wh || *e1 - *e0 > *h.quarter_peak_wh))
      h.quarter_peak_wh = *e1 - *e0;
  }
}

std::vector<HourRollup> compute_rollups(std::uint16_t meter, const std::optional<Reading>& before,
                                        const std::vector<Reading>& rows, UtcMicros first_hour,
                                        UtcMicros last_hour, const std::optional<Reading>& after) {
  std::vector<const Reading*> seq;
  seq.reserve(rows.size() + 2);
  if (before) seq.push_back(&*before);
  for (const auto& r : rows) seq.push_back(&r);
  if (after) seq.push_back(&*after);

  // The register at q: from the last element of seq before q and the first at or after it.
  std::size_t next = 0;  // first element of seq at or after the last q asked
  auto value_at = [&](UtcMicros q, bool empty_hour) -> std::optional<std::int64_t> {
    while (next < seq.size() && seq[next]->received_at < q) ++next;
    if (next >= seq.size()) return std::nullopt;
    return boundary_value(next > 0 ? seq[next - 1] : nullptr, *seq[next], q, empty_hour);
  };

  std::vector<HourRollup> out;
  std::size_t ri = 0;  // next row to count
  for (UtcMicros h = first_hour; h <= last_hour;) {
    HourRollup row;
    row.meter_id = meter;
    row.hour = h;
    for (; ri < rows.size() && rows[ri].received_at < h + kHourMicros; ++ri)
      if (rows[ri].received_at >= h) {
        const Reading* prev = ri > 0 ? &rows[ri - 1] : before ? &*before : nullptr;
        add_reading(row, rows[ri], prev);
      }
    for (int k = 0; k < 4; ++k) {
      row.boundary_wh(k) = value_at(h + k * kQuarterMicros, row.n == 0);
      if (k == 0 && row.start_wh) row.start_epoch = seq[next]->epoch;
    }
    // First at or after h + 45 min: for an hour without readings, the first after h.
    const Reading* b = next < seq.size() ? seq[next] : nullptr;
    // The last quarter ends at the next hour's start, whatever that hour's own row keeps.
    set_quarter_peak(row, value_at(h + kHourMicros, false));
    if (row.n > 0 || row.start_wh) out.push_back(row);
    if (!b && row.n == 0) break;  // nothing later in range
    h += kHourMicros;
    // A long silence: jump to the hour of the next reading instead of walking every hour.
    if (row.n == 0 && !row.start_wh && b) h = std::max(h, hour_start(b->received_at));
  }
  return out;
}

void DayRollup::add(const HourRollup& h) {
  n += h.n;
  flags |= h.flags;
  if (h.n > 0) peak_max_counts = std::max(peak_max_counts.value_or(0), h.peak_max_counts);
  if (h.quarter_peak_wh && (!quarter_peak_wh || *h.quarter_peak_wh > *quarter_peak_wh))
    quarter_peak_wh = h.quarter_peak_wh;
  reset_advances += h.reset_advances;
}

RollupSpan fold_rollups(const std::vector<HourRollup>& rows) {
  RollupSpan s;
  for (const auto& h : rows) {
    s.n += h.n;
    s.flags |= h.flags;
    s.reset_advances += h.reset_advances;
    if (h.quarter_peak_wh && (!s.quarter_peak_wh || *h.quarter_peak_wh > *s.quarter_peak_wh))
      s.quarter_peak_wh = h.quarter_peak_wh;
    if (h.n == 0) continue;
    s.peak_max_counts = std::max(s.peak_max_counts, h.peak_max_counts);
    if (!s.first) s.first = h;
    s.last = h;
    if (h.flags & kRollupRestart) {
      s.last_restart = h;
      s.peak_after_restart_counts = 0;
    } else if (s.last_restart) {
      s.peak_after_restart_counts = std::max(s.peak_after_restart_counts, h.peak_max_counts);
    }
  }
  return s;
}

}  // namespace imsm::collector
