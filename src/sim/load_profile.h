// Load profiles (docs/simulate.md "Loads"): what the meter's voltage and current inputs
// carry during one load-resolution interval. Constant, daily shapes with seeded randomness
// (residential, office, retail), or a CSV time series.
#pragma once

#include <array>
#include <cstdint>

#include "sim/fleet_config.h"
#include "sim/rng.h"

namespace imsm::sim {

// Phasors of one interval, per element, before wiring faults (the true line quantities).
struct LoadSample {
  std::array<double, kMaxElements> voltage_v{};  // RMS, line to neutral
  std::array<double, kMaxElements> current_a{};  // RMS, primary
  std::array<double, kMaxElements> pf{1.0, 1.0, 1.0};
  bool leading = false;
  double frequency_hz = 60.0;
  double temperature_c = kCtReferenceTemperatureC;
};

// Fraction of the peak current at `t_ns` since the start for a daily shape (hourly table,
// linear between hours; day 0 is a Monday, office loads drop at weekends).
[[nodiscard]] double daily_shape(LoadKind kind, std::int64_t t_ns);

class LoadProfile {
 public:
  // `elements` from the model; `nominal_v` used when the load gives no voltage.
  LoadProfile(const LoadConfig& cfg, int elements,
              const std::array<double, kMaxElements>& nominal_v, Rng rng, std::int64_t step_ns);

  // The sample for the interval starting at `t_ns`. Call once per interval, in order (the
  // randomness of the daily shapes is a random walk).
  LoadSample sample(std::int64_t t_ns);

 private:
  const LoadConfig* cfg_;
  int elements_;
  std::array<double, kMaxElements> voltage_v_{};
  Rng rng_;
  double ar_coeff_ = 0.0;  // AR(1) correlation between steps
  double ar_state_ = 0.0;
  std::int64_t shift_ns_ = 0;  // this meter's habits: a random shift of the daily shape
  std::size_t csv_row_ = 0;
};

}  // namespace imsm::sim
