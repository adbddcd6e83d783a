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

}  // namespace imsm::collector
