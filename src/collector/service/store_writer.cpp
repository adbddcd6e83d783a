#include "collector/service/store_writer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

#include "collector/store/store.h"
#include "collector/validate/validator.h"

namespace imsm::collector::service {

namespace {
constexpr std::int64_t kSweepEveryUs = 10 * kMicrosPerSecond;

double seconds(Clock::Steady::duration d) {
  return std::chrono::duration<double>(d).count();
}
}  // namespace

StoreWriter::StoreWriter(Store& store, Validator& validator, const Clock& clock,
                         WriterOptions options, SaveCounters save_counters)
    : store_(store),
      validator_(validator),
      clock_(clock),
      options_(options),
      save_counters_(std::move(save_counters)),
      opened_(clock.steady()),
      last_commit_(opened_) {}

template <typename F>
bool StoreWriter::guarded(F&& f) {
  try {
    f();
    return true;
  } catch (const std::exception& e) {
    fail(e.what());
    return false;
  }
}

void StoreWriter::submit(SourceBatch&& batch) {
  const std::size_t n = batch.observations.size();
  // One batch is always taken while nothing is kept: a source's batch may exceed a small
  // bound, and dropping it while the store works would lose frames for nothing.
  if (n > 0 && kept_frames() > 0 && kept_frames() + n > options_.queue_frames) {
    stats_.dropped_frames += n;
    dropped_this_outage_ += n;
    if (!drop_logged_)
      spdlog::error(
          "store: memory queue full ({} frame(s), store_queue_frames): frames heard "
          "from now on are lost until the store works again; counting them",
          kept_frames());
    drop_logged_ = true;
    batch.observations.clear();
    if (batch.events.empty()) return;
  }
  queued_frames_ += n;
  queued_.push_back(std::move(batch));
}

void StoreWriter::poll() {
  if (failing_ && (clock_.steady() < retry_at_ || !recover())) return;
  guarded([&] {
    // Idle before this poll: what it brings is a live frame (or a replay's first batch), not
    // part of a flood, and is committed at once.
    const bool prompt = idle_long_enough();
    drain();
    maybe_commit(prompt);
  });
}

bool StoreWriter::idle_long_enough() const {
  return !store_.in_transaction() && clock_.steady() - last_commit_ >= options_.prompt_after;
}

void StoreWriter::drain() {
  while (!queued_.empty()) {
    SourceBatch& b = queued_.front();
    store_.begin();
    while (pos_ < b.observations.size()) {
      ingest(b.observations[pos_]);
      if (log_.frames() < options_.commit_frames) continue;
      maybe_commit(true);  // bounds the batch (and the memory a replay would need)
      store_.begin();
    }
    if (!b.events.empty()) {
      d_.events = std::move(b.events);
      b.events.clear();
      stats_.events += d_.events.size();
      apply_logged();
    }
    queued_.pop_front();
    pos_ = 0;
  }
}

// The clock moves with the arrivals: silent meters are found before the next frame counts.
void StoreWriter::ingest(Observation& o) {
  if (o.received_at > clock_now_) {
    clock_now_ = o.received_at;
    if (clock_now_ - last_sweep_ >= kSweepEveryUs) sweep_now(clock_now_);
  }
  store_.journal(o);  // a failure here leaves the frame queued
  log_.journal(o);
  ++pos_;
  --queued_frames_;
  auto& next = next_offset_[o.source_id];
  next = std::max(next, o.stream_offset + protocol::kFrameSize);
  validator_.process(o, d_);
  stats_.observations++;
  count(o.source_id, o.frame_id);
  apply_logged();
}

void StoreWriter::count(std::uint32_t source, std::int64_t frame_id) {
  stats_.readings += d_.readings.size();
  stats_.rejected += d_.rejections.size();
  stats_.events += d_.events.size();
  for (const Rejection& r : d_.rejections) {
    std::uint32_t from = source;
    if (r.frame_id != frame_id)
      if (auto it = pending_source_.find(r.frame_id); it != pending_source_.end())
        from = it->second;
    rejects_[from][static_cast<std::size_t>(r.reason)]++;
  }
  for (std::int64_t id : d_.released) pending_source_.erase(id);
  for (std::int64_t id : d_.held)
    if (id == frame_id) pending_source_[id] = source;
}

// Logged before the store sees it: whatever the store throws, the log holds the decisions.
void StoreWriter::apply_logged() {
  log_.apply(d_);
  store_.apply(d_, validator_);
  d_.clear();
}

void StoreWriter::sweep_now(UtcMicros now) {
  last_sweep_ = now;
  validator_.sweep(now, d_);
  if (d_.empty()) return;
  store_.begin();
  count(0, 0);
  apply_logged();
}

void StoreWriter::sweep(UtcMicros now) {
  asked_now_ = std::max(asked_now_, now);
  if (failing_) return;
  guarded([&] {
    if (now - last_sweep_ >= kSweepEveryUs) sweep_now(std::max(now, clock_now_));
  });
}

void StoreWriter::reload(const CollectorConfig& config) {
  log_.registry(config);
  if (failing_) return;  // written with the kept batch
  guarded([&] {
    store_.begin();
    store_.save_registry(config);
  });
}

void StoreWriter::maybe_commit(bool force) {
  const auto now = clock_.steady();
  if (!store_.in_transaction()) {
    opened_ = now;
    return;
  }
  if (force || now - opened_ >= options_.commit_every || log_.frames() >= options_.commit_frames)
    commit_now();
}

void StoreWriter::commit_now() {
  const auto started = clock_.steady();
  const auto frames = log_.frames();
  save_counters_(store_);
  store_.commit();
  last_commit_ = clock_.steady();
  opened_ = last_commit_;  // a batch begun at once (a flood) counts its cadence from here
  commit_us_.observe(
      std::chrono::duration_cast<std::chrono::microseconds>(last_commit_ - started).count());
  batch_frames_.observe(static_cast<std::int64_t>(frames));
  log_.clear();
  stats_.commits++;
  for (auto& fn : after_commit_) fn();
}

void StoreWriter::fail(const char* what) {
  d_.clear();
  try {
    store_.rollback();
  } catch (const std::exception&) {  // SQLite may have rolled back already (disk full)
  }
  const auto now = clock_.steady();
  stats_.store_failures++;
  if (!failing_) {
    spdlog::error("store: {}; keeping frames in memory (up to {}) and retrying with backoff", what,
                  options_.queue_frames);
    failed_at_ = now;
    backoff_ = options_.backoff_min;
  } else {
    backoff_ = std::min(backoff_ * 2, options_.backoff_max);
    spdlog::debug("store: still failing ({}); next attempt in {} ms", what, backoff_.count());
  }
  failing_ = true;
  error_ = what;
  retry_at_ = now + backoff_;
}

// Writes the kept batch again: the same journal() calls and decisions, in the same order.
bool StoreWriter::recover() {
  const std::size_t frames = log_.frames();
  if (!guarded([&] {
        store_.begin();
        log_.replay(store_, validator_);
        commit_now();
      }))
    return false;
  failing_ = false;
  spdlog::info("store: writable again after {:.1f} s; wrote the {} frame(s) kept in memory",
               seconds(clock_.steady() - failed_at_), frames + queued_frames_);
  if (dropped_this_outage_ > 0)
    spdlog::error("store: {} frame(s) could not be kept while the store failed (queue full)",
                  dropped_this_outage_);
  dropped_this_outage_ = 0;
  drop_logged_ = false;
  return true;
}

bool StoreWriter::finish() {
  if (failing_ && !recover()) return false;
  return guarded([&] {
    drain();
    if (clock_now_ > 0) sweep_now(clock_now_);
    store_.begin();
    commit_now();
  });
}

// The owner calls finish() after the sources have stopped (their last batches come first);
// an unfinished batch is rolled back by the store.
void StoreWriter::stop() noexcept {}

Health StoreWriter::health() const {
  if (failing_)
    return Health::degraded(error_ + "; " + std::to_string(kept_frames()) +
                            " frame(s) kept in memory");
  return stats_.commits > 0 ? Health::ok() : Health{};
}

UtcMicros StoreWriter::collector_now() const {
  const UtcMicros t = std::max(clock_now_, asked_now_);
  return t > 0 ? t : clock_.utc();
}

WriterMetrics StoreWriter::metrics() const {
  WriterMetrics m;
  m.stats = stats_;
  m.commit_us = commit_us_;
  m.batch_frames = batch_frames_;
  m.kept_frames = kept_frames();
  m.now = collector_now();
  return m;
}

std::uint64_t StoreWriter::next_offset(std::uint32_t source) const {
  auto it = next_offset_.find(source);
  return it == next_offset_.end() ? 0 : it->second;
}

RejectCounts StoreWriter::rejects(std::uint32_t source) const {
  auto it = rejects_.find(source);
  return it == rejects_.end() ? RejectCounts{} : it->second;
}

}  // namespace imsm::collector::service
