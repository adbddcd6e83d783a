// imsmeter meters --db PATH [--format jsonl|csv|table] [--sources]: the meter list (registry
// and discovered meters, with their last reading), or the per-source framing and collision
// counters.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/list_format.h"
#include "cli/open_db.h"
#include "collector/config.h"
#include "collector/report/listing.h"
#include "collector/store/store.h"
#include "collector/time_util.h"

namespace imsm::cli {

namespace {

struct MetersOptions {
  std::string db;
  std::string format = "jsonl";
  bool sources = false;
  std::string at;
};

int run_meters(const MetersOptions& o) {
  const collector::ListFormat fmt = list_format("meters", o.format);
  collector::MeterStatusRule rule = collector::status_rule(collector::now_utc());
  if (!o.at.empty()) {
    const auto t = collector::parse_utc(o.at);
    if (!t) throw UsageError("meters: --at '" + o.at + "': expected ISO 8601");
    rule.as_of = *t;
  }
  const auto store = open_existing_store("meters", o.db, collector::StoreOptions{true, false});
  std::string out;
  const bool table = fmt == collector::ListFormat::Table;
  if (o.sources) {
    const auto sources = store->sources();
    if (table) {
      collector::append_source_table(out, sources);
    } else {
      collector::append_source_header(out, fmt);
      for (const auto& [name, c] : sources) collector::append_source(out, fmt, name, c);
    }
  } else {
    const auto meters = collector::meter_summaries(*store, rule);
    if (table) {
      collector::append_meter_table(out, meters);
    } else {
      collector::append_meter_header(out, fmt);
      for (const auto& m : meters) collector::append_meter(out, fmt, m, rule.as_of);
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace

Runner setup_meters(CLI::App& app) {
  auto opt = std::make_shared<MetersOptions>();
  CLI::App* sub = app.add_subcommand("meters", "List known meters (or source counters)");
  sub->add_option("--db", opt->db, "SQLite database written by collect")->required();
  add_list_format_option(*sub, opt->format);
  sub->add_flag("--sources", opt->sources,
                "List the sources' counters (bytes, frames, shared-burst frames, skipped bytes)");
  sub->add_option("--at", opt->at,
                  "Status as of this time (ISO 8601; default now): online when the last reading "
                  "is at most 15 minutes (3 cadences) older, else silent");
  sub->footer("Exit codes: 0 done, 1 missing or unreadable database, 2 bad arguments.");
  return [opt] { return run_meters(*opt); };
}

}  // namespace imsm::cli
