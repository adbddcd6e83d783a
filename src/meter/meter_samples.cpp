// Meter, sample mode: blocks of instantaneous samples at any rate >= 2 kHz (the firmware
// path). Energy is the continuous sum of v*i/fs per element, closed every 100 ms of samples
// and at every subinterval end.
#include <algorithm>
#include <cmath>

#include "meter/meter.h"
#include "meter/meter_internal.h"

namespace imsm::meter {

using namespace detail;

namespace {

// Per element: its voltage channel and up to three (current channel, sign) pairs.
struct Chan {
  const double* v = nullptr;
  std::array<const double*, kMaxCtSets> i{};
  std::array<double, kMaxCtSets> sign{};
  int ni = 0;
};

// Front-end constants of one element for one block (FrontEnd, meter_config.h).
struct ElementRun {
  double v_lsb = 0, v_inv = 0, v_max = 0;  // quantisation step, 1/step, largest code
  double i_lsb = 0, i_inv = 0, i_max = 0;
  bool hpf = false;
  double hpf_a = 0;  // y[n] = a (y[n-1] + x[n] - x[n-1])
  bool skew = false;
  std::array<double, 4> w{};  // cubic weights on i[n-3], i[n-2], i[n-1], i[n]
  double x = 0;               // where i(t_n) lies, in samples from the newest (-skew * rate)
};

ElementRun element_run(const MeterConfig& c, int k, double rate_hz) {
  const FrontEnd& fe = c.front_end;
  ElementRun r;
  if (fe.adc_bits > 0) {
    const double codes = std::ldexp(1.0, fe.adc_bits - 1);  // codes per polarity
    const double v_fs = fe.v_full_scale > 0
                            ? fe.v_full_scale
                            : std::sqrt(2.0) * 1.25 * c.supply[static_cast<std::size_t>(k)].max_v;
    const double i_fs =
        fe.i_full_scale > 0 ? fe.i_full_scale : std::sqrt(2.0) * 2 * c.rated_primary_a;
    r.v_lsb = v_fs / codes;
    r.i_lsb = i_fs / codes;
    r.v_inv = 1 / r.v_lsb;
    r.i_inv = 1 / r.i_lsb;
    r.v_max = r.i_max = codes - 1;
  }
  r.hpf = fe.hpf_hz > 0;
  r.hpf_a = std::exp(-2 * kPi * fe.hpf_hz / rate_hz);
  // The current sample n was taken at t_n + s: i(t_n) is the cubic through the last four
  // samples (nodes -3..0) at x = -s * rate (Lagrange; error ~ (w / rate)^4 / 26).
  const double x = -fe.current_skew_s * rate_hz;
  r.skew = fe.skew_compensation && fe.current_skew_s != 0;
  r.x = x;
  r.w = {-(x + 2) * (x + 1) * x / 6, (x + 3) * (x + 1) * x / 2, -(x + 3) * (x + 2) * x / 2,
         (x + 3) * (x + 2) * (x + 1) / 6};
  return r;
}

// Round to the nearest code without a library call: adding 1.5 x 2^52 leaves no fraction bits
// (round half to even), exact for |codes| < 2^51; the ADC saturates at +/-max_code.
double quantise(double x, double inv, double lsb, double max_code) {
  if (lsb == 0) return x;
  constexpr double kRound = 6755399441055744.0;  // 1.5 x 2^52
  const double code = std::min(std::max((x * inv + kRound) - kRound, -max_code), max_code);
  return code * lsb;
}

struct ElementSums {
  double p = 0, v2 = 0, i2 = 0, vdi = 0;
};

void add_pair(ElementSums& s, double v, double i, bool error_model, ElementFrontEnd& fe) {
  s.p += v * i;
  s.v2 += v * v;
  s.i2 += i * i;
  if (error_model) {
    if (!fe.have_prev) {  // the first sample since power-on has no derivative
      fe.pv = v;
      fe.pi = i;
      fe.have_prev = true;
    }
    s.vdi += 0.5 * (v + fe.pv) * (i - fe.pi);
    fe.pv = v;
    fe.pi = i;
  }
}

// The current at the voltage's instant, from the skewed samples (history in fe). The very
// first sample since power-on is held until the second arrives (then both are linear).
// Returns false while holding.
bool realign(const ElementRun& r, ElementFrontEnd& fe, double v, double& i, ElementSums& s,
             bool error_model) {
  const double raw = i;
  const double x = r.x;
  const auto& h = fe.i_hist;
  switch (fe.hist_n) {
    case 0:
      fe.v_hold = v;
      fe.i_hist = {0, 0, raw};
      fe.hist_n = 1;
      return false;
    case 1:
      add_pair(s, fe.v_hold, h[2] + x * (raw - h[2]), error_model, fe);  // the held sample
      i = raw + x * (raw - h[2]);
      break;
    case 2:  // quadratic through n-2..n
      i = (x + 1) * x / 2 * h[1] - (x + 2) * x * h[2] + (x + 2) * (x + 1) / 2 * raw;
      break;
    default:
      i = r.w[0] * h[0] + r.w[1] * h[1] + r.w[2] * h[2] + r.w[3] * raw;
  }
  fe.i_hist = {h[1], h[2], raw};
  fe.hist_n = std::min(fe.hist_n + 1, 3);
  return true;
}

// The ADC and the DC-blocking filter on sample j (the warm-up path; the steady loop below
// does the same arithmetic in registers).
void front_end(const Chan& c, std::size_t j, const ElementRun& r, ElementFrontEnd& fe, double& v,
               double& i) {
  v = quantise(c.v != nullptr ? c.v[j] : 0.0, r.v_inv, r.v_lsb, r.v_max);
  i = 0;
  for (int q = 0; q < c.ni; ++q) {
    i += c.sign[static_cast<std::size_t>(q)] * c.i[static_cast<std::size_t>(q)][j];
  }
  i = quantise(i, r.i_inv, r.i_lsb, r.i_max);
  if (r.hpf) {
    fe.v_y = r.hpf_a * (fe.v_y + v - fe.v_x);
    fe.v_x = v;
    v = fe.v_y;
    fe.i_y = r.hpf_a * (fe.i_y + i - fe.i_x);
    fe.i_x = i;
    i = fe.i_y;
  }
}

// The steady state, once the skew history is full and the error model has its previous
// sample: every per-sample state lives in locals (the compiler keeps it in registers instead
// of storing it through `fe` after every sample), the options are template arguments (no
// branch per sample), and the current re-alignment is the precomputed four-tap filter. The
// operations are those of the warm-up path, in the same order, so the sums are bit-identical.
template <bool kHpf, bool kSkew, bool kVdi>
void accumulate_steady(const Chan& c, std::size_t j, std::size_t stop, const ElementRun& r,
                       ElementFrontEnd& fe, ElementSums& s) {
  const double* vp = c.v;
  const double vi = r.v_inv, vl = r.v_lsb, vm = r.v_max;
  const double ii = r.i_inv, il = r.i_lsb, im = r.i_max;
  const double a = r.hpf_a;
  const double w0 = r.w[0], w1 = r.w[1], w2 = r.w[2], w3 = r.w[3];
  double vx = fe.v_x, vy = fe.v_y, ix = fe.i_x, iy = fe.i_y;
  double h0 = fe.i_hist[0], h1 = fe.i_hist[1], h2 = fe.i_hist[2];
  double pv = fe.pv, pi = fe.pi;
  double sp = s.p, sv2 = s.v2, si2 = s.i2, svdi = s.vdi;
  for (; j < stop; ++j) {
    double v = quantise(vp != nullptr ? vp[j] : 0.0, vi, vl, vm);
    double i = 0;
    for (int q = 0; q < c.ni; ++q) {
      i += c.sign[static_cast<std::size_t>(q)] * c.i[static_cast<std::size_t>(q)][j];
    }
    i = quantise(i, ii, il, im);
    if constexpr (kHpf) {
      vy = a * (vy + v - vx);
      vx = v;
      v = vy;
      iy = a * (iy + i - ix);
      ix = i;
      i = iy;
    }
    if constexpr (kSkew) {
      const double raw = i;
      i = w0 * h0 + w1 * h1 + w2 * h2 + w3 * raw;
      h0 = h1;
      h1 = h2;
      h2 = raw;
    }
    sp += v * i;
    sv2 += v * v;
    si2 += i * i;
    if constexpr (kVdi) {
      svdi += 0.5 * (v + pv) * (i - pi);
      pv = v;
      pi = i;
    }
  }
  fe.v_x = vx, fe.v_y = vy, fe.i_x = ix, fe.i_y = iy;
  fe.i_hist = {h0, h1, h2};
  fe.pv = pv, fe.pi = pi;
  s = {sp, sv2, si2, svdi};
}

template <bool kHpf, bool kSkew>
void accumulate_steady(const Chan& c, std::size_t j, std::size_t stop, const ElementRun& r,
                       bool vdi, ElementFrontEnd& fe, ElementSums& s) {
  if (vdi) {
    accumulate_steady<kHpf, kSkew, true>(c, j, stop, r, fe, s);
  } else {
    accumulate_steady<kHpf, kSkew, false>(c, j, stop, r, fe, s);
  }
}

ElementSums accumulate(const Chan& c, std::size_t n, std::size_t stop, const ElementRun& r,
                       bool error_model, ElementFrontEnd& fe) {
  ElementSums s;
  std::size_t j = n;
  // Warm-up after power-on: the skew history fills and the error model's first derivative.
  for (; j < stop && ((r.skew && fe.hist_n < 3) || (error_model && !fe.have_prev)); ++j) {
    double v = 0, i = 0;
    front_end(c, j, r, fe, v, i);
    if (r.skew && !realign(r, fe, v, i, s, error_model)) continue;
    add_pair(s, v, i, error_model, fe);
  }
  if (r.hpf) {
    r.skew ? accumulate_steady<true, true>(c, j, stop, r, error_model, fe, s)
           : accumulate_steady<true, false>(c, j, stop, r, error_model, fe, s);
  } else {
    r.skew ? accumulate_steady<false, true>(c, j, stop, r, error_model, fe, s)
           : accumulate_steady<false, false>(c, j, stop, r, error_model, fe, s);
  }
  return s;
}

// |H|^2 of the DC-blocking filter at the line frequency (theta = 2 pi f / rate): the energy
// and the squared rms of both channels are divided by it (the same filter on v and i, so no
// phase difference, only this gain).
double hpf_power_gain(double a, double theta) {
  const double c = std::cos(theta);
  return a * a * 2 * (1 - c) / (1 - 2 * a * c + a * a);
}

}  // namespace

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

  std::array<Chan, kMaxElements> ch{};
  std::array<ElementRun, kMaxElements> run{};
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
    run[ki] = element_run(cfg_, k, b.sample_rate_hz);
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
    // The inner loop: ADC, DC blocking, skew re-alignment, then p = v * i, v^2, i^2 (and
    // v * di for the error model) per element; element 0's zero crossings below.
    for (int k = 0; k < cfg_.elements; ++k) {
      const auto ki = static_cast<std::size_t>(k);
      const ElementSums e =
          accumulate(ch[ki], n, stop, run[ki], cfg_.error_model.enabled, acc_.fe[ki]);
      acc_.sum_p[ki] += e.p;
      acc_.sum_v2[ki] += e.v2;
      acc_.sum_i2[ki] += e.i2;
      acc_.sum_vdi[ki] += e.vdi;
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
  // The DC-blocking filter's gain at the line frequency, compensated (1 without the filter).
  double hpf_gain = 1.0;
  if (cfg_.front_end.hpf_hz > 0) {
    const double f = frequency_hz_ > 0 ? frequency_hz_ : 60.0;
    hpf_gain =
        hpf_power_gain(std::exp(-2 * kPi * cfg_.front_end.hpf_hz / rate), 2 * kPi * f / rate);
  }
  for (int k = 0; k < kMaxElements; ++k) {
    const auto ki = static_cast<std::size_t>(k);
    ElementReading r{};
    if (k < cfg_.elements) {
      double gain = 1.0;
      if (cfg_.error_model.enabled) gain += cfg_.error_model.gain_error_ppm[ki] * 1e-6;
      r.v_rms = std::sqrt(acc_.sum_v2[ki] / n / hpf_gain);
      r.i_rms_a = std::sqrt(acc_.sum_i2[ki] / n / hpf_gain) * gain;
      r.i_secondary_a = r.i_rms_a / cfg_.ct_ratio;
      double e_j = acc_.sum_p[ki] / rate * gain / hpf_gain;
      if (cfg_.error_model.enabled) {
        // Phase error delta (current leading): i'(t) = i(t + delta/w) ~ i + (delta/w) di/dt,
        // so E' = gain * (sum v*i + (delta/w) * sum v_mid * (i[n] - i[n-1]) * rate) / rate.
        const double delta = cfg_.error_model.phase_error_mrad[ki] * 1e-3;
        const double f = frequency_hz_ > 0 ? frequency_hz_ : 60.0;
        const double w = 2.0 * kPi * f;
        e_j = gain * (acc_.sum_p[ki] + delta / w * rate * acc_.sum_vdi[ki]) / rate / hpf_gain;
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
