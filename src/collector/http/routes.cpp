#include "collector/http/routes.h"

#include <charconv>
#include <limits>
#include <set>

#include "collector/report/bill_source.h"
#include "collector/report/interval.h"
#include "collector/report/listing.h"
#include "collector/report/tz.h"
#include "common/text.h"

namespace imsm::collector::http {

namespace {

constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
constexpr auto kMax = std::numeric_limits<std::int64_t>::max();

void check_known(const Params& q, std::initializer_list<const char*> known) {
  const std::set<std::string> names(known.begin(), known.end());
  for (const auto& [k, v] : q)
    if (!names.count(k)) throw ApiError(400, k, "unknown parameter '" + k + "'");
}

std::string param(const Params& q, const char* name) {
  const auto it = q.find(name);
  return it == q.end() ? std::string() : it->second;
}

UtcMicros time_param(const Params& q, const char* name, UtcMicros fallback) {
  const auto text = param(q, name);
  if (text.empty()) return fallback;
  const auto t = parse_utc(text);
  if (!t) throw ApiError(400, name, std::string(name) + " '" + text + "': expected ISO 8601");
  return *t;
}

std::optional<std::int64_t> integer(std::string_view s) {
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::uint16_t meter_param(const std::string& text, const char* name) {
  const auto v = integer(text);
  if (!v || *v < 0 || *v > 65535)
    throw ApiError(400, name, std::string(name) + " '" + text + "': expected 0..65535");
  return static_cast<std::uint16_t>(*v);
}

// jsonl (one object a line) -> a JSON array of the same objects.
std::string json_array(const std::string& jsonl) {
  std::string out = "[";
  std::size_t start = 0;
  while (start < jsonl.size()) {
    auto end = jsonl.find('\n', start);
    if (end == std::string::npos) end = jsonl.size();
    if (end > start) {
      if (out.size() > 1) out.push_back(',');
      out.append(jsonl, start, end - start);
    }
    start = end + 1;
  }
  return out + "]";
}

// One meter's row and summary by keyed queries (not every meter's summary per request).
MeterSummary find_meter(Store& store, std::uint16_t id, const MeterStatusRule& rule) {
  if (auto m = meter_summary(store, id, rule)) return std::move(*m);
  throw ApiError(404, "", "no meter " + std::to_string(id));
}

std::uint16_t known_meter(Store& store, std::uint16_t id) {
  if (!store.meter(id)) throw ApiError(404, "", "no meter " + std::to_string(id));
  return id;
}

// A cursor "<received_at>_<frame_id>": the last row of the previous page.
std::pair<UtcMicros, std::int64_t> cursor_param(const std::string& text) {
  const auto sep = text.find('_');
  const auto t = sep == std::string::npos ? std::nullopt : integer(text.substr(0, sep));
  const auto f = sep == std::string::npos ? std::nullopt : integer(text.substr(sep + 1));
  if (!t || !f) throw ApiError(400, "cursor", "cursor '" + text + "': not a cursor of this API");
  return {*t, *f};
}

std::size_t limit_param(const Params& q) {
  const auto text = param(q, "limit");
  if (text.empty()) return kDefaultLimit;
  const auto v = integer(text);
  if (!v || *v < 1 || *v > static_cast<std::int64_t>(kMaxLimit))
    throw ApiError(400, "limit", "limit '" + text + "': expected 1.." + std::to_string(kMaxLimit));
  return static_cast<std::size_t>(*v);
}

Body interval_body(Store& store, std::uint16_t meter, const Params& q, const std::string& format) {
  const auto step = parse_interval_step(param(q, "interval"));
  if (!step) throw ApiError(400, "interval", "interval must be 15m, 1h, 1d or 1mo");
  TimeZone tz;
  if (const auto name = param(q, "tz"); !name.empty()) {
    std::string error;
    auto z = TimeZone::load(name, error);
    if (!z) throw ApiError(400, "tz", "tz: " + error);
    tz = *z;
  }
  std::optional<UtcMicros> bounds[2];
  const char* names[2] = {"from", "to"};
  for (int i = 0; i < 2; ++i) {
    const auto text = param(q, names[i]);
    bounds[i] = text.empty() ? std::nullopt : parse_time_in(tz, text);
    if (!bounds[i])
      throw ApiError(400, names[i], std::string("interval needs ") + names[i] + " (ISO 8601)");
  }
  if (*bounds[1] <= *bounds[0]) throw ApiError(400, "to", "to must be after from");
  const auto edges = interval_edges(tz, *step, *bounds[0], *bounds[1]);
  std::vector<IntervalRow> rows;
  const auto points = load_points(store, meter, edges.front(), edges.back());
  if (!points.empty()) rows = meter_intervals(meter, points, edges);
  Body b;
  if (format == "csv") b.content_type = "text/csv";
  write_intervals(rows, tz, *step, format, b.text);
  return b;
}

}  // namespace

std::string error_json(const std::string& message, const std::string& parameter) {
  std::string out = "{\"error\":\"" + json_escape(message) + "\"";
  if (!parameter.empty()) out += ",\"parameter\":\"" + json_escape(parameter) + "\"";
  return out + "}";
}

Body meters_body(Store& store, const MeterStatusRule& rule) {
  std::string lines;
  for (const auto& m : meter_summaries(store, rule))
    append_meter(lines, ListFormat::Jsonl, m, rule.as_of);
  return Body{"application/json", json_array(lines), {}};
}

Body meter_body(Store& store, const std::string& id, const MeterStatusRule& rule) {
  std::string line;
  append_meter(line, ListFormat::Jsonl, find_meter(store, meter_param(id, "meter_id"), rule),
               rule.as_of);
  while (!line.empty() && line.back() == '\n') line.pop_back();
  return Body{"application/json", line, {}};
}

Body readings_body(Store& store, const std::string& id, const Params& q) {
  check_known(q, {"from", "to", "interval", "tz", "format", "limit", "cursor"});
  const auto meter = known_meter(store, meter_param(id, "meter_id"));
  const auto format = param(q, "format").empty() ? std::string("json") : param(q, "format");
  if (format != "json" && format != "csv")
    throw ApiError(400, "format", "format must be json or csv, not '" + format + "'");
  if (!param(q, "interval").empty()) return interval_body(store, meter, q, format);
  auto from = time_param(q, "from", kMin);
  const auto to = time_param(q, "to", kMax);
  const auto limit = limit_param(q);
  std::optional<std::pair<UtcMicros, std::int64_t>> after;
  if (const auto c = param(q, "cursor"); !c.empty()) {
    after = cursor_param(c);
    from = std::max(from, after->first);
  }
  const auto fmt = format == "csv" ? ListFormat::Csv : ListFormat::Jsonl;
  Body b;
  if (fmt == ListFormat::Csv) b.content_type = "text/csv";
  std::string rows;
  append_reading_header(rows, fmt);
  std::size_t n = 0;
  std::pair<UtcMicros, std::int64_t> last{};
  store.each_reading(meter, from, to, [&](const StoredReading& s) {
    const std::pair<UtcMicros, std::int64_t> key{s.r.received_at, s.r.frame_id};
    if (after && key <= *after) return;
    if (n == limit) {
      if (b.next_cursor.empty())
        b.next_cursor = std::to_string(last.first) + "_" + std::to_string(last.second);
      return;
    }
    append_reading(rows, fmt, s);
    last = key;
    ++n;
  });
  if (fmt == ListFormat::Csv) {
    b.text = std::move(rows);
  } else {
    b.text = "{\"readings\":" + json_array(rows) + ",\"next_cursor\":" +
             (b.next_cursor.empty() ? std::string("null") : "\"" + b.next_cursor + "\"") + "}";
  }
  return b;
}

Body events_body(Store& store, const Params& q) {
  check_known(q, {"meter", "kind", "from", "to"});
  std::optional<std::uint16_t> meter;
  if (const auto m = param(q, "meter"); !m.empty()) meter = meter_param(m, "meter");
  const auto kind = param(q, "kind");
  if (!kind.empty() && !parse_event_kind(kind))
    throw ApiError(400, "kind", "kind '" + kind + "': expected one of " + event_kind_names());
  const auto from = time_param(q, "from", kMin);
  const auto to = time_param(q, "to", kMax);
  std::string lines;
  for (const auto& e : store.events(meter, from, to, kind))
    append_event(lines, ListFormat::Jsonl, e);
  return Body{"application/json", json_array(lines), {}};
}

Body sources_body(Store& store) {
  std::string lines;
  for (const auto& [name, c] : store.sources()) append_source(lines, ListFormat::Jsonl, name, c);
  return Body{"application/json", json_array(lines), {}};
}

}  // namespace imsm::collector::http
