// Energy charges of a tariff (SPEC "Billing", docs/collector.md "Tariffs"): flat, time-of-use
// windows by local weekday/weekend and time of day, or tiered blocks.
//
// Rounding (SPEC "Billing"): each charge is rounded once, to the cent, half up: a flat
// energy charge from the period's exact Wh, a time-of-use charge per named period from the
// Wh of all its stretches (split at the window edges by the same exact interpolation, so the
// periods' Wh add up to the line's), a tiered charge per block.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "collector/config.h"
#include "collector/derive/consumption.h"
#include "collector/report/tz.h"

namespace imsm::collector {

// A stretch of [from, to) priced by one TOU window (window = index in tariff.tou) or by the
// tariff's base price (window = -1, "off_peak").
struct TouSlice {
  UtcMicros from = 0, to = 0;
  int window = -1;
};

// [from, to) cut at the windows' edges, in local time of `tz` (DST days have 23 or 25 hours;
// the edges are local wall-clock times). Contiguous, ascending, covering [from, to).
[[nodiscard]] std::vector<TouSlice> tou_slices(const Tariff& tariff, const TimeZone& tz,
                                               UtcMicros from, UtcMicros to);

// One part of an energy charge: a TOU period, a tier block, or the flat rate.
struct EnergyPart {
  std::string name;  // "energy", a TOU window's name, "off_peak", "tier1".."tierN"
  Micros price = 0;  // per kWh
  std::int64_t wh = 0;
  std::int64_t cents = 0;
};

[[nodiscard]] std::vector<EnergyPart> energy_parts(const Tariff& tariff, const TimeZone& tz,
                                                   const std::vector<Point>& points, UtcMicros from,
                                                   UtcMicros to);
// The same from any source of consumption: `period_wh` the period's Wh, `slices` its
// tou_slices (used when the tariff has TOU windows), `wh(a, b)` the Wh of a slice [a, b).
[[nodiscard]] std::vector<EnergyPart> energy_parts(
    const Tariff& tariff, std::int64_t period_wh, const std::vector<TouSlice>& slices,
    const std::function<std::int64_t(UtcMicros, UtcMicros)>& wh);

}  // namespace imsm::collector
