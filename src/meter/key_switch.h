// The key-switch demand-reset gesture (guide 2.4.2; SPEC "Demand reset"): turn right from
// the locked position and back, the whole transition within 1 second, recognised only while
// peak demand is on the display (both turns inside the same peak-demand display window),
// at most one reset per window. Anything else is ignored.
#pragma once

#include <cstdint>

namespace imsm::meter {

enum class KeyPosition : std::uint8_t { Locked, Right };

inline constexpr std::int64_t kKeyMaxTransitionNs = 1'000'000'000LL;

class KeySwitch {
 public:
  enum class Outcome : std::uint8_t {
    None,
    Reset,
    IgnoredSlow,
    IgnoredOutsideWindow,
    IgnoredRepeat
  };

  // `peak_window`: the display-cycle index while peak demand shows, or -1 when it does not.
  Outcome turn(KeyPosition p, std::int64_t now_ns, std::int64_t peak_window) {
    if (p == position_) return Outcome::None;
    position_ = p;
    if (p == KeyPosition::Right) {
      right_at_ns_ = now_ns;
      right_window_ = peak_window;
      return Outcome::None;
    }
    // Back to locked: a complete gesture.
    if (now_ns - right_at_ns_ > kKeyMaxTransitionNs) return Outcome::IgnoredSlow;
    if (peak_window < 0 || right_window_ != peak_window) return Outcome::IgnoredOutsideWindow;
    if (peak_window == last_reset_window_) return Outcome::IgnoredRepeat;
    last_reset_window_ = peak_window;
    return Outcome::Reset;
  }
  // Power-up: the display cycle restarts, so window indices restart.
  void power_up() {
    right_window_ = -1;
    last_reset_window_ = -1;
    right_at_ns_ = INT64_MIN / 2;
  }
  [[nodiscard]] KeyPosition position() const { return position_; }

 private:
  KeyPosition position_ = KeyPosition::Locked;
  std::int64_t right_at_ns_ = INT64_MIN / 2;
  std::int64_t right_window_ = -1;
  std::int64_t last_reset_window_ = -1;
};

}  // namespace imsm::meter
