#include "meter/waveform_synth.h"

#include <cmath>

namespace imsm::meter {

namespace {

constexpr double kPi = 3.14159265358979323846;

void fill(double* out, std::size_t count, double rms, double angle1_deg, const HarmonicSet& hs,
          double freq_hz, double rate_hz, double t0_s) {
  if (out == nullptr) return;
  const double a1 = angle1_deg * kPi / 180.0;
  const double amp = std::sqrt(2.0) * rms;
  for (std::size_t n = 0; n < count; ++n) {
    const double t = t0_s + static_cast<double>(n) / rate_hz;
    // Reduce the phase to one cycle before the cosine (keeps precision for large t).
    const double cyc = freq_hz * t;
    const double ph = 2.0 * kPi * (cyc - std::floor(cyc));
    double x = amp * std::cos(ph + a1);
    for (int j = 0; j < hs.count && j < kMaxHarmonics; ++j) {
      const Harmonic& h = hs.h[static_cast<std::size_t>(j)];
      if (h.order < 2 || h.fraction == 0) continue;
      const double ho = static_cast<double>(h.order);
      x += amp * h.fraction * std::cos(ho * (ph + a1) + h.angle_deg * kPi / 180.0);
    }
    out[n] = x;
  }
}

}  // namespace

SampleBlock synthesize(const PhasorInput& in, double rate_hz, double t0_s, std::size_t count,
                       const SampleBuffers& out) {
  SampleBlock b;
  b.sample_rate_hz = rate_hz;
  b.count = count;
  for (std::size_t l = 0; l < kMaxLines; ++l) {
    const LineVoltage& v = in.voltage[l];
    fill(out.voltage_v[l], count, v.rms_v, v.angle_deg, v.harmonics, in.frequency_hz, rate_hz,
         t0_s);
    b.voltage_v[l] = out.voltage_v[l];
    for (std::size_t s = 0; s < kMaxCtSets; ++s) {
      const LineCurrent& c = in.current[l][s];
      fill(out.current_a[l][s], count, c.rms_a, v.angle_deg - c.lag_deg, c.harmonics,
           in.frequency_hz, rate_hz, t0_s);
      b.current_a[l][s] = out.current_a[l][s];
    }
  }
  return b;
}

}  // namespace imsm::meter
