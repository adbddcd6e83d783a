// imsmeter events --db PATH [--meter ID] [--kind K] [--from T] [--to T] [--format ...]:
// discovered, demand_reset, rollover, silent, back_online, replaced, source_up/down, rebuilt.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/list_format.h"
#include "collector/report/listing.h"
#include "collector/store/store.h"

namespace imsm::cli {

namespace {

struct EventsOptions {
  std::string db;
  std::optional<int> meter;
  std::string kind;
  std::string from, to;
  std::string format = "jsonl";
};

int run_events(const EventsOptions& o) {
  const collector::ListFormat fmt = list_format("events", o.format);
  auto from = std::numeric_limits<std::int64_t>::min();
  auto to = std::numeric_limits<std::int64_t>::max();
  for (auto [text, target, name] : {std::tuple{&o.from, &from, "--from"}, {&o.to, &to, "--to"}}) {
    if (text->empty()) continue;
    auto t = collector::parse_utc(*text);
    if (!t)
      throw UsageError(std::string("events: ") + name + " '" + *text + "': expected ISO 8601");
    *target = *t;
  }
  std::unique_ptr<collector::Store> store;
  try {
    store = collector::open_store(o.db, collector::StoreOptions{true, false});
  } catch (const std::exception& e) {
    throw RuntimeError(std::string("events: ") + o.db + ": " + e.what());
  }
  std::optional<std::uint16_t> meter;
  if (o.meter) meter = static_cast<std::uint16_t>(*o.meter);
  std::string out;
  collector::append_event_header(out, fmt);
  for (const auto& e : store->events(meter, from, to, o.kind)) collector::append_event(out, fmt, e);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace

Runner setup_events(CLI::App& app) {
  auto opt = std::make_shared<EventsOptions>();
  CLI::App* sub = app.add_subcommand("events", "List collector events from the database");
  sub->add_option("--db", opt->db, "SQLite database written by collect")->required();
  sub->add_option("--meter", opt->meter, "Only this meter ID")->check(CLI::Range(0, 65535));
  sub->add_option("--kind", opt->kind,
                  "Only this kind: discovered, demand_reset, rollover, silent, back_online, "
                  "replaced, source_up, source_down, rebuilt");
  sub->add_option("--from", opt->from, "From this time (ISO 8601, inclusive)");
  sub->add_option("--to", opt->to, "Until this time (ISO 8601, exclusive)");
  add_list_format_option(*sub, opt->format);
  sub->footer("Exit codes: 0 done, 1 unreadable database, 2 bad arguments.");
  return [opt] { return run_events(*opt); };
}

}  // namespace imsm::cli
