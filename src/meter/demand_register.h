// Demand (SPEC "Demand"; guide 2.4.1; research/metrology.md 3.3-3.4). Subintervals of
// 5 minutes counted from power-up. Instantaneous demand = energy of the last completed
// subinterval / 5 min; rolling demand = energy of the last three completed subintervals /
// 15 min, available once three have completed since power-up; peak = the largest rolling
// demand since the last reset. All kept as exact integer energies (nWh) and converted by
// truncating integer division: display 0.01 kW, RS485 counts of 20 W saturating at 65535.
#pragma once

#include <array>
#include <cstdint>

#include "common/units.h"

namespace imsm::meter {

class DemandRegister {
 public:
  // Subinterval energy -> 0.01 kW: E[nWh] * 12 / 1e9 W = E * 12 / 1e10 centi-kW.
  [[nodiscard]] static std::uint64_t inst_centi_kw(std::uint64_t sub_nwh) {
    return sub_nwh * 12 / 10'000'000'000ULL;
  }
  // 15-minute energy -> 0.01 kW: E * 4 / 1e10.
  [[nodiscard]] static std::uint64_t rolling_centi_kw(std::uint64_t window_nwh) {
    return window_nwh * 4 / 10'000'000'000ULL;
  }
  // 15-minute energy -> 20 W counts: floor(E * 4 / 1e9 / 20) = floor(E / 5e9), saturating.
  [[nodiscard]] static DemandCounts rolling_counts(std::uint64_t window_nwh) {
    const std::uint64_t c = window_nwh / 5'000'000'000ULL;
    return DemandCounts{static_cast<std::uint16_t>(c > 65535 ? 65535 : c)};
  }

  // Power-up: the history of completed subintervals is gone (the meter has no clock).
  void power_up() {
    completed_ = 0;
    last_ = {};
  }
  // A subinterval of `sub_nwh` completed: updates instantaneous, rolling and peak.
  void complete_subinterval(std::uint64_t sub_nwh) {
    last_[2] = last_[1];
    last_[1] = last_[0];
    last_[0] = sub_nwh;
    if (completed_ < 3) ++completed_;
    if (completed_ >= 3) {
      const std::uint64_t w = last_[0] + last_[1] + last_[2];
      if (w > peak_window_nwh_) peak_window_nwh_ = w;
    }
  }
  // Key-switch demand reset (guide 2.4.2): peak to zero, counter advances mod 256.
  void reset() {
    peak_window_nwh_ = 0;
    resets_.value = static_cast<std::uint8_t>(resets_.value + 1);
  }

  [[nodiscard]] bool inst_available() const { return completed_ >= 1; }
  [[nodiscard]] bool rolling_available() const { return completed_ >= 3; }
  [[nodiscard]] std::uint64_t last_subinterval_nwh() const { return last_[0]; }
  [[nodiscard]] std::uint64_t rolling_window_nwh() const {
    return rolling_available() ? last_[0] + last_[1] + last_[2] : 0;
  }
  [[nodiscard]] std::uint64_t inst_centi_kw() const { return inst_centi_kw(last_[0]); }
  [[nodiscard]] std::uint64_t rolling_centi_kw() const {
    return rolling_centi_kw(rolling_window_nwh());
  }
  [[nodiscard]] std::uint64_t peak_window_nwh() const { return peak_window_nwh_; }
  [[nodiscard]] std::uint64_t peak_centi_kw() const { return rolling_centi_kw(peak_window_nwh_); }
  [[nodiscard]] DemandCounts peak_counts() const { return rolling_counts(peak_window_nwh_); }
  [[nodiscard]] ResetCounter resets() const { return resets_; }
  [[nodiscard]] int completed_since_power_up() const { return completed_; }

  // Snapshot support.
  struct State {
    std::array<std::uint64_t, 3> last{};
    int completed = 0;
    std::uint64_t peak_window_nwh = 0;
    std::uint8_t resets = 0;
  };
  [[nodiscard]] State state() const { return {last_, completed_, peak_window_nwh_, resets_.value}; }
  void set_state(const State& s) {
    last_ = s.last;
    completed_ = s.completed;
    peak_window_nwh_ = s.peak_window_nwh;
    resets_.value = s.resets;
  }

 private:
  std::array<std::uint64_t, 3> last_{};  // [0] = most recent completed subinterval, nWh
  int completed_ = 0;                    // since power-up, capped at 3
  std::uint64_t peak_window_nwh_ = 0;    // energy of the peak 15-minute window
  ResetCounter resets_{};
};

}  // namespace imsm::meter
