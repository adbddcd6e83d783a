// Meter, sample mode: blocks of instantaneous samples at any rate >= 2 kHz (the firmware
// path). Energy is the continuous sum of v*i/fs per element, closed every 100 ms of samples
// and at every subinterval end.
#include <algorithm>
#include <cmath>

#include "meter/meter.h"
#include "meter/meter_internal.h"

namespace imsm::meter {

using namespace detail;

bool Meter::step_samples(const SampleBlock& b) {
  if (!(b.sample_rate_hz >= 2000.0)) return false;
  const double period_ns = 1e9 / b.sample_rate_hz;
  if (acc_.rate_hz != b.sample_rate_hz) {
    // A new rate closes the open period so each period has one rate.
    if (acc_.n > 0) close_sample_period(now_ns_);
    acc_.rate_hz = b.sample_rate_hz;
  }
  const auto samples_per_period = static_cast<std::int64_t>(
      std::max(1.0, std::round(b.sample_rate_hz * static_cast<double>(kSamplePeriodNs) / 1e9)));

  // Per element: its voltage channel and up to three (current channel, sign) pairs.
  struct Chan {
    const double* v = nullptr;
    std::array<const double*, kMaxCtSets> i{};
    std::array<double, kMaxCtSets> sign{};
    int ni = 0;
  };
  std::array<Chan, kMaxElements> ch{};
  for (int k = 0; k < cfg_.elements; ++k) {
    const auto ki = static_cast<std::size_t>(k);
    ch[ki].v = b.voltage_v[ki];
    const ElementWiring& w = cfg_.wiring[ki];
    for (int s = 0; s < w.ct_sets && s < kMaxCtSets; ++s) {
      const CtSetWiring& cs = w.sets[static_cast<std::size_t>(s)];
      const auto line = static_cast<std::size_t>(cs.line < 0 ? k : cs.line);
      const double* p = b.current_a[line][static_cast<std::size_t>(s)];
      if (p == nullptr) continue;
      const auto ni = static_cast<std::size_t>(ch[ki].ni++);
      ch[ki].i[ni] = p;
      ch[ki].sign[ni] = cs.reversed ? -1.0 : 1.0;
    }
  }

  // Sample times: t = ref + (index since ref) / rate, in long double so that a long run of
  // blocks keeps exact time (no per-block rounding drift). A phasor step or a new rate
  // starts a new reference.
  if (!(acc_.ref_valid && acc_.ref_rate_hz == b.sample_rate_hz && acc_.ref_end_ns == now_ns_)) {
    acc_.ref_valid = true;
    acc_.ref_rate_hz = b.sample_rate_hz;
    acc_.ref_ns = now_ns_;
    acc_.ref_samples = 0;
  }
  const long double lperiod = 1e9L / static_cast<long double>(b.sample_rate_hz);
  const std::int64_t ref_ns = acc_.ref_ns;
  const std::uint64_t ref_samples = acc_.ref_samples;
  const auto time_of = [&](std::size_t n) {
    return ref_ns + static_cast<std::int64_t>(
                        std::llround(static_cast<long double>(ref_samples + n) * lperiod));
  };
  const double t0_exact = static_cast<double>(static_cast<long double>(ref_ns) +
                                              static_cast<long double>(ref_samples) * lperiod);
  const std::int64_t t0 = now_ns_;
  const std::size_t count = b.count;
  std::size_t n = 0;
  if (acc_.n == 0) acc_.start_ns = t0;
  while (n < count) {
    std::size_t stop = n + static_cast<std::size_t>(samples_per_period - acc_.n);
    if (powered_) {
      // First sample at or after the subinterval boundary.
      const std::int64_t boundary = subinterval_start_ns_ + kSubintervalNs;
      const double m = std::ceil(static_cast<double>(boundary - t0) / period_ns - 1e-6);
      auto nb = static_cast<std::size_t>(m < 0 ? 0.0 : m);
      while (nb > 0 && time_of(nb - 1) >= boundary) --nb;
      while (time_of(nb) < boundary) ++nb;
      if (nb <= n) {
        close_sample_period(boundary);
        if (powered_) {
          now_ns_ = boundary;
          end_subinterval(boundary);
        }
        acc_.start_ns = boundary;
        continue;
      }
      stop = std::min(stop, nb);
    }
    stop = std::min(stop, count);
    // The inner loop: p = v * i per element, plus v^2, i^2 and element 0's zero crossings.
    for (int k = 0; k < cfg_.elements; ++k) {
      const auto ki = static_cast<std::size_t>(k);
      const Chan& c = ch[ki];
      double sp = 0, sv = 0, si = 0, sd = 0;
      double pv = acc_.prev_v_el[ki], pi = acc_.prev_i_el[ki];
      const bool em = cfg_.error_model.enabled;
      if (em && !acc_.prev_el_valid[ki] && stop > n) {
        // The first sample since power-on has no predecessor: its derivative term is zero.
        pv = c.v != nullptr ? c.v[n] : 0.0;
        pi = 0;
        for (int q = 0; q < c.ni; ++q) {
          pi += c.sign[static_cast<std::size_t>(q)] * c.i[static_cast<std::size_t>(q)][n];
        }
        acc_.prev_el_valid[ki] = true;
      }
      for (std::size_t j = n; j < stop; ++j) {
        const double v = c.v != nullptr ? c.v[j] : 0.0;
        double i = 0;
        for (int q = 0; q < c.ni; ++q) {
          i += c.sign[static_cast<std::size_t>(q)] * c.i[static_cast<std::size_t>(q)][j];
        }
        sp += v * i;
        sv += v * v;
        si += i * i;
        if (em) {
          sd += 0.5 * (v + pv) * (i - pi);
          pv = v;
          pi = i;
        }
      }
      acc_.prev_v_el[ki] = pv;
      acc_.prev_i_el[ki] = pi;
      acc_.sum_p[ki] += sp;
      acc_.sum_v2[ki] += sv;
      acc_.sum_i2[ki] += si;
      acc_.sum_vdi[ki] += sd;
    }
    if (ch[0].v != nullptr) {
      const double* v = ch[0].v;
      for (std::size_t j = n; j < stop; ++j) {
        if (acc_.have_prev && acc_.prev_v < 0 && v[j] >= 0) {
          const double frac = -acc_.prev_v / (v[j] - acc_.prev_v);
          const double t = t0_exact + (static_cast<double>(j) - 1.0 + frac) * period_ns;
          if (acc_.crossings == 0) acc_.first_cross_ns = t;
          acc_.last_cross_ns = t;
          ++acc_.crossings;
        }
        acc_.prev_v = v[j];
        acc_.have_prev = true;
      }
    }
    acc_.n += static_cast<std::int64_t>(stop - n);
    n = stop;
    if (acc_.n >= samples_per_period) {
      close_sample_period(time_of(n));
      acc_.start_ns = time_of(n);
    }
  }
  now_ns_ = time_of(count);
  acc_.ref_samples += count;
  acc_.ref_end_ns = now_ns_;
  return true;
}

void Meter::flush_samples() {
  if (acc_.n > 0) {
    close_sample_period(now_ns_);
    acc_.start_ns = now_ns_;
  }
}

// No reverse registration (SPEC "Energy"): a full period whose net is negative registers
// nothing and forgives any debt; a forward period registers its net less the debt of a
// short period before it; a short period follows the last full period's direction and
// carries a negative net as debt instead of clipping the ripple.
double Meter::detent(double net_j, bool full) {
  const bool forward = full || !acc_.have_full ? net_j > 0 : acc_.full_forward;
  if (full) acc_.full_forward = forward;
  if (!forward) {
    acc_.debt_j = 0;
    return 0;
  }
  const double t = net_j - acc_.debt_j;
  acc_.debt_j = t < 0 ? -t : 0;
  return t > 0 ? t : 0;
}

void Meter::close_sample_period(std::int64_t at_ns) {
  if (acc_.n == 0) return;
  const double n = static_cast<double>(acc_.n);
  const double rate = acc_.rate_hz;
  const bool full = static_cast<double>(acc_.n) >= std::round(rate * 0.1) - 0.5;
  std::array<double, kMaxElements> e_reg{};  // joules
  bool any_supply = false;
  bool d1 = false;
  // Frequency from element 1's positive zero crossings in this period; a short period with
  // fewer than two crossings keeps the previous estimate; no voltage reads 0.
  if (acc_.crossings >= 2) {
    frequency_hz_ =
        static_cast<double>(acc_.crossings - 1) * 1e9 / (acc_.last_cross_ns - acc_.first_cross_ns);
  } else if (acc_.sum_v2[0] == 0) {
    frequency_hz_ = 0;
  }
  for (int k = 0; k < kMaxElements; ++k) {
    const auto ki = static_cast<std::size_t>(k);
    ElementReading r{};
    if (k < cfg_.elements) {
      double gain = 1.0;
      if (cfg_.error_model.enabled) gain += cfg_.error_model.gain_error_ppm[ki] * 1e-6;
      r.v_rms = std::sqrt(acc_.sum_v2[ki] / n);
      r.i_rms_a = std::sqrt(acc_.sum_i2[ki] / n) * gain;
      r.i_secondary_a = r.i_rms_a / cfg_.ct_ratio;
      double e_j = acc_.sum_p[ki] / rate * gain;
      if (cfg_.error_model.enabled) {
        // Phase error delta (current leading): i'(t) = i(t + delta/w) ~ i + (delta/w) di/dt,
        // so E' = gain * (sum v*i + (delta/w) * sum v_mid * (i[n] - i[n-1]) * rate) / rate.
        const double delta = cfg_.error_model.phase_error_mrad[ki] * 1e-3;
        const double f = frequency_hz_ > 0 ? frequency_hz_ : 60.0;
        const double w = 2.0 * kPi * f;
        e_j = gain * (acc_.sum_p[ki] + delta / w * rate * acc_.sum_vdi[ki]) / rate;
      }
      r.p_w = e_j * rate / n;
      const double s_va = r.v_rms * r.i_rms_a;
      r.pf = s_va > 0 ? r.p_w / s_va : 0.0;
      r.below_creep = full || !acc_.have_full ? r.i_rms_a < cfg_.creep_threshold_a()
                                              : acc_.full_below_creep[ki];
      if (full) acc_.full_below_creep[ki] = r.below_creep;
      r.overload = r.i_rms_a > cfg_.max_primary_a();
      e_reg[ki] = r.below_creep ? 0.0 : e_j;
      if (in_supply(r.v_rms, cfg_.supply[ki])) any_supply = true;
      if (r.i_rms_a > kReversePhaseMinA && r.p_w < 0) d1 = true;
    }
    readings_[ki] = r;
  }
  const double e_total_j = detent(combine_signed(cfg_.accumulation, e_reg, cfg_.elements), full);
  // The supply check closes with the period: a meter that finds its supply in range powers
  // up at the start of that period, so the first 100 ms after power-up registers too.
  if (any_supply && !powered_) power_up(acc_.start_ns);
  if (powered_) register_joules(e_total_j, acc_.start_ns, at_ns);
  const double dur_s = n / rate;
  reg_power_w_ = e_total_j / dur_s;
  reg_power_uw_ = static_cast<std::uint64_t>(std::llround(reg_power_w_ * 1e6));
  d1_ = d1;
  acc_.sum_p = {};
  acc_.sum_v2 = {};
  acc_.sum_i2 = {};
  acc_.sum_vdi = {};
  acc_.n = 0;
  acc_.crossings = 0;
  if (full) acc_.have_full = true;
  input_powered_ = any_supply;
  if (!input_powered_ && powered_) power_down();
}

}  // namespace imsm::meter
