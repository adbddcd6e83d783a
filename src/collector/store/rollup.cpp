#include "collector/store/rollup.h"

#include <algorithm>

#include "collector/derive/consumption.h"

namespace imsm::collector {

namespace {

Point point_of(const Reading& r) {
  return Point{r.received_at, r.epoch, r.total_kwh, r.peak_demand_counts, r.demand_resets};
}

}  // namespace

void add_reading(HourRollup& h, const Reading& r) {
  if (h.n == 0) {
    h.first_at = r.received_at;
    h.epoch_first = r.epoch;
    h.kwh_first = r.total_kwh;
    h.resets_first = r.demand_resets;
  }
  ++h.n;
  h.last_at = r.received_at;
  h.epoch_last = r.epoch;
  h.kwh_last = r.total_kwh;
  h.resets_last = r.demand_resets;
  if (r.peak_demand_counts > h.peak_max_counts) h.peak_max_counts = r.peak_demand_counts;
}

void set_start(HourRollup& h, const Reading& a, const Reading& b, bool empty_hour) {
  if (b.received_at == h.hour) {
    h.start_wh = b.total_kwh * 1000;
    h.start_epoch = b.epoch;
    return;
  }
  if (a.epoch != b.epoch) return;
  if (empty_hour && b.received_at - a.received_at > kMaxGapHours * kHourMicros) return;
  h.start_wh = interpolate_wh(point_of(a), point_of(b), h.hour);
  h.start_epoch = a.epoch;
}

std::vector<HourRollup> compute_rollups(std::uint16_t meter, const std::optional<Reading>& before,
                                        const std::vector<Reading>& rows, UtcMicros first_hour,
                                        UtcMicros last_hour, const std::optional<Reading>& after) {
  std::vector<const Reading*> seq;
  seq.reserve(rows.size() + 2);
  if (before) seq.push_back(&*before);
  for (const auto& r : rows) seq.push_back(&r);
  if (after) seq.push_back(&*after);

  std::vector<HourRollup> out;
  std::size_t next = 0;  // first element of seq at or after the hour's start
  std::size_t ri = 0;    // next row to count
  for (UtcMicros h = first_hour; h <= last_hour;) {
    while (next < seq.size() && seq[next]->received_at < h) ++next;
    const Reading* b = next < seq.size() ? seq[next] : nullptr;  // first at or after h
    const Reading* a = b && b->received_at == h ? b : next > 0 ? seq[next - 1] : nullptr;
    HourRollup row;
    row.meter_id = meter;
    row.hour = h;
    for (; ri < rows.size() && rows[ri].received_at < h + kHourMicros; ++ri)
      if (rows[ri].received_at >= h) add_reading(row, rows[ri]);
    const bool bracketed =
        a && b && a->epoch == b->epoch &&
        (row.n > 0 || b->received_at - a->received_at <= kMaxGapHours * kHourMicros);
    if (bracketed) {
      row.start_wh = interpolate_wh(point_of(*a), point_of(*b), h);
      row.start_epoch = a->epoch;
    }
    if (row.n > 0 || row.start_wh) out.push_back(row);
    if (!b && row.n == 0) break;  // nothing later in range
    h += kHourMicros;
    // A long silence: jump to the hour of the next reading instead of walking every hour.
    if (row.n == 0 && !row.start_wh && b) h = std::max(h, hour_start(b->received_at));
  }
  return out;
}

}  // namespace imsm::collector
