// Framer throughput on noise and on dense back-to-back frames, each beside a memchr scan
// of the same buffer in the same run (the figure to beat: the framer is memchr-bound).
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "protocol/stream_framer.h"

namespace {

using imsm::protocol::LocatedFrame;
using imsm::protocol::StreamFramer;

constexpr std::size_t kBufferBytes = 16 << 20;

const std::vector<std::uint8_t>& noise_buffer() {
  static const std::vector<std::uint8_t> b = [] {
    std::vector<std::uint8_t> v(kBufferBytes);
    std::mt19937_64 rng(42);
    for (auto& x : v) x = static_cast<std::uint8_t>(rng());
    return v;
  }();
  return b;
}

const std::vector<std::uint8_t>& dense_buffer() {
  static const std::vector<std::uint8_t> b = [] {
    std::vector<std::uint8_t> v;
    v.reserve(kBufferBytes);
    imsm::protocol::Frame f;
    for (std::uint32_t i = 0; v.size() + 12 <= kBufferBytes; ++i) {
      f.meter_id.value = static_cast<std::uint16_t>(i);
      f.total_kwh.value = i & 0xFFFFFF;
      f.peak_demand.value = static_cast<std::uint16_t>(i * 7);
      const auto raw = imsm::protocol::encode(f);
      v.insert(v.end(), raw.begin(), raw.end());
    }
    return v;
  }();
  return b;
}

void run_framer(benchmark::State& state, const std::vector<std::uint8_t>& buf) {
  std::vector<LocatedFrame> out;
  out.reserve(buf.size() / 12 + 1);
  std::size_t frames = 0;
  for (auto _ : state) {
    out.clear();
    StreamFramer framer;
    framer.push(buf, out);
    framer.finish(out);
    frames += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buf.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * buf.size()));
  state.counters["frames_per_s"] =
      benchmark::Counter(static_cast<double>(frames), benchmark::Counter::kIsRate);
}

void run_memchr(benchmark::State& state, const std::vector<std::uint8_t>& buf) {
  std::size_t hits = 0;
  for (auto _ : state) {
    const std::uint8_t* p = buf.data();
    const std::uint8_t* end = p + buf.size();
    while (p < end) {
      const void* q = std::memchr(p, 0x0D, static_cast<std::size_t>(end - p));
      if (!q) break;
      ++hits;
      p = static_cast<const std::uint8_t*>(q) + 1;
    }
    benchmark::DoNotOptimize(hits);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buf.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * buf.size()));
}

void BM_framer_noise(benchmark::State& s) {
  run_framer(s, noise_buffer());
}
void BM_memchr_noise(benchmark::State& s) {
  run_memchr(s, noise_buffer());
}
void BM_framer_dense(benchmark::State& s) {
  run_framer(s, dense_buffer());
}
void BM_memchr_dense(benchmark::State& s) {
  run_memchr(s, dense_buffer());
}

}  // namespace

BENCHMARK(BM_memchr_noise)->Name("framer_noise/baseline_memchr")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_framer_noise)->Name("framer_noise/framer")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_memchr_dense)->Name("framer_dense/baseline_memchr")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_framer_dense)->Name("framer_dense/framer")->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
