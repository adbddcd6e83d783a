// Strong types for the quantities on the wire (guide 2.5.2). Each carries its unit in its
// name; conversions to display units are explicit and exact.
#pragma once

#include <compare>
#include <cstdint>

namespace imsm {

// Meter ID, bytes 2-3 of the frame, 0..65535.
struct MeterId {
  std::uint16_t value = 0;
  friend constexpr auto operator<=>(MeterId, MeterId) = default;
};

// Peak demand in counts of 20 W (0.02 kW), bytes 4-5. Kept as counts: never a float.
struct DemandCounts {
  std::uint16_t value = 0;
  static constexpr std::uint32_t kWattsPerCount = 20;
  [[nodiscard]] constexpr std::uint32_t watts() const { return value * kWattsPerCount; }
  // Hundredths of a kW, for exact two-decimal display (3313 counts -> 6626 -> "66.26").
  [[nodiscard]] constexpr std::uint32_t centi_kw() const { return value * 2u; }
  friend constexpr auto operator<=>(DemandCounts, DemandCounts) = default;
};

// Demand reset counter, byte 6, wraps 255 -> 0.
struct ResetCounter {
  std::uint8_t value = 0;
  friend constexpr auto operator<=>(ResetCounter, ResetCounter) = default;
};

// Total kWh as carried on RS485, bytes 9-11: 24 bits, wraps after 16,777,215.
struct Kwh24 {
  static constexpr std::uint32_t kModulus = 1u << 24;
  static constexpr std::uint32_t kMask = kModulus - 1;
  std::uint32_t value = 0;  // always < kModulus
  [[nodiscard]] static constexpr Kwh24 from_total(std::uint64_t total_kwh) {
    return Kwh24{static_cast<std::uint32_t>(total_kwh & kMask)};
  }
  // Forward distance from `earlier` to this reading, modulo the 24-bit wrap.
  [[nodiscard]] constexpr std::uint32_t advance_since(Kwh24 earlier) const {
    return (value - earlier.value) & kMask;
  }
  friend constexpr auto operator<=>(Kwh24, Kwh24) = default;
};

}  // namespace imsm
