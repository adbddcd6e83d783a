#include "collector/report/bill.h"

#include <algorithm>
#include <map>

#include "collector/report/report.h"

namespace imsm::collector {

namespace {

std::int64_t expected_readings(std::optional<UtcMicros> first_at, const LineContext& ctx) {
  // From the period's start (or the meter's first reading, when first heard inside it) to
  // the period's end or the store's clock, whichever is first: one frame per cadence.
  UtcMicros span_from = ctx.from;
  if (first_at && *first_at >= ctx.from) span_from = *first_at;
  const UtcMicros span_to = std::min(ctx.to, std::max(ctx.store_clock + 1, span_from));
  if (span_to <= span_from || ctx.cadence_us <= 0) return 0;
  return (span_to - span_from + ctx.cadence_us - 1) / ctx.cadence_us;
}

void charge(BillLine& l, const Tariff& t, std::vector<EnergyPart> energy) {
  l.charged = true;
  l.tariff = t.name;
  l.currency = t.currency;
  l.energy = std::move(energy);
  for (const auto& p : l.energy) l.energy_cents += p.cents;
  l.demand_cents = charge_cents(l.demand.w, t.demand_per_kw, 1000);
  l.fixed_cents = charge_cents(1, t.fixed_per_meter, 1);
  const std::int64_t subtotal = l.energy_cents + l.demand_cents + l.fixed_cents;
  const std::int64_t minimum = charge_cents(1, t.minimum_bill, 1);
  l.minimum_cents = subtotal < minimum ? minimum - subtotal : 0;
  l.total_cents = subtotal + l.minimum_cents;
}

void add(Totals& x, const BillLine& l) {
  x.meters += 1;
  x.wh += l.consumption.wh;
  x.energy_cents += l.energy_cents;
  x.demand_cents += l.demand_cents;
  x.fixed_cents += l.fixed_cents;
  x.minimum_cents += l.minimum_cents;
  x.total_cents += l.total_cents;
}

}  // namespace

BillLine bill_line(MeterInfo meter, bool assigned, const Tariff* tariff,
                   const std::vector<Point>& points, const LineContext& ctx) {
  LineFacts f;
  f.consumption = consumption(points, ctx.from, ctx.to);
  // Final: a reading at or after `to` brackets the end, and it is settled (a later reading
  // exists: the validator only ever retracts a meter's newest reading).
  f.final = std::count_if(points.begin(), points.end(),
                          [&](const Point& p) { return p.at >= ctx.to; }) >= 2;
  f.demand = period_demand(points, ctx.from, ctx.to, tariff && tariff->demand_when_quiet_register);
  f.readings = std::count_if(points.begin(), points.end(),
                             [&](const Point& p) { return p.at >= ctx.from && p.at < ctx.to; });
  if (!points.empty()) f.first_at = points.front().at;
  if (tariff) f.energy = energy_parts(*tariff, *ctx.tz, points, ctx.from, ctx.to);
  return bill_line(std::move(meter), assigned, tariff, std::move(f), ctx);
}

BillLine bill_line(MeterInfo meter, bool assigned, const Tariff* tariff, LineFacts f,
                   const LineContext& ctx) {
  BillLine l;
  l.meter = std::move(meter);
  l.assigned = assigned;
  l.consumption = std::move(f.consumption);
  l.final = f.final;
  l.demand = f.demand;
  l.readings = f.readings;
  l.expected = expected_readings(f.first_at, ctx);
  if (tariff) charge(l, *tariff, std::move(f.energy));
  if (!l.final) l.flags.emplace_back("provisional");
  if (l.readings >= 2 && l.consumption.wh == 0) l.flags.emplace_back("no_consumption");
  if (l.expected > 0 && l.readings * 1000 < l.expected * kLowReceivePermille)
    l.flags.emplace_back("low_receive_ratio");
  if (l.consumption.epochs >= 2) l.flags.emplace_back("replaced");
  if (!assigned) l.flags.emplace_back("unassigned");
  return l;
}

Bill assemble_bill(UtcMicros from, UtcMicros to, const std::string& tz, bool energy_only,
                   std::vector<BillLine> lines) {
  Bill b;
  b.from = from;
  b.to = to;
  b.tz = tz;
  b.energy_only = energy_only;
  std::map<std::pair<std::string, std::string>, Totals> tenants;
  std::map<std::string, Totals> totals;
  for (const auto& l : lines) {
    auto& t = tenants[{l.meter.tenant, l.currency}];
    t.tenant = l.meter.tenant;
    t.currency = l.currency;
    add(t, l);
    auto& c = totals[l.currency];
    c.currency = l.currency;
    add(c, l);
    b.provisional += l.final ? 0 : 1;
    b.meters_reset += l.demand.resets > 0 ? 1 : 0;
    b.unassigned += l.assigned ? 0 : 1;
  }
  for (auto& [k, v] : tenants) b.tenants.push_back(v);
  for (auto& [k, v] : totals) b.totals.push_back(v);
  b.lines = std::move(lines);
  return b;
}

}  // namespace imsm::collector
