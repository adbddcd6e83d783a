#include "collector/derive/period_demand.h"

#include <algorithm>

namespace imsm::collector {

namespace {
constexpr std::int64_t kWPerCount = 20;  // guide 2.5.2: 0.02 kW per count
}

std::string_view to_string(DemandMethod m) {
  switch (m) {
    case DemandMethod::None:
      return "none";
    case DemandMethod::Register:
      return "register";
    case DemandMethod::RegisterSinceReset:
      return "register_since_reset";
    case DemandMethod::Interval15Min:
      return "interval_15min";
    case DemandMethod::RegisterCarried:
      return "register_carried";
  }
  return "none";
}

PeriodDemand period_demand(const std::vector<Point>& p, UtcMicros from, UtcMicros to,
                           bool register_when_quiet) {
  PeriodDemand d;
  d.interval_w = peak_15min_w(p, from, to);
  d.resets = resets_in(p, from, to);
  bool rose = false, restarted = false;
  std::uint16_t peak = 0, last_value = 0;
  bool any = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i].at < from || p[i].at >= to) continue;
    const bool has_prev = i > 0 && p[i - 1].epoch == p[i].epoch;
    const bool reset =
        (has_prev && p[i].demand_resets != p[i - 1].demand_resets) || (i > 0 && !has_prev);
    if (reset) {
      restarted = true;
      peak = 0;  // only values after the last reset in the period count
    }
    if (has_prev && !reset && p[i].peak_demand_counts > p[i - 1].peak_demand_counts) rose = true;
    peak = std::max(peak, p[i].peak_demand_counts);
    last_value = p[i].peak_demand_counts;
    any = true;
  }
  if (restarted || rose) {
    d.method = restarted ? DemandMethod::RegisterSinceReset : DemandMethod::Register;
    d.register_counts = peak;
    d.w = peak * kWPerCount;
  } else if (register_when_quiet && any) {
    d.method = DemandMethod::RegisterCarried;
    d.register_counts = last_value;
    d.w = last_value * kWPerCount;
  } else if (d.interval_w) {
    d.method = DemandMethod::Interval15Min;
    d.w = *d.interval_w;
  }
  return d;
}

}  // namespace imsm::collector
