// imsmeter readings --db PATH [--meter ID] [--from T] [--to T] [--format jsonl|csv|table]:
// accepted readings, ordered by meter then time (docs/collector.md).
// imsmeter readings --interval 15m|1h|1d|1mo [--tz ZONE] [--format json|csv|table|espi]: energy
// per meter per interval with a complete flag (report/interval.h), Green Button XML as espi.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/list_format.h"
#include "cli/open_db.h"
#include "collector/report/bill_source.h"
#include "collector/report/interval.h"
#include "collector/report/listing.h"
#include "collector/report/tz.h"
#include "collector/store/store.h"

namespace imsm::cli {

namespace {

// The listing is written out in pieces of about this size (a meter's month is 0.9 MB of csv).
constexpr std::size_t kFlushAt = std::size_t{1} << 20;

struct ReadingsOptions {
  std::string db;
  std::optional<int> meter;
  std::string from, to;
  std::string format = "jsonl";
  bool rejected = false;
  std::string interval, tz;
};

collector::UtcMicros time_arg(const char* cmd, const char* name, const std::string& text,
                              collector::UtcMicros fallback) {
  if (text.empty()) return fallback;
  auto t = collector::parse_utc(text);
  if (!t)
    throw UsageError(std::string(cmd) + ": " + name + " '" + text +
                     "': expected ISO 8601, e.g. 2026-11-01 or 2026-11-01T00:00:00Z");
  return *t;
}

int run_intervals(const ReadingsOptions& o) {
  const auto step = collector::parse_interval_step(o.interval);
  if (!step)
    throw UsageError("readings: --interval must be 15m, 1h, 1d or 1mo, not '" + o.interval + "'");
  const std::string format = o.format == "jsonl" ? "json" : o.format;
  if (format != "json" && format != "csv" && format != "table" && format != "espi")
    throw UsageError("readings: --interval --format must be json, csv, table or espi, not '" +
                     o.format + "'");
  collector::TimeZone tz;
  if (!o.tz.empty()) {
    std::string error;
    auto z = collector::TimeZone::load(o.tz, error);
    if (!z) throw UsageError("readings: --tz: " + error);
    tz = *z;
  }
  if (o.from.empty() || o.to.empty())
    throw UsageError("readings: --interval needs --from and --to");
  const auto from = collector::parse_time_in(tz, o.from);
  const auto to = collector::parse_time_in(tz, o.to);
  if (!from || !to || *to <= *from)
    throw UsageError("readings: --from/--to: expected ISO 8601 times, --to after --from");
  const auto store = open_existing_store("readings", o.db, collector::StoreOptions{true, false});
  const auto edges = collector::interval_edges(tz, *step, *from, *to);
  std::vector<collector::IntervalRow> rows;
  for (const auto& m : store->meters()) {
    if (o.meter && m.id != *o.meter) continue;
    const auto points = collector::load_points(*store, m.id, edges.front(), edges.back());
    if (points.empty()) continue;
    for (const auto& r : collector::meter_intervals(m.id, points, edges)) rows.push_back(r);
  }
  std::string out;
  collector::write_intervals(rows, tz, *step, format, out);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return kExitOk;
}

int run_readings(const ReadingsOptions& o) {
  if (!o.interval.empty()) return run_intervals(o);
  const collector::ListFormat fmt = list_format("readings", o.format);
  const auto from =
      time_arg("readings", "--from", o.from, std::numeric_limits<std::int64_t>::min());
  const auto to = time_arg("readings", "--to", o.to, std::numeric_limits<std::int64_t>::max());
  const auto store = open_existing_store("readings", o.db, collector::StoreOptions{true, false});
  std::string out;
  std::optional<std::uint16_t> meter;
  if (o.meter) meter = static_cast<std::uint16_t>(*o.meter);
  if (o.rejected) {
    collector::append_rejection_header(out, fmt);
    for (const auto& r : store->rejections(meter, from, to))
      collector::append_rejection(out, fmt, r);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    return kExitOk;
  }
  out.reserve(kFlushAt + 4096);  // written out at kFlushAt: never copied while it grows
  collector::append_reading_header(out, fmt);
  store->each_reading(meter, from, to, [&](const collector::StoredReading& r) {
    collector::append_reading(out, fmt, r);
    if (out.size() > kFlushAt) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  });
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace

Runner setup_readings(CLI::App& app) {
  auto opt = std::make_shared<ReadingsOptions>();
  CLI::App* sub = app.add_subcommand("readings", "List accepted readings from the database");
  sub->add_option("--db", opt->db, "SQLite database written by collect")->required();
  sub->add_option("--meter", opt->meter, "Only this meter ID")->check(CLI::Range(0, 65535));
  sub->add_option("--from", opt->from, "From this time (ISO 8601, inclusive)");
  sub->add_option("--to", opt->to, "Until this time (ISO 8601, exclusive)");
  sub->add_option("--format", opt->format,
                  "jsonl (default), csv or table; with --interval: json, csv, table or espi "
                  "(Green Button XML)");
  sub->add_option(
      "--interval", opt->interval,
      "Energy per meter per 15m, 1h, 1d or 1mo (local month) instead of the readings, each with a "
      "complete flag (needs --from and --to)");
  sub->add_option("--tz", opt->tz,
                  "Time zone of --interval's intervals and times, e.g. America/New_York "
                  "(default UTC)");
  sub->add_flag("--rejected", opt->rejected,
                "List the rejected frames instead (raw bytes, source, time, burst, reason)");
  sub->footer("Exit codes: 0 done, 1 unreadable database, 2 bad arguments.");
  return [opt] { return run_readings(*opt); };
}

}  // namespace imsm::cli
