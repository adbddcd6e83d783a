#include "sim/accuracy_matrix.h"

#include <fmt/format.h>

#include <cmath>

#include "protocol/model_number.h"
#include "sim/accuracy_run.h"
#include "sim/exact_energy.h"
#include "sim/rng.h"

namespace imsm::sim {

namespace {

constexpr double kPi = 3.14159265358979323846;

struct PfPoint {
  double pf;
  double lag_deg;  // positive lag, negative lead
  const char* sense;
  bool core;
};
constexpr PfPoint kPfs[] = {{1.0, 0.0, "unity", true},
                            {0.5, 60.0, "lag", true},
                            {0.5, -60.0, "lead", true},
                            {0.866, 30.0, "lag", false}};
constexpr PfPoint kUnity{1.0, 0.0, "unity", false};
constexpr PfPoint kLag866{0.866, 30.0, "lag", false};
constexpr double kCurrents[] = {0.1, 0.5, 1, 2, 5, 10, 20, 50, 100, 120};
constexpr double kFrequencies[] = {50.0, 60.0, 49.5, 59.97, 60.5};

bool is_core_current(double pct) {
  return pct >= 1 && pct <= 100;
}

class Builder {
 public:
  explicit Builder(const MatrixOptions& o) : o_(o), rng_(Rng::derive(o.seed, 0xACC, 0)) {}

  void model(const std::string& number, const protocol::ModelConfig& mc) {
    const bool delta = mc.service == protocol::Service::ThreePhaseDelta;
    const std::vector<double> legs =
        delta ? std::vector<double>{207.8, 175.0, 240.0} : std::vector<double>{0.0};
    for (const double leg : legs) {
      for (const double f : kFrequencies) {
        for (const PfPoint& pf : kPfs) {
          for (const double pct : kCurrents) {
            const meter::MeterConfig c = config(mc, {});
            meter::PhasorInput in =
                meter::PhasorInput::balanced(c, c.rated_primary_a * pct / 100.0, pf.lag_deg, f);
            if (delta) in.voltage[2].rms_v = leg;
            AccuracyPoint p = base(c, number, "sine", in, pct, pf);
            if (delta) p.high_leg_v = leg;
            p.core = (!delta || leg == 207.8) && pf.core && is_core_current(pct) &&
                     (f == 50.0 || f == 60.0);
            run(p, c, in);
          }
        }
      }
    }
    harmonics(mc, number);
    skew(mc, number);
    parallel_sets(mc, number);
    wiring_faults(mc, number);
  }

  std::vector<AccuracyPoint> points;

 private:
  meter::MeterConfig config(const protocol::ModelConfig& mc, meter::MeterOptions op) {
    op.error_model = error_model_for(o_, meter_index_++);
    if (op.front_end.current_skew_s == 0) op.front_end = o_.front_end;
    auto c = meter::MeterConfig::from_model(mc, op);
    return *c;  // options built here are always valid
  }

  AccuracyPoint base(const meter::MeterConfig& c, const std::string& number, const char* kase,
                     const meter::PhasorInput& in, double pct, const PfPoint& pf) {
    AccuracyPoint p;
    p.kase = kase;
    p.model = number;
    p.service = fmt::format("{} {}", protocol::to_string(c.model.service),
                            protocol::to_string(c.model.nominal_voltage));
    p.voltage_v = in.voltage[0].rms_v;
    p.current_percent = pct;
    p.pf = pf.pf;
    p.pf_sense = pf.sense;
    p.frequency_hz = in.frequency_hz;
    return p;
  }

  // Window and start angle: seeded per point, never a whole number of cycles by design.
  void run(AccuracyPoint& p, const meter::MeterConfig& c, const meter::PhasorInput& in) {
    RunSpec spec;
    spec.rate_hz = o_.rate_hz;
    spec.seconds = o_.seconds ? *o_.seconds : rng_.uniform(0.5, 1.5);
    const double start_cycles = rng_.uniform();
    spec.start_s = start_cycles / in.frequency_hz;
    const RunResult r = run_sample_window(c, in, spec);
    const ExactEnergy e =
        exact_energy(c, in, spec.start_s, spec.start_s + r.window_s, o_.rate_hz / 2);
    p.window_s = r.window_s;
    p.start_deg = start_cycles * 360.0;
    p.ct_sets = c.wiring[0].ct_sets;
    p.expected_wh = e.registered_j / 3600.0;
    p.registered_wh = r.registered_wh;
    judge_point(p, o_.limits, e.abs_sum_j / 3600.0);
    points.push_back(p);
  }

  void harmonics(const protocol::ModelConfig& mc, const std::string& number) {
    // IEC 62053-22 style distortion, 3rd..15th: current 20/10/5/3/2/1 % at 3/5/7/9/11/15,
    // voltage 4/3/2/1/1/0.5 % at 3/5/7/9/11/13 (so 13th and 15th give only cross terms).
    const meter::HarmonicSet hi{6,
                                {{{3, 0.20, 15},
                                  {5, 0.10, -40},
                                  {7, 0.05, 120},
                                  {9, 0.03, 0},
                                  {11, 0.02, 60},
                                  {15, 0.01, -90}}}};
    const meter::HarmonicSet hv{6,
                                {{{3, 0.04, 0},
                                  {5, 0.03, 10},
                                  {7, 0.02, -20},
                                  {9, 0.01, 5},
                                  {11, 0.01, 30},
                                  {13, 0.005, 0}}}};
    // Near Nyquist: the 31st at 60 Hz (1860 Hz) is under rate/2 at 4 kHz; the 35th (2100 Hz)
    // is above it and is removed by the (ideal) anti-alias filter and from the reference.
    const meter::HarmonicSet n_i{1, {{{31, 0.05, 10}}}};
    const meter::HarmonicSet n_v{1, {{{31, 0.01, 0}}}};
    const meter::HarmonicSet a_i{1, {{{35, 0.05, 10}}}};
    const meter::HarmonicSet a_v{1, {{{35, 0.01, 0}}}};
    struct Case {
      const char* kase;
      const meter::HarmonicSet& i;
      const meter::HarmonicSet& v;
    };
    for (const Case& k : {Case{"harmonics", hi, hv}, Case{"near_nyquist", n_i, n_v},
                          Case{"above_nyquist", a_i, a_v}}) {
      for (const double f : {50.0, 60.0}) {
        const meter::MeterConfig c = config(mc, {});
        meter::PhasorInput in = meter::PhasorInput::balanced(c, c.rated_primary_a, 30.0, f);
        for (std::size_t l = 0; l < static_cast<std::size_t>(c.elements); ++l) {
          in.current[l][0].harmonics = k.i;
          in.voltage[l].harmonics = k.v;
        }
        AccuracyPoint p = base(c, number, k.kase, in, 100, kLag866);
        run(p, c, in);
      }
    }
  }

  // The current channel sampled a third of a sample period after the voltage (a multiplexed
  // ADC: 2 pi 60 / (3 x 4000) = 31 mrad, +5.6 % at PF 0.5 lag uncompensated), re-aligned.
  void skew(const protocol::ModelConfig& mc, const std::string& number) {
    const PfPoint lag{0.5, 60.0, "lag", false};
    for (const double f : {50.0, 60.0}) {
      meter::MeterOptions op;
      op.front_end = o_.front_end;
      op.front_end.current_skew_s = 1.0 / (3.0 * o_.rate_hz);
      const meter::MeterConfig c = config(mc, op);
      const auto in = meter::PhasorInput::balanced(c, c.rated_primary_a * 0.6, 60.0, f);
      AccuracyPoint p = base(c, number, "skew", in, 60, lag);
      run(p, c, in);
    }
  }

  // 2 and 3 paralleled CT sets per element (guide 5 FAQ): the element sees the sum of the
  // conductors, each with its own current and angle; total current 60 % of rated.
  void parallel_sets(const protocol::ModelConfig& mc, const std::string& number) {
    for (int sets = 2; sets <= 3; ++sets) {
      meter::MeterOptions op;
      for (auto& w : op.wiring) w.ct_sets = sets;
      const meter::MeterConfig c = config(mc, op);
      meter::PhasorInput in = meter::PhasorInput::balanced(c, 0, 0, 60.0);
      for (std::size_t l = 0; l < static_cast<std::size_t>(c.elements); ++l) {
        for (std::size_t s = 0; s < static_cast<std::size_t>(sets); ++s) {
          in.current[l][s].rms_a =
              c.rated_primary_a * 0.6 / sets * (0.7 + 0.3 * static_cast<double>(s));
          in.current[l][s].lag_deg =
              10.0 + 20.0 * static_cast<double>(s) - 5.0 * static_cast<double>(l);
        }
      }
      AccuracyPoint p = base(c, number, "parallel_ct", in, 60, kLag866);
      p.pf = 0;  // mixed angles: reported as 0 (not one PF)
      p.pf_sense = "mixed";
      run(p, c, in);
    }
  }

  void wiring_faults(const protocol::ModelConfig& mc, const std::string& number) {
    {  // creep: 110 % voltage, no current
      const meter::MeterConfig c = config(mc, {});
      const meter::PhasorInput in = meter::PhasorInput::balanced(c, 0.0, 0.0, 60.0, 1.10);
      AccuracyPoint p = base(c, number, "creep", in, 0, kUnity);
      run(p, c, in);
    }
    if (mc.elements >= 3) {  // one reversed CT: 33.3 % with net mode
      meter::MeterOptions op;
      op.wiring[1].sets[0].reversed = true;
      const meter::MeterConfig c = config(mc, op);
      const auto in = meter::PhasorInput::balanced(c, c.rated_primary_a * 0.5, 0.0, 60.0);
      AccuracyPoint p = base(c, number, "reversed_ct", in, 50, kUnity);
      run(p, c, in);
    }
    if (mc.elements >= 2) {  // CT1 on the wrong phase (clamped on L2)
      meter::MeterOptions op;
      op.wiring[0].sets[0].line = 1;
      const meter::MeterConfig c = config(mc, op);
      const auto in = meter::PhasorInput::balanced(c, c.rated_primary_a * 0.5, 0.0, 60.0);
      AccuracyPoint p = base(c, number, "wrong_phase", in, 50, kUnity);
      run(p, c, in);
    }
  }

  const MatrixOptions& o_;
  Rng rng_;
  std::uint64_t meter_index_ = 0;
};

}  // namespace

meter::FrontEnd default_accuracy_front_end(double rate_hz) {
  (void)rate_hz;
  return {};  // 24-bit ADC, DC-blocking filter, no skew (the `skew` case adds one)
}

const std::vector<std::string>& default_accuracy_models() {
  static const std::vector<std::string> kModels = {
      "S1-120-N-01-01-011-00",  // 1ph-2w 120
      "S1-277-N-01-01-021-00",  // 1ph-2w 277
      "S1-240-N-01-01-041-00",  // 1ph-3w 120/240
      "S1-208-N-01-01-022-00",  // 1ph-3w 120/208 (network)
      "S1-480-N-01-01-061-00",  // 1ph-3w 277/480
      "S2-208-N-01-01-081-01",  // wye 120/208
      "S2-480-N-01-01-121-01",  // wye 277/480
      "S2-600-N-01-01-041-01",  // wye 347/600
      "BL-208-400-GL-PKG-SO",   // grounded (high-leg) delta
  };
  return kModels;
}

meter::ErrorModel error_model_for(const MatrixOptions& o, std::uint64_t meter_index) {
  meter::ErrorModel em;
  if (o.inject) {
    em.enabled = true;
    for (std::size_t k = 0; k < meter::kMaxElements; ++k) {
      em.gain_error_ppm[k] = o.inject->gain_ppm;
      em.phase_error_mrad[k] = o.inject->phase_deg * kPi / 180.0 * 1e3;
    }
  } else if (o.seeded_error_model) {
    em = meter::ErrorModel::from_seed(o.seed * 1000003u + meter_index + 1);
  }
  return em;
}

void judge_point(AccuracyPoint& p, AccuracyClass limits, double abs_sum_wh) {
  if (p.kase == "creep") {
    p.error_ppm = p.registered_wh == 0 ? 0 : 1e6;
    p.limit_ppm = 0;
    p.pass = p.registered_wh == 0;
    return;
  }
  const bool harmonic = p.kase == "harmonics" || p.kase == "near_nyquist" ||
                        p.kase == "above_nyquist" || p.kase == "parallel_ct";
  double limit = limit_ppm(limits, p.current_percent, p.pf, harmonic);
  if (p.expected_wh <= 0) {
    // Nothing should register (a wiring fault that nets to zero or less): the registration
    // is judged against the energy that flows through the elements, sum |E_k|.
    p.limit_ppm = limit;
    p.error_ppm = abs_sum_wh > 0 ? p.registered_wh / abs_sum_wh * 1e6 : 0;
    p.pass = p.registered_wh == 0 || std::fabs(p.error_ppm) <= limit;
    return;
  }
  // A class error relative to a wiring fault's small net is scaled by sum|E_k| / net.
  if (limits != AccuracyClass::Fidelity) limit *= std::max(1.0, abs_sum_wh / p.expected_wh);
  p.limit_ppm = limit;
  p.error_ppm = (p.registered_wh - p.expected_wh) / p.expected_wh * 1e6;
  if (p.error_ppm == 0) p.error_ppm = 0;  // no -0
  p.pass = std::fabs(p.error_ppm) <= limit;
}

Result<protocol::ModelConfig, std::string> parse_accuracy_model(const std::string& number) {
  auto mc = protocol::parse_model_number(number);
  if (mc) return *mc;
  const auto& e = mc.error();
  return unexpected(fmt::format("invalid model number '{}': bad {} at character {}: expected {}",
                                number, protocol::to_string(e.field), e.position + 1, e.expected));
}

Result<std::vector<AccuracyPoint>, std::string> run_accuracy_matrix(const MatrixOptions& o) {
  const std::vector<std::string>& models = o.models.empty() ? default_accuracy_models() : o.models;
  std::vector<protocol::ModelConfig> parsed;
  for (const std::string& m : models) {
    auto mc = parse_accuracy_model(m);
    if (!mc) return unexpected(mc.error());
    parsed.push_back(*mc);
  }
  Builder b(o);
  for (std::size_t i = 0; i < models.size(); ++i) b.model(models[i], parsed[i]);
  return std::move(b.points);
}

}  // namespace imsm::sim
