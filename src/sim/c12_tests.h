// The ANSI C12.1 / C12.20 style tests by name (research/metrology.md 1.3-1.5, 6.3; guide 1),
// each run through the meter in sample mode with its pass limit for the chosen class:
//
//   starting_load        PF 1 with a current noise floor present: the smallest current that
//                        registers (bisection); pass when it is at most 0.1 % of rated [R:
//                        research 6.3 default start threshold].
//   no_load_creep        110 % voltage, current noise only (0.01 % of rated), for the IEC
//                        62053-22 no-load time dt = 600e6 / (k m Un Imax) minutes [R] (k = 100
//                        pulses/kWh at Kh = 10 Wh, m elements, Imax = rated + 10 %): 0 pulses
//                        and nothing registered.
//   load_performance     PF 1 at 1..100 % of rated; also C12.1 Method 4 average registration
//                        (4 FL + 2 LL + PF) / 7 with FL 100 %, LL 10 %, PF 100 % at PF 0.5 lag.
//   power_factor         PF 0.5 lag and lead at 10 % and 100 %.
//   voltage_variation    90 % and 110 % of nominal voltage, 100 % current, PF 1 and 0.5 lag.
//   frequency_variation  nominal +/-2 % (49, 51, 58.8, 61.2 Hz), PF 1 and 0.5 lag.
//
// Errors are against exact_energy() over the same window (random start, not whole cycles).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "sim/accuracy_matrix.h"

namespace imsm::sim {

struct C12Options {
  MatrixOptions base;  // models, error model / injection, rate, seed
  AccuracyClass limits = AccuracyClass::Class05;
  double noise_percent = 0.01;          // current noise floor, % of rated, rms
  std::optional<double> creep_seconds;  // overrides the IEC no-load time
};

struct NamedTest {
  std::string name;
  std::string model;
  std::string service;
  std::string condition;  // what was applied, e.g. "I 10 % PF 0.5 lag 60 Hz"
  double measured = 0;    // in `unit`
  std::string unit;       // "ppm", "% of rated", "Wh"
  double limit = 0;       // |measured| <= limit passes (starting_load: measured <= limit)
  bool pass = false;
};

// The IEC 62053-22 no-load test time for a meter, seconds.
[[nodiscard]] double no_load_test_seconds(const meter::MeterConfig& c);

[[nodiscard]] Result<std::vector<NamedTest>, std::string> run_c12_tests(const C12Options& o);

}  // namespace imsm::sim
