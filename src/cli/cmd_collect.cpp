// imsmeter collect --source SRC... --db PATH [--config FILE]: the head-end daemon
// (docs/collector.md). Foreground, logs to stderr; SIGTERM/SIGINT flush and exit 0, SIGHUP
// reloads the configuration. File sources end the command when consumed.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/http_options.h"
#include "cli/modbus_options.h"
#include "cli/net_module.h"
#include "collector/collector.h"
#include "collector/config.h"
#include "collector/sinks/sink.h"

namespace imsm::cli {

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

void collect_on_stop(int) {
  g_stop = true;
}
void collect_on_hup(int) {
  g_reload = true;
}

struct CollectCliOptions {
  std::vector<std::string> sources;
  std::string db;
  std::string config;
  std::string replay_start;
  std::optional<int> confirm_frames;
  std::optional<std::int64_t> default_max_power_w;
  std::optional<int> silent_after;
  std::optional<std::int64_t> cadence_s;
  std::optional<double> idle_gap_ms;
  std::optional<double> collision_window_ms;
  std::optional<double> collision_drift_ppm;
  std::optional<int> collision_horizon;
  std::optional<std::int64_t> commit_interval_ms;
  bool no_fsync = false;
  double clock_scale = 1.0;
  int cache_mib = 0;
  std::size_t store_queue_frames = 1'000'000;
  std::size_t commit_frames = std::size_t{1} << 17;
  bool exit_on_store_overflow = false;
  std::vector<std::string> sinks;
  HttpCliOptions http;
  ModbusCliOptions modbus;
  std::string log_level = "info";
};

// --http ADDR:PORT: the HTTP API, event stream and dashboard (the network module) as a
// component of the loop, woken by every commit; prints its URL on stdout once bound (the
// handshake tests wait for).
void add_http(const CollectCliOptions& o, collector::CollectOptions& co) {
  if (o.http.listen.empty()) {
    if (!o.http.token.empty() || !o.http.token_file.empty())
      throw UsageError("collect: --http-token and --http-token-file need --http ADDR:PORT");
    return;
  }
  collector::http::ServerOptions so;
  apply_http_options(o.http, "collect: --http", so);
  so.config = co.config;
  const auto& net = require_net_module("collect --http");
  const std::string db = co.config.database;
  co.extra_components = [&net, db, so](collector::service::StoreWriter& writer,
                                       const collector::service::EventLoop& loop) {
    std::vector<std::unique_ptr<collector::service::Component>> v;
    v.push_back(net.make_http_component(db, so, loop, writer, [](const std::string& url) {
      std::printf("imsmeter collect: listening on %s\n", url.c_str());
      std::fflush(stdout);
    }));
    return v;
  };
}

// --sink mqtt[s]:...: the network module makes it; load it now so a missing module fails
// before the database is opened.
void check_sinks(const CollectCliOptions& o) {
  for (const auto& spec : o.sinks)
    if (collector::sink_needs_net_module(spec)) (void)require_net_module("collect --sink " + spec);
}

// --modbus HOST:PORT: the Modbus TCP gateway as one more component, on its own read-only
// handle of the database the loop writes (opened once the collector has created it).
void add_modbus(const CollectCliOptions& o, collector::CollectOptions& co) {
  if (o.modbus.listen.empty()) {
    if (o.modbus.allow_remote)
      throw UsageError("collect: --modbus-allow-remote needs --modbus HOST:PORT");
    return;
  }
  const auto go = modbus_gateway_options(o.modbus, "collect", co.config);
  (void)require_net_module("collect --modbus");  // fails now rather than once collecting
  co.extra_components = [go, db = co.config.database, before = co.extra_components](
                            collector::service::StoreWriter& writer,
                            const collector::service::EventLoop& loop) {
    auto v = before ? before(writer, loop)
                    : std::vector<std::unique_ptr<collector::service::Component>>{};
    auto gateway = make_modbus_gateway(go, "collect", db, &writer);
    std::printf("imsmeter collect: modbus on %s:%d\n", go.host.c_str(), gateway->bound_port());
    std::fflush(stdout);
    v.push_back(std::move(gateway));
    return v;
  };
}

collector::CollectorConfig effective_config(const CollectCliOptions& o) {
  collector::CollectorConfig c;
  try {
    c = collector::load_config_or_default(o.config);
  } catch (const collector::ConfigError& e) {
    throw UsageError(std::string("collect: ") + e.what());
  }
  if (!o.sources.empty()) c.sources = o.sources;
  if (!o.db.empty()) c.database = o.db;
  if (o.confirm_frames) c.validation.confirm_frames = *o.confirm_frames;
  if (o.default_max_power_w) c.validation.default_max_power_w = *o.default_max_power_w;
  if (o.silent_after) c.validation.silent_after_cadences = *o.silent_after;
  if (o.cadence_s) c.validation.cadence_s = *o.cadence_s;
  if (o.idle_gap_ms) c.validation.idle_gap_ms = *o.idle_gap_ms;
  if (o.collision_window_ms) c.validation.collision_window_ms = *o.collision_window_ms;
  if (o.collision_drift_ppm) c.validation.collision_drift_ppm = *o.collision_drift_ppm;
  if (o.collision_horizon) c.validation.collision_horizon_cadences = *o.collision_horizon;
  if (o.commit_interval_ms) c.commit_interval_ms = *o.commit_interval_ms;
  return c;
}

int run_collect(const CollectCliOptions& o) {
  auto level = spdlog::level::from_str(o.log_level);
  auto logger = spdlog::stderr_color_mt("collect");
  spdlog::set_default_logger(logger);
  spdlog::set_level(level);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);

  collector::CollectOptions co;
  co.config = effective_config(o);
  if (co.config.database.empty())
    throw UsageError("collect: --db PATH is required (or collector.database)");
  if (co.config.sources.empty()) throw UsageError("collect: at least one --source is required");
  if (!o.replay_start.empty()) {
    co.replay_start = collector::parse_utc(o.replay_start);
    if (!co.replay_start)
      throw UsageError("collect: --replay-start '" + o.replay_start + "': expected ISO 8601 time");
  }
  co.synchronous_full = !o.no_fsync;
  co.clock_scale = o.clock_scale;
  co.cache_kib = o.cache_mib * 1024;  // 0: automatic
  co.writer.queue_frames = o.store_queue_frames;
  co.writer.commit_frames = o.commit_frames;
  co.exit_on_overflow = o.exit_on_store_overflow;
  co.sinks = o.sinks;
  check_sinks(o);
  add_http(o, co);
  add_modbus(o, co);
  co.reload = [o] {
    auto c = collector::load_config_or_default(o.config);
    return c;
  };

  struct sigaction sa {};
  sa.sa_handler = collect_on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  struct sigaction hup {};
  hup.sa_handler = collect_on_hup;
  sigemptyset(&hup.sa_mask);
  sigaction(SIGHUP, &hup, nullptr);

  collector::Collector c(std::move(co));
  collector::CollectStats stats;
  try {
    stats = c.run(g_stop, g_reload);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("collect: ") + e.what());
  } catch (const std::exception& e) {
    throw RuntimeError(std::string("collect: ") + e.what());
  }
  spdlog::info("collect: {} frame(s), {} reading(s), {} rejected, {} event(s), {} commit(s)",
               stats.observations, stats.readings, stats.rejected, stats.events, stats.commits);
  if (stats.store_failures > 0)
    spdlog::warn("collect: {} failed store attempt(s); {} frame(s) dropped (queue full)",
                 stats.store_failures, stats.dropped_frames);
  spdlog::drop("collect");
  return kExitOk;
}

}  // namespace

Runner setup_collect(CLI::App& app) {
  auto opt = std::make_shared<CollectCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "collect", "Read meter buses, validate frames, store readings and events in SQLite");
  sub->add_option("--source", opt->sources,
                  "serial:/dev/ttyUSB0 | tcp:HOST:PORT | file:PATH | - ; repeatable");
  sub->add_option("--db", opt->db, "SQLite database (created when missing)");
  sub->add_option("--config", opt->config,
                  std::string("TOML configuration (default ") + collector::kDefaultConfigPath +
                      " when present)");
  sub->add_option("--replay-start", opt->replay_start,
                  "UTC time of offset 0 of file captures with PATH.times (default: now)");
  sub->add_option("--confirm-frames", opt->confirm_frames,
                  "Consistent frames before an unknown ID is known (default 2)")
      ->check(CLI::Range(1, 100));
  sub->add_option("--default-max-power-w", opt->default_max_power_w,
                  "Maximum power of meters of unknown model, W (default 1373760)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{100'000'000}));
  sub->add_option("--silent-after", opt->silent_after,
                  "Missed cadences before a meter is silent (default 3)")
      ->check(CLI::Range(1, 1000));
  sub->add_option("--cadence-s", opt->cadence_s, "Transmission cadence, s (default 300)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{86400}));
  sub->add_option("--idle-gap-ms", opt->idle_gap_ms, "Framer idle gap, ms (default 20)")
      ->check(CLI::Range(0.001, 60000.0));
  sub->add_option("--collision-window-ms", opt->collision_window_ms,
                  "Phase window of the lock-step collision check, ms (default 2; 0 = off)")
      ->check(CLI::Range(0.0, 1000.0));
  sub->add_option("--collision-drift-ppm", opt->collision_drift_ppm,
                  "Clock drift allowed when predicting a meter's next frame, ppm (default 20)")
      ->check(CLI::Range(0.0, 1000.0));
  sub->add_option("--collision-horizon", opt->collision_horizon,
                  "Cadences a meter's phase is trusted for the collision check (default 12)")
      ->check(CLI::Range(1, 1000));
  sub->add_option("--commit-interval-ms", opt->commit_interval_ms,
                  "Longest time between commits, ms (default 1000)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000}));
  sub->add_flag("--no-fsync", opt->no_fsync,
                "synchronous=NORMAL: safe against a crash of the process, not of the machine");
  sub->add_option("--clock-scale", opt->clock_scale,
                  "Live sources: arrival clock runs N times real time (to read a simulator "
                  "running at --speed N); default 1")
      ->check(CLI::Range(0.001, 100000.0));
  sub->add_option("--cache-mib", opt->cache_mib,
                  "SQLite page cache, MiB (default: 16 when every source is a file, a bulk "
                  "replay; else 0.5, so the daemon stays small)")
      ->check(CLI::Range(0, 4096));
  sub->add_option("--store-queue-frames", opt->store_queue_frames,
                  "Frames kept in memory while the database cannot be written (locked, busy, "
                  "disk full, read-only); beyond that they are counted and logged (default "
                  "1000000)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}));
  sub->add_option("--commit-frames", opt->commit_frames,
                  "Commit at least every N frames, also inside a long replay (default 131072)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}));
  sub->add_flag("--exit-on-store-overflow", opt->exit_on_store_overflow,
                "Exit 1 when frames must be dropped because the database stayed unwritable "
                "past --store-queue-frames (default: keep running, count them)");
  sub->add_option("--sink", opt->sinks,
                  "Feed every committed reading, rejection and event to a sink, repeatable: "
                  "jsonl:PATH (JSON Lines; - for stdout), mqtt://HOST[:PORT][?gateway=NAME] "
                  "(Home Assistant discovery); each resumes from its own cursor");
  sub->add_option("--http", opt->http.listen,
                  "Serve the HTTP API, live event stream and dashboard on HOST:PORT while "
                  "collecting (e.g. 127.0.0.1:8080; port 0: any free port, printed at "
                  "start-up); a non-loopback host needs a token");
  auto* tok = sub->add_option("--http-token", opt->http.token,
                              "--http: every API request must carry 'Authorization: Bearer TOKEN'");
  sub->add_option("--http-token-file", opt->http.token_file,
                  "--http: read the token from this file's first line")
      ->excludes(tok);
  sub->add_option("--modbus", opt->modbus.listen,
                  "Serve the Modbus TCP gateway on HOST:PORT while collecting (e.g. "
                  "127.0.0.1:1502; docs/modbus.md); no authentication, so loopback only unless "
                  "allowed");
  sub->add_flag("--modbus-allow-remote", opt->modbus.allow_remote,
                "Let --modbus bind a non-loopback address (anyone who reaches it can read "
                "every meter)");
  sub->add_option("--log-level", opt->log_level, "trace|debug|info|warn|error (default info)");
  sub->footer(
      "Signals: SIGTERM/SIGINT flush and exit 0; SIGHUP reloads the configuration.\n"
      "A database that cannot be written is retried with backoff (frames kept in memory).\n"
      "Exit codes: 0 done, 1 runtime failure (database, unreadable file), 2 bad arguments or "
      "configuration.");
  return [opt] { return run_collect(*opt); };
}

}  // namespace imsm::cli
