// imsmeter rebuild --db PATH [--config FILE]: re-derives readings, rejections and events from
// the raw-frame journal (after a validator fix or a registry change). One transaction.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/open_db.h"
#include "collector/collector.h"
#include "collector/config.h"

namespace imsm::cli {

namespace {

struct RebuildOptions {
  std::string db, config;
};

int run_rebuild(const RebuildOptions& o) {
  collector::CollectorConfig config;
  try {
    config = collector::load_config_or_default(o.config);
  } catch (const collector::ConfigError& e) {
    throw UsageError(std::string("rebuild: ") + e.what());
  }
  require_existing_db("rebuild", o.db);  // rebuild never creates a database
  try {
    const auto store = collector::open_store(o.db);
    const auto s = collector::rebuild(*store, config);
    std::fprintf(
        stderr,
        "rebuild: %llu frame(s) -> %llu reading(s), %llu rejected, %llu event(s); "
        "generation %lld (derived events have new ids)\n",
        static_cast<unsigned long long>(s.observations),
        static_cast<unsigned long long>(s.readings), static_cast<unsigned long long>(s.rejected),
        static_cast<unsigned long long>(s.events), static_cast<long long>(store->generation()));
  } catch (const std::exception& e) {
    throw RuntimeError(db_error("rebuild", o.db, e.what()));
  }
  return kExitOk;
}

}  // namespace

Runner setup_rebuild(CLI::App& app) {
  auto opt = std::make_shared<RebuildOptions>();
  CLI::App* sub =
      app.add_subcommand("rebuild", "Re-derive readings and events from the raw-frame journal");
  sub->add_option("--db", opt->db, "SQLite database written by collect")->required();
  sub->add_option("--config", opt->config, "TOML configuration (meter registry, validation)");
  sub->footer(
      "Exit codes: 0 done, 1 missing or unreadable database (rebuild never creates one), 2 bad "
      "arguments or configuration.");
  return [opt] { return run_rebuild(*opt); };
}

}  // namespace imsm::cli
