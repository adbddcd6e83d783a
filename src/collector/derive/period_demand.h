// The demand billed for a period: the period's own peak (SPEC "Billing", guide 2.4.2, 3.7).
//
// The meter's peak-demand register holds the highest 15-minute rolling demand since the last
// key-switch reset (guide 2.4.2), so a register value read in a period may have been reached
// in an earlier one. Per period [from, to):
//   * a reset inside the period (the reset counter advanced between two readings of one
//     epoch, the first compared with the last reading before `from`): the highest register
//     value read in the period after the last reset in it      -> method "register_since_reset"
//   * no reset, but the register rose inside the period (a reading shows a higher value than
//     the reading before it): the highest value read in the period, reached inside it
//                                                              -> method "register"
//   * the register did not move: the period's peak is not known from the register. The line
//     uses the largest aligned 15-minute interval demand from interpolated kWh (4 kW
//     resolution: 1 kWh in 15 minutes is 4 kW)                 -> method "interval_15min"
//     or, by tariff option (demand_when_quiet = "register"), the register value carried over
//                                                              -> method "register_carried"
//   * no reading in the period and no interval covered         -> method "none", 0 W
// A replacement (new epoch) inside the period starts the count again like a reset: the old
// meter's register says nothing about the new one's.
// A peak reached after the period's last reading shows in the next period's first reading
// and is billed there; a key-switch reset at each period end (the meter's own way) makes the
// register exact, and the bill counts the meters reset inside the period.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "collector/derive/consumption.h"

namespace imsm::collector {

enum class DemandMethod { None, Register, RegisterSinceReset, Interval15Min, RegisterCarried };

[[nodiscard]] std::string_view to_string(DemandMethod m);

struct PeriodDemand {
  DemandMethod method = DemandMethod::None;
  std::int64_t w = 0;                      // billed demand, watts
  std::uint16_t register_counts = 0;       // when the method is a register one (x 20 W)
  std::optional<std::int64_t> interval_w;  // the 15-minute interval peak, when covered
  std::uint32_t resets = 0;                // resets counted inside the period
};

// What the rules read from the period's readings (period_demand below; report/bill_source.cpp
// gets the same from hourly rollups).
struct DemandFacts {
  bool any = false;                     // a reading in [from, to)
  bool restarted = false;               // a reset (or a new epoch) at a reading in [from, to)
  bool rose = false;                    // the register rose at a reading in [from, to)
  std::uint16_t peak_counts = 0;        // highest register value read after the last restart
  std::uint16_t last_value_counts = 0;  // at the period's last reading
  std::optional<std::int64_t> interval_w;
  std::uint32_t resets = 0;
};
[[nodiscard]] PeriodDemand period_demand(const DemandFacts& f, bool register_when_quiet);

// `points`: one meter's readings sorted by time, with the last before `from` when it exists.
// `register_when_quiet`: the tariff's choice for a register that did not move.
[[nodiscard]] PeriodDemand period_demand(const std::vector<Point>& points, UtcMicros from,
                                         UtcMicros to, bool register_when_quiet);

}  // namespace imsm::collector
