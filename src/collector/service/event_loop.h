// The collector's one event loop (standalone asio): an io_context whose steady_timer turns
// the loop every `tick`, and at once when a source queues a batch (post()). Each turn runs
// the owner's `turn` step, then every component's poll(). Components are configured and
// started in registration order and stopped in reverse, also when start-up or a turn
// throws, so no thread outlives the loop.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <vector>

#include "collector/service/component.h"

namespace imsm::collector::service {

class EventLoop {
 public:
  explicit EventLoop(std::chrono::milliseconds tick) : tick_(tick), timer_(io_) {}
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  ~EventLoop() { stop_all(); }

  // Not owned; must outlive the loop.
  void add(Component& c) { components_.push_back(&c); }
  // configure() every component, then start() each; on a throw, stops what started.
  void start_all();
  // Turns until `until()` holds (checked after each turn). `turn` may throw: the loop ends
  // and the exception propagates (after stop_all() has run, via the destructor or caller).
  void run(const std::function<void()>& turn, const std::function<bool()>& until);
  // One turn, synchronously (tests).
  void step(const std::function<void()>& turn);
  // Thread-safe: asks for a turn now (a source queued a batch).
  void wake();
  // stop() in reverse order, once.
  void stop_all() noexcept;
  [[nodiscard]] Health health() const;
  [[nodiscard]] const std::vector<Component*>& components() const { return components_; }
  [[nodiscard]] std::uint64_t turns() const { return turns_; }

 private:
  void arm();

  std::chrono::milliseconds tick_;
  asio::io_context io_;
  asio::steady_timer timer_;
  std::vector<Component*> components_;
  std::size_t started_ = 0;
  std::atomic<bool> wake_posted_{false};
  bool woken_ = false;  // io thread only
  std::uint64_t turns_ = 0;
  const std::function<void()>* turn_ = nullptr;
  const std::function<bool()>* until_ = nullptr;
  std::exception_ptr error_;
};

}  // namespace imsm::collector::service
