// CtErrorModel: the ratio and phase error of one real current transformer, as functions of
// its current (a curve of points, linear between them), of the temperature and of the line
// frequency (docs/simulate.md "Real meters"). The simulator applies it to each CT's output
// before the meter sees it, so the meter itself stays exact and registers in integers.
//
// Convention (IEEE C57.13, research/metrology.md 1.6): ratio error e > 0 means the CT reads
// high, I_out = (1 + e) I; phase error delta > 0 means the secondary current leads the
// primary, so at a lagging load P' = V I' cos(phi - delta).
#pragma once

#include <cstdint>
#include <vector>

namespace imsm::sim {

inline constexpr double kCtReferenceTemperatureC = 23.0;  // the calibration temperature
inline constexpr double kCtReferenceFrequencyHz = 60.0;   // the calibration frequency

struct CtErrorPoint {
  double current_pct = 0;      // the CT's primary current, % of its rating
  double ratio_error_pct = 0;  // % of reading; the CT reads (1 + e/100) x the true current
  double phase_error_min = 0;  // arc minutes, the secondary leading the primary
};

// The error of a CT at one operating point.
struct CtError {
  double ratio = 0;      // relative: I_out = (1 + ratio) I
  double phase_rad = 0;  // the output leads by this angle
};

struct CtErrorModel {
  std::vector<CtErrorPoint> curve;   // ascending current_pct; empty = an ideal CT
  double temperature_ppm_per_c = 0;  // ratio change per degree C away from 23 C
  double frequency_ppm_per_hz = 0;   // ratio change per Hz away from 60 Hz

  // The error at `current_pct` of rating: linear between the curve's points, the end
  // points' values outside them; plus the temperature and frequency terms on the ratio.
  [[nodiscard]] CtError at(double current_pct, double temperature_c, double frequency_hz) const;

  // A seeded class-0.5 CT (a revenue-grade 0.3-class CT as the guide's accuracy footnote
  // assumes): larger negative ratio error and larger phase lead at low current, drawn so
  // that a meter on it stays within the guide's +/-0.5 % at PF 1 and +/-0.75 % at PF 0.5
  // from 1 % to 100 % of rated current (guide 2.2, Tables 1-2) over the guide's operating
  // temperature (-30..+60 C) and frequency (50-60 Hz). The bounds are kClass05Bounds.
  [[nodiscard]] static CtErrorModel class05(std::uint64_t seed);
};

// The worst cases the seeded draw can reach (docs/simulate.md derives the envelope).
struct CtClass05Bounds {
  double max_abs_ratio_pct = 0.30;          // the curve alone, any current
  double max_phase_min = 1.5e-3 * 3437.75;  // 1.5 mrad in arc minutes (5.16')
  double max_abs_temperature_ppm_per_c = 15.0;
  double max_abs_frequency_ppm_per_hz = 40.0;
};
inline constexpr CtClass05Bounds kClass05Bounds{};

}  // namespace imsm::sim
