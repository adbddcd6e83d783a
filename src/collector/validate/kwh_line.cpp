#include "collector/validate/kwh_line.h"

#include "common/units.h"

namespace imsm::collector {
namespace {
__extension__ using i128 = __int128;

// How far `p` lies from the line from `a` to `c`, in kWh x (c.at - a.at) (exact: the common
// factor is left out, since both points are measured against the same line). kWh are taken as
// advances from `a` modulo the 24-bit wrap: every point is plausible after `a`.
i128 off_line(KwhPoint a, KwhPoint p, KwhPoint c) {
  const i128 dp = Kwh24{p.kwh24}.advance_since(Kwh24{a.kwh24});
  const i128 dc = Kwh24{c.kwh24}.advance_since(Kwh24{a.kwh24});
  const i128 d = dp * (c.at - a.at) - dc * (p.at - a.at);
  return d < 0 ? -d : d;
}
}  // namespace

bool last_is_off_the_line(KwhPoint before, KwhPoint last, KwhPoint held, KwhPoint after) {
  const i128 span = after.at - before.at;
  if (span <= 0) return false;
  // off(last) - off(held) > 1/2 kWh, in units of kWh x span.
  return 2 * (off_line(before, last, after) - off_line(before, held, after)) > span;
}

// floor(E0 + r t_i) = c_i for all i has a solution E0 exactly when c_i - r t_i < c_j + 1 - r t_j
// for every pair, i.e. (c_j - c_i - 1) / (t_j - t_i) < r < (c_j - c_i + 1) / (t_j - t_i) for
// t_i < t_j: an interval of r per pair, and one r in all of them. The bounds are kept as
// fractions (numerator in kWh, denominator in microseconds) and compared by cross-products.
bool one_steady_load(std::span<const KwhTotal> points) {
  i128 lo_n = 0, lo_d = 1;  // r >= 0: lo starts at 0, inclusive
  bool lo_open = false;
  i128 hi_n = 1, hi_d = 0;  // +infinity
  for (std::size_t j = 0; j < points.size(); ++j)
    for (std::size_t i = 0; i < j; ++i) {
      const i128 dt = points[j].at - points[i].at;
      const i128 dc = points[j].total_kwh - points[i].total_kwh;
      if (dt <= 0) {  // two readings at one instant must agree
        if (dc != 0) return false;
        continue;
      }
      if ((dc - 1) * lo_d > lo_n * dt || ((dc - 1) * lo_d == lo_n * dt && !lo_open)) {
        lo_n = dc - 1;
        lo_d = dt;
        lo_open = true;
      }
      if (hi_d == 0 || (dc + 1) * hi_d < hi_n * dt) {
        hi_n = dc + 1;
        hi_d = dt;
      }
    }
  if (hi_d == 0) return true;  // fewer than two points
  // lo < hi (both open), or lo = 0 inclusive and hi > 0.
  return lo_n * hi_d < hi_n * lo_d;
}

}  // namespace imsm::collector
