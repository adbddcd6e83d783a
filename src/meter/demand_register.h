// Demand (SPEC "Demand"; guide 2.4.1; research/metrology.md 3.3-3.4). Subintervals of
// 5 minutes counted from power-up. Instantaneous demand = energy of the last completed
// subinterval / 5 min; rolling demand = energy of the last three completed subintervals /
// 15 min, available once three have completed since power-up; peak = the largest rolling
// demand since the last reset. All kept as exact integer energies (femtojoules, see
// energy_register.h) and converted by truncating integer division: display 0.01 kW,
// RS485 counts of 20 W saturating at 65535.
#pragma once

#include <array>
#include <cstdint>

#include "common/units.h"
#include "meter/energy_register.h"

namespace imsm::meter {

class DemandRegister {
 public:
  // 0.01 kW = 10 W. Over 300 s: E[fJ] * 1e-15 / 300 / 10 = E / 3e18.
  static constexpr Uint128 kFjPerCentiKw5Min = 3'000'000'000'000'000'000ULL;
  // Over 900 s: E / 9e18 per 0.01 kW; E / 1.8e19 per 20 W count.
  static constexpr Uint128 kFjPerCentiKw15Min = 9'000'000'000'000'000'000ULL;
  static constexpr Uint128 kFjPerCount15Min = kFjPerCentiKw15Min * 2;

  [[nodiscard]] static std::uint64_t inst_centi_kw(Uint128 sub_fj) {
    return static_cast<std::uint64_t>(sub_fj / kFjPerCentiKw5Min);
  }
  [[nodiscard]] static std::uint64_t rolling_centi_kw(Uint128 window_fj) {
    return static_cast<std::uint64_t>(window_fj / kFjPerCentiKw15Min);
  }
  [[nodiscard]] static DemandCounts rolling_counts(Uint128 window_fj) {
    const Uint128 c = window_fj / kFjPerCount15Min;
    return DemandCounts{static_cast<std::uint16_t>(c > 65535 ? 65535 : c)};
  }

  // Power-up: the history of completed subintervals is gone (the meter has no clock).
  void power_up() {
    completed_ = 0;
    last_ = {};
  }
  // A subinterval of `sub_fj` completed: updates instantaneous, rolling and peak.
  void complete_subinterval(Uint128 sub_fj) {
    last_[2] = last_[1];
    last_[1] = last_[0];
    last_[0] = sub_fj;
    if (completed_ < 3) ++completed_;
    if (completed_ >= 3) {
      const Uint128 w = last_[0] + last_[1] + last_[2];
      if (w > peak_window_fj_) peak_window_fj_ = w;
    }
  }
  // Key-switch demand reset (guide 2.4.2): peak to zero, counter advances mod 256.
  void reset() {
    peak_window_fj_ = 0;
    resets_.value = static_cast<std::uint8_t>(resets_.value + 1);
  }

  [[nodiscard]] bool inst_available() const { return completed_ >= 1; }
  [[nodiscard]] bool rolling_available() const { return completed_ >= 3; }
  [[nodiscard]] Uint128 last_subinterval_fj() const { return last_[0]; }
  [[nodiscard]] Uint128 rolling_window_fj() const {
    return rolling_available() ? last_[0] + last_[1] + last_[2] : 0;
  }
  [[nodiscard]] std::uint64_t inst_centi_kw() const { return inst_centi_kw(last_[0]); }
  [[nodiscard]] std::uint64_t rolling_centi_kw() const {
    return rolling_centi_kw(rolling_window_fj());
  }
  [[nodiscard]] Uint128 peak_window_fj() const { return peak_window_fj_; }
  [[nodiscard]] std::uint64_t peak_centi_kw() const { return rolling_centi_kw(peak_window_fj_); }
  [[nodiscard]] DemandCounts peak_counts() const { return rolling_counts(peak_window_fj_); }
  [[nodiscard]] ResetCounter resets() const { return resets_; }
  [[nodiscard]] int completed_since_power_up() const { return completed_; }

  // Snapshot support.
  struct State {
    std::array<Uint128, 3> last{};
    int completed = 0;
    Uint128 peak_window_fj = 0;
    std::uint8_t resets = 0;
  };
  [[nodiscard]] State state() const { return {last_, completed_, peak_window_fj_, resets_.value}; }
  void set_state(const State& s) {
    last_ = s.last;
    completed_ = s.completed;
    peak_window_fj_ = s.peak_window_fj;
    resets_.value = s.resets;
  }

 private:
  std::array<Uint128, 3> last_{};  // [0] = most recent completed subinterval, fJ
  int completed_ = 0;              // since power-up, capped at 3
  Uint128 peak_window_fj_ = 0;     // energy of the peak 15-minute window
  ResetCounter resets_{};
};

}  // namespace imsm::meter
