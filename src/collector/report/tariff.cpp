#include "collector/report/tariff.h"

#include <algorithm>

#include "collector/report/report.h"

namespace imsm::collector {

namespace {
constexpr std::int64_t kDayUs = 86'400 * kMicrosPerSecond;
constexpr std::int64_t kMinuteUs = 60 * kMicrosPerSecond;

bool applies(const TouWindow& w, int weekday) {
  const bool weekend = weekday == 0 || weekday == 6;
  return weekend ? w.weekends : w.weekdays;
}
}  // namespace

std::vector<TouSlice> tou_slices(const Tariff& t, const TimeZone& tz, UtcMicros from,
                                 UtcMicros to) {
  std::vector<TouSlice> windows;
  for (UtcMicros day = tz.day_start(from); day < to; day = tz.next_day(day)) {
    const LocalTime lt = local_time(tz, day);
    const std::int64_t local_midnight = days_from_civil(lt.year, lt.month, lt.day) * kDayUs;
    for (std::size_t i = 0; i < t.tou.size(); ++i) {
      const auto& w = t.tou[i];
      if (!applies(w, lt.weekday)) continue;
      const UtcMicros a = std::max(from, tz.from_local(local_midnight + w.start_min * kMinuteUs));
      const UtcMicros b = std::min(to, tz.from_local(local_midnight + w.end_min * kMinuteUs));
      if (a < b) windows.push_back(TouSlice{a, b, static_cast<int>(i)});
    }
  }
  std::sort(windows.begin(), windows.end(),
            [](const TouSlice& x, const TouSlice& y) { return x.from < y.from; });
  std::vector<TouSlice> out;
  UtcMicros at = from;
  for (const auto& w : windows) {
    if (w.from > at) out.push_back(TouSlice{at, w.from, -1});
    const UtcMicros a = std::max(at, w.from);
    if (w.to > a) out.push_back(TouSlice{a, w.to, w.window});
    at = std::max(at, w.to);
  }
  if (at < to) out.push_back(TouSlice{at, to, -1});
  return out;
}

namespace {

std::vector<EnergyPart> tiered(const Tariff& t, std::int64_t wh) {
  std::vector<EnergyPart> out;
  std::int64_t below_wh = 0;  // the blocks before this one
  for (std::size_t i = 0; i < t.tiers.size(); ++i) {
    const auto& b = t.tiers[i];
    const std::int64_t cap = b.up_to_kwh ? *b.up_to_kwh * 1000 : wh;
    const std::int64_t in = std::clamp<std::int64_t>(std::min(wh, cap) - below_wh, 0, wh);
    out.push_back(EnergyPart{"tier" + std::to_string(i + 1), b.energy_per_kwh, in,
                             charge_cents(in, b.energy_per_kwh, 1000)});
    below_wh = std::max(below_wh, cap);
  }
  return out;
}

}  // namespace

std::vector<EnergyPart> energy_parts(const Tariff& t, std::int64_t period_wh,
                                     const std::vector<TouSlice>& slices,
                                     const std::function<std::int64_t(UtcMicros, UtcMicros)>& wh) {
  if (!t.tiers.empty()) return tiered(t, period_wh);
  if (t.tou.empty())
    return {EnergyPart{"energy", t.energy_per_kwh, period_wh,
                       charge_cents(period_wh, t.energy_per_kwh, 1000)}};
  std::vector<EnergyPart> out;
  for (const auto& w : t.tou) out.push_back(EnergyPart{w.name, w.energy_per_kwh, 0, 0});
  out.push_back(EnergyPart{"off_peak", t.energy_per_kwh, 0, 0});
  for (const auto& s : slices) {
    auto& part = s.window < 0 ? out.back() : out[static_cast<std::size_t>(s.window)];
    part.wh += wh(s.from, s.to);
  }
  for (auto& p : out) p.cents = charge_cents(p.wh, p.price, 1000);
  return out;
}

std::vector<EnergyPart> energy_parts(const Tariff& t, const TimeZone& tz,
                                     const std::vector<Point>& points, UtcMicros from,
                                     UtcMicros to) {
  const bool tou = t.tiers.empty() && !t.tou.empty();
  return energy_parts(t, tou ? 0 : consumption(points, from, to).wh,
                      tou ? tou_slices(t, tz, from, to) : std::vector<TouSlice>{},
                      [&](UtcMicros a, UtcMicros b) { return consumption(points, a, b).wh; });
}

}  // namespace imsm::collector
