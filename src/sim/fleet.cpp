#include "sim/fleet.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/ct_model.h"
#include "sim/duration.h"

namespace imsm::sim {

namespace {

constexpr std::uint64_t kSaltMeter = 0x3E7E;
constexpr std::uint64_t kSaltError = 0xE440;
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kSubintervalNs = 300LL * kNsPerSecond;

enum class EventKind : std::uint8_t { SupplyOn, SupplyOff, KeyRight, KeyLocked };

struct Event {
  std::int64_t t_ns = 0;
  EventKind kind = EventKind::SupplyOn;
};

}  // namespace

struct Fleet::State {
  Fleet* fleet = nullptr;
  std::uint32_t index = 0;
  MeterInfo info;
  const MeterSpec* spec = nullptr;
  std::unique_ptr<meter::Meter> meter;
  std::unique_ptr<LoadProfile> load;
  BusModel* bus = nullptr;
  std::vector<Event> events;
  std::size_t next_event = 0;
  std::int64_t t_ns = 0;          // bus time the meter has reached
  std::int64_t next_grid_ns = 0;  // next load-resolution boundary
  bool supply = false;
  bool input_dirty = true;
  bool sampled_once = false;
  LoadSample sample;
  // The real CTs (error_model other than "exact"), per element and paralleled set.
  bool ct_error_on = false;
  std::array<std::array<CtErrorModel, meter::kMaxCtSets>, kMaxElements> ct_error;
  std::unique_ptr<MeterTimeline> timeline;  // --trace: this meter's faces
  // Ground truth: the real load's energy (an exact meter's registration), fJ.
  std::uint64_t true_uw = 0;  // net real power of the present input, microwatts
  meter::Uint128 true_fj = 0;
  std::int64_t true_t_ns = 0;  // bus time up to which true_fj counts
};

// Each CT of a class-0.5 meter is its own seeded draw, fixed for the meter's life; an
// explicit curve applies to every CT of the meter.
void Fleet::set_ct_errors(State& st, const MeterSpec& spec, std::uint64_t seed, std::size_t i) {
  if (spec.error_model == ErrorModelKind::Exact) return;
  st.ct_error_on = true;
  for (std::size_t e = 0; e < kMaxElements; ++e)
    for (std::size_t s = 0; s < meter::kMaxCtSets; ++s)
      st.ct_error[e][s] =
          spec.error_model == ErrorModelKind::Explicit
              ? spec.explicit_ct_error
              : CtErrorModel::class05(Rng::derive(seed, kSaltError, i * 16 + e * 4 + s).next());
}

std::int64_t Fleet::local_ns(std::int64_t bus_ns, double drift_ppm) {
  if (drift_ppm == 0.0) return bus_ns;
  return bus_ns + std::llround(static_cast<double>(bus_ns) * drift_ppm * 1e-6);
}

std::int64_t Fleet::bus_ns_of_local(std::int64_t local, double drift_ppm) {
  if (drift_ppm == 0.0) return local;
  return std::llround(static_cast<double>(local) / (1.0 + drift_ppm * 1e-6));
}

Fleet::Fleet(const FleetConfig& cfg, std::uint64_t seed) : cfg_(cfg), seed_(seed) {
  for (std::size_t b = 0; b < cfg_.buses.size(); ++b) {
    buses_.push_back(std::make_unique<BusModel>(cfg_.buses[b], seed_, b));
    max_latency_ns_ = std::max(max_latency_ns_, cfg_.buses[b].tx_latency_ns);
  }
  meters_.reserve(cfg_.meters.size());
  for (std::size_t i = 0; i < cfg_.meters.size(); ++i) {
    const MeterSpec& spec = cfg_.meters[i];
    auto st = std::make_unique<State>();
    st->fleet = this;
    st->index = static_cast<std::uint32_t>(i);
    st->spec = &spec;
    Rng rng = Rng::derive(seed_, kSaltMeter, i);
    // Defaults drawn in a fixed order so that giving one value does not move the others.
    const auto random_power_up = static_cast<std::int64_t>(rng.below(kSubintervalNs / 1000)) * 1000;
    const double random_drift = rng.uniform(-cfg_.max_drift_ppm, cfg_.max_drift_ppm);
    st->info.id = spec.id;
    st->info.bus_index = spec.bus_index;
    st->info.model = spec.model;
    st->info.power_up_ns = spec.power_up_ns.value_or(random_power_up);
    st->info.drift_ppm = spec.drift_ppm.value_or(random_drift);
    st->info.load = spec.load.kind;

    meter::MeterOptions opt;
    opt.meter_id = MeterId{spec.id};
    set_ct_errors(*st, spec, seed_, i);
    opt.demand = spec.demand;
    opt.tx_latency_ns = cfg_.buses[spec.bus_index].tx_latency_ns;
    const int elements = spec.model_config.elements;
    for (int e = 0; e < elements; ++e) {
      auto& w = opt.wiring[static_cast<std::size_t>(e)];
      w.ct_sets =
          spec.wiring.ct_sets.empty() ? 1 : spec.wiring.ct_sets[static_cast<std::size_t>(e)];
      if (!spec.wiring.ct_on_line.empty()) {
        const int line = spec.wiring.ct_on_line[static_cast<std::size_t>(e)] - 1;
        w.sets[0].line = line == e ? -1 : line;
      }
      w.sets[0].reversed = std::find(spec.wiring.reversed.begin(), spec.wiring.reversed.end(),
                                     e + 1) != spec.wiring.reversed.end();
      for (int s = 1; s < w.ct_sets; ++s) w.sets[static_cast<std::size_t>(s)] = w.sets[0];
    }
    auto mc = meter::MeterConfig::from_model(spec.model_config, opt);
    if (!mc)
      throw ConfigError(fmt::format("{}:{}: meter {}: {}", cfg_.source, spec.source_line, spec.id,
                                    meter::to_string(mc.error())));
    st->meter = std::make_unique<meter::Meter>(*mc);
    st->meter->set_transmit_sink(st.get(), &Fleet::on_transmit);
    std::array<double, kMaxElements> nominal{};
    for (int e = 0; e < elements; ++e)
      nominal[static_cast<std::size_t>(e)] =
          protocol::element_nominal_voltage_v(spec.model_config, e);
    st->load =
        std::make_unique<LoadProfile>(spec.load, elements, nominal, rng, cfg_.load_resolution_ns);
    st->bus = buses_[spec.bus_index].get();

    // Supply on at power-up, off and on around each outage; key presses.
    auto& ev = st->events;
    ev.push_back({st->info.power_up_ns, EventKind::SupplyOn});
    for (const Outage& o : spec.outages) {
      ev.push_back({o.from_ns, EventKind::SupplyOff});
      ev.push_back({o.to_ns, EventKind::SupplyOn});
    }
    for (const KeyPress& k : spec.key_presses) {
      ev.push_back({k.at_ns, EventKind::KeyRight});
      ev.push_back({k.at_ns + k.hold_ns, EventKind::KeyLocked});
    }
    std::stable_sort(ev.begin(), ev.end(),
                     [](const Event& a, const Event& b) { return a.t_ns < b.t_ns; });
    meters_.push_back(std::move(st));
  }
}

Fleet::~Fleet() = default;

bool Fleet::trace(std::uint16_t meter_id, MeterTimeline::Sink sink) {
  for (auto& m : meters_) {
    if (m->info.id != meter_id) continue;
    const double drift = m->info.drift_ppm;
    m->timeline = std::make_unique<MeterTimeline>(
        *m->meter, [drift, sink = std::move(sink)](const TimelineEvent& e) {
          TimelineEvent b = e;
          b.t_ns = bus_ns_of_local(e.t_ns, drift);
          sink(b);
        });
    return true;
  }
  return false;
}

const MeterInfo& Fleet::info(std::size_t i) const {
  return meters_[i]->info;
}
const meter::Meter& Fleet::meter(std::size_t i) const {
  return *meters_[i]->meter;
}
const CtErrorModel* Fleet::ct_error(std::size_t i, int element, int set) const {
  const State& m = *meters_[i];
  if (!m.ct_error_on) return nullptr;
  return &m.ct_error[static_cast<std::size_t>(element)][static_cast<std::size_t>(set)];
}

void Fleet::on_transmit(void* ctx, const meter::TxFrame& f) {
  auto* st = static_cast<State*>(ctx);
  std::int64_t t = bus_ns_of_local(f.start_ns, st->info.drift_ppm);
  t = (t + 500) / 1000 * 1000;  // the bus (and its .times sidecar) counts microseconds
  const std::int64_t now_bus =
      bus_ns_of_local(f.start_ns - st->meter->config().tx_latency_ns, st->info.drift_ppm);
  const meter::Uint128 true_fj =
      st->true_fj +
      static_cast<meter::Uint128>(st->true_uw) *
          static_cast<std::uint64_t>(std::max<std::int64_t>(0, now_bus - st->true_t_ns));
  constexpr meter::Uint128 kFjPerMwh = 3'600'000'000'000'000ULL;  // 3.6e15
  st->bus->add_frame(t, st->index, f.bytes, static_cast<std::uint64_t>(true_fj / kFjPerMwh),
                     static_cast<std::uint64_t>(st->meter->energy_fj() / kFjPerMwh));
  if (st->timeline) st->timeline->frame(f);
}

void Fleet::apply_input(State& m, std::int64_t t_ns) {
  // The true energy so far at the old power, then the new input.
  m.true_fj += static_cast<meter::Uint128>(m.true_uw) *
               static_cast<std::uint64_t>(std::max<std::int64_t>(0, t_ns - m.true_t_ns));
  m.true_t_ns = t_ns;
  meter::PhasorInput in;
  in.frequency_hz = m.sample.frequency_hz;
  double true_w = 0;
  if (m.supply) {
    const auto& model = m.spec->model_config;
    const double rated = static_cast<double>(model.ct_primary_a);
    for (int line = 0; line < model.elements; ++line) {
      const auto ul = static_cast<std::size_t>(line);
      in.voltage[ul].rms_v = m.sample.voltage_v[ul];
      in.voltage[ul].angle_deg = meter::service_voltage_angle_deg(model, line);
      const double pf = std::clamp(m.sample.pf[ul], 0.0, 1.0);
      const double angle = std::acos(pf) * 57.29577951308232;
      // The line's load splits evenly over its paralleled conductors, each through its CT.
      const int sets = m.meter->config().wiring[ul].ct_sets;
      for (int s = 0; s < sets; ++s) {
        auto& c = in.current[ul][static_cast<std::size_t>(s)];
        const double primary_a = m.sample.current_a[ul] / sets;
        c.rms_a = ct_output_a(primary_a, rated);
        c.lag_deg = m.sample.leading ? -angle : angle;
        if (m.ct_error_on) {
          // The real CT: its ratio error scales the output, its phase error advances it.
          const CtError err = m.ct_error[ul][static_cast<std::size_t>(s)].at(
              100.0 * primary_a / rated, m.sample.temperature_c, m.sample.frequency_hz);
          c.rms_a *= 1.0 + err.ratio;
          c.lag_deg -= err.phase_rad * 57.29577951308232;
        }
      }
      true_w += m.sample.voltage_v[ul] * m.sample.current_a[ul] * pf;
    }
  }
  m.true_uw = static_cast<std::uint64_t>(std::llround(std::max(0.0, true_w) * 1e6));
  m.meter->set_input(in);
  if (m.timeline) m.timeline->input_changed();
}

void Fleet::step_to(State& m, std::int64_t t_ns) {
  const std::int64_t target = local_ns(t_ns, m.info.drift_ppm);
  const std::int64_t dt = target - m.meter->now_ns();
  if (dt > 0) {
    if (m.timeline) {
      m.timeline->step(dt);
    } else {
      m.meter->step(dt);
    }
  }
  m.t_ns = t_ns;
}

void Fleet::advance_meter(State& m, std::int64_t t_end) {
  const std::int64_t res = cfg_.load_resolution_ns;
  while (true) {
    while (m.next_event < m.events.size() && m.events[m.next_event].t_ns <= m.t_ns) {
      switch (m.events[m.next_event].kind) {
        case EventKind::SupplyOn:
          // Power-up, or the end of an outage (unless another outage still covers now).
          if (m.t_ns >= m.info.power_up_ns) {
            bool in_outage = false;
            for (const Outage& o : m.spec->outages)
              in_outage |= o.from_ns <= m.t_ns && m.t_ns < o.to_ns;
            if (!in_outage && !m.supply) {
              m.supply = true;
              m.input_dirty = true;
            }
          }
          break;
        case EventKind::SupplyOff:
          if (m.supply) {
            m.supply = false;
            m.input_dirty = true;
          }
          break;
        case EventKind::KeyRight:
        case EventKind::KeyLocked: {
          const auto p = m.events[m.next_event].kind == EventKind::KeyRight
                             ? meter::KeyPosition::Right
                             : meter::KeyPosition::Locked;
          if (m.timeline) {
            m.timeline->key(p);
          } else {
            m.meter->set_key_switch(p);
          }
          break;
        }
      }
      ++m.next_event;
    }
    if (m.t_ns >= m.next_grid_ns) {
      m.sample = m.load->sample(m.next_grid_ns);
      if (!m.sampled_once || m.spec->load.kind != LoadKind::Constant) m.input_dirty = true;
      m.sampled_once = true;
      m.next_grid_ns += res;
    }
    if (m.input_dirty) {
      apply_input(m, m.t_ns);
      m.input_dirty = false;
    }
    if (m.t_ns >= t_end) break;
    std::int64_t next = std::min(t_end, m.next_grid_ns);
    if (m.next_event < m.events.size()) next = std::min(next, m.events[m.next_event].t_ns);
    step_to(m, next);
  }
}

void Fleet::advance(std::int64_t t_ns, std::vector<BusOutput>& out) {
  if (t_ns <= now_ns_) return;
  for (auto& m : meters_) advance_meter(*m, t_ns);
  now_ns_ = t_ns;
  // A transmission produced later starts no earlier than (now - latency - rounding).
  const std::int64_t horizon = t_ns - max_latency_ns_ - 1'000'000;
  for (std::size_t b = 0; b < buses_.size(); ++b) buses_[b]->flush(horizon, out[b]);
}

void Fleet::finish(std::vector<BusOutput>& out) {
  for (std::size_t b = 0; b < buses_.size(); ++b) {
    buses_[b]->flush(now_ns_, out[b]);
    buses_[b]->finish(out[b]);
  }
}

}  // namespace imsm::sim
