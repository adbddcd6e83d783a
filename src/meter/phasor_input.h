// What the meter's terminals are exposed to, in the two forms the emulator accepts:
//   PhasorInput: steady phasors (with harmonics) held over a step: the fast analytic path.
//   SampleBlock: blocks of instantaneous samples at any rate >= 2 kHz: the firmware path.
// Both describe the installation, not the meter: per LINE the voltage to neutral and the
// primary current of the conductor(s) on it. The meter's CT wiring (MeterConfig::wiring)
// decides which of these currents each element actually sees, and with which sign.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "meter/meter_config.h"

namespace imsm::meter {

inline constexpr int kMaxHarmonics = 6;  // per waveform, besides the fundamental

// Waveform x(t) = sqrt(2) * sum_h X_h cos(h*w*t + h*a1 + psi_h): a harmonic's angle is
// relative to its own fundamental (so it rotates with the phase).
struct Harmonic {
  int order = 0;         // 2..63; 0 = unused slot
  double fraction = 0;   // X_h / X_1 (0.2 = 20 %)
  double angle_deg = 0;  // psi_h
};

struct HarmonicSet {
  int count = 0;
  std::array<Harmonic, kMaxHarmonics> h{};
};

// Voltage of one line to neutral.
struct LineVoltage {
  double rms_v = 0;      // fundamental rms
  double angle_deg = 0;  // absolute (L1 at 0)
  HarmonicSet harmonics{};
};

// Primary current of one conductor of a line, relative to THAT line's voltage.
struct LineCurrent {
  double rms_a = 0;    // fundamental rms, primary amperes
  double lag_deg = 0;  // current lags its line voltage by this (negative = leading);
                       // PF = cos(lag_deg); 180 = power flowing back to the source
  HarmonicSet harmonics{};
};

struct PhasorInput {
  double frequency_hz = 60.0;
  std::array<LineVoltage, kMaxLines> voltage{};
  // current[line][set]: set 0 is the (only) conductor on that line for a plain install;
  // sets 1..2 are the extra conductors measured by paralleled CT sets.
  std::array<std::array<LineCurrent, kMaxCtSets>, kMaxLines> current{};

  // Convenience: element-aligned balanced input for `elements` lines at the service angles
  // of `model` (SPEC "Services and elements"), each carrying `rms_a` at power factor angle
  // `lag_deg`, line voltages scaled by `voltage_scale` from nominal.
  [[nodiscard]] static PhasorInput balanced(const MeterConfig& cfg, double rms_a, double lag_deg,
                                            double frequency_hz = 60.0, double voltage_scale = 1.0);
};

// Voltage angle of line `index` for a service (SPEC "Services and elements"), degrees.
[[nodiscard]] double service_voltage_angle_deg(const protocol::ModelConfig& m, int index);

// A block of samples, all channels at the same instants t0 + n/rate. Pointers may be null:
// a null channel is zero. The meter does not keep the pointers after step_samples().
struct SampleBlock {
  double sample_rate_hz = 4000.0;  // >= 2000
  std::size_t count = 0;
  std::array<const double*, kMaxLines> voltage_v{};  // per line, volts
  std::array<std::array<const double*, kMaxCtSets>, kMaxLines>
      current_a{};  // [line][set], primary A
};

}  // namespace imsm::meter
