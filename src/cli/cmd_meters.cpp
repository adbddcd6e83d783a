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
#include "collector/report/listing.h"
#include "collector/store/store.h"

namespace imsm::cli {

namespace {

struct MetersOptions {
  std::string db;
  std::string format = "jsonl";
  bool sources = false;
};

int run_meters(const MetersOptions& o) {
  const collector::ListFormat fmt = list_format("meters", o.format);
  std::unique_ptr<collector::Store> store;
  try {
    store = collector::open_store(o.db, collector::StoreOptions{true, false});
  } catch (const std::exception& e) {
    throw RuntimeError(std::string("meters: ") + o.db + ": " + e.what());
  }
  std::string out;
  if (o.sources) {
    collector::append_source_header(out, fmt);
    for (const auto& [name, c] : store->sources()) collector::append_source(out, fmt, name, c);
  } else {
    collector::append_meter_header(out, fmt);
    for (const auto& m : collector::meter_summaries(*store)) collector::append_meter(out, fmt, m);
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
  sub->footer("Exit codes: 0 done, 1 unreadable database, 2 bad arguments.");
  return [opt] { return run_meters(*opt); };
}

}  // namespace imsm::cli
