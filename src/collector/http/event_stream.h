// Server-sent events from the outbox (docs/http.md "/api/stream"): ONE reader of the outbox
// per server, fanned out to every client, so a hundred open dashboards cost one query per
// commit, not a hundred query loops. The reader wakes on notify() (the collector's commit
// hook) or every `poll_every` (imsmeter serve: a cheap max-seq check on another process's
// database), appends each new item as a ready SSE frame ("id: SEQ", "event: KIND", "data:
// JSON") to a bounded ring, and wakes the clients. A client resuming from a Last-Event-ID
// older than the ring catches up from the store in pages, then follows the ring: no gaps, no
// repeats. The number of open streams is bounded.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "collector/http/server_options.h"
#include "collector/store/store.h"

namespace imsm::collector::http {

// One SSE frame of an outbox item.
[[nodiscard]] std::string sse_frame(const OutboxItem& item);

class EventStream {
 public:
  // `store` is read under `store_mutex` (shared with the API's requests).
  EventStream(Store& store, std::mutex& store_mutex, StreamOptions options);
  ~EventStream();
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // Starts the reader thread from the store's current head.
  void start();
  // Wakes every client (they end) and joins the reader. Idempotent.
  void stop();
  // Thread-safe, never blocks: something was committed, read the outbox now.
  void notify();
  // The newest outbox entry the stream has read: the outbox must keep what follows it, or the
  // stream's clients never see it (SinkPump trims behind the slowest reader).
  [[nodiscard]] std::uint64_t read_through() const {
    std::lock_guard lock(mutex_);
    return last_;
  }

  // An open stream; releasing it frees its slot.
  class Client {
   public:
    explicit Client(EventStream& s, std::uint64_t cursor) : stream_(s), cursor_(cursor) {}
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    // The next frames after the cursor (waits up to the keepalive; a comment when nothing
    // came). False once the stream is stopped.
    bool next(std::string& out);
    [[nodiscard]] std::uint64_t cursor() const { return cursor_; }

   private:
    EventStream& stream_;
    std::uint64_t cursor_;
  };
  // A client resuming after `last_event_id` (nullopt: from the store's head now). Nullptr
  // when max_streams are open.
  [[nodiscard]] std::unique_ptr<Client> open(std::optional<std::uint64_t> last_event_id);
  [[nodiscard]] std::size_t open_streams() const;

 private:
  struct Frame {
    std::uint64_t seq;
    std::string text;
  };
  void reader();
  bool read_new();
  bool catch_up(std::uint64_t& cursor, std::string& out, std::uint64_t floor);
  [[nodiscard]] std::uint64_t store_head();

  Store& store_;
  std::mutex& store_mutex_;
  StreamOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable reader_cv_, clients_cv_;
  std::deque<Frame> ring_;
  std::uint64_t floor_ = 0;  // every item with seq > floor_ and <= last_ is in the ring
  std::uint64_t last_ = 0;   // newest seq read
  std::size_t open_ = 0;
  bool wake_ = false, stopped_ = false, started_ = false;
  std::thread thread_;
};

}  // namespace imsm::collector::http
