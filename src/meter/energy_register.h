// The master energy register (SPEC "Energy"; research/metrology.md 2.7): a wide unsigned
// integer in nanowatt-hours that only ever grows, plus the sub-nWh remainder of the last
// addition, so nothing is ever rounded away and the register never drifts. Every visible
// quantity (kWh display, 24-bit kWh on the wire, pulse outputs, LEDs, demand) is an exact
// integer function of it.
#pragma once

#include <cstdint>

#include "common/units.h"

namespace imsm::meter {

__extension__ using Uint128 = unsigned __int128;

inline constexpr std::uint64_t kNwhPerWh = 1'000'000'000ULL;
inline constexpr std::uint64_t kNwhPerKwh = 1'000'000'000'000ULL;

class EnergyRegister {
 public:
  // Adds `nwh` (>= 0, may carry a fraction) to the register; the fraction is kept.
  void add(double nwh) {
    const double x = nwh + remainder_nwh_;
    const auto whole = static_cast<std::uint64_t>(x);
    remainder_nwh_ = x - static_cast<double>(whole);
    nwh_ += whole;
  }
  void add_exact(std::uint64_t nwh) { nwh_ += nwh; }

  [[nodiscard]] Uint128 nwh() const { return nwh_; }
  [[nodiscard]] double remainder_nwh() const { return remainder_nwh_; }
  [[nodiscard]] std::uint64_t wh() const { return static_cast<std::uint64_t>(nwh_ / kNwhPerWh); }
  [[nodiscard]] std::uint64_t kwh() const { return static_cast<std::uint64_t>(nwh_ / kNwhPerKwh); }
  [[nodiscard]] Kwh24 kwh24() const { return Kwh24::from_total(kwh()); }

  void set(Uint128 nwh, double remainder_nwh) {
    nwh_ = nwh;
    remainder_nwh_ = remainder_nwh;
  }

 private:
  Uint128 nwh_ = 0;
  double remainder_nwh_ = 0;  // in [0, 1)
};

}  // namespace imsm::meter
