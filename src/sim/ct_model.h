// The current transformer as the simulator's installations have it (SPEC "CTs": maximum
// current rated + 10 %): linear up to 110 % of its primary rating, then saturating smoothly
// towards 120 %: I_out = 1.1 I_r + 0.1 I_r tanh((I - 1.1 I_r) / (0.1 I_r)). 300 A through a
// 100 A CT reads 120 A, not 300 A. Paralleled CT sets each carry their share of the load, so
// two sets on 150 A (75 A each) stay linear.
#pragma once

#include <cmath>

namespace imsm::sim {

[[nodiscard]] inline double ct_output_a(double primary_a, double rated_a) {
  const double knee = 1.1 * rated_a;
  const double a = std::fabs(primary_a);
  if (a <= knee) return primary_a;
  const double span = 0.1 * rated_a;
  const double out = knee + span * std::tanh((a - knee) / span);
  return primary_a < 0 ? -out : out;
}

}  // namespace imsm::sim
