// imsmeter report --db PATH --from T --to T [--tenant X] [--format table|csv|json]: the bill
// per meter and per tenant (docs/collector.md "Billing"; money is exact, see report.h).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/list_format.h"
#include "collector/config.h"
#include "collector/report/listing.h"
#include "collector/report/report.h"

namespace imsm::cli {

namespace {

struct ReportOptions {
  std::string db, config, from, to, format = "table";
  std::optional<std::string> tenant;
  std::string rollup;
};

int run_report(const ReportOptions& o) {
  if (o.format != "table" && o.format != "csv" && o.format != "json")
    throw UsageError("report: --format must be table, csv or json, not '" + o.format + "'");
  auto from = collector::parse_utc(o.from);
  if (!from) throw UsageError("report: --from '" + o.from + "': expected ISO 8601");
  auto to = collector::parse_utc(o.to);
  if (!to) throw UsageError("report: --to '" + o.to + "': expected ISO 8601");
  if (*to <= *from) throw UsageError("report: --to must be after --from");
  collector::CollectorConfig config;
  try {
    config = collector::load_config_or_default(o.config);
  } catch (const collector::ConfigError& e) {
    throw UsageError(std::string("report: ") + e.what());
  }
  std::unique_ptr<collector::Store> store;
  try {
    store = collector::open_store(o.db, collector::StoreOptions{true, false});
  } catch (const std::exception& e) {
    throw RuntimeError(std::string("report: ") + o.db + ": " + e.what());
  }
  if (!o.rollup.empty()) {
    // Hourly or daily consumption per meter (UTC buckets), exact Wh (derive/consumption.h).
    std::int64_t step = 0;
    if (o.rollup == "hour" || o.rollup == "hourly") step = 3'600'000'000LL;
    if (o.rollup == "day" || o.rollup == "daily") step = 86'400'000'000LL;
    if (step == 0) throw UsageError("report: --rollup must be hour or day, not '" + o.rollup + "'");
    const collector::ListFormat lf = list_format("report", o.format == "json" ? "jsonl" : o.format);
    const collector::UtcMicros start = *from - (((*from % step) + step) % step);
    std::string out;
    collector::append_rollup_header(out, lf);
    for (const auto& m : store->meters()) {
      if (o.tenant) {
        const auto* e = config.find_meter(m.id);
        if ((e ? e->tenant : m.tenant) != *o.tenant) continue;
      }
      const auto points = collector::load_points(*store, m.id, start, *to);
      if (points.empty()) continue;
      const auto wh = collector::rollup_wh(points, start, *to, step);
      for (std::size_t k = 0; k < wh.size(); ++k) {
        const auto b0 = start + static_cast<std::int64_t>(k) * step;
        collector::append_rollup(out, lf, m.id, b0, std::min(*to, b0 + step), wh[k]);
      }
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    return kExitOk;
  }
  const auto bill = collector::make_bill(*store, config, *from, *to, o.tenant);
  std::string out;
  collector::write_bill(bill, o.format, out);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace

Runner setup_report(CLI::App& app) {
  auto opt = std::make_shared<ReportOptions>();
  CLI::App* sub = app.add_subcommand("report", "Bill per meter and per tenant for a period");
  sub->add_option("--db", opt->db, "SQLite database written by collect")->required();
  sub->add_option("--from", opt->from, "Start of the period (ISO 8601)")->required();
  sub->add_option("--to", opt->to, "End of the period (ISO 8601, exclusive)")->required();
  sub->add_option("--tenant", opt->tenant, "Only this tenant's meters");
  sub->add_option("--config", opt->config,
                  "TOML configuration with tariffs and the meter registry (default "
                  "/etc/imsmeter/imsmeter.toml when present)");
  sub->add_option("--format", opt->format, "table (default), csv or json");
  sub->add_option("--rollup", opt->rollup,
                  "Instead of the bill: consumption per meter per hour or day (UTC), exact "
                  "interpolated kWh");
  sub->footer("Exit codes: 0 done, 1 unreadable database, 2 bad arguments or configuration.");
  return [opt] { return run_report(*opt); };
}

}  // namespace imsm::cli
