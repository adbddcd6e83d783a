#include "sim/exact_energy.h"

#include <cmath>
#include <cstddef>

namespace imsm::sim {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kRad = kPi / 180.0;

// One sinusoidal component sqrt(2) * rms * cos(order * w * t + phase).
struct Component {
  int order = 1;
  double rms = 0;
  double phase = 0;  // rad at t = 0
};

// At most 1 + kMaxHarmonics components per waveform, times kMaxCtSets for a current.
struct Components {
  static constexpr std::size_t kCap = (1 + meter::kMaxHarmonics) * meter::kMaxCtSets;
  std::array<Component, kCap> c{};
  std::size_t n = 0;
  void add(const Component& x) {
    if (n < kCap && x.rms != 0) c[n++] = x;
  }
};

// A waveform: fundamental at angle a1, harmonic h at h * a1 + psi_h (phasor_input.h).
void add_waveform(Components& out, double rms, double a1_deg, const meter::HarmonicSet& hs,
                  double sign, double f_hz, double band_hz) {
  const bool in_band1 = band_hz <= 0 || f_hz < band_hz;
  if (in_band1) out.add({1, sign * rms, a1_deg * kRad});
  for (int j = 0; j < hs.count && j < meter::kMaxHarmonics; ++j) {
    const meter::Harmonic& h = hs.h[static_cast<std::size_t>(j)];
    if (h.order < 2 || h.fraction == 0) continue;
    if (band_hz > 0 && h.order * f_hz >= band_hz) continue;
    out.add({h.order, sign * rms * h.fraction, (h.order * a1_deg + h.angle_deg) * kRad});
  }
}

// Integral over [t0, t1] of cos(k w t + phi).
double cos_integral(int k, double w, double phi, double t0, double t1) {
  if (k == 0) return std::cos(phi) * (t1 - t0);
  const double kw = k * w;
  return (std::sin(kw * t1 + phi) - std::sin(kw * t0 + phi)) / kw;
}

double product_integral(const Components& v, const Components& i, double w, double t0, double t1) {
  double e = 0;
  for (std::size_t a = 0; a < v.n; ++a) {
    for (std::size_t b = 0; b < i.n; ++b) {
      const Component& x = v.c[a];
      const Component& y = i.c[b];
      e += x.rms * y.rms *
           (cos_integral(x.order - y.order, w, x.phase - y.phase, t0, t1) +
            cos_integral(x.order + y.order, w, x.phase + y.phase, t0, t1));
    }
  }
  return e;
}

}  // namespace

ExactEnergy exact_energy(const meter::MeterConfig& cfg, const meter::PhasorInput& in, double t0_s,
                         double t1_s, double band_limit_hz) {
  ExactEnergy out;
  const double f = in.frequency_hz;
  const double w = 2 * kPi * f;
  for (int k = 0; k < cfg.elements; ++k) {
    const auto ki = static_cast<std::size_t>(k);
    const meter::LineVoltage& lv = in.voltage[ki];
    Components v;
    add_waveform(v, lv.rms_v, lv.angle_deg, lv.harmonics, 1.0, f, band_limit_hz);
    Components i;
    const meter::ElementWiring& wiring = cfg.wiring[ki];
    for (int s = 0; s < wiring.ct_sets && s < meter::kMaxCtSets; ++s) {
      const meter::CtSetWiring& cs = wiring.sets[static_cast<std::size_t>(s)];
      const auto line = static_cast<std::size_t>(cs.line < 0 ? k : cs.line);
      const meter::LineCurrent& c = in.current[line][static_cast<std::size_t>(s)];
      add_waveform(i, c.rms_a, in.voltage[line].angle_deg - c.lag_deg, c.harmonics,
                   cs.reversed ? -1.0 : 1.0, f, band_limit_hz);
    }
    const double e = product_integral(v, i, w, t0_s, t1_s);
    out.element_j[ki] = e;
    out.net_j += e;
    out.abs_sum_j += std::fabs(e);
  }
  out.registered_j = out.net_j > 0 ? out.net_j : 0.0;
  return out;
}

}  // namespace imsm::sim
