// The store writer (a Component): journals what the sources heard, lets the Validator
// decide, stores the decisions and commits at least once per commit interval; a frame that
// finds the writer idle is committed at once (WriterOptions::prompt_after). A database
// error (busy, locked, disk full, read-only) is a state, not a crash (issue 9): the open
// batch is rolled back and kept (WriteLog), source batches keep arriving into a bounded
// memory queue, the error is logged once, the batch is retried with exponential backoff
// while health() says degraded, and once the store works everything kept is written in
// order. Past `queue_frames` the frames that cannot be kept are counted and logged.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "collector/config.h"
#include "collector/model.h"
#include "collector/service/clock.h"
#include "collector/service/component.h"
#include "collector/service/histogram.h"
#include "collector/service/write_log.h"
#include "collector/sources/source.h"

namespace imsm::collector {
class Store;
class Validator;
}  // namespace imsm::collector

namespace imsm::collector::service {

// When a batch commits (docs/collector.md "Commit rule"): at the end of the poll that opened
// it when the writer had been idle (no write, no commit) for `prompt_after` before that poll
// (a live frame is visible at once); otherwise `commit_every` after it opened, or early at
// `commit_frames`. A flood (a replay) refills the queue within microseconds of each commit,
// so it never finds the writer idle that long and is grouped by the cadence as before.
struct WriterOptions {
  std::chrono::milliseconds commit_every{1000};
  std::chrono::milliseconds prompt_after{2};
  // Frames kept in memory while the store fails (`store_queue_frames`): open batch + queue.
  std::size_t queue_frames = 1'000'000;
  // A batch is committed early when it holds this many frames: bounds the write log's
  // memory (~120 bytes a frame) in a bulk replay, which otherwise commits once a second.
  std::size_t commit_frames = 1 << 17;
  std::chrono::milliseconds backoff_min{250}, backoff_max{30'000};
};

struct WriterStats {
  std::uint64_t observations = 0;
  std::uint64_t readings = 0;
  std::uint64_t rejected = 0;
  std::uint64_t events = 0;
  std::uint64_t commits = 0;
  std::uint64_t store_failures = 0;  // failed attempts (first failure and retries)
  std::uint64_t dropped_frames = 0;  // could not be kept: the queue was full
};

// What /metrics shows of a running writer (`collect --http`): its counters, the duration of
// each commit (saving the sources' counters and the store's COMMIT, fsync included) in
// microseconds of the injected clock, the frames each commit wrote, the frames kept in
// memory, and the collector's clock (collector_now()).
struct WriterMetrics {
  WriterStats stats;
  Histogram commit_us{1'000,   2'500,   5'000,     10'000,    25'000,    50'000,    100'000,
                      250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000};
  Histogram batch_frames{1, 4, 16, 64, 256, 1'024, 4'096, 16'384, 65'536, 262'144};
  std::uint64_t kept_frames = 0;
  UtcMicros now = 0;
};

using RejectCounts = std::array<std::uint64_t, kRejectReasonCount>;

class StoreWriter final : public Component {
 public:
  // Called inside every batch just before its commit: saves the sources' counters.
  using SaveCounters = std::function<void(Store&)>;
  StoreWriter(Store& store, Validator& validator, const Clock& clock, WriterOptions options,
              SaveCounters save_counters);

  [[nodiscard]] std::string name() const override { return "store"; }
  // Writes queued batches and commits at the cadence; after a failure, retries when due.
  void poll() override;
  void stop() noexcept override;
  [[nodiscard]] Health health() const override;

  // A source batch (frames, then its events); dropped and counted when the queue is full.
  void submit(SourceBatch&& batch);
  // The validator's sweep at `now` (silent meters), at most every 10 s; skipped while the
  // store fails (it runs again with the clock when the store is back).
  void sweep(UtcMicros now);
  // Stores a reloaded registry (kept with the batch while the store fails).
  void reload(const CollectorConfig& config);
  // Writes everything kept, a last sweep at the latest arrival, and commits. One attempt
  // when the store is failing; false if it still fails.
  bool finish();
  // Called after every successful commit (sinks read the outbox from here).
  void after_commit(std::function<void()> fn) { after_commit_.push_back(std::move(fn)); }
  // In-process readers of the outbox besides the sinks (the HTTP event stream): what the
  // slowest has read; trimming keeps everything after it (no reader: no limit).
  void add_outbox_reader(std::function<std::uint64_t()> read_through) {
    outbox_readers_.push_back(std::move(read_through));
  }
  [[nodiscard]] std::uint64_t outbox_read_through() const {
    std::uint64_t r = std::numeric_limits<std::uint64_t>::max();
    for (const auto& fn : outbox_readers_) r = std::min(r, fn());
    return r;
  }

  [[nodiscard]] bool failing() const { return failing_; }
  [[nodiscard]] bool full() const { return kept_frames() >= options_.queue_frames; }
  [[nodiscard]] bool idle() const { return kept_frames() == 0 && queued_.empty(); }
  // Nothing queued beyond the open batch.
  [[nodiscard]] bool drained() const { return queued_.empty(); }
  [[nodiscard]] std::size_t kept_frames() const { return log_.frames() + queued_frames_; }
  [[nodiscard]] const WriterStats& stats() const { return stats_; }
  // stats(), the commit histograms, kept_frames() and collector_now().
  [[nodiscard]] WriterMetrics metrics() const;
  // The collector's clock: the newest of the latest arrival and the latest time sweep() was
  // asked for (live sources: the loop's clock, scaled by --clock-scale); before either, the
  // injected clock. A replay's clock is its frames' time, not the wall clock.
  [[nodiscard]] UtcMicros collector_now() const;
  // Per source: highest stream offset journaled + 1, and rejections per reason.
  [[nodiscard]] std::uint64_t next_offset(std::uint32_t source) const;
  [[nodiscard]] RejectCounts rejects(std::uint32_t source) const;

 private:
  void drain();
  void ingest(Observation& o);
  void sweep_now(UtcMicros now);
  void apply_logged();
  void count(std::uint32_t source, std::int64_t frame_id);
  void maybe_commit(bool force);
  // Nothing written since the last commit, which ended at least prompt_after ago.
  [[nodiscard]] bool idle_long_enough() const;
  void commit_now();
  bool recover();
  void fail(const char* what);
  template <typename F>
  bool guarded(F&& f);

  Store& store_;
  Validator& validator_;
  const Clock& clock_;
  WriterOptions options_;
  SaveCounters save_counters_;
  WriteLog log_;
  Decisions d_;
  std::deque<SourceBatch> queued_;
  std::size_t queued_frames_ = 0;
  std::size_t pos_ = 0;  // frames of queued_.front() already in the log
  UtcMicros clock_now_ = 0, last_sweep_ = 0, asked_now_ = 0;
  Clock::Steady opened_;       // the open batch's cadence starts here (last poll with none)
  Clock::Steady last_commit_;  // the end of the last commit (or the writer's construction)
  // Failure state.
  bool failing_ = false;
  std::string error_;
  Clock::Steady failed_at_, retry_at_;
  std::chrono::milliseconds backoff_{0};
  bool drop_logged_ = false;
  std::uint64_t dropped_this_outage_ = 0;
  std::map<std::uint32_t, std::uint64_t> next_offset_;
  std::map<std::uint32_t, RejectCounts> rejects_;
  std::unordered_map<std::int64_t, std::uint32_t> pending_source_;  // held frame -> source
  std::vector<std::function<void()>> after_commit_;
  std::vector<std::function<std::uint64_t()>> outbox_readers_;
  WriterStats stats_;
  Histogram commit_us_ = WriterMetrics{}.commit_us;
  Histogram batch_frames_ = WriterMetrics{}.batch_frames;
};

}  // namespace imsm::collector::service
