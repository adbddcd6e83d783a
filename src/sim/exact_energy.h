// The exact energy an ideal meter registers over a window: the closed-form integral of
// v(t) * i(t) for steady phasor waveforms (research/metrology.md 6.1 layer A), written
// independently of the meter's code so that it can judge it.
//
// v(t) = sqrt(2) sum_h V_h cos(h w t + a_h) and i(t) = sqrt(2) sum_g I_g cos(g w t + b_g),
// so v i = sum_{h,g} V_h I_g [cos((h-g) w t + a_h - b_g) + cos((h+g) w t + a_h + b_g)] and
// every term integrates in closed form over [t0, t1]: the 2f ripple (h = g, second cosine),
// harmonic cross terms (h != g) and the DC terms (h = g, first cosine) are all kept, so the
// reference is exact for windows that are not whole cycles, at any frequency and start angle.
// The element sees the signed sum of its CT sets' currents (line and orientation per set:
// paralleled sets, reversed CTs, CTs on the wrong line). Registered = net with detent.
#pragma once

#include <array>

#include "meter/meter_config.h"
#include "meter/phasor_input.h"

namespace imsm::sim {

struct ExactEnergy {
  std::array<double, meter::kMaxElements> element_j{};  // signed, per element
  double net_j = 0;                                     // sum of the elements (may be negative)
  double registered_j = 0;  // max(net, 0): SPEC "no reverse registration"
  double abs_sum_j = 0;     // sum |element|, scales class limits on wiring faults
};

// The integral of v * i per element over [t0_s, t1_s] (seconds of the waveform's own time:
// t = 0 is where every phasor angle is measured). Components whose frequency is at or above
// `band_limit_hz` are left out (the meter's anti-alias band; 0 = no limit).
[[nodiscard]] ExactEnergy exact_energy(const meter::MeterConfig& cfg, const meter::PhasorInput& in,
                                       double t0_s, double t1_s, double band_limit_hz = 0);

}  // namespace imsm::sim
