// The ingest loop of `imsmeter collect` (ESPHome-style lifecycle: configure, start sources
// in order, poll, flush on stop). Sources run in their own threads and queue observations;
// this loop journals each one, lets the Validator decide, stores the decisions and commits
// at least once per commit interval (default 1 s). Everything committed is consistent:
// journal, readings, rejections, events and per-source offsets go in one transaction, so a
// kill -9 loses nothing committed and a restart duplicates nothing.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "collector/config.h"
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
};

struct CollectStats {
  std::uint64_t observations = 0;
  std::uint64_t readings = 0;
  std::uint64_t rejected = 0;
  std::uint64_t events = 0;
  std::uint64_t commits = 0;
};

// Registers the configuration's meters with a validator (max power from the model number).
void register_meters(const CollectorConfig& config, Validator& v);
// Registers meters marked registered in the store that the configuration does not list.
void register_stored_meters(Store& store, const CollectorConfig& config, Validator& v);

class Collector {
 public:
  explicit Collector(CollectOptions options) : options_(std::move(options)) {}
  // Runs until every source is finished (file sources) or `stop` is set. `reload` is
  // cleared when acted upon. Throws std::runtime_error for start-up failures.
  CollectStats run(std::atomic<bool>& stop, std::atomic<bool>& reload);

 private:
  CollectOptions options_;
};

// Re-derives readings, rejections and events from the raw-frame journal (after a fix to the
// validator or a change of registry). One transaction. Returns the counts.
CollectStats rebuild(Store& store, const CollectorConfig& config);

}  // namespace imsm::collector
