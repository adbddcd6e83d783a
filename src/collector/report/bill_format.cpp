#include "collector/report/bill_format.h"

#include <fmt/format.h>

#include <algorithm>

#include "collector/report/report.h"
#include "common/text.h"

namespace imsm::collector {

namespace {

std::string kw_from_w(std::int64_t w) {
  return format_kwh(w);
}  // W -> kW, 3 decimals

std::string ratio_text(std::int64_t got, std::int64_t expected) {
  if (expected <= 0) return "";
  const std::int64_t permille = (got * 1000 + expected / 2) / expected;
  return fmt::format("{}.{:03}", permille / 1000, permille % 1000);
}

std::string joined(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string money(const BillLine& l, std::int64_t cents) {
  return l.charged ? format_cents(cents) : "";
}

// --- JSON ---------------------------------------------------------------------------------

std::string q(std::string_view s) {
  return fmt::format("\"{}\"", json_escape(s));
}
std::string or_null(const std::string& s) {
  return s.empty() ? "null" : s;
}
std::string qn(const std::string& s) {
  return s.empty() ? "null" : q(s);
}

// The billed demand's resolution: 20 W per register count (guide 2.5.2), 4 kW per kWh step
// over 15 minutes for the interval method.
std::string resolution_kw(DemandMethod m) {
  if (m == DemandMethod::None) return "null";
  return m == DemandMethod::Interval15Min ? "4.000" : "0.020";
}

std::string reading_json(const TimeZone& tz, const std::optional<Point>& p) {
  if (!p) return "null";
  return fmt::format("{{\"received_at\":{},\"total_kwh\":{},\"epoch\":{}}}",
                     q(format_local(tz, p->at, true)), p->total_kwh, p->epoch);
}

std::string line_json(const Bill& b, const TimeZone& tz, const BillLine& l) {
  std::string parts;
  for (const auto& p : l.energy)
    parts += fmt::format("{}{{\"period\":{},\"price_per_kwh\":{},\"kwh\":{},\"charge\":{}}}",
                         parts.empty() ? "" : ",", q(p.name), format_micros(p.price, 6),
                         format_kwh(p.wh), format_cents(p.cents));
  std::string flags;
  for (const auto& f : l.flags) {
    if (!flags.empty()) flags += ',';
    flags += q(f);
  }
  const bool reg = l.demand.method == DemandMethod::Register ||
                   l.demand.method == DemandMethod::RegisterSinceReset ||
                   l.demand.method == DemandMethod::RegisterCarried;
  return fmt::format(
      "{{\"meter_id\":{},\"label\":{},\"tenant\":{},\"location\":{},\"model\":{},"
      "\"assigned\":{},\"tariff\":{},\"currency\":{},\"from\":{},\"to\":{},\"tz\":{},"
      "\"start\":{},\"end\":{},\"final\":{},\"kwh\":{},\"wh\":{},\"epochs\":{},"
      "\"demand_method\":{},\"demand_kw\":{},\"demand_resolution_kw\":{},"
      "\"peak_demand_counts\":{},\"peak_kw_15min\":{},"
      "\"demand_resets\":{},\"readings\":{},\"expected_readings\":{},\"receive_ratio\":{},"
      "\"energy\":[{}],\"energy_charge\":{},\"demand_charge\":{},\"fixed_charge\":{},"
      "\"minimum_charge\":{},\"total\":{},\"flags\":[{}]}}",
      l.meter.id, q(l.meter.label), q(l.meter.tenant), q(l.meter.location), q(l.meter.model),
      l.assigned, qn(l.tariff), qn(l.currency), q(format_local(tz, b.from)),
      q(format_local(tz, b.to)), q(b.tz), reading_json(tz, l.consumption.start),
      reading_json(tz, l.consumption.end), l.final, format_kwh(l.consumption.wh), l.consumption.wh,
      l.consumption.epochs, q(to_string(l.demand.method)), kw_from_w(l.demand.w),
      resolution_kw(l.demand.method), reg ? std::to_string(l.demand.register_counts) : "null",
      l.demand.interval_w ? kw_from_w(*l.demand.interval_w) : "null", l.demand.resets, l.readings,
      l.expected, or_null(ratio_text(l.readings, l.expected)), parts,
      or_null(money(l, l.energy_cents)), or_null(money(l, l.demand_cents)),
      or_null(money(l, l.fixed_cents)), or_null(money(l, l.minimum_cents)),
      or_null(money(l, l.total_cents)), flags);
}

std::string totals_json(const Totals& t, bool with_tenant) {
  const bool charged = !t.currency.empty();
  auto m = [&](std::int64_t c) { return charged ? format_cents(c) : std::string("null"); };
  return fmt::format(
      "{{{}\"currency\":{},\"meters\":{},\"kwh\":{},\"energy_charge\":{},\"demand_charge\":{},"
      "\"fixed_charge\":{},\"minimum_charge\":{},\"total\":{}}}",
      with_tenant ? fmt::format("\"tenant\":{},", q(t.tenant)) : std::string(), qn(t.currency),
      t.meters, format_kwh(t.wh), m(t.energy_cents), m(t.demand_cents), m(t.fixed_cents),
      m(t.minimum_cents), m(t.total_cents));
}

void write_json(const Bill& b, const TimeZone& tz, std::string& out) {
  out += fmt::format(
      "{{\"from\":{},\"to\":{},\"tz\":{},\"energy_only\":{},\"provisional_lines\":{},"
      "\"meters_reset\":{},\"unassigned_meters\":{},\"meters\":[",
      q(format_local(tz, b.from)), q(format_local(tz, b.to)), q(b.tz), b.energy_only, b.provisional,
      b.meters_reset, b.unassigned);
  for (std::size_t i = 0; i < b.lines.size(); ++i) {
    if (i) out += ',';
    out += line_json(b, tz, b.lines[i]);
  }
  out += "],\"tenants\":[";
  for (std::size_t i = 0; i < b.tenants.size(); ++i) {
    if (i) out += ',';
    out += totals_json(b.tenants[i], true);
  }
  out += "],\"totals\":[";
  for (std::size_t i = 0; i < b.totals.size(); ++i) {
    if (i) out += ',';
    out += totals_json(b.totals[i], false);
  }
  out += "]}\n";
}

// --- CSV ----------------------------------------------------------------------------------

void write_csv(const Bill& b, const TimeZone& tz, std::string& out) {
  out +=
      "kind,from,to,tz,meter_id,label,tenant,location,model,assigned,tariff,currency,"
      "start_at,start_kwh,start_epoch,end_at,end_kwh,end_epoch,final,kwh,epochs,demand_method,"
      "demand_kw,peak_demand_counts,peak_kw_15min,demand_resets,readings,expected_readings,"
      "receive_ratio,energy_parts,energy_charge,demand_charge,fixed_charge,minimum_charge,"
      "total,flags\n";
  const std::string period =
      fmt::format("{},{},{}", format_local(tz, b.from), format_local(tz, b.to), csv_field(b.tz));
  for (const auto& l : b.lines) {
    const auto& c = l.consumption;
    std::vector<std::string> parts;
    for (const auto& p : l.energy)
      parts.push_back(fmt::format("{}:{}kWh@{}={}", p.name, format_kwh(p.wh),
                                  format_micros(p.price, 6), format_cents(p.cents)));
    out += fmt::format(
        "meter,{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},"
        "{},{},{},{},{},{}\n",
        period, l.meter.id, csv_field(l.meter.label), csv_field(l.meter.tenant),
        csv_field(l.meter.location), csv_field(l.meter.model), l.assigned, csv_field(l.tariff),
        l.currency, c.start ? format_local(tz, c.start->at, true) : "",
        c.start ? std::to_string(c.start->total_kwh) : "",
        c.start ? std::to_string(c.start->epoch) : "",
        c.end ? format_local(tz, c.end->at, true) : "",
        c.end ? std::to_string(c.end->total_kwh) : "", c.end ? std::to_string(c.end->epoch) : "",
        l.final, format_kwh(c.wh), c.epochs, to_string(l.demand.method), kw_from_w(l.demand.w),
        l.demand.register_counts, l.demand.interval_w ? kw_from_w(*l.demand.interval_w) : "",
        l.demand.resets, l.readings, l.expected, ratio_text(l.readings, l.expected),
        csv_field(joined(parts, ";")), money(l, l.energy_cents), money(l, l.demand_cents),
        money(l, l.fixed_cents), money(l, l.minimum_cents), money(l, l.total_cents),
        joined(l.flags, ";"));
  }
  auto row = [&](const char* kind, const Totals& t) {
    const bool ch = !t.currency.empty();
    auto m = [&](std::int64_t x) { return ch ? format_cents(x) : std::string(); };
    out += fmt::format("{},{},,,{},,,,,{},,,,,,,,{},,,,,,,,,,,{},{},{},{},{},\n", kind, period,
                       csv_field(t.tenant), t.currency, format_kwh(t.wh), m(t.energy_cents),
                       m(t.demand_cents), m(t.fixed_cents), m(t.minimum_cents), m(t.total_cents));
  };
  for (const auto& t : b.tenants) row("tenant", t);
  for (const auto& t : b.totals) row("total", t);
}

// --- table --------------------------------------------------------------------------------

using Rows = std::vector<std::vector<std::string>>;

// Columns as wide as their widest cell; `left` columns are left-aligned.
void append_table(const Rows& rows, const std::vector<bool>& left, std::string& out) {
  std::vector<std::size_t> w(rows.front().size(), 0);
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (i) line += ' ';
      const std::string pad(w[i] - r[i].size(), ' ');
      line += left[i] ? r[i] + pad : pad + r[i];
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
}

std::string demand_text(const BillLine& l) {
  if (l.demand.method == DemandMethod::None) return "-";
  return kw_from_w(l.demand.w) + " " + std::string(to_string(l.demand.method));
}

void write_table(const Bill& b, const TimeZone& tz, std::string& out) {
  out += fmt::format("Bill {} .. {} ({}){}\n", format_local(tz, b.from), format_local(tz, b.to),
                     b.tz, b.energy_only ? ", energy only: no charges" : "");
  Rows rows{{"meter", "label", "tenant", "tariff", "start", "start_kwh", "end", "end_kwh", "kwh",
             "demand_kw method", "resets", "recv", "energy", "demand", "fixed", "minimum", "total",
             "cur", "flags"}};
  for (const auto& l : b.lines) {
    const auto& c = l.consumption;
    rows.push_back({std::to_string(l.meter.id), l.meter.label, l.meter.tenant,
                    l.charged ? l.tariff : "-", c.start ? format_local(tz, c.start->at) : "-",
                    c.start ? std::to_string(c.start->total_kwh) : "-",
                    c.end ? format_local(tz, c.end->at) : "-",
                    c.end ? std::to_string(c.end->total_kwh) : "-", format_kwh(c.wh),
                    demand_text(l), std::to_string(l.demand.resets),
                    ratio_text(l.readings, l.expected), money(l, l.energy_cents),
                    money(l, l.demand_cents), money(l, l.fixed_cents), money(l, l.minimum_cents),
                    money(l, l.total_cents), l.currency, joined(l.flags, ",")});
  }
  append_table(rows,
               {false, true, true, true, true, false, true, false, false, true, false, false, false,
                false, false, false, false, true, true},
               out);
  std::string parts;
  for (const auto& l : b.lines)
    if (l.energy.size() > 1)
      for (const auto& p : l.energy)
        parts += fmt::format("  {:>6} {:<12} {:>12} kWh x {:>10} = {:>10} {}\n", l.meter.id, p.name,
                             format_kwh(p.wh), format_micros(p.price, 6), format_cents(p.cents),
                             l.currency);
  if (!parts.empty()) out += "\nEnergy by time-of-use period or tier block\n" + parts;
  out += "\nPer tenant\n";
  Rows t{{"tenant", "cur", "meters", "kwh", "energy", "demand", "fixed", "minimum", "total"}};
  auto trow = [&](const Totals& x, const std::string& name) {
    const bool ch = !x.currency.empty();
    auto m = [&](std::int64_t v) { return ch ? format_cents(v) : std::string("-"); };
    t.push_back({name, ch ? x.currency : "(no charge)", std::to_string(x.meters), format_kwh(x.wh),
                 m(x.energy_cents), m(x.demand_cents), m(x.fixed_cents), m(x.minimum_cents),
                 m(x.total_cents)});
  };
  for (const auto& x : b.tenants) trow(x, x.tenant.empty() ? "(no tenant)" : x.tenant);
  for (const auto& x : b.totals) trow(x, "TOTAL");
  append_table(t, {true, true, false, false, false, false, false, false, false}, out);
  out += fmt::format(
      "\n{} of {} lines provisional (the end not yet bracketed by settled readings: kWh may "
      "still change); {} meters reset inside the period; {} unassigned{}\n",
      b.provisional, b.lines.size(), b.meters_reset, b.unassigned,
      b.energy_only ? "" : " (not charged unless --unassigned-tariff)");
}

}  // namespace

void write_bill(const Bill& bill, const TimeZone& tz, const std::string& format, std::string& out) {
  if (format == "json") return write_json(bill, tz, out);
  if (format == "csv") return write_csv(bill, tz, out);
  write_table(bill, tz, out);
}

}  // namespace imsm::collector
