// Feeds every sink from the store's outbox after commits (docs/collector.md "Sinks"): each
// from its durable cursor, in batches, saving the cursor after the sink says it delivered;
// trims the outbox past the slowest sink and to its size bound, logging what the bound
// dropped unsent. A sink that fails is degraded and retried at the next poll with backoff;
// the others go on.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "collector/sinks/sink.h"
#include "collector/store/store.h"

namespace imsm::collector {

struct SinkPumpOptions {
  std::size_t batch = 1000;              // items per consume()
  std::uint64_t max_outbox = 1'000'000;  // entries kept for sinks that are behind
  std::chrono::milliseconds retry_min{200}, retry_max{30'000};
};

struct SinkStatus {
  std::string name;
  std::uint64_t cursor = 0;
  bool ok = true;
  std::string error;  // the last failure, while not ok
};

class SinkPump {
 public:
  SinkPump(Store& store, std::vector<std::unique_ptr<Sink>> sinks, SinkPumpOptions options = {});

  // Delivers what is committed and not yet delivered, up to `max_batches` batches per sink
  // (so one slow catch-up does not stall the ingest loop); `now` drives the retry backoff.
  // Must be called outside an open store transaction. Returns items delivered.
  std::uint64_t poll(std::chrono::steady_clock::time_point now, std::size_t max_batches = 16);
  [[nodiscard]] std::vector<SinkStatus> status() const;
  [[nodiscard]] bool empty() const { return sinks_.empty(); }
  // The newest entry every other in-process reader (the event stream) has read: trimming what
  // all sinks read stops there (the bound still applies). Unset: no other reader.
  void others_read_through(std::function<std::uint64_t()> fn) { others_ = std::move(fn); }

 private:
  struct Entry {
    std::unique_ptr<Sink> sink;
    std::uint64_t cursor = 0;
    bool ok = true;
    std::string error;
    std::chrono::milliseconds backoff{0};
    std::chrono::steady_clock::time_point retry_at{};
  };
  std::uint64_t feed(Entry& e, std::chrono::steady_clock::time_point now, std::size_t max_batches);
  void trim();
  bool over_bound();  // more entries than the bound plus an eighth

  Store& store_;
  std::vector<Entry> sinks_;
  SinkPumpOptions options_;
  std::uint64_t polls_ = 0;
  std::function<std::uint64_t()> others_;
};

}  // namespace imsm::collector
