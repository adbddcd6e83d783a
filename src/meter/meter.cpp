#include "meter/meter.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>

#include "meter/meter_internal.h"

namespace imsm::meter {

using namespace detail;

namespace {

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

}  // namespace imsm::meter
