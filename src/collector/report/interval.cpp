#include "collector/report/interval.h"

#include <fmt/format.h>

#include <algorithm>

#include "collector/report/green_button.h"
#include "collector/report/report.h"

namespace imsm::collector {

std::optional<IntervalStep> parse_interval_step(std::string_view t) {
  if (t == "15m" || t == "15min") return IntervalStep::Quarter;
  if (t == "1h" || t == "hour" || t == "hourly") return IntervalStep::Hour;
  if (t == "1d" || t == "day" || t == "daily") return IntervalStep::Day;
  if (t == "1mo" || t == "month" || t == "monthly") return IntervalStep::Month;
  return std::nullopt;
}

std::int64_t nominal_seconds(IntervalStep s) {
  switch (s) {
    case IntervalStep::Quarter:
      return 900;
    case IntervalStep::Hour:
      return 3600;
    case IntervalStep::Day:
      return 86'400;
    case IntervalStep::Month:
      return 0;
  }
  return 0;
}

std::vector<UtcMicros> interval_edges(const TimeZone& tz, IntervalStep step, UtcMicros from,
                                      UtcMicros to) {
  std::vector<UtcMicros> edges;
  if (to <= from) return edges;
  if (step == IntervalStep::Day || step == IntervalStep::Month) {
    const bool day = step == IntervalStep::Day;
    UtcMicros d = day ? tz.day_start(from) : tz.month_start(from);
    edges.push_back(d);
    while (d < to) edges.push_back(d = day ? tz.next_day(d) : tz.next_month(d));
    return edges;
  }
  // Quarters and hours: aligned to local wall-clock time. Offsets are whole quarters in every
  // zone this is used with, so UTC instants step evenly across a DST change.
  const std::int64_t step_us = nominal_seconds(step) * kMicrosPerSecond;
  const std::int64_t off = tz.offset_s(from) * kMicrosPerSecond;
  const std::int64_t local = from + off;
  UtcMicros t = from - (((local % step_us) + step_us) % step_us);
  edges.push_back(t);
  while (t < to) edges.push_back(t += step_us);
  return edges;
}

std::vector<IntervalRow> meter_intervals(std::uint16_t meter, const std::vector<Point>& p,
                                         const std::vector<UtcMicros>& edges) {
  std::vector<IntervalRow> out;
  const auto wh = rollup_edges_wh(p, edges);
  for (std::size_t k = 0; k + 1 < edges.size(); ++k) {
    IntervalRow r{meter, edges[k], edges[k + 1], std::nullopt, false};
    bool touched = false;
    for (std::size_t i = 0; i < p.size(); ++i) {
      // One epoch's readings p[i..j]: complete when they bracket the interval; touched when
      // they overlap it or one of them lies inside it.
      std::size_t j = i;
      while (j + 1 < p.size() && p[j + 1].epoch == p[i].epoch) ++j;
      if (p[i].at <= r.start && p[j].at >= r.end) r.complete = true;
      if ((p[i].at < r.end && p[j].at > r.start) || (p[i].at >= r.start && p[i].at < r.end))
        touched = true;
      i = j;
    }
    if (touched) r.wh = wh[k];
    out.push_back(r);
  }
  return out;
}

void write_intervals(const std::vector<IntervalRow>& rows, const TimeZone& tz, IntervalStep step,
                     const std::string& format, std::string& out) {
  auto wh = [](const IntervalRow& r) { return r.wh ? std::to_string(*r.wh) : std::string(); };
  auto kwh = [](const IntervalRow& r) { return r.wh ? format_kwh(*r.wh) : std::string(); };
  if (format == "espi") return write_green_button(rows, tz, step, out);
  if (format == "csv") {
    out += "meter_id,start,end,kwh,wh,complete\n";
    for (const auto& r : rows)
      out += fmt::format("{},{},{},{},{},{}\n", r.meter_id, format_local(tz, r.start),
                         format_local(tz, r.end), kwh(r), wh(r), r.complete);
    return;
  }
  if (format == "json") {
    const std::int64_t len = nominal_seconds(step);
    out += fmt::format("{{\"tz\":\"{}\",\"interval_s\":{},\"intervals\":[", tz.name(),
                       len > 0 ? std::to_string(len) : "null");
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      out += fmt::format(
          "{}{{\"meter_id\":{},\"start\":\"{}\",\"end\":\"{}\",\"kwh\":{},\"wh\":{},"
          "\"complete\":{}}}",
          i ? "," : "", r.meter_id, format_local(tz, r.start), format_local(tz, r.end),
          r.wh ? kwh(r) : "null", r.wh ? wh(r) : "null", r.complete);
    }
    out += "]}\n";
    return;
  }
  out += fmt::format("{:>6} {:<25} {:<25} {:>14} {}\n", "meter", "start", "end", "kwh", "complete");
  for (const auto& r : rows)
    out += fmt::format("{:>6} {:<25} {:<25} {:>14} {}\n", r.meter_id, format_local(tz, r.start),
                       format_local(tz, r.end), r.wh ? kwh(r) : "-", r.complete ? "yes" : "no");
}

}  // namespace imsm::collector
