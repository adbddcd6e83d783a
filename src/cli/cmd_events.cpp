// imsmeter events --db PATH [--meter ID] [--kind K] [--from T] [--to T] [--format ...]:
// discovered, demand_reset, rollover, silent, back_online, replaced, source_up/down, rebuilt.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/list_format.h"
#include "cli/open_db.h"
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
  if (!o.kind.empty() && !collector::parse_event_kind(o.kind))
    throw UsageError("events: --kind '" + o.kind +
                     "' is not an event kind; kinds: " + collector::event_kind_names());
  const auto store = open_existing_store("events", o.db, collector::StoreOptions{true, false});
  std::optional<std::uint16_t> meter;
  if (o.meter) meter = static_cast<std::uint16_t>(*o.meter);
  std::string out;
  // Id order is the order the collector raised them in: within one run, a source's events
  // and its meters' events can carry times from different clocks.
  auto events = store->events(meter, from, to, o.kind);
  std::sort(events.begin(), events.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  if (fmt == collector::ListFormat::Table) {
    collector::append_event_table(out, events);
  } else {
    collector::append_event_header(out, fmt);
    for (const auto& e : events) collector::append_event(out, fmt, e);
  }
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
  sub->add_option("--kind", opt->kind, "Only this kind: " + collector::event_kind_names());
  sub->add_option("--from", opt->from, "From this time (ISO 8601, inclusive)");
  sub->add_option("--to", opt->to, "Until this time (ISO 8601, exclusive)");
  add_list_format_option(*sub, opt->format);
  sub->footer(
      "Events are listed in id order (the order the collector raised them).\nExit codes: "
      "0 done, 1 missing or unreadable database, 2 bad arguments.");
  return [opt] { return run_events(*opt); };
}

}  // namespace imsm::cli
