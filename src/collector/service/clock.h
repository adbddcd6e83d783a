// The collector's clock, injected (STYLE.md "Seams for a service"): the event loop, the store
// writer's commit cadence and retry backoff read time through it. SystemClock in use;
// ManualClock in tests, which move time by hand instead of sleeping.
#pragma once

#include <chrono>

#include "collector/time_util.h"

namespace imsm::collector::service {

class Clock {
 public:
  using Steady = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  [[nodiscard]] virtual Steady steady() const = 0;
  [[nodiscard]] virtual UtcMicros utc() const = 0;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] Steady steady() const override { return std::chrono::steady_clock::now(); }
  [[nodiscard]] UtcMicros utc() const override { return now_utc(); }
};

// Starts at `utc0` (and an arbitrary steady origin); moves only when advanced.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(UtcMicros utc0 = 0) : utc0_(utc0) {}
  [[nodiscard]] Steady steady() const override { return Steady{} + elapsed_; }
  [[nodiscard]] UtcMicros utc() const override {
    return utc0_ + std::chrono::duration_cast<std::chrono::microseconds>(elapsed_).count();
  }
  void advance(std::chrono::nanoseconds d) { elapsed_ += d; }

 private:
  UtcMicros utc0_;
  std::chrono::nanoseconds elapsed_{0};
};

}  // namespace imsm::collector::service
