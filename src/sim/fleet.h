// Fleet: the meters of a configuration on their buses, stepped together through bus time.
//
// Each meter is the real firmware-grade meter (src/meter), driven through its phasor fast
// path: one step per load-resolution interval, split exactly at key presses, outages and
// power-up. Bus time is integer nanoseconds since the simulation start. A meter's own
// clock runs drift_ppm fast (or slow): meter-local time L(t) = t + round(t * ppm / 1e6),
// so its 5-minute subintervals (and so its transmissions) slide against other meters'
// as real crystals do. Transmissions go to the meter's bus model, rounded to the microsecond.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "meter/meter.h"
#include "sim/bus_model.h"
#include "sim/fleet_config.h"
#include "sim/load_profile.h"
#include "sim/meter_timeline.h"

namespace imsm::sim {

// What the fleet decided for one meter (the defaults drawn from the seed included).
struct MeterInfo {
  std::uint16_t id = 0;
  std::size_t bus_index = 0;
  std::string model;
  std::int64_t power_up_ns = 0;
  double drift_ppm = 0.0;
  LoadKind load = LoadKind::Constant;
};

class Fleet {
 public:
  // Throws ConfigError when a meter cannot be built from its configuration.
  Fleet(const FleetConfig& cfg, std::uint64_t seed);
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  [[nodiscard]] const FleetConfig& config() const { return cfg_; }
  [[nodiscard]] std::uint64_t seed() const { return seed_; }
  [[nodiscard]] std::size_t meter_count() const { return meters_.size(); }
  [[nodiscard]] const MeterInfo& info(std::size_t i) const;
  [[nodiscard]] const meter::Meter& meter(std::size_t i) const;
  // The error model of meter i's CT set `set` on element `element` (0-based); nullptr for
  // exact meters (error_model = "exact", the default).
  [[nodiscard]] const CtErrorModel* ct_error(std::size_t i, int element, int set) const;
  [[nodiscard]] std::size_t bus_count() const { return buses_.size(); }
  [[nodiscard]] const BusModel& bus(std::size_t b) const { return *buses_[b]; }
  [[nodiscard]] std::int64_t now_ns() const { return now_ns_; }

  // Follows one meter's faces (pulse edges, LEDs, LCD, key, power, frames) from now on;
  // each event reaches `sink` with t_ns in bus time. False when no meter has this ID.
  bool trace(std::uint16_t meter_id, MeterTimeline::Sink sink);

  // Advances every meter to bus time `t_ns` (> now) and puts on each bus's output what can
  // no longer change. `out` has one entry per bus; it is appended to, not cleared.
  void advance(std::int64_t t_ns, std::vector<BusOutput>& out);
  // End of the run: everything still pending on the buses goes out.
  void finish(std::vector<BusOutput>& out);

  // Meter-local time of bus time t for a meter with this drift.
  [[nodiscard]] static std::int64_t local_ns(std::int64_t bus_ns, double drift_ppm);
  [[nodiscard]] static std::int64_t bus_ns_of_local(std::int64_t local_ns, double drift_ppm);

 private:
  struct State;
  static void set_ct_errors(State& st, const MeterSpec& spec, std::uint64_t seed, std::size_t i);
  void advance_meter(State& m, std::int64_t t_end);
  void step_to(State& m, std::int64_t t_ns);
  void apply_input(State& m, std::int64_t t_ns);
  static void on_transmit(void* ctx, const meter::TxFrame& f);

  FleetConfig cfg_;
  std::uint64_t seed_;
  std::vector<std::unique_ptr<State>> meters_;
  std::vector<std::unique_ptr<BusModel>> buses_;
  std::int64_t now_ns_ = 0;
  std::int64_t max_latency_ns_ = 0;
};

}  // namespace imsm::sim
