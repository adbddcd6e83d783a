// Helpers shared by the meter tests: building meters from the model vectors, driving loads,
// capturing frames and pulse edges without touching the meter's internals.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "meter/meter.h"
#include "meter/waveform_synth.h"

namespace imsm::meter::test {

inline constexpr std::int64_t kSec = 1'000'000'000LL;

inline MeterOptions with_id(int id, std::int64_t tx_latency_ns = 0) {
  MeterOptions o;
  o.meter_id = MeterId{static_cast<std::uint16_t>(id)};
  o.tx_latency_ns = tx_latency_ns;
  return o;
}
inline MeterOptions with_demand(bool d) {
  MeterOptions o;
  o.demand = d;
  return o;
}

inline MeterConfig make_config(const std::string& model, MeterOptions o = {}) {
  auto c = MeterConfig::from_model_number(model, o);
  EXPECT_TRUE(c.has_value()) << model;
  return *c;
}

// A balanced load of total `kw` at PF 1 spread over the elements at nominal voltage.
inline PhasorInput load_kw(const MeterConfig& c, double kw, double lag_deg = 0.0) {
  double vsum = 0;
  for (int k = 0; k < c.elements; ++k) vsum += c.nominal_v[static_cast<std::size_t>(k)];
  const double amps = kw * 1000.0 / vsum;
  PhasorInput in = PhasorInput::balanced(c, amps, 0.0);
  for (int k = 0; k < c.elements; ++k) in.current[static_cast<std::size_t>(k)][0].lag_deg = lag_deg;
  if (lag_deg != 0.0) {
    for (int k = 0; k < c.elements; ++k) {
      in.current[static_cast<std::size_t>(k)][0].rms_a =
          amps / std::cos(lag_deg * 3.14159265358979323846 / 180.0);
    }
  }
  return in;
}

struct FrameLog {
  std::vector<TxFrame> frames;
  static void sink(void* ctx, const TxFrame& f) {
    static_cast<FrameLog*>(ctx)->frames.push_back(f);
  }
  void attach(Meter& m) { m.set_transmit_sink(this, &FrameLog::sink); }
};

struct EdgeLog {
  std::vector<PulseEdge> edges;
  static void sink(void* ctx, const PulseEdge& e) {
    static_cast<EdgeLog*>(ctx)->edges.push_back(e);
  }
  void attach(Meter& m) { m.set_pulse_sink(this, &EdgeLog::sink); }
};

// Owns sample buffers for one block of `count` samples on 3 lines x 3 sets.
struct SampleStore {
  std::vector<double> storage;
  SampleBuffers buffers;
  explicit SampleStore(std::size_t count) : storage(count * 12) {
    for (std::size_t l = 0; l < kMaxLines; ++l) {
      buffers.voltage_v[l] = storage.data() + l * count;
      for (std::size_t s = 0; s < kMaxCtSets; ++s) {
        buffers.current_a[l][s] = storage.data() + (3 + l * 3 + s) * count;
      }
    }
  }
};

inline double wh_of(Uint128 fj) {
  return static_cast<double>(fj) / 3.6e18;
}

}  // namespace imsm::meter::test
