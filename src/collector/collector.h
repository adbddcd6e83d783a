// `imsmeter collect` as a service (docs/collector.md "Lifecycle"): one event loop
// (service::EventLoop) hosts the store writer and every source as Components (configure,
// start in order, poll, stop in reverse). Sources run in threads owned by their components
// and queue observations; the StoreWriter journals each one, lets the Validator decide,
// stores the decisions and commits at least once per commit interval (default 1 s).
// Everything committed is consistent: journal, readings, rejections, events and per-source
// offsets go in one transaction, so a kill -9 loses nothing committed and a restart
// duplicates nothing. A database error is a state (degraded, retried), not an exit.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collector/config.h"
#include "collector/service/clock.h"
#include "collector/service/event_loop.h"
#include "collector/service/store_writer.h"
#include "collector/store/store.h"
#include "collector/time_util.h"
#include "collector/validate/validator.h"

namespace imsm::collector {

struct CollectOptions {
  CollectorConfig config;
  std::optional<UtcMicros> replay_start;  // file sources; default: start-up time
  bool synchronous_full = true;
  double clock_scale = 1.0;
  // SQLite page cache; 0: 64 MiB when every source is a file (a bulk replay), else 2 MiB (a
  // daemon stays small: docs/performance.md, RSS with 1,000 meters).
  int cache_kib = 0;  // live sources: see SourceContext::clock_scale
  // SIGHUP: returns the new configuration (throws ConfigError to keep the old one).
  std::function<CollectorConfig()> reload;
  // Commit cadence (from config.commit_interval_ms), memory queue bound and retry backoff.
  service::WriterOptions writer;
  // Exit 1 (a runtime_error) when the store fails long enough that frames are dropped.
  bool exit_on_overflow = false;
  // Not owned; nullptr: the system clock.
  const service::Clock* clock = nullptr;
  // The store's wait for another connection's lock before the writer backs off and retries.
  int busy_timeout_ms = 200;
  // The loop's tick (stop flag, live sweeps, commit cadence, retries).
  std::chrono::milliseconds tick{20};
  // Sinks fed from the outbox after every commit ("jsonl:PATH", "mqtt://HOST:PORT", ...).
  std::vector<std::string> sinks;
  // More components for the loop (`collect --http`: the HTTP API), made once the store and
  // writer exist (a factory may hook writer.after_commit) and the loop holds the others
  // (their health); started after the sources, stopped before them.
  std::function<std::vector<std::unique_ptr<service::Component>>(service::StoreWriter& writer,
                                                                 const service::EventLoop& loop)>
      extra_components;
};

struct CollectStats {
  std::uint64_t observations = 0;
  std::uint64_t readings = 0;
  std::uint64_t rejected = 0;
  std::uint64_t events = 0;
  std::uint64_t commits = 0;
  std::uint64_t dropped_frames = 0;  // heard while the store failed, past the memory bound
  std::uint64_t store_failures = 0;
};

// Registers the configuration's meters with a validator (max power from the model number).
void register_meters(const CollectorConfig& config, Validator& v);
// Registers meters marked registered in the store that the configuration does not list.
void register_stored_meters(Store& store, const CollectorConfig& config, Validator& v);

class Collector {
 public:
  explicit Collector(CollectOptions options) : options_(std::move(options)) {}
  // Runs until every source is finished (file sources) or `stop` is set. `reload` is
  // cleared when acted upon. Throws std::runtime_error for start-up failures, when the
  // final flush fails, and (exit_on_overflow) when frames had to be dropped.
  CollectStats run(std::atomic<bool>& stop, std::atomic<bool>& reload);

 private:
  void apply_reload(service::StoreWriter& writer, Validator& validator);
  CollectOptions options_;
};

// Re-derives readings, rejections and events from the raw-frame journal (after a fix to the
// validator or a change of registry). One transaction. Returns the counts.
CollectStats rebuild(Store& store, const CollectorConfig& config);

}  // namespace imsm::collector
