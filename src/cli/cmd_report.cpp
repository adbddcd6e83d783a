// imsmeter report --db PATH --from T --to T [--tz ZONE] [--tenant X] [--energy-only]
// [--unassigned-tariff NAME] [--format table|csv|json] [--rollup 15m|hour|day]: the bill per
// meter, per tenant and per currency (docs/collector.md "Billing"; money is exact, bill.h).
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/open_db.h"
#include "collector/config.h"
#include "collector/report/bill_format.h"
#include "collector/report/bill_source.h"
#include "collector/report/interval.h"
#include "collector/report/tz.h"

namespace imsm::cli {

namespace {

struct ReportOptions {
  std::string db, config, from, to, format = "table", tz, rollup, unassigned_tariff;
  std::optional<std::string> tenant;
  bool energy_only = false;
};

void write_out(const std::string& out) {
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

collector::TimeZone load_zone(const std::string& option, const collector::CollectorConfig& c) {
  const std::string name = !option.empty() ? option : c.billing.time_zone;
  if (name.empty()) return collector::TimeZone{};
  std::string error;
  auto z = collector::TimeZone::load(name, error);
  if (!z)
    throw UsageError("report: " + std::string(option.empty() ? "billing.time_zone" : "--tz") +
                     ": " + error);
  return *z;
}

std::string joined_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += fmt::format("{}'{}'", out.empty() ? "" : ", ", n);
  return out.empty() ? "(none: no meter has a tenant)" : out;
}

// A meter the store remembers with a tariff the configuration does not have would otherwise be
// billed at the default tariff without a word.
void check_tariffs(const std::vector<collector::MeterInfo>& meters,
                   const collector::CollectorConfig& config) {
  for (const auto& m : meters) {
    if (!m.registered || m.tariff.empty()) continue;
    bool found = false;
    for (const auto& t : config.tariffs) found = found || t.name == m.tariff;
    if (!found)
      throw UsageError(fmt::format("report: meter {} has tariff '{}', which {} does not define",
                                   m.id, m.tariff,
                                   config.path.empty() ? "the configuration" : config.path));
  }
}

int run_rollup(collector::Store& store, const collector::CollectorConfig& config,
               const collector::TimeZone& tz, const ReportOptions& o, collector::UtcMicros from,
               collector::UtcMicros to, const std::optional<std::string>& tenant) {
  const auto step = collector::parse_interval_step(o.rollup);
  if (!step)
    throw UsageError("report: --rollup must be 15m, hour (1h), day (1d) or month (1mo), not '" +
                     o.rollup + "'");
  const auto edges = collector::interval_edges(tz, *step, from, to);
  std::vector<collector::IntervalRow> rows;
  for (const auto& m : collector::billed_meters(store, config)) {
    if (tenant && m.tenant != *tenant) continue;
    const auto points = collector::load_points(store, m.id, edges.front(), edges.back());
    if (points.empty()) continue;
    for (const auto& r : collector::meter_intervals(m.id, points, edges)) rows.push_back(r);
  }
  std::string out;
  collector::write_intervals(rows, tz, *step, o.format, out);
  write_out(out);
  return kExitOk;
}

int run_report(const ReportOptions& o) {
  if (o.format != "table" && o.format != "csv" && o.format != "json")
    throw UsageError("report: --format must be table, csv or json, not '" + o.format + "'");
  collector::CollectorConfig config;
  try {
    config = collector::load_config_or_default(o.config);
  } catch (const collector::ConfigError& e) {
    throw UsageError(std::string("report: ") + e.what());
  }
  const collector::TimeZone tz = load_zone(o.tz, config);
  auto from = collector::parse_time_in(tz, o.from);
  if (!from) throw UsageError("report: --from '" + o.from + "': expected ISO 8601");
  auto to = collector::parse_time_in(tz, o.to);
  if (!to) throw UsageError("report: --to '" + o.to + "': expected ISO 8601");
  if (*to <= *from) throw UsageError("report: --to must be after --from");
  if (o.rollup.empty() && !o.energy_only && config.tariffs.empty())
    throw UsageError("report: no [[tariff]] in " +
                     (config.path.empty() ? std::string("the configuration (none given: --config)")
                                          : config.path) +
                     ": nothing to charge; give tariffs, or --energy-only for kWh without charges");
  if (!o.unassigned_tariff.empty()) {
    bool found = false;
    for (const auto& t : config.tariffs) found = found || t.name == o.unassigned_tariff;
    if (!found)
      throw UsageError("report: --unassigned-tariff: no [[tariff]] named '" + o.unassigned_tariff +
                       "'");
  }
  const auto store = open_existing_store("report", o.db, collector::StoreOptions{true, false});
  std::optional<std::string> tenant;
  if (o.tenant) {
    const auto names = collector::tenant_names(collector::billed_meters(*store, config));
    tenant = collector::resolve_tenant(names, *o.tenant);
    if (!tenant)
      throw UsageError("report: --tenant '" + *o.tenant + "': no such tenant; tenants are " +
                       joined_names(names));
  }
  if (!o.rollup.empty()) return run_rollup(*store, config, tz, o, *from, *to, tenant);
  if (!o.energy_only) check_tariffs(collector::billed_meters(*store, config), config);
  collector::BillRequest r;
  r.from = *from;
  r.to = *to;
  r.tz = &tz;
  r.tenant = tenant;
  r.energy_only = o.energy_only;
  r.unassigned_tariff = o.unassigned_tariff;
  const auto bill = collector::make_bill(*store, config, r);
  std::string out;
  collector::write_bill(bill, tz, o.format, out);
  write_out(out);
  return kExitOk;
}

}  // namespace

Runner setup_report(CLI::App& app) {
  auto opt = std::make_shared<ReportOptions>();
  CLI::App* sub = app.add_subcommand("report", "Bill per meter, per tenant and per currency");
  sub->add_option("--db", opt->db, "SQLite database written by collect")->required();
  sub->add_option("--from", opt->from,
                  "Start of the period (ISO 8601; without Z or an offset: local time in --tz, "
                  "a date alone is local midnight)")
      ->required();
  sub->add_option("--to", opt->to, "End of the period (exclusive; as --from)")->required();
  sub->add_option("--tz", opt->tz,
                  "Time zone of the period, rollups and printed times, e.g. America/New_York "
                  "(default: [billing] time_zone, else UTC)");
  sub->add_option("--tenant", opt->tenant, "Only this tenant's meters (case ignored)");
  sub->add_option("--config", opt->config,
                  "TOML configuration with tariffs and the meter registry (default "
                  "/etc/imsmeter/imsmeter.toml when present)");
  sub->add_flag("--energy-only", opt->energy_only, "kWh and demand only: no tariff, no charges");
  sub->add_option("--unassigned-tariff", opt->unassigned_tariff,
                  "Charge meters missing from the registry at this tariff (default: listed as "
                  "unassigned, not charged)");
  sub->add_option("--format", opt->format, "table (default), csv or json (one document)");
  sub->add_option(
      "--rollup", opt->rollup,
      "Instead of the bill: energy per meter per 15m, hour, day or month (local in --tz), "
      "with a complete flag");
  sub->footer(
      "Lines whose end is not yet bracketed by settled readings are provisional: their kWh "
      "may still change.\nExit codes: 0 done, 1 unreadable database, 2 bad arguments or "
      "configuration "
      "(also: no tariff without --energy-only, an unknown --tenant).");
  return [opt] { return run_report(*opt); };
}

}  // namespace imsm::cli
