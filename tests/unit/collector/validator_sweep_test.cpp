// Validator::sweep keeps deadlines in heaps (proportional to what is due); sweep_all scans
// every meter and candidate. Both must make the same decisions: the silent events (meter,
// time) and the expired provisional frames, on a fleet with outages, new IDs and stale ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <tuple>
#include <vector>

#include "collector/config.h"
#include "collector/validate/validator.h"
#include "helpers.h"

namespace imsm::collector {
namespace {

using test::kMinute;
using test::kT0;
using test::obs;

using Outcome = std::vector<std::tuple<int, std::int64_t, int, std::int64_t>>;

// Decisions that sweeps make, in a canonical order: (kind, time, meter, frame) for events and
// rejections.
void collect(const Decisions& d, Outcome& out) {
  for (const auto& e : d.events)
    out.emplace_back(static_cast<int>(e.kind), e.at, e.meter_id.value_or(0), 0);
  for (const auto& r : d.rejections)
    out.emplace_back(100 + static_cast<int>(r.reason), 0, r.meter_id, r.frame_id);
}

Outcome run(bool heap, std::uint32_t seed) {
  Validator v(ValidationSettings{});
  std::mt19937 rng(seed);
  Outcome out;
  Decisions d;
  std::int64_t fid = 0;
  std::vector<std::uint32_t> kwh(40, 100);
  // 40 meters for 2 days; each cycle a meter is heard with probability 0.9 except in its
  // outage (meters 0..9: cycles 100..130); now and then an unknown ID heard once (it expires).
  for (int cycle = 0; cycle < 576; ++cycle) {
    for (std::uint16_t id = 0; id < 40; ++id) {
      const bool out_now = id < 10 && cycle >= 100 && cycle < 130;
      if (out_now || rng() % 10 == 0) continue;
      kwh[id] += 1;
      v.process(obs(++fid, static_cast<std::uint16_t>(1000 + id), kwh[id], 0, 0,
                    kT0 + cycle * 5 * kMinute + id * 1'000'000),
                d);
    }
    if (rng() % 7 == 0)
      v.process(obs(++fid, static_cast<std::uint16_t>(20000 + rng() % 50), 5, 0, 0,
                    kT0 + cycle * 5 * kMinute + 50'000'000),
                d);
    d.clear();  // process decisions are the same in both runs; compare what sweeps add
    const UtcMicros now = kT0 + cycle * 5 * kMinute + 60'000'000;
    if (heap)
      v.sweep(now, d);
    else
      v.sweep_all(now, d);
    collect(d, out);
    d.clear();
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ValidatorSweep, DeadlineHeapsDecideAsTheFullScanDoes) {
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    const Outcome heap = run(true, seed);
    const Outcome scan = run(false, seed);
    // Derivation of "something happened": meters 0..9 miss 30 cycles (> 3), so each raises at
    // least one silent event; some unknown IDs heard once expire as unconfirmed.
    const auto silent = std::count_if(heap.begin(), heap.end(), [](const auto& t) {
      return std::get<0>(t) == static_cast<int>(EventKind::Silent);
    });
    EXPECT_GE(silent, 10);
    const auto expired = std::count_if(heap.begin(), heap.end(), [](const auto& t) {
      return std::get<0>(t) == 100 + static_cast<int>(RejectReason::Unconfirmed);
    });
    EXPECT_GT(expired, 0);
    EXPECT_EQ(heap, scan) << "seed " << seed;
  }
}

}  // namespace
}  // namespace imsm::collector
