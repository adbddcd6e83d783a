// The LCD cycle (guide 2.4.1; SPEC "Display cycle"), a pure function of the time since
// power-up. Without demand: total kWh for 17 s, then all segments for 1 s (every 18 s).
// With demand: total kWh 6 s, instantaneous demand 6 s (dot at "inst"), peak demand 6 s
// (dot at "peak"), all segments 1 s: a 19 s cycle. Both start with total kWh at power-up.
#pragma once

#include <array>
#include <cstdint>

namespace imsm::meter {

enum class DisplayMode : std::uint8_t { Off, TotalKwh, InstDemand, PeakDemand, AllSegments };
[[nodiscard]] const char* to_string(DisplayMode m);

inline constexpr std::int64_t kNsPerSecond = 1'000'000'000LL;
inline constexpr std::int64_t kCycleNoDemandNs = 18 * kNsPerSecond;
inline constexpr std::int64_t kCycleDemandNs = 19 * kNsPerSecond;

struct DisplayPhase {
  DisplayMode mode = DisplayMode::Off;
  std::int64_t cycle = 0;       // index of the display cycle since power-up
  std::int64_t ends_at_ns = 0;  // time since power-up when this phase ends
};

[[nodiscard]] inline DisplayPhase display_phase(std::int64_t since_power_up_ns, bool demand) {
  const std::int64_t len = demand ? kCycleDemandNs : kCycleNoDemandNs;
  const std::int64_t cycle = since_power_up_ns / len;
  const std::int64_t in = since_power_up_ns % len;
  const std::int64_t base = cycle * len;
  const std::int64_t s = kNsPerSecond;
  if (!demand) {
    if (in < 17 * s) return {DisplayMode::TotalKwh, cycle, base + 17 * s};
    return {DisplayMode::AllSegments, cycle, base + 18 * s};
  }
  if (in < 6 * s) return {DisplayMode::TotalKwh, cycle, base + 6 * s};
  if (in < 12 * s) return {DisplayMode::InstDemand, cycle, base + 12 * s};
  if (in < 18 * s) return {DisplayMode::PeakDemand, cycle, base + 18 * s};
  return {DisplayMode::AllSegments, cycle, base + 19 * s};
}

// What the LCD shows, as text (8 digits, then the unit and the indicator dots).
//   "  678299 kWh"   "   12.34 kW  .inst"   "   66.26 kW  .peak"   "88888888 kWh kW .inst .peak"
struct DisplayView {
  DisplayMode mode = DisplayMode::Off;
  bool inst_dot = false;
  bool peak_dot = false;
  std::uint64_t value = 0;      // kWh (mod 10^8) or demand in 0.01 kW
  std::array<char, 32> text{};  // NUL-terminated
};

}  // namespace imsm::meter
