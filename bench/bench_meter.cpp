// Meter throughput in meter-seconds per wall second (items/s), each beside real time
// (baseline_realtime: 1 meter-second per second, by definition, via manual timing).
//   meter_sample/4khz_3el     sample mode, 4 kHz, 3 elements, 1 s blocks, the default front
//                             end: 24-bit ADC + DC-blocking filter (target >= 1e4)
//   meter_sample/4khz_3el_ideal      the same with ideal samples (no ADC, no filter)
//   meter_sample/4khz_3el_skew_comp  the default front end plus skew re-alignment
//   meter_phasor/1s_steps     phasor mode, 1-second steps, input prepared once per minute
//                             (the simulator's pattern; target >= 1e8)
//   meter_phasor/60s_steps    phasor mode, one step per 1-minute load change
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "meter/meter.h"
#include "meter/waveform_synth.h"

namespace {

using namespace imsm;

meter::MeterConfig config(int variant = 0) {
  meter::MeterOptions o;
  o.meter_id = MeterId{2578};
  if (variant == 1) {
    o.front_end.adc_bits = 0;
    o.front_end.hpf_hz = 0;
  } else if (variant == 2) {
    o.front_end.current_skew_s = 1.0 / 12000;
  }
  return *meter::MeterConfig::from_model_number("S2-480-N-01-01-041-01", o);
}

void realtime(benchmark::State& state) {
  for (auto _ : state) state.SetIterationTime(1.0);  // one meter-second takes one second
  state.SetItemsProcessed(state.iterations());
}

void sample_4khz_3el(benchmark::State& state, int variant) {
  const meter::MeterConfig c = config(variant);
  meter::PhasorInput in = meter::PhasorInput::balanced(c, 250.0, 25.0, 60.0);
  in.current[0][0].harmonics.count = 1;
  in.current[0][0].harmonics.h[0] = {3, 0.1, 0.0};
  std::vector<double> store(4000 * 12);
  meter::SampleBuffers buf;
  for (std::size_t l = 0; l < 3; ++l) {
    buf.voltage_v[l] = store.data() + l * 4000;
    buf.current_a[l][0] = store.data() + (3 + l) * 4000;
  }
  // One second of samples (60 whole cycles), reused block after block.
  const meter::SampleBlock block = meter::synthesize(in, 4000.0, 0.0, 4000, buf);
  meter::Meter m(c);
  m.set_input(in);
  for (auto _ : state) {
    m.step_samples(block);
    benchmark::DoNotOptimize(m.energy_fj());
  }
  state.SetItemsProcessed(state.iterations());  // 1 meter-second per iteration
  state.counters["kwh"] = static_cast<double>(m.total_kwh());
}

void phasor_1s(benchmark::State& state) {
  const meter::MeterConfig c = config();
  std::vector<meter::PhasorInput> loads;
  for (int i = 0; i < 64; ++i) {
    loads.push_back(meter::PhasorInput::balanced(c, 50.0 + 5.0 * i, 10.0 + (i % 5) * 5.0, 60.0));
  }
  meter::Meter m(c);
  std::size_t minute = 0;
  for (auto _ : state) {
    m.set_input(loads[minute++ & 63]);
    for (int s = 0; s < 60; ++s) m.step(1'000'000'000);
    benchmark::DoNotOptimize(m.energy_fj());
  }
  state.SetItemsProcessed(state.iterations() * 60);
  state.counters["frames"] = static_cast<double>(m.frames_sent());
}

void phasor_60s(benchmark::State& state) {
  const meter::MeterConfig c = config();
  std::vector<meter::PhasorInput> loads;
  for (int i = 0; i < 64; ++i) {
    loads.push_back(meter::PhasorInput::balanced(c, 50.0 + 5.0 * i, 10.0 + (i % 5) * 5.0, 60.0));
  }
  meter::Meter m(c);
  std::size_t minute = 0;
  for (auto _ : state) {
    m.set_input(loads[minute++ & 63]);
    m.step(60'000'000'000);
    benchmark::DoNotOptimize(m.energy_fj());
  }
  state.SetItemsProcessed(state.iterations() * 60);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("meter_sample/baseline_realtime", realtime)
      ->UseManualTime()
      ->Iterations(10);
  benchmark::RegisterBenchmark("meter_sample/4khz_3el", sample_4khz_3el, 0);
  benchmark::RegisterBenchmark("meter_sample/4khz_3el_ideal", sample_4khz_3el, 1);
  benchmark::RegisterBenchmark("meter_sample/4khz_3el_skew_comp", sample_4khz_3el, 2);
  benchmark::RegisterBenchmark("meter_phasor/baseline_realtime", realtime)
      ->UseManualTime()
      ->Iterations(10);
  benchmark::RegisterBenchmark("meter_phasor/1s_steps", phasor_1s);
  benchmark::RegisterBenchmark("meter_phasor/60s_steps", phasor_60s);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
