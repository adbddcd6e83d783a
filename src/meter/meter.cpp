#include "meter/meter.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <cstring>

namespace imsm::meter {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDeg = kPi / 180.0;
constexpr Uint128 k5Wh = 5 * kFjPerWh;
constexpr Uint128 k500Wh = 500 * kFjPerWh;

using Cplx = std::complex<double>;

// Phasors of one waveform by harmonic order (order 1 = fundamental). Small and fixed.
struct Spectrum {
  static constexpr int kCap = 1 + kMaxCtSets * kMaxHarmonics;
  std::array<int, kCap> order{};
  std::array<Cplx, kCap> x{};
  int n = 0;
  void add(int h, Cplx v) {
    for (int j = 0; j < n; ++j) {
      if (order[static_cast<std::size_t>(j)] == h) {
        x[static_cast<std::size_t>(j)] += v;
        return;
      }
    }
    if (n < kCap) {
      order[static_cast<std::size_t>(n)] = h;
      x[static_cast<std::size_t>(n)] = v;
      ++n;
    }
  }
  [[nodiscard]] Cplx at(int h) const {
    for (int j = 0; j < n; ++j) {
      if (order[static_cast<std::size_t>(j)] == h) return x[static_cast<std::size_t>(j)];
    }
    return {};
  }
  [[nodiscard]] double rms() const {
    double s = 0;
    for (int j = 0; j < n; ++j) s += std::norm(x[static_cast<std::size_t>(j)]);
    return std::sqrt(s);
  }
};

void add_waveform(Spectrum& sp, double rms, double angle1_deg, const HarmonicSet& hs, double sign) {
  if (rms == 0) return;
  sp.add(1, std::polar(sign * rms, angle1_deg * kDeg));
  for (int j = 0; j < hs.count && j < kMaxHarmonics; ++j) {
    const Harmonic& h = hs.h[static_cast<std::size_t>(j)];
    if (h.order < 2 || h.fraction == 0) continue;
    const double a = static_cast<double>(h.order) * angle1_deg + h.angle_deg;
    sp.add(h.order, std::polar(sign * rms * h.fraction, a * kDeg));
  }
}

bool in_supply(double v, const SupplyRange& r) {
  return v >= r.min_v && v <= r.max_v;
}

double combine(AccumulationMode mode, const std::array<double, kMaxElements>& p, int elements) {
  double sum = 0;
  for (int k = 0; k < elements; ++k) {
    const double x = p[static_cast<std::size_t>(k)];
    switch (mode) {
      case AccumulationMode::Net:
        sum += x;
        break;
      case AccumulationMode::Absolute:
        sum += std::fabs(x);
        break;
      case AccumulationMode::Delivered:
        sum += x > 0 ? x : 0;
        break;
    }
  }
  return sum > 0 ? sum : 0.0;  // detent: a negative net registers nothing
}

void put_u64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint64_t get_u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}
void put_u128(std::uint8_t* p, Uint128 v) {
  put_u64(p, static_cast<std::uint64_t>(v));
  put_u64(p + 8, static_cast<std::uint64_t>(v >> 64));
}
Uint128 get_u128(const std::uint8_t* p) {
  return static_cast<Uint128>(get_u64(p)) | static_cast<Uint128>(get_u64(p + 8)) << 64;
}
std::uint32_t fnv1a(const std::uint8_t* p, std::size_t n) {
  std::uint32_t h = 2166136261u;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 16777619u;
  }
  return h;
}

}  // namespace

const char* to_string(DisplayMode m) {
  switch (m) {
    case DisplayMode::Off:
      return "off";
    case DisplayMode::TotalKwh:
      return "total_kwh";
    case DisplayMode::InstDemand:
      return "inst_demand";
    case DisplayMode::PeakDemand:
      return "peak_demand";
    case DisplayMode::AllSegments:
      return "all_segments";
  }
  return "?";
}

Meter::Meter(const MeterConfig& config) : cfg_(config) {}

// ---- inputs ------------------------------------------------------------------------------

void Meter::set_input(const PhasorInput& in) {
  std::array<double, kMaxElements> p_reg{};
  bool any_supply = false;
  bool d1 = false;
  for (int k = 0; k < kMaxElements; ++k) {
    const auto ki = static_cast<std::size_t>(k);
    ElementReading r{};
    if (k < cfg_.elements) {
      const LineVoltage& lv = in.voltage[ki];
      const ElementWiring& w = cfg_.wiring[ki];
      double gain = 1.0;
      double delta = 0.0;
      if (cfg_.error_model.enabled) {
        gain += cfg_.error_model.gain_error_ppm[ki] * 1e-6;
        delta = cfg_.error_model.phase_error_mrad[ki] * 1e-3;
      }
      const CtSetWiring& cs0 = w.sets[0];
      const auto line0 = static_cast<std::size_t>(cs0.line < 0 ? k : cs0.line);
      const LineCurrent& c0 = in.current[line0][0];
      double p = 0;
      double v_rms = 0;
      double i_rms = 0;
      if (w.ct_sets == 1 && lv.harmonics.count == 0 && c0.harmonics.count == 0) {
        // Fast path (one CT set, pure sinusoids): P = V I cos(angle_v - angle_i - delta).
        const double ai = in.voltage[line0].angle_deg - c0.lag_deg;
        v_rms = lv.rms_v;
        i_rms = c0.rms_a;
        if (v_rms != 0 && i_rms != 0) {
          p = (cs0.reversed ? -1.0 : 1.0) * gain * v_rms * i_rms *
              std::cos((lv.angle_deg - ai) * kDeg - delta);
        }
      } else {
        Spectrum v;
        add_waveform(v, lv.rms_v, lv.angle_deg, lv.harmonics, 1.0);
        Spectrum i;
        for (int s = 0; s < w.ct_sets && s < kMaxCtSets; ++s) {
          const CtSetWiring& cs = w.sets[static_cast<std::size_t>(s)];
          const auto line = static_cast<std::size_t>(cs.line < 0 ? k : cs.line);
          const LineCurrent& c = in.current[line][static_cast<std::size_t>(s)];
          add_waveform(i, c.rms_a, in.voltage[line].angle_deg - c.lag_deg, c.harmonics,
                       cs.reversed ? -1.0 : 1.0);
        }
        for (int j = 0; j < i.n; ++j) {
          const auto ji = static_cast<std::size_t>(j);
          const int h = i.order[ji];
          Cplx ii = i.x[ji] * gain;
          if (delta != 0) ii *= std::polar(1.0, delta * static_cast<double>(h));
          p += (v.at(h) * std::conj(ii)).real();
        }
        v_rms = v.rms();
        i_rms = i.rms();
      }
      r.v_rms = v_rms;
      r.i_rms_a = i_rms * gain;
      r.i_secondary_a = r.i_rms_a / cfg_.ct_ratio;
      r.p_w = p;
      const double s_va = r.v_rms * r.i_rms_a;
      r.pf = s_va > 0 ? p / s_va : 0.0;
      r.below_creep = r.i_rms_a < cfg_.creep_threshold_a();
      r.overload = r.i_rms_a > cfg_.max_primary_a();
      p_reg[ki] = r.below_creep ? 0.0 : p;
      if (in_supply(r.v_rms, cfg_.supply[ki])) any_supply = true;
      if (r.i_rms_a > kReversePhaseMinA && p < 0) d1 = true;
    }
    readings_[ki] = r;
  }
  reg_power_w_ = combine(cfg_.accumulation, p_reg, cfg_.elements);
  reg_power_uw_ = static_cast<std::uint64_t>(std::llround(reg_power_w_ * 1e6));
  d1_ = d1;
  frequency_hz_ = any_supply ? in.frequency_hz : 0.0;
  input_powered_ = any_supply;
  if (input_powered_ && !powered_) power_up(now_ns_);
  if (!input_powered_ && powered_) power_down();
}

void Meter::step(std::int64_t dt_ns) {
  if (dt_ns <= 0) return;
  if (!powered_) {
    now_ns_ += dt_ns;
    return;
  }
  advance_powered(dt_ns);
}

void Meter::advance_powered(std::int64_t dt_ns) {
  const std::int64_t t_end = now_ns_ + dt_ns;
  for (;;) {
    const std::int64_t boundary = subinterval_start_ns_ + kSubintervalNs;
    if (t_end < boundary) {
      register_exact(
          static_cast<Uint128>(reg_power_uw_) * static_cast<std::uint64_t>(t_end - now_ns_),
          now_ns_, t_end);
      now_ns_ = t_end;
      return;
    }
    register_exact(
        static_cast<Uint128>(reg_power_uw_) * static_cast<std::uint64_t>(boundary - now_ns_),
        now_ns_, boundary);
    now_ns_ = boundary;
    end_subinterval(boundary);
  }
}

void Meter::register_exact(Uint128 fj, std::int64_t t_start_ns, std::int64_t t_end_ns) {
  if (pulse_sink_ == nullptr) {
    energy_.add_exact(fj);
    return;
  }
  const Uint128 before = energy_.fj();
  energy_.add_exact(fj);
  emit_pulse_edges(before, energy_.fj(), t_start_ns, t_end_ns, reg_power_uw_);
}

void Meter::register_joules(double joules, std::int64_t t_start_ns, std::int64_t t_end_ns) {
  const Uint128 before = energy_.fj();
  energy_.add(joules * 1e15);
  if (pulse_sink_ != nullptr) emit_pulse_edges(before, energy_.fj(), t_start_ns, t_end_ns, 0);
}

void Meter::emit_pulse_edges(Uint128 before, Uint128 after, std::int64_t t0, std::int64_t t1,
                             std::uint64_t rate_uw) {
  if (after <= before) return;
  const double span = static_cast<double>(after - before);
  // The first instant at which the register reaches e: exact for a constant power (the
  // phasor path adds rate_uw fJ per ns), interpolated for a sample period.
  const auto at = [&](Uint128 e) -> std::int64_t {
    if (rate_uw > 0) {
      const Uint128 d = e - before;
      return t0 + static_cast<std::int64_t>((d + rate_uw - 1) / rate_uw);
    }
    const double f = static_cast<double>(e - before) / span;
    return t0 + static_cast<std::int64_t>(std::llround(f * static_cast<double>(t1 - t0)));
  };
  // Walk the 5 Wh and 500 Wh multiples crossed, in time order (500 Wh ones are also 5 Wh ones).
  for (Uint128 e = (before / k5Wh + 1) * k5Wh; e <= after; e += k5Wh) {
    const std::int64_t t = at(e);
    pulse_sink_(pulse_ctx_, PulseEdge{t, PulseOutput::Kh10, ((e / k5Wh) & 1) != 0});
    if (e % k500Wh == 0) {
      pulse_sink_(pulse_ctx_, PulseEdge{t, PulseOutput::Kh1000, ((e / k500Wh) & 1) != 0});
    }
  }
}

void Meter::end_subinterval(std::int64_t at_ns) {
  const Uint128 e = energy_.fj();
  if (cfg_.demand) demand_.complete_subinterval(e - subinterval_start_fj_);
  subinterval_start_ns_ = at_ns;
  subinterval_start_fj_ = e;
  transmit(at_ns + cfg_.tx_latency_ns);
}

void Meter::transmit(std::int64_t at_ns) {
  TxFrame f;
  f.start_ns = at_ns;
  f.bytes = protocol::encode(frame());
  ++frames_sent_;
  if (tx_sink_ != nullptr) {
    tx_sink_(tx_ctx_, f);
    return;
  }
  if (tx_count_ < kTxQueueCapacity) {
    tx_queue_[tx_count_++] = f;
  } else {
    ++tx_dropped_;
  }
}

void Meter::power_up(std::int64_t at_ns) {
  powered_ = true;
  power_up_ns_ = at_ns;
  subinterval_start_ns_ = at_ns;
  subinterval_start_fj_ = energy_.fj();
  demand_.power_up();
  key_.power_up();
}

void Meter::power_down() {
  // Registers survive; the open subinterval is abandoned (no frame, no demand update).
  powered_ = false;
}

void Meter::set_key_switch(KeyPosition p) {
  const std::int64_t window = powered_ ? peak_window_now() : -1;
  const KeySwitch::Outcome o = key_.turn(p, now_ns_, window);
  if (o == KeySwitch::Outcome::Reset && powered_ && cfg_.demand) demand_.reset();
}

std::int64_t Meter::peak_window_now() const {
  if (!cfg_.demand) return -1;
  const DisplayPhase ph = display_phase(now_ns_ - power_up_ns_, true);
  return ph.mode == DisplayMode::PeakDemand ? ph.cycle : -1;
}

// ---- sample mode -------------------------------------------------------------------------

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

void Meter::close_sample_period(std::int64_t at_ns) {
  if (acc_.n == 0) return;
  const double n = static_cast<double>(acc_.n);
  const double rate = acc_.rate_hz;
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
      r.below_creep = r.i_rms_a < cfg_.creep_threshold_a();
      r.overload = r.i_rms_a > cfg_.max_primary_a();
      e_reg[ki] = r.below_creep ? 0.0 : e_j;
      if (in_supply(r.v_rms, cfg_.supply[ki])) any_supply = true;
      if (r.i_rms_a > kReversePhaseMinA && r.p_w < 0) d1 = true;
    }
    readings_[ki] = r;
  }
  const double e_total_j = combine(cfg_.accumulation, e_reg, cfg_.elements);
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
  input_powered_ = any_supply;
  if (input_powered_ && !powered_) power_up(at_ns);
  if (!input_powered_ && powered_) power_down();
}

// ---- outputs -----------------------------------------------------------------------------

DemandCounts Meter::peak_demand_counts() const {
  return cfg_.demand ? demand_.peak_counts() : DemandCounts{};
}
ResetCounter Meter::demand_resets() const {
  return cfg_.demand ? demand_.resets() : ResetCounter{};
}
std::uint64_t Meter::inst_demand_centi_kw() const {
  return cfg_.demand ? demand_.inst_centi_kw() : 0;
}
std::uint64_t Meter::peak_demand_centi_kw() const {
  return cfg_.demand ? demand_.peak_centi_kw() : 0;
}

PulseState Meter::pulses() const {
  const Uint128 e = energy_.fj();
  PulseState p;
  p.kh10_edges = static_cast<std::uint64_t>(e / k5Wh);
  p.kh1000_edges = static_cast<std::uint64_t>(e / k500Wh);
  p.kh10_pulses = p.kh10_edges / 2;
  p.kh1000_pulses = p.kh1000_edges / 2;
  p.kh10_on = (p.kh10_edges & 1) != 0;
  p.kh1000_on = (p.kh1000_edges & 1) != 0;
  return p;
}

LedState Meter::leds() const {
  if (!powered_) return {};
  const PulseState p = pulses();
  return LedState{d1_, p.kh10_on, p.kh1000_on};
}

DisplayView Meter::display() const {
  DisplayView v;
  if (!powered_) {
    std::snprintf(v.text.data(), v.text.size(), "%s", "");
    return v;
  }
  const DisplayPhase ph = display_phase(now_ns_ - power_up_ns_, cfg_.demand);
  v.mode = ph.mode;
  switch (ph.mode) {
    case DisplayMode::TotalKwh:
      v.value = total_kwh() % 100'000'000ULL;
      std::snprintf(v.text.data(), v.text.size(), "%8llu kWh",
                    static_cast<unsigned long long>(v.value));
      break;
    case DisplayMode::InstDemand:
    case DisplayMode::PeakDemand: {
      const bool inst = ph.mode == DisplayMode::InstDemand;
      v.inst_dot = inst;
      v.peak_dot = !inst;
      v.value = (inst ? inst_demand_centi_kw() : peak_demand_centi_kw()) % 100'000'000ULL;
      std::snprintf(v.text.data(), v.text.size(), "%5llu.%02llu kW  .%s",
                    static_cast<unsigned long long>(v.value / 100),
                    static_cast<unsigned long long>(v.value % 100), inst ? "inst" : "peak");
      break;
    }
    case DisplayMode::AllSegments:
      v.inst_dot = cfg_.demand;
      v.peak_dot = cfg_.demand;
      std::snprintf(v.text.data(), v.text.size(), "%s",
                    cfg_.demand ? "88888888 kWh kW .inst .peak" : "88888888 kWh");
      break;
    case DisplayMode::Off:
      break;
  }
  return v;
}

protocol::Frame Meter::frame() const {
  protocol::Frame f;
  f.lead = 0;
  f.meter_id = cfg_.meter_id;
  f.peak_demand = peak_demand_counts();
  f.demand_resets = demand_resets();
  f.total_kwh = kwh24();
  return f;
}

void Meter::preset_energy_wh(std::uint64_t wh) {
  energy_.set(static_cast<Uint128>(wh) * kFjPerWh, 0.0);
  subinterval_start_fj_ = energy_.fj();
}

// ---- snapshot ----------------------------------------------------------------------------

MeterSnapshot Meter::snapshot() const {
  MeterSnapshot s;
  s.now_ns = now_ns_;
  s.energy_fj = energy_.fj();
  s.energy_remainder_fj = energy_.remainder_fj();
  s.demand = demand_.state();
  s.powered = powered_;
  s.power_up_ns = power_up_ns_;
  s.subinterval_start_ns = subinterval_start_ns_;
  s.subinterval_start_fj = subinterval_start_fj_;
  s.frames_sent = frames_sent_;
  return s;
}

void Meter::restore(const MeterSnapshot& s) {
  now_ns_ = s.now_ns;
  energy_.set(s.energy_fj, s.energy_remainder_fj);
  demand_.set_state(s.demand);
  powered_ = s.powered;
  input_powered_ = s.powered;
  power_up_ns_ = s.power_up_ns;
  subinterval_start_ns_ = s.subinterval_start_ns;
  subinterval_start_fj_ = s.subinterval_start_fj;
  frames_sent_ = s.frames_sent;
  key_.power_up();
  acc_ = SampleAcc{};
}

// Layout (little-endian, 192 bytes): see docs/meter.md "Snapshot format".
SnapshotBytes Meter::serialize(const MeterSnapshot& s) {
  SnapshotBytes b{};
  std::uint8_t* p = b.data();
  std::memcpy(p, "IMSM", 4);
  for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<std::uint8_t>(s.version >> (8 * i));
  put_u64(p + 8, static_cast<std::uint64_t>(s.now_ns));
  put_u128(p + 16, s.energy_fj);
  std::uint64_t rem = 0;
  std::memcpy(&rem, &s.energy_remainder_fj, 8);
  put_u64(p + 32, rem);
  put_u128(p + 40, s.demand.last[0]);
  put_u128(p + 56, s.demand.last[1]);
  put_u128(p + 72, s.demand.last[2]);
  put_u128(p + 88, s.demand.peak_window_fj);
  p[104] = static_cast<std::uint8_t>(s.demand.completed);
  p[105] = s.demand.resets;
  p[106] = s.powered ? 1 : 0;
  put_u64(p + 112, static_cast<std::uint64_t>(s.power_up_ns));
  put_u64(p + 120, static_cast<std::uint64_t>(s.subinterval_start_ns));
  put_u128(p + 128, s.subinterval_start_fj);
  put_u64(p + 144, s.frames_sent);
  const std::uint32_t crc = fnv1a(p, kSnapshotBytes - 4);
  for (int i = 0; i < 4; ++i)
    p[kSnapshotBytes - 4 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (8 * i));
  return b;
}

bool Meter::deserialize(std::span<const std::uint8_t> bytes, MeterSnapshot& out) {
  if (bytes.size() != kSnapshotBytes) return false;
  const std::uint8_t* p = bytes.data();
  if (std::memcmp(p, "IMSM", 4) != 0) return false;
  std::uint32_t crc = 0;
  for (int i = 0; i < 4; ++i)
    crc |= static_cast<std::uint32_t>(p[kSnapshotBytes - 4 + static_cast<std::size_t>(i)])
           << (8 * i);
  if (crc != fnv1a(p, kSnapshotBytes - 4)) return false;
  MeterSnapshot s;
  s.version = 0;
  for (int i = 0; i < 4; ++i) s.version |= static_cast<std::uint32_t>(p[4 + i]) << (8 * i);
  if (s.version != 1) return false;
  s.now_ns = static_cast<std::int64_t>(get_u64(p + 8));
  s.energy_fj = get_u128(p + 16);
  const std::uint64_t rem = get_u64(p + 32);
  std::memcpy(&s.energy_remainder_fj, &rem, 8);
  if (!(s.energy_remainder_fj >= 0 && s.energy_remainder_fj < 1)) return false;
  s.demand.last = {get_u128(p + 40), get_u128(p + 56), get_u128(p + 72)};
  s.demand.peak_window_fj = get_u128(p + 88);
  s.demand.completed = p[104];
  if (s.demand.completed > 3) return false;
  s.demand.resets = p[105];
  s.powered = p[106] != 0;
  s.power_up_ns = static_cast<std::int64_t>(get_u64(p + 112));
  s.subinterval_start_ns = static_cast<std::int64_t>(get_u64(p + 120));
  s.subinterval_start_fj = get_u128(p + 128);
  s.frames_sent = get_u64(p + 144);
  out = s;
  return true;
}

}  // namespace imsm::meter
