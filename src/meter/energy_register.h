// The master energy register (SPEC "Energy"; research/metrology.md 2.7): a 128-bit unsigned
// integer in femtojoules (1 fJ = 1e-15 J; 1 Wh = 3.6e18 fJ) that only ever grows. The phasor
// path adds exact integer products (power in integer microwatts x time in nanoseconds =
// fJ), so it never rounds at all; the sample path adds a double and keeps the sub-fJ
// remainder. Nothing is ever rounded away and the register never drifts; it holds 9.4e19 Wh.
// Every visible quantity (kWh display, 24-bit kWh on the wire, pulse outputs, LEDs, demand)
// is an exact integer function of it.
#pragma once

#include <cstdint>

#include "common/units.h"

namespace imsm::meter {

__extension__ using Uint128 = unsigned __int128;

inline constexpr Uint128 kFjPerNwh = 3'600'000'000ULL;             // 3.6e9
inline constexpr Uint128 kFjPerWh = 3'600'000'000'000'000'000ULL;  // 3.6e18
inline constexpr Uint128 kFjPerKwh = kFjPerWh * 1000;              // 3.6e21

class EnergyRegister {
 public:
  // Exact addition (phasor path: microwatts x nanoseconds).
  void add_exact(Uint128 fj) { fj_ += fj; }
  // Adds `fj` (>= 0, may carry a fraction) to the register; the fraction is kept.
  void add(double fj) {
    if (!(fj > 0)) return;
    const double x = fj + remainder_fj_;
    const auto whole = static_cast<Uint128>(x);
    remainder_fj_ = x - static_cast<double>(whole);
    if (remainder_fj_ < 0) remainder_fj_ = 0;
    fj_ += whole;
  }

  [[nodiscard]] Uint128 fj() const { return fj_; }
  [[nodiscard]] double remainder_fj() const { return remainder_fj_; }
  [[nodiscard]] Uint128 nwh() const { return fj_ / kFjPerNwh; }
  [[nodiscard]] std::uint64_t wh() const { return static_cast<std::uint64_t>(fj_ / kFjPerWh); }
  [[nodiscard]] std::uint64_t kwh() const { return static_cast<std::uint64_t>(fj_ / kFjPerKwh); }
  [[nodiscard]] Kwh24 kwh24() const { return Kwh24::from_total(kwh()); }

  void set(Uint128 fj, double remainder_fj) {
    fj_ = fj;
    remainder_fj_ = remainder_fj;
  }

 private:
  Uint128 fj_ = 0;
  double remainder_fj_ = 0;  // in [0, 1)
};

}  // namespace imsm::meter
