// Firmware discipline (SPEC "What we build", 2): no heap allocation in the meter's step path.
// This program replaces the global allocation functions with counting ones; a simulated
// week (phasor steps, sample blocks, key switch, outages, frames, pulse edges) must count
// zero allocations.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "meter_test_util.h"
#include "support/vectors.h"

// The replacements below pair malloc with free on purpose; once gtest's `new TestClass` is
// inlined, g++ 12 at -O2 cannot see that and warns (-Wmismatched-new-delete).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  return operator new(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace imsm::meter::test {
namespace {

struct Counters {
  std::uint64_t frames = 0;
  std::uint64_t edges = 0;
  std::uint64_t bytes_sum = 0;
};

TEST(Firmware, NoHeapAllocationOverASimulatedWeek) {
  const auto& fv = imsm::test::frame_vectors().at(0);
  MeterOptions opt = with_id(fv.meter_id);
  opt.front_end.current_skew_s = 1.0 / 12000;  // sample path: ADC, filter and skew re-alignment
  MeterConfig c = make_config("S2-480-N-01-01-041-01", opt);
  Meter m(c);
  Meter q(c);  // second meter drains its frames from the fixed queue
  Counters cnt;
  m.set_transmit_sink(&cnt, [](void* p, const TxFrame& f) {
    auto* k = static_cast<Counters*>(p);
    ++k->frames;
    k->bytes_sum += f.bytes[2];
  });
  m.set_pulse_sink(&cnt, [](void* p, const PulseEdge&) { ++static_cast<Counters*>(p)->edges; });
  std::array<PhasorInput, 4> loads{PhasorInput::balanced(c, 100.0, 10.0),
                                   PhasorInput::balanced(c, 300.0, -20.0, 50.0),
                                   PhasorInput::balanced(c, 5.0, 0.0), PhasorInput{}};
  loads[1].current[0][0].harmonics.count = 1;
  loads[1].current[0][0].harmonics.h[0] = {5, 0.1, 0.0};
  SampleStore store(4000);  // allocated before counting
  SampleBlock block = synthesize(loads[0], 4000.0, 0.0, 4000, store.buffers);
  std::uint64_t drained = 0;

  g_allocations = 0;
  g_counting = true;
  for (std::int64_t minute = 0; minute < 7 * 24 * 60; ++minute) {
    const PhasorInput& in = loads[static_cast<std::size_t>(minute % 97 == 0 ? 3 : minute % 3)];
    m.set_input(in);
    q.set_input(in);
    for (int s = 0; s < 60; ++s) m.step(kSec);
    q.step(60 * kSec);
    if (minute % 60 == 5) {
      m.set_key_switch(KeyPosition::Right);
      m.step(kSec / 4);
      m.set_key_switch(KeyPosition::Locked);
    }
    if (minute % 720 == 0) {
      for (int s = 0; s < 30; ++s) (void)m.step_samples(block);  // 30 s of samples
    }
    drained += q.pending_frames().size();
    q.clear_frames();
  }
  (void)m.display();
  (void)m.pulses();
  (void)Meter::serialize(m.snapshot());
  g_counting = false;

  EXPECT_EQ(g_allocations.load(), 0);
  EXPECT_GT(cnt.frames, 1900u);  // ~2016 subintervals a week, fewer after outages
  EXPECT_GT(cnt.edges, 1000u);
  EXPECT_GT(drained, 1900u);
  EXPECT_EQ(q.frames_dropped(), 0u);
  // The counter itself works: an allocation while counting is seen.
  g_counting = true;
  int* volatile probe = new int(3);
  g_counting = false;
  delete probe;
  EXPECT_EQ(g_allocations.load(), 1);
}

}  // namespace
}  // namespace imsm::meter::test
