#include "collector/report/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>

#include "common/text.h"

namespace imsm::collector {

namespace {
__extension__ using i128 = __int128;

std::string kw_from_counts(std::uint16_t counts) {
  return kw_text(DemandCounts{counts});
}

std::string kw_from_w(std::int64_t w) {
  return fmt::format("{}{}.{:03}", w < 0 ? "-" : "", std::abs(w) / 1000, std::abs(w) % 1000);
}
}  // namespace

std::string format_kwh(std::int64_t wh) {
  const bool neg = wh < 0;
  const std::int64_t a = neg ? -wh : wh;
  return fmt::format("{}{}.{:03}", neg ? "-" : "", a / 1000, a % 1000);
}

std::string format_cents(std::int64_t cents) {
  const bool neg = cents < 0;
  const std::int64_t a = neg ? -cents : cents;
  return fmt::format("{}{}.{:02}", neg ? "-" : "", a / 100, a % 100);
}

std::int64_t charge_cents(std::int64_t amount, Micros price_micros, std::int64_t divisor) {
  // amount x price / divisor micro-units = amount x price / (divisor x 10^4) cents.
  const i128 num = static_cast<i128>(amount) * price_micros;
  const i128 den = static_cast<i128>(divisor) * 10'000;
  const i128 q = num >= 0 ? (2 * num + den) / (2 * den) : -((-2 * num + den) / (2 * den));
  return static_cast<std::int64_t>(q);
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
  if (const auto after = store.first_reading_after(meter, to)) point(*after);
  return out;
}

Bill make_bill(Store& store, const CollectorConfig& config, UtcMicros from, UtcMicros to,
               const std::optional<std::string>& tenant) {
  Bill bill;
  bill.from = from;
  bill.to = to;
  // The store's clock: the arrival of the newest journaled frame (the period's end when none).
  UtcMicros clock_end = to;
  if (const auto last = store.last_frame_at()) clock_end = *last;
  const std::int64_t cadence_us = config.validation.cadence_s * kMicrosPerSecond;
  std::map<std::string, TenantBill> tenants;
  for (auto& m : store.meters()) {
    // The configuration's registry wins over what the store remembers.
    if (const MeterEntry* e = config.find_meter(m.id)) {
      m.model = e->model;
      m.label = e->label;
      m.tenant = e->tenant;
      m.location = e->location;
      m.tariff = e->tariff;
    }
    if (tenant && m.tenant != *tenant) continue;
    BillLine line;
    auto points = load_points(store, m.id, from, to);
    if (points.empty() && !m.registered) continue;
    line.consumption = consumption(points, from, to);
    line.peak_counts = register_peak_counts(points, from, to);
    line.peak_15min_w = peak_15min_w(points, from, to);
    line.demand_resets = resets_in(points, from, to);
    for (const auto& p : points)
      if (p.at >= from && p.at < to) ++line.readings;
    UtcMicros span_from = from;
    for (const auto& p : points)
      if (p.at >= from) {
        if (points.front().at >= from) span_from = p.at;  // meter first heard inside the period
        break;
      }
    const UtcMicros span_to = std::min(to, std::max(clock_end + 1, span_from));
    line.expected = span_to > span_from ? (span_to - span_from + cadence_us - 1) / cadence_us : 0;
    const Tariff* t = config.find_tariff(m.tariff);
    line.tariff = t ? t->name : "";
    line.currency = t ? t->currency : "USD";
    if (t) {
      line.energy_cents = charge_cents(line.consumption.wh, t->energy_per_kwh, 1000);
      line.demand_cents = charge_cents(line.peak_counts, t->demand_per_kw, 50);
      line.fixed_cents = charge_cents(1, t->fixed_per_meter, 1);
      bill.currency = t->currency;
    }
    line.total_cents = line.energy_cents + line.demand_cents + line.fixed_cents;
    auto& tb = tenants[m.tenant];
    tb.tenant = m.tenant;
    for (TenantBill* x : {&tb, &bill.total}) {
      x->meters += 1;
      x->wh += line.consumption.wh;
      x->energy_cents += line.energy_cents;
      x->demand_cents += line.demand_cents;
      x->fixed_cents += line.fixed_cents;
      x->total_cents += line.total_cents;
    }
    line.meter = std::move(m);
    bill.lines.push_back(std::move(line));
  }
  for (auto& [k, v] : tenants) bill.tenants.push_back(v);
  return bill;
}

namespace {

std::string reading_json(const std::optional<Point>& p) {
  if (!p) return "null";
  return fmt::format("{{\"received_at\":\"{}\",\"total_kwh\":{},\"epoch\":{}}}", format_utc(p->at),
                     p->total_kwh, p->epoch);
}

std::string ratio_text(std::int64_t got, std::int64_t expected) {
  if (expected <= 0) return "null";
  const std::int64_t permille = (got * 1000 + expected / 2) / expected;
  return fmt::format("{}.{:03}", permille / 1000, permille % 1000);
}

}  // namespace

void write_bill(const Bill& bill, const std::string& format, std::string& out) {
  if (format == "json") {
    out += fmt::format("{{\"from\":\"{}\",\"to\":\"{}\",\"currency\":\"{}\",\"meters\":[",
                       format_utc(bill.from), format_utc(bill.to), json_escape(bill.currency));
    bool first = true;
    for (const auto& l : bill.lines) {
      if (!first) out += ',';
      first = false;
      out += fmt::format(
          "{{\"meter_id\":{},\"label\":\"{}\",\"tenant\":\"{}\",\"location\":\"{}\","
          "\"model\":\"{}\",\"tariff\":\"{}\",\"start\":{},\"end\":{},\"kwh\":{},\"wh\":{},"
          "\"partial\":{},\"epochs\":{},\"peak_demand_counts\":{},\"peak_kw\":{},"
          "\"peak_kw_15min\":{},\"demand_resets\":{},\"readings\":{},\"expected_readings\":{},"
          "\"receive_ratio\":{},\"energy_charge\":{},\"demand_charge\":{},\"fixed_charge\":{},"
          "\"total\":{}}}",
          l.meter.id, json_escape(l.meter.label), json_escape(l.meter.tenant),
          json_escape(l.meter.location), json_escape(l.meter.model), json_escape(l.tariff),
          reading_json(l.consumption.start), reading_json(l.consumption.end),
          format_kwh(l.consumption.wh), l.consumption.wh,
          l.consumption.partial_start || l.consumption.partial_end ? "true" : "false",
          l.consumption.epochs, l.peak_counts, kw_from_counts(l.peak_counts),
          l.peak_15min_w ? kw_from_w(*l.peak_15min_w) : "null", l.demand_resets, l.readings,
          l.expected, ratio_text(l.readings, l.expected), format_cents(l.energy_cents),
          format_cents(l.demand_cents), format_cents(l.fixed_cents), format_cents(l.total_cents));
    }
    out += "],\"tenants\":[";
    first = true;
    for (const auto& t : bill.tenants) {
      if (!first) out += ',';
      first = false;
      out += fmt::format(
          "{{\"tenant\":\"{}\",\"meters\":{},\"kwh\":{},\"energy_charge\":{},\"demand_charge\":{},"
          "\"fixed_charge\":{},\"total\":{}}}",
          json_escape(t.tenant), t.meters, format_kwh(t.wh), format_cents(t.energy_cents),
          format_cents(t.demand_cents), format_cents(t.fixed_cents), format_cents(t.total_cents));
    }
    const auto& t = bill.total;
    out += fmt::format(
        "],\"total\":{{\"meters\":{},\"kwh\":{},\"energy_charge\":{},\"demand_charge\":{},"
        "\"fixed_charge\":{},\"total\":{}}}}}\n",
        t.meters, format_kwh(t.wh), format_cents(t.energy_cents), format_cents(t.demand_cents),
        format_cents(t.fixed_cents), format_cents(t.total_cents));
    return;
  }
  if (format == "csv") {
    out +=
        "kind,meter_id,label,tenant,location,start_at,start_kwh,end_at,end_kwh,kwh,peak_kw,"
        "peak_kw_15min,demand_resets,receive_ratio,energy_charge,demand_charge,fixed_charge,"
        "total\n";
    for (const auto& l : bill.lines) {
      const auto& c = l.consumption;
      out += fmt::format(
          "meter,{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", l.meter.id,
          csv_field(l.meter.label), csv_field(l.meter.tenant), csv_field(l.meter.location),
          c.start ? format_utc(c.start->at) : "", c.start ? std::to_string(c.start->total_kwh) : "",
          c.end ? format_utc(c.end->at) : "", c.end ? std::to_string(c.end->total_kwh) : "",
          format_kwh(c.wh), kw_from_counts(l.peak_counts),
          l.peak_15min_w ? kw_from_w(*l.peak_15min_w) : "", l.demand_resets,
          ratio_text(l.readings, l.expected) == "null" ? "" : ratio_text(l.readings, l.expected),
          format_cents(l.energy_cents), format_cents(l.demand_cents), format_cents(l.fixed_cents),
          format_cents(l.total_cents));
    }
    for (const auto& t : bill.tenants)
      out +=
          fmt::format("tenant,,,{},,,,,,{},,,,,{},{},{},{}\n", csv_field(t.tenant),
                      format_kwh(t.wh), format_cents(t.energy_cents), format_cents(t.demand_cents),
                      format_cents(t.fixed_cents), format_cents(t.total_cents));
    const auto& t = bill.total;
    out += fmt::format("total,,,,,,,,,{},,,,,{},{},{},{}\n", format_kwh(t.wh),
                       format_cents(t.energy_cents), format_cents(t.demand_cents),
                       format_cents(t.fixed_cents), format_cents(t.total_cents));
    return;
  }
  // table
  out += fmt::format("Bill {} .. {} ({})\n", format_utc_seconds(bill.from),
                     format_utc_seconds(bill.to), bill.currency);
  out += fmt::format(
      "{:>6} {:<14} {:<12} {:<20} {:>10} {:<20} {:>10} {:>12} {:>8} {:>8} {:>6} "
      "{:>6} {:>10} {:>10} {:>8} {:>10}\n",
      "meter", "label", "tenant", "start", "start_kwh", "end", "end_kwh", "kwh", "peak_kw",
      "pk15_kw", "resets", "recv", "energy", "demand", "fixed", "total");
  for (const auto& l : bill.lines) {
    const auto& c = l.consumption;
    out += fmt::format(
        "{:>6} {:<14} {:<12} {:<20} {:>10} {:<20} {:>10} {:>12} {:>8} {:>8} {:>6} {:>6} {:>10} "
        "{:>10} {:>8} {:>10}\n",
        l.meter.id, l.meter.label.substr(0, 14), l.meter.tenant.substr(0, 12),
        c.start ? format_utc_seconds(c.start->at) : "-",
        c.start ? std::to_string(c.start->total_kwh) : "-",
        c.end ? format_utc_seconds(c.end->at) : "-", c.end ? std::to_string(c.end->total_kwh) : "-",
        format_kwh(c.wh) + (c.partial_start || c.partial_end ? "*" : ""),
        kw_from_counts(l.peak_counts), l.peak_15min_w ? kw_from_w(*l.peak_15min_w) : "-",
        l.demand_resets, ratio_text(l.readings, l.expected), format_cents(l.energy_cents),
        format_cents(l.demand_cents), format_cents(l.fixed_cents), format_cents(l.total_cents));
  }
  out += "\nPer tenant\n";
  out += fmt::format("{:<20} {:>6} {:>14} {:>12} {:>12} {:>10} {:>12}\n", "tenant", "meters", "kwh",
                     "energy", "demand", "fixed", "total");
  auto trow = [&](const TenantBill& t, const std::string& name) {
    out += fmt::format("{:<20} {:>6} {:>14} {:>12} {:>12} {:>10} {:>12}\n", name, t.meters,
                       format_kwh(t.wh), format_cents(t.energy_cents), format_cents(t.demand_cents),
                       format_cents(t.fixed_cents), format_cents(t.total_cents));
  };
  for (const auto& t : bill.tenants) trow(t, t.tenant.empty() ? "(none)" : t.tenant);
  trow(bill.total, "TOTAL");
  out += "(* partial: the meter has no reading before the start or after the end)\n";
}

}  // namespace imsm::collector
