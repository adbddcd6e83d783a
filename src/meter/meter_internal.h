// Helpers shared by the meter's translation units (not part of the public API).
#pragma once

#include <array>
#include <cmath>

#include "meter/energy_register.h"
#include "meter/meter_config.h"

namespace imsm::meter::detail {

inline constexpr double kPi = 3.14159265358979323846;
inline constexpr double kDeg = kPi / 180.0;
inline constexpr Uint128 k5Wh = 5 * kFjPerWh;
inline constexpr Uint128 k500Wh = 500 * kFjPerWh;

// Guide 2.2: is this element's voltage inside its supply range?
inline bool in_supply(double v, const SupplyRange& r) {
  return v >= r.min_v && v <= r.max_v;
}

// The accumulation mode (research 2.7): per-element powers (or energies) to the registered
// total; a negative total registers nothing (detent).
inline double combine_signed(AccumulationMode mode, const std::array<double, kMaxElements>& p,
                             int elements) {
  double sum = 0;
  for (int k = 0; k < elements; ++k) {
    const double x = p[static_cast<std::size_t>(k)];
    switch (mode) {
      case AccumulationMode::Net:
        sum += x;
        break;
      case AccumulationMode::Absolute:
        sum += std::fabs(x);
        break;
      case AccumulationMode::Delivered:
        sum += x > 0 ? x : 0;
        break;
    }
  }
  return sum;
}
inline double combine(AccumulationMode mode, const std::array<double, kMaxElements>& p,
                      int elements) {
  const double sum = combine_signed(mode, p, elements);
  return sum > 0 ? sum : 0.0;  // detent: a negative net registers nothing
}

}  // namespace imsm::meter::detail
