#include "sim/ct_error_model.h"

#include <cstddef>

#include "sim/rng.h"

namespace imsm::sim {

namespace {

constexpr double kRadPerMin = 3.14159265358979323846 / (180.0 * 60.0);

}  // namespace

CtError CtErrorModel::at(double current_pct, double temperature_c, double frequency_hz) const {
  CtError e;
  if (!curve.empty()) {
    const CtErrorPoint* lo = &curve.front();
    const CtErrorPoint* hi = lo;
    if (current_pct >= curve.back().current_pct) {
      lo = hi = &curve.back();
    } else if (current_pct > curve.front().current_pct) {
      std::size_t k = 1;
      while (curve[k].current_pct < current_pct) ++k;
      lo = &curve[k - 1];
      hi = &curve[k];
    }
    const double span = hi->current_pct - lo->current_pct;
    const double f = span > 0 ? (current_pct - lo->current_pct) / span : 0.0;
    e.ratio = (lo->ratio_error_pct + f * (hi->ratio_error_pct - lo->ratio_error_pct)) * 1e-2;
    e.phase_rad =
        (lo->phase_error_min + f * (hi->phase_error_min - lo->phase_error_min)) * kRadPerMin;
  }
  e.ratio += temperature_ppm_per_c * (temperature_c - kCtReferenceTemperatureC) * 1e-6;
  e.ratio += frequency_ppm_per_hz * (frequency_hz - kCtReferenceFrequencyHz) * 1e-6;
  return e;
}

// The envelope (guide 2.2: +/-0.5 % at PF 1, +/-0.75 % at PF 0.5, 1..100 % of rating):
//   ratio curve   e(I) in [-0.30 %, +0.05 %]                         0.30 %
//   temperature   |tc| <= 15 ppm/C over 23 -> -30 C (53 C)           0.080 %
//   frequency     |fc| <= 40 ppm/Hz over 60 -> 50 Hz (10 Hz)          0.040 %
//   PF 1:   |e| <= 0.42 % (the phase error costs 1 - cos(1.5 mrad) = 1.1 ppm)        < 0.5 %
//   PF 0.5: |e| + tan(60 deg) x 1.5 mrad = 0.42 % + 0.26 % = 0.68 %                   < 0.75 %
// Paralleled CTs and several elements register a weighted mean of their CTs' errors, which
// stays inside the same envelope.
CtErrorModel CtErrorModel::class05(std::uint64_t seed) {
  Rng rng(seed);
  CtErrorModel m;
  const double e100 = rng.uniform(-0.10, 0.05);  // % at rated current
  const double droop = rng.uniform(0.0, 0.20);   // extra negative error at 1 % of rating
  const double p100 = rng.uniform(0.3, 0.9) * 1e-3 / kRadPerMin;  // minutes at rated
  const double lift = rng.uniform(0.0, 0.6) * 1e-3 / kRadPerMin;  // extra lead at 1 %
  // A typical CT curve: the magnetising current matters most at low current.
  constexpr double kPct[] = {1.0, 5.0, 20.0, 100.0, 120.0};
  constexpr double kShare[] = {1.0, 0.5, 0.2, 0.0, 0.0};
  for (std::size_t k = 0; k < 5; ++k)
    m.curve.push_back({kPct[k], e100 - droop * kShare[k], p100 + lift * kShare[k]});
  m.temperature_ppm_per_c = rng.uniform(-1.0, 1.0) * kClass05Bounds.max_abs_temperature_ppm_per_c;
  m.frequency_ppm_per_hz = rng.uniform(-1.0, 1.0) * kClass05Bounds.max_abs_frequency_ppm_per_hz;
  return m;
}

}  // namespace imsm::sim
