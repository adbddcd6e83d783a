// Collector ingest and billing (docs/performance.md "Collector").
//
// Google Benchmark part (quick, run by scripts/bench): the ingest path of `imsmeter collect`
// (journal + validator + readings, batched, WAL, synchronous=FULL) beside the naive
// one-transaction-per-row insert of the same rows, same run.
//
// `bench_collector --figures [N]` (run by bench/collector.py): the figures, printed
// as "BENCH <group> <variant> <value> <unit>" lines:
//   ingest of N (default 10,000,000) readings from 1,000 meters, durable (WAL, FULL);
//   the naive one-transaction-per-row insert (on 5,000 rows: at ~ms per fsync it would take
//   hours for N); `sqlite3 .import` of the same N rows as CSV into the same schema;
//   the billing report over a database the same ingest path wrote: 1,000 meters x 30 days of
//   5-minute readings by default (`--bill 10000x30` for the 86.4 M readings, which take
//   minutes to write; `--no-bill` to skip), billed from the hourly rollups and, as the same-run
//   baseline, from every reading (BillRequest::from_rollups = false), the two bills compared.
//
// `bench_collector --bill-db PATH [--days 30] [--runs 3]`: the same two bills (energy only)
// of a database `imsmeter collect` wrote, opened read-only, alternating, medians of R runs.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "collector/collector.h"
#include "collector/report/bill_format.h"
#include "collector/report/report.h"
#include "collector/store/sqlite/sqlite_store.h"
#include "collector/validate/validator.h"

namespace {

using namespace imsm::collector;
using Clock = std::chrono::steady_clock;

constexpr UtcMicros kT0 = 1'793'491'200'000'000;  // 2026-11-01T00:00:00Z
constexpr std::int64_t kCadenceUs = 300'000'000;

std::string temp_dir(const char* what) {
  auto d =
      std::filesystem::temp_directory_path() / fmt::format("imsm_bench_{}_{}", what, ::getpid());
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d.string();
}

// Reading k of the stream: 1,000 meters in turn, one frame each per 5 minutes.
Observation observation(std::uint64_t k, std::uint32_t meters, std::uint32_t source) {
  const auto m = static_cast<std::uint16_t>(k % meters + 1);
  const std::uint64_t cycle = k / meters;
  imsm::protocol::Frame f;
  f.meter_id.value = m;
  f.total_kwh.value = static_cast<std::uint32_t>((1000 + cycle) & 0xFFFFFF);
  f.peak_demand.value = 300;
  Observation o;
  o.source_id = source;
  // The meters' transmissions spread evenly over the cadence, in turn.
  o.received_at = kT0 + static_cast<std::int64_t>(cycle) * kCadenceUs +
                  static_cast<std::int64_t>(k % meters) * (kCadenceUs / meters);
  o.stream_offset = k * 12;
  o.burst = imsm::protocol::Burst::Alone;
  o.raw = imsm::protocol::encode(f);
  return o;
}

CollectorConfig registry(std::uint32_t meters) {
  CollectorConfig c;
  for (std::uint32_t m = 1; m <= meters; ++m) {
    MeterEntry e;
    e.id = static_cast<std::uint16_t>(m);
    e.model = "S2-480-N-01-01-041-01";
    e.model_config = *imsm::protocol::parse_model_number(e.model);
    c.meters.push_back(e);
  }
  return c;
}

// The ingest loop of Collector::run, without the sources: commit at least once a second,
// or (`naive`) once per reading, one transaction and one fsync each, as a naive logger would.
double ingest(const std::string& db, std::uint64_t n, std::uint32_t meters, bool naive = false) {
  // As `collect` with file sources: durable (WAL, FULL), 64 MiB page cache.
  SqliteStore store(db, StoreOptions{false, true, 65536});
  const auto cfg = registry(meters);
  store.begin();
  store.save_registry(cfg);
  store.commit();
  Validator v(cfg.validation);
  register_meters(cfg, v);
  store.begin();
  const auto src = store.source_id("file:bench");
  store.commit();
  Decisions d;
  const auto start = Clock::now();
  auto last_commit = start;
  for (std::uint64_t k = 0; k < n; ++k) {
    Observation o = observation(k, meters, src);
    store.begin();
    store.journal(o);
    v.process(o, d);
    store.apply(d, v);
    d.clear();
    if (naive) {
      store.commit();
    } else if ((k & 1023) == 0) {
      const auto now = Clock::now();
      if (now - last_commit >= std::chrono::seconds(1)) {
        store.commit();
        last_commit = now;
      }
    }
  }
  store.commit();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The same N readings as CSV, imported by the sqlite3 shell into the same table shape as the
// store's `readings` (schema 10: WITHOUT ROWID, keyed by meter, time and frame, the same
// columns and CHECKs, the foreign keys aside) with the store's settings (16 KiB pages, WAL,
// synchronous=FULL, 64 MiB cache, temp_store=MEMORY). Returns seconds of the import alone (the CSV
// is written beforehand), or -1 when sqlite3 is missing. (The store writes more per reading: the
// journal row with the raw bytes, the outbox entry and the rollups.)
double sqlite3_import(const std::string& dir, std::uint64_t n, std::uint32_t meters) {
  if (std::system("command -v sqlite3 >/dev/null 2>&1") != 0) return -1;
  const std::string csv = dir + "/rows.csv";
  {
    std::FILE* f = std::fopen(csv.c_str(), "w");
    std::string line;
    for (std::uint64_t k = 0; k < n; ++k) {
      const Observation o = observation(k, meters, 1);
      const auto fr = o.frame();
      line.clear();
      fmt::format_to(std::back_inserter(line), "{},{},{},0,{},{},{},0,{},0\n", fr.meter_id.value,
                     o.received_at, k + 1, fr.total_kwh.value, fr.total_kwh.value,
                     fr.peak_demand.value, o.source_id);
      std::fwrite(line.data(), 1, line.size(), f);
    }
    std::fclose(f);
  }
  const std::string db = dir + "/import.db";
  const std::string sql = dir + "/import.sql";
  {
    std::FILE* f = std::fopen(sql.c_str(), "w");
    std::fprintf(f,
                 // The store's settings for a new database and a replay (sqlite_store.cpp).
                 "PRAGMA page_size=16384;\nPRAGMA journal_mode=WAL;\nPRAGMA synchronous=FULL;\n"
                 "PRAGMA cache_size=-65536;\nPRAGMA temp_store=MEMORY;\n"
                 "CREATE TABLE readings(meter_id INTEGER NOT NULL, received_at_us INTEGER NOT "
                 "NULL, frame_id INTEGER NOT NULL, epoch INTEGER NOT NULL CHECK (epoch >= 0), "
                 "total_kwh INTEGER NOT NULL CHECK (total_kwh >= 0), kwh24 INTEGER NOT NULL "
                 "CHECK (kwh24 BETWEEN 0 AND 16777215), peak_demand_counts INTEGER NOT NULL "
                 "CHECK (peak_demand_counts BETWEEN 0 AND 65535), demand_resets INTEGER NOT NULL "
                 "CHECK (demand_resets BETWEEN 0 AND 255), source_id INTEGER NOT NULL, lead_byte "
                 "INTEGER NOT NULL CHECK (lead_byte BETWEEN 0 AND 255), "
                 "PRIMARY KEY(meter_id, received_at_us, frame_id)) WITHOUT ROWID;\n"
                 ".import --csv %s readings\n",
                 csv.c_str());
    std::fclose(f);
  }
  const auto start = Clock::now();
  const int rc = std::system(fmt::format("sqlite3 {} < {} > /dev/null", db, sql).c_str());
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  return rc == 0 ? s : -1;
}

// Billing over `meters` x `days` of 5-minute readings written by the ingest path above
// (validator, store, rollups, outbox: what `collect` writes), then make_bill for the month:
// from the hourly rollups (the default) and, same run, from every reading (the baseline).
struct BillTimes {
  double rollups_s = 0, readings_s = 0;
  std::int64_t lines_from_rollups = 0;
  bool identical = false;  // the two bills' JSON, byte for byte
};
BillTimes billing(const std::string& db, std::uint32_t meters, int days, std::uint64_t& rows) {
  rows = static_cast<std::uint64_t>(days) * 288 * meters;
  if (!std::filesystem::exists(db)) ingest(db, rows, meters);
  SqliteStore store(db, StoreOptions{true, false});
  CollectorConfig cfg;
  cfg.tariffs.push_back(Tariff{"default", "USD", 143'200, 12'500'000, 4'000'000});
  BillRequest r;
  r.from = kT0;
  r.to = kT0 + days * 86'400'000'000LL;
  BillTimes t;
  auto timed = [&](bool from_rollups, double& s) {
    r.from_rollups = from_rollups;
    const auto start = Clock::now();
    auto bill = make_bill(store, cfg, r);
    s = std::chrono::duration<double>(Clock::now() - start).count();
    if (bill.lines.size() != meters)
      std::fprintf(stderr, "billing: %zu lines?\n", bill.lines.size());
    return bill;
  };
  const auto fast = timed(true, t.rollups_s);
  const auto slow = timed(false, t.readings_s);
  t.lines_from_rollups = fast.lines_from_rollups;
  std::string a, b;
  const TimeZone utc;
  write_bill(fast, utc, "json", a);
  write_bill(slow, utc, "json", b);
  t.identical = a == b;
  return t;
}

// --- Google Benchmark (quick) ----------------------------------------------------------

void BM_Ingest(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    const auto dir = temp_dir("ingest");
    state.ResumeTiming();
    const double s = ingest(dir + "/b.db", n, 1000);
    state.SetIterationTime(s);
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n * state.iterations()));
}

void BM_NaivePerRow(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    const auto dir = temp_dir("naive");
    state.ResumeTiming();
    state.SetIterationTime(ingest(dir + "/b.db", n, 1000, true));
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n * state.iterations()));
}

BENCHMARK(BM_Ingest)
    ->Name("collector_ingest/batched_wal")
    ->Arg(200'000)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NaivePerRow)
    ->Name("collector_ingest/baseline_naive_per_row")
    ->Arg(500)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

struct FigureOptions {
  std::uint64_t readings = 10'000'000;
  bool ingest_only = false;
  std::uint32_t bill_meters = 1'000;  // the bill's database: meters x days of 5-minute readings
  int bill_days = 30;
};

int figures(const FigureOptions& o) {
  const std::uint64_t n = o.readings;
  const auto dir = temp_dir("figures");
  const double t_ingest = ingest(dir + "/ingest.db", n, 1000);
  std::printf("BENCH collector_ingest batched_wal_%llu %.0f readings/s\n",
              static_cast<unsigned long long>(n), static_cast<double>(n) / t_ingest);
  std::fflush(stdout);
  if (o.ingest_only) {
    std::filesystem::remove_all(dir);
    return 0;
  }
  const std::uint64_t naive_n = 5'000;
  const double t_naive = ingest(dir + "/naive.db", naive_n, 1000, true);
  std::printf("BENCH collector_ingest baseline_naive_per_row %.0f readings/s\n",
              static_cast<double>(naive_n) / t_naive);
  std::fflush(stdout);
  const double t_import = sqlite3_import(dir, n, 1000);
  if (t_import > 0)
    std::printf("BENCH collector_ingest baseline_sqlite3_import %.0f readings/s\n",
                static_cast<double>(n) / t_import);
  std::fflush(stdout);
  std::filesystem::remove_all(dir);
  if (o.bill_meters == 0) return 0;
  // IMSM_BENCH_BILL_DB=PATH keeps the bill's database there and reuses it when it exists (the
  // 10,000 x 30 database takes many minutes to write); the bill times are unchanged by it.
  const char* keep = std::getenv("IMSM_BENCH_BILL_DB");
  const auto dir2 = temp_dir("billing");
  std::uint64_t rows = 0;
  const auto t_bill =
      billing(keep ? std::string(keep) : dir2 + "/bill.db", o.bill_meters, o.bill_days, rows);
  std::printf("BENCH collector_report bill_%u_meters_%d_days %.3f s\n", o.bill_meters, o.bill_days,
              t_bill.rollups_s);
  std::printf("BENCH collector_report baseline_readings_bill_%u_meters_%d_days %.3f s\n",
              o.bill_meters, o.bill_days, t_bill.readings_s);
  std::printf("BENCH collector_report bill_speedup_%u_meters_%d_days %.1f x\n", o.bill_meters,
              o.bill_days, t_bill.readings_s / t_bill.rollups_s);
  std::fprintf(stderr, "billing: %lld of %u lines from rollups; bills %s\n",
               static_cast<long long>(t_bill.lines_from_rollups), o.bill_meters,
               t_bill.identical ? "byte-identical" : "DIFFER");
  std::fprintf(stderr, "billing: %llu readings in the store\n",
               static_cast<unsigned long long>(rows));
  std::filesystem::remove_all(dir2);
  return 0;
}

// --bill-db PATH [--days D] [--runs R]: the bill of an existing database (one `imsmeter
// collect` wrote; read-only) for the D days from 2026-11-01, from the rollups and, same run,
// from every reading, alternating, R times each; prints the medians and whether every pair of
// bills was byte-identical.
int bill_db_main(int argc, char** argv) {
  std::string db;
  int days = 30, runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--bill-db")
      db = argv[i + 1];
    else if (a == "--days")
      days = std::atoi(argv[i + 1]);
    else if (a == "--runs")
      runs = std::atoi(argv[i + 1]);
  }
  if (db.empty() || !std::filesystem::exists(db) || days <= 0 || runs <= 0) {
    std::fprintf(stderr,
                 "bench_collector: --bill-db PATH (an existing database) [--days D] "
                 "[--runs R]\n");
    return 2;
  }
  SqliteStore store(db, StoreOptions{true, false});
  CollectorConfig cfg;
  BillRequest r;
  r.from = kT0;
  r.to = kT0 + days * 86'400'000'000LL;
  r.energy_only = true;
  std::vector<double> fast_s, slow_s;
  bool identical = true;
  std::size_t lines = 0;
  std::int64_t from_rollups = 0;
  const TimeZone utc;
  for (int i = 0; i < runs; ++i) {
    std::string text[2];
    for (const bool rollups : {true, false}) {
      r.from_rollups = rollups;
      const auto start = Clock::now();
      const auto bill = make_bill(store, cfg, r);
      (rollups ? fast_s : slow_s)
          .push_back(std::chrono::duration<double>(Clock::now() - start).count());
      write_bill(bill, utc, "json", text[rollups ? 0 : 1]);
      lines = bill.lines.size();
      if (rollups) from_rollups = bill.lines_from_rollups;
    }
    identical = identical && text[0] == text[1];
    // IMSM_BENCH_BILL_OUT=PREFIX keeps the last run's two bills (PREFIX.rollups.json,
    // PREFIX.readings.json) to compare them when they differ.
    if (const char* out = std::getenv("IMSM_BENCH_BILL_OUT"); out && i + 1 == runs) {
      for (int k = 0; k < 2; ++k) {
        const std::string path = std::string(out) + (k == 0 ? ".rollups.json" : ".readings.json");
        if (std::FILE* f = std::fopen(path.c_str(), "w")) {
          std::fwrite(text[k].data(), 1, text[k].size(), f);
          std::fclose(f);
        }
      }
    }
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  auto all = [](const std::vector<double>& v) {
    std::string s;
    for (const double x : v) s += fmt::format("{}{:.3f}", s.empty() ? "" : "; ", x);
    return s;
  };
  std::printf("BENCH collector_report_db bill_%zu_meters_%d_days %.3f s (runs: %s)\n", lines, days,
              median(fast_s), all(fast_s).c_str());
  std::printf(
      "BENCH collector_report_db baseline_readings_bill_%zu_meters_%d_days %.3f s (runs: %s)\n",
      lines, days, median(slow_s), all(slow_s).c_str());
  std::fprintf(stderr, "billing %s: %lld of %zu lines from rollups; bills %s\n", db.c_str(),
               static_cast<long long>(from_rollups), lines,
               identical ? "byte-identical in every run" : "DIFFER");
  return identical ? 0 : 1;
}

// --figures [N] [--ingest-only] [--bill METERSxDAYS | --no-bill]
int figures_main(int argc, char** argv) {
  FigureOptions o;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--ingest-only") {
      o.ingest_only = true;
    } else if (a == "--no-bill") {
      o.bill_meters = 0;
    } else if (a == "--bill" && i + 1 < argc) {
      unsigned m = 0;
      int d = 0;
      if (std::sscanf(argv[++i], "%ux%d", &m, &d) != 2 || m == 0 || d <= 0) {
        std::fprintf(stderr, "bench_collector: --bill METERSxDAYS, e.g. 10000x30\n");
        return 2;
      }
      o.bill_meters = m;
      o.bill_days = d;
    } else if (i == 2 && std::isdigit(static_cast<unsigned char>(a[0]))) {
      o.readings = std::strtoull(a.c_str(), nullptr, 10);
    } else {
      std::fprintf(stderr, "bench_collector: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  return figures(o);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "--figures") == 0) return figures_main(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "--bill-db") == 0) return bill_db_main(argc, argv);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
