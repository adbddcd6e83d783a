// Sources of bytes (serial port or pty, TCP converter, capture file): each runs in its own
// thread, timestamps bytes on arrival, frames them with the foundation's StreamFramer and
// hands observations to the ingest loop through an ObservationQueue. One interface for
// every transport (libmodbus's backend struct; STYLE.md), one factory.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "collector/observation.h"
#include "collector/service/health.h"
#include "collector/store/store.h"
#include "collector/validate/validator.h"

namespace imsm::collector {

struct SourceSpec {
  enum class Kind { Serial, Tcp, File } kind = Kind::File;
  std::string name;  // canonical text: "serial:/dev/ttyUSB0", "tcp:host:port", "file:PATH", "-"
  std::string path;  // serial device or file ("-" for standard input)
  std::string host;
  int port = 0;
};

// "serial:PATH", "tcp:HOST:PORT", "file:PATH", "-" (standard input). A bare path that is a
// character device counts as serial, any other bare path as a file. Returns an error text.
[[nodiscard]] std::optional<std::string> parse_source(const std::string& text, SourceSpec& out);

// What sources hand to the ingest loop.
struct SourceBatch {
  std::vector<Observation> observations;
  std::vector<Event> events;
};

// A bounded multi-producer, single-consumer queue of batches.
class ObservationQueue {
 public:
  explicit ObservationQueue(std::size_t max_observations = 1 << 16) : max_(max_observations) {}
  // Blocks while full, unless `stop` is set.
  void push(SourceBatch&& batch, const std::atomic<bool>& stop);
  // Waits up to `timeout` for batches; appends them to `out`.
  void pop(std::vector<SourceBatch>& out, std::chrono::milliseconds timeout);
  void wake();
  // Called (from the pushing thread) after every push: the event loop posts a turn (one
  // at a time). Set before sources start.
  void on_push(std::function<void()> fn) { on_push_ = std::move(fn); }

 private:
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::vector<SourceBatch> items_;
  std::size_t count_ = 0;
  std::size_t max_;
  std::function<void()> on_push_;
};

// Maps the monotonic clock to UTC, once, at start-up.
struct ClockMap {
  std::chrono::steady_clock::time_point steady0 = std::chrono::steady_clock::now();
  UtcMicros utc0 = now_utc();
  [[nodiscard]] UtcMicros to_utc(std::chrono::nanoseconds steady_ns) const {
    return utc0 + (steady_ns.count() -
                   std::chrono::duration_cast<std::chrono::nanoseconds>(steady0.time_since_epoch())
                       .count()) /
                      1000;
  }
};

struct SourceContext {
  std::uint32_t source_id = 0;
  ObservationQueue* queue = nullptr;
  const std::atomic<bool>* stop = nullptr;
  ClockMap clock;
  protocol::FramerOptions framer;
  // File sources: arrival times from PATH.times are offset by this (default: start-up time).
  UtcMicros replay_start = 0;
  // File sources: frames at stream offsets below this were journaled by an earlier run.
  std::uint64_t resume_offset = 0;
  // Live sources: the arrival clock runs this many times faster than the monotonic clock (for
  // a simulator at --speed N; idle gaps and timestamps are then in simulated time). 1 in use.
  double clock_scale = 1.0;
  // Live sources: reconnect backoff.
  std::chrono::milliseconds backoff_min{200}, backoff_max{10'000};
};

class Source {
 public:
  Source(SourceSpec spec, SourceContext ctx) : spec_(std::move(spec)), ctx_(std::move(ctx)) {}
  virtual ~Source() = default;
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  // Checks what can be checked before threads start (a file that does not open): throws
  // std::runtime_error naming the source.
  virtual void open() {}
  // The thread body: returns when done (file consumed) or when stop is set.
  virtual void run() = 0;

  [[nodiscard]] const SourceSpec& spec() const { return spec_; }
  [[nodiscard]] std::uint32_t id() const { return ctx_.source_id; }
  [[nodiscard]] bool finished() const { return finished_.load(); }
  // Live sources never finish by themselves.
  [[nodiscard]] virtual bool live() const = 0;
  // This run's counters (what an earlier run of a resumed file counted is left out).
  [[nodiscard]] SourceCounters counters() const;
  // File sources, once finished: the bytes consumed (the next run resumes there).
  [[nodiscard]] std::uint64_t end_offset() const;
  // ok while reading (a live source connected), degraded with the error while reopening.
  [[nodiscard]] service::Health health() const;

 protected:
  // Converts framed output to observations and queues them with any events.
  void deliver(std::vector<protocol::LocatedFrame>& frames, std::vector<Event>& events,
               const std::function<UtcMicros(const protocol::LocatedFrame&)>& utc_of);
  void update_counters(const protocol::StreamFramer& framer, std::uint64_t reconnects);
  void set_health(service::Health h);

  SourceSpec spec_;
  SourceContext ctx_;
  std::atomic<bool> finished_{false};
  mutable std::mutex counters_mu_;
  SourceCounters counters_;
  std::uint64_t shared_frames_ = 0;
  // Counters from earlier connections' framers (live sources start a framer per connection).
  SourceCounters base_;
  service::Health health_;
  // File sources resumed after `resume_offset`: what this run framed below it was counted
  // by an earlier run (restored, not added again).
  std::uint64_t resumed_frames_ = 0;
  protocol::SkipCounts resumed_skipped_;
  std::uint64_t end_offset_ = 0;  // file sources: bytes consumed when finished
};

[[nodiscard]] std::unique_ptr<Source> make_source(const SourceSpec& spec, SourceContext ctx);

}  // namespace imsm::collector
