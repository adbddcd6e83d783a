// A thread owned by an object (issue 9): the destructor asks the body to stop and joins, so
// no exception can unwind past a joinable std::thread (std::terminate, "terminate called
// without an active exception"). The body polls stop_flag(); `wake` (optional) nudges a body
// blocked on something else (a full queue).
#pragma once

#include <atomic>
#include <functional>
#include <thread>

namespace imsm::collector::service {

class JoiningThread {
 public:
  JoiningThread() = default;
  JoiningThread(const JoiningThread&) = delete;
  JoiningThread& operator=(const JoiningThread&) = delete;
  ~JoiningThread() { stop_and_join(); }

  // Starts `body` (once).
  void start(std::function<void()> body, std::function<void()> wake = {}) {
    wake_ = std::move(wake);
    thread_ = std::thread(std::move(body));
  }
  [[nodiscard]] const std::atomic<bool>& stop_flag() const { return stop_; }
  void request_stop() {
    stop_ = true;
    if (wake_) wake_();
  }
  void stop_and_join() noexcept {
    if (!thread_.joinable()) return;
    request_stop();
    thread_.join();
  }
  [[nodiscard]] bool running() const { return thread_.joinable(); }

 private:
  std::atomic<bool> stop_{false};
  std::function<void()> wake_;
  std::thread thread_;
};

}  // namespace imsm::collector::service
