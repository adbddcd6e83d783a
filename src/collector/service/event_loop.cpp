#include "collector/service/event_loop.h"

#include <asio/post.hpp>

namespace imsm::collector::service {

void EventLoop::start_all() {
  try {
    for (auto* c : components_) c->configure();
    for (auto* c : components_) {
      c->start();
      ++started_;
    }
  } catch (...) {
    stop_all();
    throw;
  }
}

void EventLoop::step(const std::function<void()>& turn) {
  ++turns_;
  turn();
  for (auto* c : components_) c->poll();
}

void EventLoop::arm() {
  timer_.expires_after(tick_);
  timer_.async_wait([this](const std::error_code& ec) {
    if (ec && !woken_) return;  // cancelled by run()'s end, not by wake()
    woken_ = false;
    try {
      step(*turn_);
      if ((*until_)()) {
        io_.stop();
        return;
      }
    } catch (...) {
      error_ = std::current_exception();
      io_.stop();
      return;
    }
    arm();
  });
}

void EventLoop::run(const std::function<void()>& turn, const std::function<bool()>& until) {
  turn_ = &turn;
  until_ = &until;
  error_ = nullptr;
  io_.restart();
  arm();
  io_.run();
  timer_.cancel();
  turn_ = nullptr;
  until_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

// A turn at once: the pending wait is cancelled, and its handler turns (and re-arms).
void EventLoop::wake() {
  if (wake_posted_.exchange(true)) return;
  asio::post(io_, [this] {
    wake_posted_ = false;
    if (turn_ == nullptr) return;
    woken_ = true;
    timer_.cancel();
  });
}

void EventLoop::stop_all() noexcept {
  while (started_ > 0) components_[--started_]->stop();
}

Health EventLoop::health() const {
  std::vector<Health> all;
  for (const auto* c : components_) all.push_back(c->health());
  return worst(all);
}

}  // namespace imsm::collector::service
