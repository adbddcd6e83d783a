// Sample synthesis: turns a PhasorInput into instantaneous samples (for sample-mode tests,
// `imsmeter accuracy` and the benchmarks). Independent of the metrology: it only evaluates
// x(t) = sqrt(2) * sum_h X_h cos(h*w*t + h*a1 + psi_h) at t = t0 + n / rate.
#pragma once

#include <array>
#include <cstddef>

#include "meter/phasor_input.h"

namespace imsm::meter {

// Caller-owned buffers for one block: voltage per line and current per [line][set].
struct SampleBuffers {
  std::array<double*, kMaxLines> voltage_v{};
  std::array<std::array<double*, kMaxCtSets>, kMaxLines> current_a{};
};

// Fills `count` samples of every non-null buffer; returns the matching SampleBlock.
SampleBlock synthesize(const PhasorInput& in, double rate_hz, double t0_s, std::size_t count,
                       const SampleBuffers& out);

}  // namespace imsm::meter
