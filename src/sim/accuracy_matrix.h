// The accuracy matrix (research/metrology.md 6.2; guide 1; SPEC "Accuracy class"): every
// service x currents 0.1..120 % x PF 1, 0.5 lag/lead, 0.866 lag x 50, 60 Hz and off-nominal
// 49.5, 59.97, 60.5 Hz, each point over a window that is not a whole number of cycles, from
// a random start angle (both seeded and reported), run through the meter in sample mode and
// judged against exact_energy(). Per service also: harmonics (IEC 62053-22 style, 3rd..15th),
// a harmonic just under the Nyquist frequency and one above it (anti-alias band), 2 and 3
// paralleled CT sets, creep at 110 % voltage, a reversed CT and a CT on the wrong phase.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "meter/meter_config.h"
#include "protocol/model_number.h"
#include "sim/accuracy_limits.h"

namespace imsm::sim {

// An error deliberately put into the meter under test (the negative test): gain on every
// element and a current-channel phase lead (research 1.6: P'/P = (1+g) cos(phi-d)/cos phi).
struct ErrorInjection {
  double gain_ppm = 0;
  double phase_deg = 0;
};

[[nodiscard]] meter::FrontEnd default_accuracy_front_end(double rate_hz);

struct MatrixOptions {
  std::vector<std::string> models;  // empty: the nine service/voltage combinations
  AccuracyClass limits = AccuracyClass::Fidelity;
  bool seeded_error_model = false;  // ErrorModel::from_seed per meter (class-0.5 imitation)
  std::optional<ErrorInjection> inject;
  double rate_hz = 4000.0;
  std::optional<double> seconds;  // fixed window; default: seeded per point in [0.5, 1.5) s
  std::uint64_t seed = 1;
  // The meters' front end (24-bit ADC and the DC-blocking filter by default).
  meter::FrontEnd front_end = default_accuracy_front_end(4000.0);
};

struct AccuracyPoint {
  std::string kase;  // sine, harmonics, near_nyquist, above_nyquist, skew, parallel_ct,
                     // creep, reversed_ct, wrong_phase
  std::string model;
  std::string service;
  double voltage_v = 0;
  std::optional<double> high_leg_v;
  double current_percent = 0;
  double pf = 1;
  std::string pf_sense = "unity";
  double frequency_hz = 60;
  double window_s = 0;
  double start_deg = 0;
  int ct_sets = 1;
  bool core = false;
  double expected_wh = 0;  // the true energy (exact_energy, error model not applied)
  double registered_wh = 0;
  double error_ppm = 0;
  double limit_ppm = 0;
  bool pass = false;
};

// Parses a model number; the error names it, its bad field and the 1-based character.
[[nodiscard]] Result<protocol::ModelConfig, std::string> parse_accuracy_model(
    const std::string& number);

// The nine default models (SPEC "Services and elements").
[[nodiscard]] const std::vector<std::string>& default_accuracy_models();

// The meter configuration of a point under the options' error model (or injection).
[[nodiscard]] meter::ErrorModel error_model_for(const MatrixOptions& o, std::uint64_t meter_index);

// Runs the matrix. The error names the model number and its bad field.
[[nodiscard]] Result<std::vector<AccuracyPoint>, std::string> run_accuracy_matrix(
    const MatrixOptions& o);

// Fills error_ppm, limit_ppm and pass of a point from its expected and registered energy and
// the energy through its elements, sum |E_k| (Wh).
void judge_point(AccuracyPoint& p, AccuracyClass limits, double abs_sum_wh);

}  // namespace imsm::sim
