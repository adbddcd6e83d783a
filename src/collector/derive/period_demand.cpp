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

PeriodDemand period_demand(const DemandFacts& f, bool register_when_quiet) {
  PeriodDemand d;
  d.interval_w = f.interval_w;
  d.resets = f.resets;
  if (f.restarted || f.rose) {
    d.method = f.restarted ? DemandMethod::RegisterSinceReset : DemandMethod::Register;
    d.register_counts = f.peak_counts;
    d.w = f.peak_counts * kWPerCount;
  } else if (register_when_quiet && f.any) {
    d.method = DemandMethod::RegisterCarried;
    d.register_counts = f.last_value_counts;
    d.w = f.last_value_counts * kWPerCount;
  } else if (d.interval_w) {
    d.method = DemandMethod::Interval15Min;
    d.w = *d.interval_w;
  }
  return d;
}

PeriodDemand period_demand(const std::vector<Point>& p, UtcMicros from, UtcMicros to,
                           bool register_when_quiet) {
  DemandFacts f;
  f.interval_w = peak_15min_w(p, from, to);
  f.resets = resets_in(p, from, to);
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i].at < from || p[i].at >= to) continue;
    const bool has_prev = i > 0 && p[i - 1].epoch == p[i].epoch;
    const bool reset =
        (has_prev && p[i].demand_resets != p[i - 1].demand_resets) || (i > 0 && !has_prev);
    if (reset) {
      f.restarted = true;
      f.peak_counts = 0;  // only values after the last reset in the period count
    }
    if (has_prev && !reset && p[i].peak_demand_counts > p[i - 1].peak_demand_counts) f.rose = true;
    f.peak_counts = std::max(f.peak_counts, p[i].peak_demand_counts);
    f.last_value_counts = p[i].peak_demand_counts;
    f.any = true;
  }
  return period_demand(f, register_when_quiet);
}

}  // namespace imsm::collector
