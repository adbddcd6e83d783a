// Validator ingest cost per frame (docs/performance.md "Validator"): a fleet's frames in
// arrival order through Validator::process, with a sweep every 10 s of stream time as the
// collector does. "validator_ingest/heap_sweep" sweeps with the deadline heaps; the same-run
// baseline "validator_ingest/baseline_full_scan" scans every meter on each sweep (the previous
// implementation, kept as Validator::sweep_all). Arguments: meters, hours of stream.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "collector/config.h"
#include "collector/observation.h"
#include "collector/validate/validator.h"
#include "protocol/frame.h"

namespace {

using imsm::collector::Decisions;
using imsm::collector::Observation;
using imsm::collector::UtcMicros;
using imsm::collector::ValidationSettings;
using imsm::collector::Validator;

constexpr UtcMicros kT0 = 1'793'491'200'000'000;
constexpr std::int64_t kCadenceUs = 300'000'000;
constexpr std::int64_t kSweepEveryUs = 10'000'000;

// Every meter once per cadence at its own phase, kWh +1 per frame, all alone in their bursts.
std::vector<Observation> fleet(int meters, int hours) {
  std::vector<Observation> out;
  const int cycles = hours * 12;
  out.reserve(static_cast<std::size_t>(meters) * static_cast<std::size_t>(cycles));
  for (int c = 0; c < cycles; ++c)
    for (int i = 0; i < meters; ++i) {
      imsm::protocol::Frame f;
      f.meter_id = imsm::MeterId{static_cast<std::uint16_t>(1 + i)};
      f.total_kwh = imsm::Kwh24{static_cast<std::uint32_t>(1000 + c)};
      Observation o;
      o.frame_id = static_cast<std::int64_t>(out.size()) + 1;
      o.received_at = kT0 + c * kCadenceUs + static_cast<std::int64_t>(i) * kCadenceUs / meters;
      o.burst = imsm::protocol::Burst::Alone;
      o.raw = imsm::protocol::encode(f);
      out.push_back(o);
    }
  return out;
}

void ingest(benchmark::State& state, bool heap) {
  const int meters = static_cast<int>(state.range(0));
  const auto frames = fleet(meters, static_cast<int>(state.range(1)));
  for (auto _ : state) {
    Validator v(ValidationSettings{});
    for (int i = 0; i < meters; ++i) v.register_meter(static_cast<std::uint16_t>(1 + i), 13'200);
    Decisions d;
    UtcMicros last_sweep = frames.front().received_at;
    for (const auto& o : frames) {
      if (o.received_at - last_sweep >= kSweepEveryUs) {
        if (heap)
          v.sweep(o.received_at, d);
        else
          v.sweep_all(o.received_at, d);
        last_sweep = o.received_at;
      }
      v.process(o, d);
      d.clear();
    }
    benchmark::DoNotOptimize(d);
  }
  state.counters["ns_per_frame"] = benchmark::Counter(
      static_cast<double>(frames.size()) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetItemsProcessed(static_cast<std::int64_t>(frames.size()) * state.iterations());
}

void heap_sweep(benchmark::State& s) {
  ingest(s, true);
}
void baseline_full_scan(benchmark::State& s) {
  ingest(s, false);
}

}  // namespace

BENCHMARK(heap_sweep)
    ->Name("validator_ingest/heap_sweep")
    ->Args({1000, 24})
    ->Args({10000, 2})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(baseline_full_scan)
    ->Name("validator_ingest/baseline_full_scan")
    ->Args({1000, 24})
    ->Args({10000, 2})
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
