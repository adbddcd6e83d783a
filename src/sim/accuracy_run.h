// Drives one meter in sample mode through one accuracy point (research/metrology.md 6.1):
// the waveforms of a PhasorInput sampled over a window [t0, t0 + N / rate], plus optional
// white current noise, with the meter powered up by the samples themselves (nothing fed as
// phasors first). Each sample stands for its own 1 / rate of the window (taken at the middle
// of it), so the window the meter integrates is exactly N / rate long.
//
// Anti-alias behaviour: a real front end has an analog anti-alias filter before the ADC.
// Here that filter is ideal: components at or above rate / 2 are not sampled, and the
// reference (exact_energy with band_limit_hz = rate / 2) leaves them out too. Below rate / 2
// everything, including a harmonic just under the Nyquist frequency, is measured.
#pragma once

#include <cstdint>

#include "meter/meter.h"
#include "meter/phasor_input.h"

namespace imsm::sim {

struct RunSpec {
  double rate_hz = 4000.0;
  double seconds = 1.0;      // window; rounded to a whole number of samples
  double start_s = 0.0;      // waveform time at the window start (sets the start angle)
  double noise_rms_a = 0.0;  // white noise on every current channel, primary A rms
  std::uint64_t noise_seed = 1;
  double dc_offset_v = 0;  // added to every voltage sample (a front-end offset)
  double dc_offset_a = 0;  // added to every current sample of set 0
};

struct RunResult {
  double window_s = 0;  // N / rate, the exact window the meter integrated
  // The meter's measured energy: the master register less the debt of a final short period
  // that ended inside a negative ripple lobe (Meter::sample_debt_j, at most one lobe; the
  // register only grows and repays it from the next period).
  double registered_wh = 0;
  double register_wh = 0;  // the master register itself
  double debt_wh = 0;
  std::uint64_t kh10_pulses = 0;
  bool powered = false;
};

// Runs a fresh meter of `cfg` over the window.
[[nodiscard]] RunResult run_sample_window(const meter::MeterConfig& cfg,
                                          const meter::PhasorInput& in, const RunSpec& spec);

}  // namespace imsm::sim
