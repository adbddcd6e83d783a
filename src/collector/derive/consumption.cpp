#include "collector/derive/consumption.h"

#include <algorithm>

namespace imsm::collector {

namespace {
__extension__ using i128 = __int128;

// Value of E at t within the epoch segment points[lo..hi] (inclusive), t clamped to it.
std::int64_t energy_at(const std::vector<Point>& p, std::size_t lo, std::size_t hi, UtcMicros t) {
  if (t <= p[lo].at) return p[lo].total_kwh * 1000;
  if (t >= p[hi].at) return p[hi].total_kwh * 1000;
  // First point after t.
  auto it = std::upper_bound(p.begin() + static_cast<std::ptrdiff_t>(lo),
                             p.begin() + static_cast<std::ptrdiff_t>(hi) + 1, t,
                             [](UtcMicros v, const Point& q) { return v < q.at; });
  const Point& b = *it;
  const Point& a = *(it - 1);
  return interpolate_wh(a, b, t);
}

template <class Fn>
void each_segment(const std::vector<Point>& p, Fn&& fn) {
  std::size_t i = 0;
  while (i < p.size()) {
    std::size_t j = i;
    while (j + 1 < p.size() && p[j + 1].epoch == p[i].epoch) ++j;
    fn(i, j);
    i = j + 1;
  }
}
}  // namespace

std::int64_t interpolate_wh(const Point& a, const Point& b, UtcMicros t) {
  const std::int64_t base = a.total_kwh * 1000;
  if (t <= a.at || b.at <= a.at) return base;
  if (t >= b.at) return b.total_kwh * 1000;
  const i128 num = static_cast<i128>(b.total_kwh - a.total_kwh) * 1000 * (t - a.at);
  const i128 den = b.at - a.at;
  // round half up (num >= 0: the register never goes back within an epoch)
  const i128 q = (2 * num + den) / (2 * den);
  return base + static_cast<std::int64_t>(q);
}

Consumption consumption(const std::vector<Point>& p, UtcMicros from, UtcMicros to) {
  Consumption c;
  if (p.empty() || to <= from) return c;
  c.partial_start = p.front().at > from;
  c.partial_end = p.back().at < to;
  // Boundary readings.
  for (const auto& q : p)
    if (q.at <= from) c.start = q;
  if (!c.start)
    for (const auto& q : p)
      if (q.at > from) {
        c.start = q;
        break;
      }
  for (const auto& q : p)
    if (q.at >= to) {
      c.end = q;
      break;
    }
  if (!c.end)
    for (const auto& q : p)
      if (q.at < to) c.end = q;
  each_segment(p, [&](std::size_t lo, std::size_t hi) {
    const UtcMicros a = std::max(from, p[lo].at);
    const UtcMicros b = std::min(to, p[hi].at);
    if (b < a || (b == a && lo != hi)) return;
    if (p[hi].at < from || p[lo].at > to) return;
    ++c.epochs;
    c.wh += energy_at(p, lo, hi, b) - energy_at(p, lo, hi, a);
  });
  return c;
}

std::vector<EnergySpan> energy_spans(const std::vector<Point>& p, UtcMicros from, UtcMicros to) {
  std::vector<EnergySpan> out;
  if (to <= from) return out;
  each_segment(p, [&](std::size_t lo, std::size_t hi) {
    const UtcMicros a = std::max(from, p[lo].at);
    const UtcMicros b = std::min(to, p[hi].at);
    if (b < a || (b == a && lo != hi)) return;
    if (p[hi].at < from || p[lo].at > to) return;
    out.push_back(EnergySpan{p[lo].epoch, energy_at(p, lo, hi, a), energy_at(p, lo, hi, b)});
  });
  return out;
}

std::vector<std::int64_t> rollup_edges_wh(const std::vector<Point>& p,
                                          const std::vector<UtcMicros>& edges) {
  std::vector<std::int64_t> out(edges.size() > 1 ? edges.size() - 1 : 0, 0);
  for (std::size_t k = 0; k < out.size(); ++k)
    for (const auto& s : energy_spans(p, edges[k], edges[k + 1])) out[k] += s.end_wh - s.start_wh;
  return out;
}

std::vector<std::int64_t> rollup_wh(const std::vector<Point>& p, UtcMicros from, UtcMicros to,
                                    std::int64_t step_us) {
  std::vector<std::int64_t> out;
  if (step_us <= 0 || to <= from) return out;
  const auto n = static_cast<std::size_t>((to - from + step_us - 1) / step_us);
  out.assign(n, 0);
  each_segment(p, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t k = 0; k < n; ++k) {
      const UtcMicros b0 = from + static_cast<std::int64_t>(k) * step_us;
      const UtcMicros b1 = std::min(to, b0 + step_us);
      const UtcMicros a = std::max(b0, p[lo].at);
      const UtcMicros b = std::min(b1, p[hi].at);
      if (b <= a) continue;
      out[k] += energy_at(p, lo, hi, b) - energy_at(p, lo, hi, a);
    }
  });
  return out;
}

std::optional<std::int64_t> peak_15min_w(const std::vector<Point>& p, UtcMicros from,
                                         UtcMicros to) {
  constexpr std::int64_t kQuarter = 15 * 60 * kMicrosPerSecond;
  auto align_up = [](UtcMicros x) {
    return x + (((kQuarter - x % kQuarter) % kQuarter) + kQuarter) % kQuarter;
  };
  std::optional<std::int64_t> best;
  each_segment(p, [&](std::size_t lo, std::size_t hi) {
    UtcMicros t = align_up(std::max(from, p[lo].at));
    if (t + kQuarter > to || t + kQuarter > p[hi].at) return;
    std::int64_t e0 = energy_at(p, lo, hi, t);
    for (; t + kQuarter <= to && t + kQuarter <= p[hi].at; t += kQuarter) {
      const std::int64_t e1 = energy_at(p, lo, hi, t + kQuarter);
      const std::int64_t w = (e1 - e0) * 4;
      if (!best || w > *best) best = w;
      e0 = e1;
    }
  });
  return best;
}

std::uint32_t resets_in(const std::vector<Point>& p, UtcMicros from, UtcMicros to) {
  std::uint32_t n = 0;
  for (std::size_t i = 1; i < p.size(); ++i) {
    if (p[i].at <= from || p[i].at >= to) continue;
    if (p[i].epoch != p[i - 1].epoch) continue;
    n += static_cast<std::uint8_t>(p[i].demand_resets - p[i - 1].demand_resets);
  }
  return n;
}

std::uint16_t register_peak_counts(const std::vector<Point>& p, UtcMicros from, UtcMicros to) {
  std::uint16_t best = 0;
  for (const auto& q : p)
    if (q.at >= from && q.at < to) best = std::max(best, q.peak_demand_counts);
  return best;
}

}  // namespace imsm::collector
