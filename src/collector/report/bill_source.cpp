#include "collector/report/bill_source.h"

#include <algorithm>
#include <cctype>
#include <limits>

namespace imsm::collector {

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
  for (const auto& m : meters) {
    if (r.tenant && m.tenant != *r.tenant) continue;
    auto points = load_points(store, m.id, r.from, r.to);
    if (points.empty() && !m.registered) continue;
    const Tariff* t = nullptr;
    if (!r.energy_only) {
      if (m.registered)
        t = config.find_tariff(m.tariff);
      else if (!r.unassigned_tariff.empty())
        t = config.find_tariff(r.unassigned_tariff);
    }
    lines.push_back(bill_line(m, m.registered, t, points, ctx));
  }
  return assemble_bill(r.from, r.to, ctx.tz->name(), r.energy_only, std::move(lines));
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
