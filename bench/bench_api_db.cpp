// Builds the database of the API benchmark (bench/bench_api.py, docs/performance.md "API")
// through the Store interface, as `imsmeter collect` would write it (journal, validator,
// readings, rollups, outbox):
//
//   bench_api_db DB [METERS=10000] [DAYS=1] [MONTH_METER=1]
//
// METERS registered meters (model S2-480-N-01-01-041-01), each reading every 5 minutes over
// the last DAYS days of a 30-day month from 2026-11-01, and meter MONTH_METER over the whole
// month (8,640 readings): the "one meter's month of readings" of the issue. The meters'
// transmissions spread evenly over each 5-minute cycle. Prints what it wrote.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "collector/collector.h"
#include "collector/store/sqlite/sqlite_store.h"
#include "collector/validate/validator.h"

namespace {

using namespace imsm::collector;

constexpr UtcMicros kT0 = 1'793'491'200'000'000;  // 2026-11-01T00:00:00Z
constexpr std::int64_t kCadenceUs = 300'000'000;
constexpr std::uint64_t kCyclesPerDay = 288;
constexpr std::uint64_t kMonthCycles = 30 * kCyclesPerDay;

Observation observation(std::uint16_t meter, std::uint32_t meters, std::uint64_t cycle,
                        std::uint64_t offset, std::uint32_t source) {
  imsm::protocol::Frame f;
  f.meter_id.value = meter;
  f.total_kwh.value = static_cast<std::uint32_t>((1000 + cycle) & 0xFFFFFF);
  f.peak_demand.value = 300;
  Observation o;
  o.source_id = source;
  o.received_at = kT0 + static_cast<std::int64_t>(cycle) * kCadenceUs +
                  static_cast<std::int64_t>(meter - 1) * (kCadenceUs / meters);
  o.stream_offset = offset * 12;
  o.burst = imsm::protocol::Burst::Alone;
  o.raw = imsm::protocol::encode(f);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_api_db DB [METERS=10000] [DAYS=1] [MONTH_METER=1]\n");
    return 2;
  }
  const std::string db = argv[1];
  const auto meters = static_cast<std::uint32_t>(argc > 2 ? std::atoi(argv[2]) : 10'000);
  const auto days = static_cast<std::uint64_t>(argc > 3 ? std::atoi(argv[3]) : 1);
  const auto month_meter = static_cast<std::uint16_t>(argc > 4 ? std::atoi(argv[4]) : 1);
  if (meters < 1 || meters > 65535 || days < 1 || days > 30) {
    std::fprintf(stderr, "bench_api_db: METERS 1..65535, DAYS 1..30\n");
    return 2;
  }
  std::filesystem::remove(db);
  SqliteStore store(db, StoreOptions{false, false, 65536});
  CollectorConfig cfg;
  for (std::uint32_t m = 1; m <= meters; ++m) {
    MeterEntry e;
    e.id = static_cast<std::uint16_t>(m);
    e.model = "S2-480-N-01-01-041-01";
    e.model_config = *imsm::protocol::parse_model_number(e.model);
    e.label = fmt::format("Suite {}", m);
    cfg.meters.push_back(e);
  }
  store.begin();
  store.save_registry(cfg);
  const auto src = store.source_id("file:bench");
  store.commit();
  Validator v(cfg.validation);
  register_meters(cfg, v);
  Decisions d;
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t n = 0;
  const std::uint64_t all_from = kMonthCycles - days * kCyclesPerDay;
  store.begin();
  for (std::uint64_t cycle = 0; cycle < kMonthCycles; ++cycle) {
    for (std::uint32_t m = 1; m <= meters; ++m) {
      if (cycle < all_from && m != month_meter) continue;
      Observation o = observation(static_cast<std::uint16_t>(m), meters, cycle, n++, src);
      store.journal(o);
      v.process(o, d);
      store.apply(d, v);
      d.clear();
    }
    if (cycle % 16 == 15) {
      store.commit();
      store.begin();
    }
  }
  store.commit();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "bench_api_db: %s: %u meters, %llu readings (%llu days each, meter %u 30 days) in "
      "%.1f s\n",
      db.c_str(), meters, static_cast<unsigned long long>(store.count("readings")),
      static_cast<unsigned long long>(days), month_meter, s);
  return 0;
}
