#include "collector/report/listing.h"

#include <fmt/format.h>

#include <cstring>
#include <limits>
#include <map>
#include <string_view>

#include "collector/report/text_table.h"
#include "common/hex.h"
#include "common/text.h"

namespace imsm::collector {

namespace {

std::string hex_of(const protocol::RawFrame& raw) {
  std::string s;
  append_hex(s, raw.data(), raw.size());
  return s;
}

std::string kw(std::uint16_t counts) {
  return kw_text(DemandCounts{counts});
}

// format_utc(t) appended without a temporary string: the date part ("YYYY-MM-DDT") from
// format_utc once per day (a month of readings has 30 days), the time of day by hand, so
// the text is format_utc's exactly.
struct UtcAppender {
  std::int64_t day = std::numeric_limits<std::int64_t>::min();
  std::string date;  // format_utc's text up to and including the 'T' of `day`
  void append(std::string& out, UtcMicros t) {
    const auto [days, rem, micros] = split_utc(t);
    std::int64_t us = micros;
    if (days != day) {
      const std::string full = format_utc(t);
      date = full.substr(0, full.find('T') + 1);
      day = days;
    }
    out += date;
    char buf[16] = {'0', '0', ':', '0', '0', ':', '0', '0', '.', '0', '0', '0', '0', '0', '0', 'Z'};
    auto two = [&](int at, std::int64_t v) {
      buf[at] = static_cast<char>('0' + v / 10);
      buf[at + 1] = static_cast<char>('0' + v % 10);
    };
    two(0, rem / 3600);
    two(3, rem / 60 % 60);
    two(6, rem % 60);
    for (int i = 14; i >= 9; --i, us /= 10) buf[i] = static_cast<char>('0' + us % 10);
    out.append(buf, sizeof buf);
  }
};

// The source's text as JSON string contents or a CSV field, worked out again only when the
// source changes (a listing's rows mostly share one).
struct SourceText {
  std::string source, text;
  bool filled = false;
  const std::string& of(const std::string& s, ListFormat f) {
    if (!filled || s != source) {
      source = s;
      text = f == ListFormat::Csv ? csv_field(s) : json_escape(s);
      filled = true;
    }
    return text;
  }
};

// The jsonl and csv rows of append_reading, written piece by piece (the listing of a meter's
// month is 8,640 of them): the same text as the fmt::format they replaced.
void append_reading_row(std::string& out, ListFormat f, const StoredReading& s) {
  thread_local UtcAppender utc;
  thread_local SourceText src_jsonl, src_csv;
  const Reading& r = s.r;
  const bool json = f == ListFormat::Jsonl;
  auto field = [&](std::string_view json_key, std::string_view csv_sep) {
    out += json ? json_key : csv_sep;
  };
  field("{\"meter_id\":", "");
  append_int(out, static_cast<unsigned>(r.meter_id));
  field(",\"received_at\":\"", ",");
  utc.append(out, r.received_at);
  field("\",\"total_kwh\":", ",");
  append_int(out, r.total_kwh);
  field(",\"kwh24\":", ",");
  append_int(out, r.kwh24);
  field(",\"epoch\":", ",");
  append_int(out, r.epoch);
  field(",\"peak_demand_counts\":", ",");
  append_int(out, static_cast<unsigned>(r.peak_demand_counts));
  field(",\"peak_demand_kw\":", ",");
  append_kw(out, DemandCounts{r.peak_demand_counts});
  field(",\"demand_resets\":", ",");
  append_int(out, static_cast<unsigned>(r.demand_resets));
  field(",\"source\":\"", ",");
  out += (json ? src_jsonl : src_csv).of(s.source, f);
  field("\",\"raw\":\"", ",");
  append_hex(out, s.raw.data(), s.raw.size());
  out += json ? "\"}\n" : "\n";
}

}  // namespace

bool parse_list_format(const std::string& text, ListFormat& out) {
  if (text == "jsonl" || text == "json")
    out = ListFormat::Jsonl;
  else if (text == "csv")
    out = ListFormat::Csv;
  else if (text == "table")
    out = ListFormat::Table;
  else
    return false;
  return true;
}

void append_reading_header(std::string& out, ListFormat f) {
  if (f == ListFormat::Csv)
    out +=
        "meter_id,received_at,total_kwh,kwh24,epoch,peak_demand_counts,peak_demand_kw,"
        "demand_resets,source,raw\n";
  else if (f == ListFormat::Table)
    out += fmt::format("{:>6} {:<27} {:>12} {:>9} {:>5} {:>8} {:>6}  {}\n", "meter", "received_at",
                       "total_kwh", "kwh24", "epoch", "peak_kw", "resets", "raw");
}

void append_reading(std::string& out, ListFormat f, const StoredReading& s) {
  const Reading& r = s.r;
  switch (f) {
    case ListFormat::Jsonl:
    case ListFormat::Csv:
      append_reading_row(out, f, s);
      break;
    case ListFormat::Table:
      out += fmt::format("{:>6} {:<27} {:>12} {:>9} {:>5} {:>8} {:>6}  {}\n", r.meter_id,
                         format_utc(r.received_at), r.total_kwh, r.kwh24, r.epoch,
                         kw(r.peak_demand_counts), r.demand_resets, hex_of(s.raw));
      break;
  }
}

void append_rejection_header(std::string& out, ListFormat f) {
  if (f == ListFormat::Csv)
    out += "frame_id,meter_id,received_at,source,burst,reason,detail,raw\n";
  else if (f == ListFormat::Table)
    out += fmt::format("{:>8} {:>6} {:<27} {:<6} {:<26} {:<24}  {}\n", "frame", "meter",
                       "received_at", "burst", "reason", "raw", "detail");
}

void append_rejection(std::string& out, ListFormat f, const StoredRejection& r) {
  const char* burst = protocol::to_string(static_cast<protocol::Burst>(r.burst));
  switch (f) {
    case ListFormat::Jsonl:
      out += fmt::format(
          "{{\"frame_id\":{},\"meter_id\":{},\"received_at\":\"{}\",\"source\":\"{}\","
          "\"burst\":\"{}\",\"reason\":\"{}\",\"detail\":\"{}\",\"raw\":\"{}\"}}\n",
          r.frame_id, r.meter_id, format_utc(r.received_at), json_escape(r.source), burst,
          json_escape(r.reason), json_escape(r.detail), hex_of(r.raw));
      break;
    case ListFormat::Csv:
      out += fmt::format("{},{},{},{},{},{},{},{}\n", r.frame_id, r.meter_id,
                         format_utc(r.received_at), csv_field(r.source), burst, r.reason,
                         csv_field(r.detail), hex_of(r.raw));
      break;
    case ListFormat::Table:
      out += fmt::format("{:>8} {:>6} {:<27} {:<6} {:<26} {}  {}\n", r.frame_id, r.meter_id,
                         format_utc(r.received_at), burst, r.reason, hex_of(r.raw), r.detail);
      break;
  }
}

void append_rollup_header(std::string& out, ListFormat f) {
  if (f == ListFormat::Csv)
    out += "meter_id,start,end,kwh,wh\n";
  else if (f == ListFormat::Table)
    out += fmt::format("{:>6} {:<20} {:<20} {:>14}\n", "meter", "start", "end", "kwh");
}

void append_rollup(std::string& out, ListFormat f, std::uint16_t meter, UtcMicros start,
                   UtcMicros end, std::int64_t wh) {
  const std::string kwh =
      fmt::format("{}{}.{:03}", wh < 0 ? "-" : "", std::abs(wh) / 1000, std::abs(wh) % 1000);
  switch (f) {
    case ListFormat::Jsonl:
      out +=
          fmt::format("{{\"meter_id\":{},\"start\":\"{}\",\"end\":\"{}\",\"kwh\":{},\"wh\":{}}}\n",
                      meter, format_utc_seconds(start), format_utc_seconds(end), kwh, wh);
      break;
    case ListFormat::Csv:
      out += fmt::format("{},{},{},{},{}\n", meter, format_utc_seconds(start),
                         format_utc_seconds(end), kwh, wh);
      break;
    case ListFormat::Table:
      out += fmt::format("{:>6} {:<20} {:<20} {:>14}\n", meter, format_utc_seconds(start),
                         format_utc_seconds(end), kwh);
      break;
  }
}

void append_event_header(std::string& out, ListFormat f) {
  if (f == ListFormat::Csv)
    out += "id,at,kind,meter_id,source,detail,retracted\n";
  else if (f == ListFormat::Table)
    out += fmt::format("{:>6} {:<27} {:<13} {:>6} {:<24} {}\n", "id", "at", "kind", "meter",
                       "source", "detail");
}

void append_event(std::string& out, ListFormat f, const StoredEvent& s) {
  const std::string meter = s.e.meter_id ? std::to_string(*s.e.meter_id) : "";
  switch (f) {
    case ListFormat::Jsonl:
      out += fmt::format(
          "{{\"id\":{},\"at\":\"{}\",\"kind\":\"{}\",\"meter_id\":{},\"source\":{},"
          "\"detail\":{},\"retracted\":{}}}\n",
          s.id, format_utc(s.e.at), to_string(s.e.kind), meter.empty() ? "null" : meter,
          s.source.empty() ? "null" : fmt::format("\"{}\"", json_escape(s.source)),
          s.e.detail.json(), s.retracted ? "true" : "false");
      break;
    case ListFormat::Csv:
      out += fmt::format("{},{},{},{},{},{},{}\n", s.id, format_utc(s.e.at), to_string(s.e.kind),
                         meter, csv_field(s.source), csv_field(s.e.detail.json()),
                         s.retracted ? 1 : 0);
      break;
    case ListFormat::Table:
      out += fmt::format("{:>6} {:<27} {:<13} {:>6} {:<24} {}{}\n", s.id, format_utc(s.e.at),
                         to_string(s.e.kind), meter.empty() ? "-" : meter,
                         s.source.empty() ? "-" : s.source, s.retracted ? "(retracted) " : "",
                         s.e.detail.json());
      break;
  }
}

void append_event_table(std::string& out, const std::vector<StoredEvent>& events) {
  TextTable t({{"id", true}, {"at"}, {"kind"}, {"meter", true}, {"source"}, {"detail"}});
  for (const auto& s : events)
    t.add({std::to_string(s.id), format_utc(s.e.at), to_string(s.e.kind),
           s.e.meter_id ? std::to_string(*s.e.meter_id) : "-", s.source.empty() ? "-" : s.source,
           (s.retracted ? "(retracted) " : "") + s.e.detail.json()});
  t.render(out);
}

const char* meter_status(const std::optional<Point>& last, const MeterStatusRule& r) {
  if (!last) return "waiting";
  return r.as_of - last->at > r.silent_after_us ? "silent" : "online";
}

namespace {
Point point_of(const Reading& r) {
  return Point{r.received_at, r.epoch, r.total_kwh, r.peak_demand_counts, r.demand_resets};
}

std::optional<Point> last_point(Store& store, std::uint16_t id) {
  const auto last = store.last_reading(id, std::numeric_limits<UtcMicros>::max());
  if (!last) return std::nullopt;
  return point_of(*last);
}
}  // namespace

std::vector<MeterSummary> meter_summaries(Store& store, const MeterStatusRule& rule) {
  std::vector<MeterSummary> out;
  auto readings = store.reading_counts();
  auto rejected = store.rejection_counts();
  const auto last = store.last_readings();
  for (auto& m : store.meters()) {
    MeterSummary s;
    s.readings = readings[m.id];
    s.rejected = rejected[m.id];
    if (const auto it = last.find(m.id); it != last.end()) s.last = point_of(it->second);
    s.status = meter_status(s.last, rule);
    s.info = std::move(m);
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<MeterSummary> meter_summary(Store& store, std::uint16_t id,
                                          const MeterStatusRule& rule) {
  auto m = store.meter(id);
  if (!m) return std::nullopt;
  MeterSummary s;
  s.readings = store.reading_count(id);
  s.rejected = store.rejection_count(id);
  s.last = last_point(store, id);
  s.status = meter_status(s.last, rule);
  s.info = std::move(*m);
  return s;
}

void append_meter_header(std::string& out, ListFormat f) {
  if (f == ListFormat::Csv)
    out +=
        "meter_id,registered,model,label,tenant,location,tariff,discovered_at,epoch,status,"
        "last_reading_at,total_kwh,peak_demand_counts,demand_resets,readings,rejected,as_of\n";
  else if (f == ListFormat::Table)
    out += fmt::format("{:>6} {:<4} {:<22} {:<14} {:<12} {:<8} {:<20} {:>12} {:>8} {:>8} {:>8}\n",
                       "meter", "reg", "model", "label", "tenant", "status", "last_reading",
                       "total_kwh", "peak_kw", "readings", "rejected");
}

void append_meter(std::string& out, ListFormat f, const MeterSummary& s, UtcMicros as_of) {
  const MeterInfo& m = s.info;
  const char* status = s.status;
  switch (f) {
    case ListFormat::Jsonl:
      out += fmt::format(
          "{{\"meter_id\":{},\"registered\":{},\"model\":\"{}\",\"label\":\"{}\",\"tenant\":\"{}\","
          "\"location\":\"{}\",\"tariff\":\"{}\",\"discovered_at\":{},\"epoch\":{},\"status\":\"{}"
          "\","
          "\"last_reading_at\":{},\"total_kwh\":{},\"peak_demand_counts\":{},\"demand_resets\":{},"
          "\"readings\":{},\"rejected\":{},\"as_of\":\"{}\"}}\n",
          m.id, m.registered ? "true" : "false", json_escape(m.model), json_escape(m.label),
          json_escape(m.tenant), json_escape(m.location), json_escape(m.tariff),
          m.discovered_at ? fmt::format("\"{}\"", format_utc(*m.discovered_at)) : "null", m.epoch,
          status, s.last ? fmt::format("\"{}\"", format_utc(s.last->at)) : "null",
          s.last ? std::to_string(s.last->total_kwh) : "null",
          s.last ? std::to_string(s.last->peak_demand_counts) : "null",
          s.last ? std::to_string(s.last->demand_resets) : "null", s.readings, s.rejected,
          format_utc(as_of));
      break;
    case ListFormat::Csv:
      out += fmt::format(
          "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", m.id, m.registered ? 1 : 0,
          csv_field(m.model), csv_field(m.label), csv_field(m.tenant), csv_field(m.location),
          csv_field(m.tariff), m.discovered_at ? format_utc(*m.discovered_at) : "", m.epoch, status,
          s.last ? format_utc(s.last->at) : "", s.last ? std::to_string(s.last->total_kwh) : "",
          s.last ? std::to_string(s.last->peak_demand_counts) : "",
          s.last ? std::to_string(s.last->demand_resets) : "", s.readings, s.rejected,
          format_utc(as_of));
      break;
    case ListFormat::Table:
      out += fmt::format("{:>6} {:<4} {:<22} {:<14} {:<12} {:<8} {:<20} {:>12} {:>8} {:>8} {:>8}\n",
                         m.id, m.registered ? "yes" : "no", m.model.substr(0, 22),
                         m.label.substr(0, 14), m.tenant.substr(0, 12), status,
                         s.last ? format_utc_seconds(s.last->at) : "-",
                         s.last ? std::to_string(s.last->total_kwh) : "-",
                         s.last ? kw(s.last->peak_demand_counts) : "-", s.readings, s.rejected);
      break;
  }
}

void append_meter_table(std::string& out, const std::vector<MeterSummary>& meters) {
  TextTable t({{"meter", true},
               {"reg"},
               {"model"},
               {"label"},
               {"tenant"},
               {"status"},
               {"last_reading"},
               {"total_kwh", true},
               {"peak_kw", true},
               {"readings", true},
               {"rejected", true}});
  for (const auto& s : meters) {
    const MeterInfo& m = s.info;
    t.add({std::to_string(m.id), m.registered ? "yes" : "no", m.model.empty() ? "-" : m.model,
           m.label.empty() ? "-" : m.label, m.tenant.empty() ? "-" : m.tenant, s.status,
           s.last ? format_utc_seconds(s.last->at) : "-",
           s.last ? std::to_string(s.last->total_kwh) : "-",
           s.last ? kw(s.last->peak_demand_counts) : "-", std::to_string(s.readings),
           std::to_string(s.rejected)});
  }
  t.render(out);
}

void append_source_table(std::string& out,
                         const std::vector<std::pair<std::string, SourceCounters>>& sources) {
  TextTable t({{"source"},
               {"bytes_in", true},
               {"frames", true},
               {"shared", true},
               {"no_stop", true},
               {"padding", true},
               {"gap", true},
               {"end", true},
               {"reconn", true}});
  for (const auto& [name, c] : sources)
    t.add({name, std::to_string(c.bytes_in), std::to_string(c.frames),
           std::to_string(c.shared_frames), std::to_string(c.skipped_no_stop),
           std::to_string(c.skipped_padding), std::to_string(c.skipped_gap),
           std::to_string(c.skipped_end), std::to_string(c.reconnects)});
  t.render(out);
}

void append_source_header(std::string& out, ListFormat f) {
  if (f == ListFormat::Csv)
    out +=
        "source,bytes_in,frames,shared_frames,skipped_no_stop,skipped_padding,skipped_gap,"
        "skipped_end,reconnects\n";
  else if (f == ListFormat::Table)
    out +=
        fmt::format("{:<32} {:>12} {:>10} {:>8} {:>10} {:>10} {:>10} {:>8} {:>6}\n", "source",
                    "bytes_in", "frames", "shared", "no_stop", "padding", "gap", "end", "reconn");
}

void append_source(std::string& out, ListFormat f, const std::string& name,
                   const SourceCounters& c) {
  switch (f) {
    case ListFormat::Jsonl:
      out += fmt::format(
          "{{\"source\":\"{}\",\"bytes_in\":{},\"frames\":{},\"shared_frames\":{},"
          "\"skipped_no_stop\":{},\"skipped_padding\":{},\"skipped_gap\":{},\"skipped_end\":{},"
          "\"reconnects\":{}}}\n",
          json_escape(name), c.bytes_in, c.frames, c.shared_frames, c.skipped_no_stop,
          c.skipped_padding, c.skipped_gap, c.skipped_end, c.reconnects);
      break;
    case ListFormat::Csv:
      out += fmt::format("{},{},{},{},{},{},{},{},{}\n", csv_field(name), c.bytes_in, c.frames,
                         c.shared_frames, c.skipped_no_stop, c.skipped_padding, c.skipped_gap,
                         c.skipped_end, c.reconnects);
      break;
    case ListFormat::Table:
      out += fmt::format("{:<32} {:>12} {:>10} {:>8} {:>10} {:>10} {:>10} {:>8} {:>6}\n", name,
                         c.bytes_in, c.frames, c.shared_frames, c.skipped_no_stop,
                         c.skipped_padding, c.skipped_gap, c.skipped_end, c.reconnects);
      break;
  }
}

}  // namespace imsm::collector
