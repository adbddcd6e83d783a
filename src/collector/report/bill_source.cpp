#include "collector/report/bill_source.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <utility>

#include "collector/derive/consumption.h"

namespace imsm::collector {

namespace {

Point point_of(const Reading& r) {
  return Point{r.received_at, r.epoch, r.total_kwh, r.peak_demand_counts, r.demand_resets};
}
Point first_point(const HourRollup& h) {
  return Point{h.first_at, h.epoch_first, h.kwh_first, h.peak_first_counts, h.resets_first};
}
Point last_point(const HourRollup& h) {
  return Point{h.last_at, h.epoch_last, h.kwh_last, h.peak_last_counts, h.resets_last};
}

// A run of one epoch's points (consumption's segment): its first and last point.
struct Segment {
  Point lo, hi;
};

// The segments from `first` to `last` (the readings path's points): split where the epoch
// changes, which the hours flagged kRollupEpochChange hold, each read as readings with the
// one before it (a few per replacement).
std::vector<Segment> segments(Store& store, std::uint16_t meter,
                              const std::vector<UtcMicros>& change_hours, const Point& first,
                              const Point& last) {
  std::vector<Segment> out;
  Point lo = first;
  for (const UtcMicros h : change_hours) {
    std::optional<Reading> prev = store.last_reading(meter, h);
    store.each_meter_reading(meter, h, h + kHourMicros, [&](const Reading& r) {
      if (prev && prev->epoch != r.epoch) {
        out.push_back(Segment{lo, point_of(*prev)});
        lo = point_of(r);
      }
      prev = r;
    });
  }
  out.push_back(Segment{lo, last});
  return out;
}

// The largest 15-minute rise in W over [from, to) when the epoch changes in `change_hours`.
// A stored quarter rise can have its start on one meter and its end on the next (both ends
// bracketed, each within its own epoch) only when a reading of the new epoch falls inside the
// quarter: in a change hour, or at its start (the previous hour's last quarter). Those two
// hours are walked from their readings as peak_15min_w walks them; every other hour's rise is
// the rollups'.
std::optional<std::int64_t> interval_w_across_epochs(Store& store, std::uint16_t meter,
                                                     UtcMicros from, UtcMicros to,
                                                     const std::vector<UtcMicros>& change_hours) {
  std::vector<std::pair<UtcMicros, UtcMicros>> walked;
  for (const UtcMicros h : change_hours) {
    const UtcMicros a = std::max(from, h - kHourMicros), b = std::min(to, h + kHourMicros);
    if (!walked.empty() && a <= walked.back().second)
      walked.back().second = b;
    else
      walked.emplace_back(a, b);
  }
  std::optional<std::int64_t> best;
  auto take = [&](std::optional<std::int64_t> w) {
    if (w && (!best || *w > *best)) best = w;
  };
  auto from_rollups = [&](UtcMicros a, UtcMicros b) {
    if (const auto q = store.rollup_span(meter, a, b).quarter_peak_wh) take(*q * 4);
  };
  UtcMicros at = from;
  for (const auto& [a, b] : walked) {
    if (a > at) from_rollups(at, a);
    take(peak_15min_w(load_points(store, meter, a, b), a, b));
    at = b;
  }
  if (at < to) from_rollups(at, to);
  return best;
}

}  // namespace

// The readings path's points are [before] + readings in [from, to] + [after, next]
// (load_points). Here: `before` and the tail (at `to`, after, next) are read as readings; the
// readings in [from, to) are summarised by the rollups of those hours. With one epoch and no
// two readings at one instant, every rule of bill_line reduces to these:
//   consumption   per segment of one epoch (segments()), E(b) - E(a), a = max(from, first),
//                 b = min(to, last), E clamped to the segment's first and last point and
//                 otherwise the rollups' boundary values (from, to and TOU edges are quarter
//                 hours: the register there is stored; inside a segment it is of its epoch)
//   interval      the quarters [t, t + 15 min] with both ends bracketed are exactly those
//                 peak_15min_w walks; 4 x the span's largest quarter rise
//   demand        restart / rise flags, the peak since the last restart, the last value
//   resets        the rows' advances less the pair ending at `from` (resets_in: (from, to))
std::optional<LineFacts> facts_from_rollups(Store& store, std::uint16_t meter,
                                            const LineContext& ctx, const Tariff* tariff,
                                            const std::vector<TouSlice>& slices) {
  const UtcMicros from = ctx.from, to = ctx.to;
  if (hour_start(from) != from || hour_start(to) != to || to <= from) return std::nullopt;
  const auto before = store.last_reading(meter, from);
  std::vector<Reading> tail;
  store.each_meter_reading(meter, to, to + 1, [&](const Reading& r) { tail.push_back(r); });
  if (tail.size() > 1) return std::nullopt;  // two readings at one instant
  if (const auto after = store.first_reading_after(meter, to)) {
    tail.push_back(*after);
    if (const auto next = store.first_reading_after(meter, after->received_at))
      tail.push_back(*next);
  }
  const RollupSpan span = store.rollup_span(meter, from, to);
  // Nothing in the period or at its end: the readings path reads at most one reading.
  if (span.n == 0 && tail.empty()) return std::nullopt;
  // No silence without rows from `before` to the last point: the rows' flags cover every
  // pair whose later reading is in [from, to); the pairs into the tail are read.
  if (span.flags & (kRollupSameTime | kRollupLongGap)) return std::nullopt;
  std::optional<Reading> prev = before;
  if (span.last) {
    prev = Reading{};
    prev->received_at = span.last->last_at;
    prev->epoch = span.last->epoch_last;
  }
  for (const auto& r : tail) {
    if (prev && (prev->epoch != r.epoch || long_gap(prev->received_at, r.received_at)))
      return std::nullopt;
    prev = r;
  }
  const Point first = before       ? point_of(*before)
                      : span.first ? first_point(*span.first)
                                   : point_of(tail.front());
  const Point last = !tail.empty() ? point_of(tail.back())
                     : span.last   ? last_point(*span.last)
                                   : point_of(*before);
  const auto change_hours = span.flags & kRollupEpochChange
                                ? store.flagged_hours(meter, from, to, kRollupEpochChange)
                                : std::vector<UtcMicros>{};
  const auto segs = segments(store, meter, change_hours, first, last);

  // The register at the instants the rules ask for, strictly between the first and last
  // point (outside, energy_at clamps to them).
  std::vector<UtcMicros> want{from, to};
  for (const auto& sl : slices) {
    want.push_back(sl.from);
    want.push_back(sl.to);
  }
  std::sort(want.begin(), want.end());
  want.erase(std::unique(want.begin(), want.end()), want.end());
  want.erase(std::remove_if(want.begin(), want.end(),
                            [&](UtcMicros t) { return t <= first.at || t >= last.at; }),
             want.end());
  const auto got = store.register_wh_at(meter, want);
  bool ok = true;
  auto energy_at = [&](const Segment& sg, UtcMicros t) -> std::int64_t {
    if (t <= sg.lo.at) return sg.lo.total_kwh * 1000;
    if (t >= sg.hi.at) return sg.hi.total_kwh * 1000;
    const auto it = std::lower_bound(want.begin(), want.end(), t);
    const auto k = static_cast<std::size_t>(it - want.begin());
    if (it == want.end() || *it != t || !got[k]) {
      ok = false;
      return 0;
    }
    return *got[k];
  };
  // consumption() over [a, b): its segments (a segment of one point has lo.at == hi.at: no
  // two readings share an instant).
  auto wh_of = [&](UtcMicros a, UtcMicros b, std::uint32_t* counted) -> std::int64_t {
    std::int64_t wh = 0;
    for (const auto& sg : segs) {
      if (sg.hi.at < a || sg.lo.at > b) continue;
      const UtcMicros lo = std::max(a, sg.lo.at), hi = std::min(b, sg.hi.at);
      if (hi < lo || (hi == lo && sg.lo.at != sg.hi.at)) continue;
      if (counted) ++*counted;
      wh += energy_at(sg, hi) - energy_at(sg, lo);
    }
    return wh;
  };

  LineFacts f;
  auto& c = f.consumption;
  c.partial_start = first.at > from;
  c.partial_end = last.at < to;
  if (before)
    c.start =
        span.first && span.first->first_at == from ? first_point(*span.first) : point_of(*before);
  else
    c.start = first;
  c.end = !tail.empty() ? point_of(tail.front()) : last;
  c.wh = wh_of(from, to, &c.epochs);
  f.final = tail.size() >= 2;
  f.readings = span.n;
  f.first_at = first.at;

  DemandFacts d;
  d.any = span.n > 0;
  d.restarted = (span.flags & kRollupRestart) != 0;
  d.rose = (span.flags & kRollupRose) != 0;
  d.peak_counts = d.restarted ? std::max(span.last_restart->peak_since_restart_counts,
                                         span.peak_after_restart_counts)
                              : span.peak_max_counts;
  if (span.last) d.last_value_counts = span.last->peak_last_counts;
  if (!change_hours.empty())
    d.interval_w = interval_w_across_epochs(store, meter, from, to, change_hours);
  else if (span.quarter_peak_wh)
    d.interval_w = *span.quarter_peak_wh * 4;
  d.resets = span.reset_advances;
  if (before && span.first && span.first->first_at == from &&
      span.first->epoch_first == before->epoch)
    d.resets -= static_cast<std::uint8_t>(span.first->resets_first - before->demand_resets);
  f.demand = period_demand(d, tariff && tariff->demand_when_quiet_register);
  if (tariff)
    f.energy = energy_parts(*tariff, c.wh, slices,
                            [&](UtcMicros a, UtcMicros b) { return wh_of(a, b, nullptr); });
  if (!ok) return std::nullopt;
  return f;
}

std::vector<Point> load_points(Store& store, std::uint16_t meter, UtcMicros from, UtcMicros to) {
  std::vector<Point> out;
  auto point = [&](const Reading& r) {
    out.push_back(
        Point{r.received_at, r.epoch, r.total_kwh, r.peak_demand_counts, r.demand_resets});
  };
  // The reading before the period, those inside it (its end included) and the one after: the
  // boundaries are interpolated between them.
  if (const auto before = store.last_reading(meter, from)) point(*before);
  store.each_meter_reading(meter, from, to == std::numeric_limits<UtcMicros>::max() ? to : to + 1,
                           point);
  // And the one after that: the validator may still retract a meter's newest reading (when
  // the next two frames contradict it, docs/collector.md "Validation"), so a boundary is
  // final only when the reading that brackets it has a later one (bill.h).
  if (const auto after = store.first_reading_after(meter, to)) {
    point(*after);
    if (const auto next = store.first_reading_after(meter, after->received_at)) point(*next);
  }
  return out;
}

std::vector<MeterInfo> billed_meters(Store& store, const CollectorConfig& config) {
  auto meters = store.meters();
  for (auto& m : meters)
    if (const MeterEntry* e = config.find_meter(m.id)) {
      m.registered = true;
      m.model = e->model;
      m.label = e->label;
      m.tenant = e->tenant;
      m.location = e->location;
      m.tariff = e->tariff;
    }
  return meters;
}

std::vector<std::string> tenant_names(const std::vector<MeterInfo>& meters) {
  std::vector<std::string> out;
  for (const auto& m : meters)
    if (!m.tenant.empty()) out.push_back(m.tenant);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<std::string> resolve_tenant(const std::vector<std::string>& names,
                                          const std::string& given) {
  auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  for (const auto& n : names)
    if (lower(n) == lower(given)) return n;
  return std::nullopt;
}

Bill make_bill(Store& store, const CollectorConfig& config, const BillRequest& r) {
  static const TimeZone kUtc;
  LineContext ctx;
  ctx.from = r.from;
  ctx.to = r.to;
  ctx.tz = r.tz ? r.tz : &kUtc;
  ctx.cadence_us = config.validation.cadence_s * kMicrosPerSecond;
  const auto meters = billed_meters(store, config);
  // The store's clock: its newest reading (the period's end when there is none).
  ctx.store_clock = std::numeric_limits<UtcMicros>::min();
  for (const auto& m : meters)
    if (auto last = store.last_reading(m.id, std::numeric_limits<UtcMicros>::max()))
      ctx.store_clock = std::max(ctx.store_clock, last->received_at);
  if (ctx.store_clock == std::numeric_limits<UtcMicros>::min()) ctx.store_clock = r.to;
  std::vector<BillLine> lines;
  std::int64_t from_rollups = 0;
  std::map<const Tariff*, std::vector<TouSlice>> slices;  // per tariff over the period
  for (const auto& m : meters) {
    if (r.tenant && m.tenant != *r.tenant) continue;
    const Tariff* t = nullptr;
    if (!r.energy_only) {
      if (m.registered)
        t = config.find_tariff(m.tariff);
      else if (!r.unassigned_tariff.empty())
        t = config.find_tariff(r.unassigned_tariff);
    }
    if (r.from_rollups) {
      auto [it, fresh] = slices.try_emplace(t);
      if (fresh && t && t->tiers.empty() && !t->tou.empty())
        it->second = tou_slices(*t, *ctx.tz, r.from, r.to);
      if (auto f = facts_from_rollups(store, m.id, ctx, t, it->second)) {
        lines.push_back(bill_line(m, m.registered, t, std::move(*f), ctx));
        ++from_rollups;
        continue;
      }
    }
    auto points = load_points(store, m.id, r.from, r.to);
    if (points.empty() && !m.registered) continue;
    lines.push_back(bill_line(m, m.registered, t, points, ctx));
  }
  auto bill = assemble_bill(r.from, r.to, ctx.tz->name(), r.energy_only, std::move(lines));
  bill.lines_from_rollups = from_rollups;
  return bill;
}

Bill make_bill(Store& store, const CollectorConfig& config, UtcMicros from, UtcMicros to,
               const std::optional<std::string>& tenant) {
  BillRequest r;
  r.from = from;
  r.to = to;
  r.tenant = tenant;
  return make_bill(store, config, r);
}

}  // namespace imsm::collector
