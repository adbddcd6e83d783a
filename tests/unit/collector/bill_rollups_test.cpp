// The bill from hourly rollups (report/bill_source.cpp facts_from_rollups, docs/collector.md
// "Billing from rollups") against the bill from readings: for randomised databases written
// through the ingest path (validator, store, rollups) with resets, rising peaks, a 24-bit
// rollover, a replacement, rejected glitches, outages (one longer than kMaxGapHours) and
// readings exactly on hour and quarter-hour boundaries, and for periods aligned to the hour
// and not, in UTC, New York (a DST change on 2026-11-01) and Kolkata (+05:30: TOU edges on
// the UTC half hour), with flat, TOU, tiered, quiet-register and minimum tariffs, the two bills
// are byte-identical in JSON, CSV and the text table. The expected value of every comparison
// is the readings path itself: an independent computation of the same rules.
#include <gtest/gtest.h>

#include <SQLiteCpp/Database.h>

#include <map>
#include <random>

#include "collector/collector.h"
#include "collector/report/bill_format.h"
#include "collector/report/report.h"
#include "collector/store/sqlite/sqlite_schema.h"
#include "helpers.h"
#include "old_schemas.h"
#include "rollup_checks.h"

namespace imsm::collector {
namespace {

using test::kMinute;
using test::kT0;
constexpr std::int64_t kHour = 60 * kMinute;

// One meter's frames: cadence 5 minutes, either exactly (from an hour boundary, so readings
// fall on hour and quarter-hour boundaries) or with jitter; kWh rises 0..4 per frame.
struct MeterPlan {
  std::uint16_t id = 0;
  bool exact = false;
  std::uint32_t kwh = 1000;
  UtcMicros start = kT0;
  int frames = 600;
  bool still = false;  // kWh moves only across the long outage
};

std::vector<Observation> frames_for(const MeterPlan& p, std::mt19937& rng, bool long_outage) {
  std::vector<Observation> out;
  std::uint32_t kwh = p.kwh;
  std::uint16_t peak = 100;
  std::uint8_t resets = static_cast<std::uint8_t>(250 + rng() % 5);  // wraps past 255 too
  UtcMicros t = p.start;
  bool replaced = false;
  for (int i = 0; i < p.frames; ++i) {
    t += 5 * kMinute;
    if (!p.exact) t += static_cast<std::int64_t>(rng() % 40'000'000) - 20'000'000;
    const auto roll = rng() % 1000;
    if (roll < 4) t += static_cast<std::int64_t>(1 + rng() % 9) * kHour;  // an outage
    // > kMaxGapHours; for meter 707 from hh:50 to hh:10, so every whole quarter of the silence
    // lies in hours without rows.
    const bool outage = long_outage && i == p.frames / 2;
    if (outage) t += 33 * 24 * kHour + 15 * kMinute;
    if (!p.still)
      kwh = (kwh + rng() % 5) & 0xFFFFFF;
    else if (outage)  // the only 15-minute demand is inside the silence (3.8 kW)
      kwh += 3000;
    if (roll >= 10 && roll < 40) peak = static_cast<std::uint16_t>(peak + rng() % 30);
    if (roll >= 40 && roll < 50) {  // a key-switch reset: the counter advances, peak restarts
      resets = static_cast<std::uint8_t>(resets + 1);
      peak = static_cast<std::uint16_t>(rng() % 50);
    }
    if (!replaced && p.id == 303 && i == p.frames / 3) {  // a new meter behind the same ID
      replaced = true;
      kwh = 5;
      peak = 0;
      resets = 0;
    }
    out.push_back(test::obs(0, p.id, kwh, peak, resets, t));
    if (roll >= 50 && roll < 58)  // a glitch 10 s later: held, then rejected
      out.push_back(
          test::obs(0, p.id, (kwh + 500'000) & 0xFFFFFF, peak, resets, t + 10 * kMicrosPerSecond));
  }
  return out;
}

class BillRollupsTest : public test::DbTest {
 protected:
  // Writes a database for `seed` through the ingest path, in batches of 50 frames.
  void build(unsigned seed) {
    std::mt19937 rng(seed);
    config_ = CollectorConfig{};
    const std::vector<std::string> tariffs{"flat", "tou", "tou_half", "tiered", "quiet"};
    std::vector<MeterPlan> plans{
        {101, true, 1000, kT0 - 2 * kHour, 500},
        {202, false, 0xFFFFFF - 300, kT0 + 7 * kHour + 13 * kMinute, 500},  // rolls over
        {303, false, 70'000, kT0 - 30 * kMinute, 600},                      // replaced
        {404, true, 20, kT0 + 20 * kHour, 300},
        {505, false, 9'000, kT0 - 3 * kHour, 400},           // long outage when seed is odd
        {707, true, 50'000, kT0 - 40 * kMinute, 300, true},  // long outage, no other kWh
        {606, false, 100, kT0 + 5 * kHour, 200},             // not registered
    };
    for (std::size_t i = 0; i + 1 < plans.size(); ++i) {
      MeterEntry e;
      e.id = plans[i].id;
      e.tenant = i % 2 ? "Acme" : "Bolt";
      e.tariff = tariffs[(i + seed) % tariffs.size()];
      config_.meters.push_back(e);
    }
    Tariff flat{"flat", "USD", 143'200, 12'500'000, 4'000'000};
    Tariff tou{"tou", "USD", 90'000, 8'000'000, 0};
    tou.tou.push_back(TouWindow{"peak", true, false, 7 * 60, 11 * 60, 210'000});
    tou.tou.push_back(TouWindow{"evening", true, true, 17 * 60, 21 * 60, 180'000});
    Tariff tou_half{"tou_half", "EUR", 90'000, 0, 1'000'000};
    tou_half.tou.push_back(TouWindow{"peak", true, true, 7 * 60 + 30, 11 * 60, 210'000});
    // 19:10 local is off every quarter hour: a line whose readings span it falls back.
    tou_half.tou.push_back(TouWindow{"late", true, true, 19 * 60 + 10, 22 * 60, 170'000});
    Tariff tiered{"tiered", "USD", 0, 3'000'000, 0};
    tiered.tiers.push_back(TierBlock{100, 100'000});
    tiered.tiers.push_back(TierBlock{std::nullopt, 150'000});
    tiered.minimum_bill = 50'000'000;
    Tariff quiet{"quiet", "USD", 120'000, 9'000'000, 0};
    quiet.demand_when_quiet_register = true;
    config_.tariffs = {flat, tou, tou_half, tiered, quiet};

    std::vector<Observation> all;
    for (const auto& p : plans) {
      auto f = frames_for(p, rng, (seed % 2 == 1 && p.id == 505) || p.id == 707);
      all.insert(all.end(), f.begin(), f.end());
    }
    std::stable_sort(all.begin(), all.end(), [](const Observation& a, const Observation& b) {
      return a.received_at < b.received_at;
    });
    std::filesystem::remove(path_);
    store_ = open_store(path_);
    Validator v(config_.validation);
    register_meters(config_, v);
    store_->begin();
    store_->save_registry(config_);
    const auto src = store_->source_id("file:random");
    store_->commit();
    Decisions d;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (i % 50 == 0) store_->begin();
      all[i].source_id = src;
      store_->journal(all[i]);
      v.process(all[i], d);
      store_->apply(d, v);
      d.clear();
      if (i % 50 == 49) store_->commit();
      // Now and then a restart: the rollups' in-memory state (the open hour, its day's fold)
      // is read back from the database.
      if (i % 50 == 49 && (i / 50) % 7 == 3) store_ = open_store(path_);
    }
    store_->commit();
  }

  // The rollups the store kept in order (and recomputed for late or withdrawn readings) are
  // what compute_rollups gives over every stored reading.
  void expect_rollups_exact() {
    for (const auto& m : store_->meters()) {
      std::vector<Reading> all;
      store_->each_meter_reading(m.id, INT64_MIN, INT64_MAX,
                                 [&](const Reading& x) { all.push_back(x); });
      if (all.empty()) continue;
      const auto want =
          compute_rollups(m.id, std::nullopt, all, hour_start(all.front().received_at),
                          hour_start(all.back().received_at), std::nullopt);
      std::vector<HourRollup> got;
      store_->each_rollup(m.id, INT64_MIN, INT64_MAX,
                          [&](const HourRollup& h) { got.push_back(h); });
      ASSERT_EQ(got.size(), want.size()) << m.id;
      auto text = [](const HourRollup& h) {
        auto o = [](const std::optional<std::int64_t>& v) {
          return v ? std::to_string(*v) : std::string("-");
        };
        return std::to_string(h.hour) + " n=" + std::to_string(h.n) + " wh=" + o(h.start_wh) + "," +
               o(h.quarter_wh[0]) + "," + o(h.quarter_wh[1]) + "," + o(h.quarter_wh[2]) +
               " qpeak=" + o(h.quarter_peak_wh) + " flags=" + std::to_string(h.flags) +
               " adv=" + std::to_string(h.reset_advances) +
               " peaks=" + std::to_string(h.peak_first_counts) + "," +
               std::to_string(h.peak_last_counts) + "," +
               std::to_string(h.peak_since_restart_counts);
      };
      for (std::size_t i = 0; i < got.size(); ++i)
        ASSERT_EQ(got[i], want[i])
            << m.id << " row " << i << "\n got  " << text(got[i]) << "\n want " << text(want[i]);
      test::expect_days_fold_hours(path_, m.id, got);
    }
  }

  struct Outcome {
    std::string fast, slow;  // every format, concatenated
    std::int64_t lines = 0, from_rollups = 0;
  };
  Outcome both(BillRequest r) {
    Outcome o;
    const TimeZone& tz = r.tz ? *r.tz : utc_;
    r.from_rollups = true;
    const auto fast = make_bill(*store_, config_, r);
    r.from_rollups = false;
    const auto slow = make_bill(*store_, config_, r);
    EXPECT_EQ(slow.lines_from_rollups, 0);
    for (const char* f : {"json", "csv", "table"}) {
      write_bill(fast, tz, f, o.fast);
      write_bill(slow, tz, f, o.slow);
    }
    o.lines = static_cast<std::int64_t>(fast.lines.size());
    o.from_rollups = fast.lines_from_rollups;
    return o;
  }

  // A fresh store of config_'s registry; ingest() feeds it frame by frame (one batch).
  void start(const char* source) {
    store_ = open_store(path_);
    validator_ = std::make_unique<Validator>(config_.validation);
    register_meters(config_, *validator_);
    store_->begin();
    store_->save_registry(config_);
    src_ = store_->source_id(source);
  }
  void ingest(Observation o) {
    Decisions d;
    o.source_id = src_;
    store_->journal(o);
    validator_->process(o, d);
    store_->apply(d, *validator_);
  }

  CollectorConfig config_;
  std::unique_ptr<Validator> validator_;
  std::uint32_t src_ = 0;
  std::unique_ptr<Store> store_;
  TimeZone utc_;
};

TEST_F(BillRollupsTest, RandomisedDatabasesAndPeriodsGiveByteIdenticalBills) {
  std::string error;
  const auto ny = TimeZone::load("America/New_York", error);
  const auto kolkata = TimeZone::load("Asia/Kolkata", error);
  ASSERT_TRUE(ny && kolkata) << error;
  const std::vector<const TimeZone*> zones{nullptr, &*ny, &*kolkata};
  std::int64_t aligned_lines = 0, aligned_fast = 0, unaligned_fast = 0, compared = 0;
  for (unsigned seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    build(seed);
    expect_rollups_exact();
    std::mt19937 rng(seed * 7919);
    for (int k = 0; k < 30; ++k) {
      BillRequest r;
      const bool aligned = k % 5 != 4;
      r.from = kT0 + (static_cast<std::int64_t>(rng() % 60) - 6) * kHour;
      // Up to 3 days: whole UTC days inside come from rollups_daily, the hours around them
      // from rollups_hourly.
      r.to = r.from + static_cast<std::int64_t>(1 + rng() % 72) * kHour;
      if (k == 0) r.to = kT0 + 90 * 24 * kHour;  // past every reading (and the long outage)
      if (!aligned) r.from += static_cast<std::int64_t>(1 + rng() % 3599) * kMicrosPerSecond;
      r.tz = zones[static_cast<std::size_t>(k) % zones.size()];
      r.energy_only = k % 11 == 10;
      if (k % 3 == 0) r.unassigned_tariff = "flat";
      const auto o = both(r);
      ASSERT_EQ(o.fast, o.slow) << "seed " << seed << " period " << k;
      ++compared;
      if (aligned) {
        aligned_lines += o.lines;
        aligned_fast += o.from_rollups;
      } else {
        unaligned_fast += o.from_rollups;
      }
    }
  }
  EXPECT_EQ(compared, 12 * 30);
  // Off the hour the readings path bills every line; on it, most lines come from rollups
  // (the rest: a replacement or long outage inside, a meter not yet heard, a TOU edge at
  // 19:10): the comparison above covered the fast path, not only the fallback.
  EXPECT_EQ(unaligned_fast, 0);
  EXPECT_GT(aligned_fast * 2, aligned_lines) << aligned_fast << " of " << aligned_lines;
}

// A plain case where every line must come from rollups: two exact-cadence meters, a flat
// tariff, a day in UTC well inside their readings.
TEST_F(BillRollupsTest, TheFastPathIsTakenForEveryPlainLine) {
  config_ = CollectorConfig{};
  config_.tariffs.push_back(Tariff{"flat", "USD", 143'200, 12'500'000, 4'000'000});
  for (std::uint16_t id : {std::uint16_t{11}, std::uint16_t{12}})
    config_.meters.push_back(MeterEntry{id, "", {}, "", "", "", ""});
  start("file:plain");
  // 3 days, one frame each per 5 minutes, kWh +1 per frame (12 kWh an hour).
  for (int i = 0; i < 3 * 288; ++i)
    for (std::uint16_t id : {std::uint16_t{11}, std::uint16_t{12}})
      ingest(test::obs(0, id, static_cast<std::uint32_t>(100 + i), 0, 0,
                       kT0 + i * 5 * kMinute + id * kMicrosPerSecond));
  store_->commit();
  BillRequest r;
  r.from = kT0 + 24 * kHour;
  r.to = r.from + 24 * kHour;
  const auto o = both(r);
  EXPECT_EQ(o.fast, o.slow);
  EXPECT_EQ(o.lines, 2);
  EXPECT_EQ(o.from_rollups, 2);
  // One day at 12 kWh an hour: 288 frames of +1 kWh = 288 kWh = 288,000 Wh per meter (each
  // boundary interpolated 11 or 12 s after a reading of the same +1 kWh slope).
  r.from_rollups = true;
  const auto bill = make_bill(*store_, config_, r);
  EXPECT_EQ(bill.lines[0].consumption.wh, 288'000);
  EXPECT_EQ(bill.lines[0].readings, 288);
  EXPECT_TRUE(bill.lines[0].final);
}

// A replacement inside the period stays on the fast path: consumption is summed per epoch, and
// no 15-minute interval spans the two meters. The new meter reads higher (a jump the validator
// holds, then takes as a new epoch when the next frame agrees), mid-quarter: the quarter
// 12:15-12:30 has its start on the old meter (between frames 146 and 147) and its end on the
// new one (between 149 and 150), a rise of ~89,750 kWh that is no demand.
TEST_F(BillRollupsTest, AReplacementInsideThePeriodIsBilledFromRollupsPerEpoch) {
  config_ = CollectorConfig{};
  config_.meters.push_back(MeterEntry{21, "", {}, "", "", "", ""});
  start("file:replaced");
  // Frame i at i x 5 min + 30 s, kWh 100 + i; from frame 148 (12:20:30) a new meter: kWh
  // 90,000 + (i - 148).
  for (int i = 0; i <= 288; ++i) {
    const auto kwh = static_cast<std::uint32_t>(i < 148 ? 100 + i : 90'000 + (i - 148));
    ingest(test::obs(0, 21, kwh, 0, 0, kT0 + i * 5 * kMinute + 30 * kMicrosPerSecond));
  }
  store_->commit();
  BillRequest r;
  r.from = kT0 + 2 * kHour;
  r.to = kT0 + 22 * kHour;
  r.energy_only = true;
  const auto o = both(r);
  EXPECT_EQ(o.fast, o.slow);
  EXPECT_EQ(o.lines, 1);
  EXPECT_EQ(o.from_rollups, 1);
  r.from_rollups = true;
  const auto bill = make_bill(*store_, config_, r);
  ASSERT_EQ(bill.lines.size(), 1u);
  // Old meter: at 2 h, 4.5 min after frame 23 (123 kWh) of 5 to frame 24: 123,900 Wh; its last
  // frame 147 reads 247 kWh: 123,100 Wh. New meter: from its first frame (90,000 kWh) to 22 h,
  // 4.5 min after frame 263 (90,115 kWh): 90,115,900 Wh: 115,900 Wh. Sum 239,000 Wh, 2 epochs.
  EXPECT_EQ(bill.lines[0].consumption.wh, 239'000);
  EXPECT_EQ(bill.lines[0].consumption.epochs, 2u);
  // Every quarter inside one meter's readings: 3 frames of +1 kWh = 3,000 Wh, x 4 = 12,000 W.
  ASSERT_TRUE(bill.lines[0].demand.interval_w);
  EXPECT_EQ(*bill.lines[0].demand.interval_w, 12'000);
}

// The comparison can fail: a line off by one watt-hour, or one flag, changes the bytes.
TEST_F(BillRollupsTest, TheComparisonSeesAOneWattHourDifference) {
  build(3);
  BillRequest r;
  r.from = kT0 + 24 * kHour;
  r.to = r.from + 24 * kHour;
  r.from_rollups = true;
  auto fast = make_bill(*store_, config_, r);
  ASSERT_GT(fast.lines_from_rollups, 0);
  std::string a, b;
  write_bill(fast, utc_, "json", a);
  fast.lines[0].consumption.wh += 1;
  write_bill(fast, utc_, "json", b);
  EXPECT_NE(a, b);
}

// A schema-5 database (rollups without the bill's columns) is migrated: the rows are rebuilt
// from the readings, equal to what compute_rollups gives over them, and the bill from the
// rebuilt rollups equals the bill from readings.
TEST_F(BillRollupsTest, MigrationFromSchema5RebuildsTheRollupsFromReadings) {
  build(2);
  BillRequest r;
  r.from = kT0 + 10 * kHour;
  r.to = kT0 + 40 * kHour;
  const auto want = both(r);
  store_.reset();
  {
    SQLite::Database db(path_, SQLite::OPEN_READWRITE);
    for (const char* c :
         {"q15_wh", "q30_wh", "q45_wh", "quarter_peak_wh", "peak_first_counts", "peak_last_counts",
          "peak_since_restart_counts", "reset_advances", "flags"})
      db.exec(std::string("ALTER TABLE rollups_hourly DROP COLUMN ") + c);
    db.exec("UPDATE rollups_hourly SET start_wh = NULL");  // what a v5 row would not have
    for (const char* t : {"source_rejects_replace", "source_rejects_insert",
                          "source_rejects_delete", "source_rejects_update"})
      db.exec(std::string("DROP TRIGGER ") + t);  // schema 7's, which a v5 file lacks
    db.exec("DROP TABLE source_rejects");
    db.exec("DROP TABLE rollups_daily");  // schema 8's
    test::drop_schemas_9_and_10(db);
    db.exec("PRAGMA user_version = 5");
  }
  store_ = open_store(path_);
  EXPECT_EQ(store_->schema_version(), sqlite::kSchemaVersion);
  EXPECT_EQ(sqlite::kSchemaVersion, 10);
  for (int id_int : {101, 202, 303, 404, 505, 606, 707}) {
    const auto id = static_cast<std::uint16_t>(id_int);
    std::vector<Reading> all;
    store_->each_meter_reading(id, INT64_MIN, INT64_MAX,
                               [&](const Reading& x) { all.push_back(x); });
    ASSERT_FALSE(all.empty());
    const auto expect = compute_rollups(id, std::nullopt, all, hour_start(all.front().received_at),
                                        hour_start(all.back().received_at), std::nullopt);
    std::vector<HourRollup> got;
    store_->each_rollup(id, INT64_MIN, INT64_MAX, [&](const HourRollup& h) { got.push_back(h); });
    ASSERT_EQ(got.size(), expect.size()) << id;
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], expect[i]) << id << " row " << i;
    // The SQL fold is the pure fold of the same rows.
    EXPECT_EQ(store_->rollup_span(id, kT0, kT0 + 60 * kHour), fold_rollups([&] {
                std::vector<HourRollup> in;
                for (const auto& h : got)
                  if (h.hour >= kT0 && h.hour < kT0 + 60 * kHour) in.push_back(h);
                return in;
              }()))
        << id;
  }
  const auto after = both(r);
  EXPECT_EQ(after.fast, after.slow);
  EXPECT_EQ(after.slow, want.slow);
  EXPECT_GT(after.from_rollups, 0);
}

// A schema-7 database (no daily rows; hourly rows that may disagree with the readings, as the
// out-of-order bug of that version left them) is migrated: the hourly rows are rebuilt from
// the readings, the daily rows are their fold, and the bill from rollups equals the bill from
// readings again.
TEST_F(BillRollupsTest, MigrationFromSchema7RebuildsHoursAndFoldsDays) {
  build(3);
  BillRequest r;
  r.from = kT0;
  r.to = kT0 + 3 * 24 * kHour;  // whole UTC days: the daily rows are used
  const auto want = both(r);
  ASSERT_EQ(want.fast, want.slow);
  store_.reset();
  {
    SQLite::Database db(path_, SQLite::OPEN_READWRITE);
    db.exec("DROP TABLE rollups_daily");
    // What the bug left: an hour missing a reading, its end value stale.
    db.exec(
        "UPDATE rollups_hourly SET n = n - 1, quarter_peak_wh = quarter_peak_wh + 7 WHERE "
        "meter_id = 101 AND n > 1 AND hour_us = (SELECT min(hour_us) FROM rollups_hourly "
        "WHERE meter_id = 101 AND n > 1 AND hour_us > " +
        std::to_string(kT0 + 30 * kHour) + ")");
    ASSERT_EQ(db.getChanges(), 1);
    test::drop_schemas_9_and_10(db);
    db.exec("PRAGMA user_version = 7");
  }
  store_ = open_store(path_);
  EXPECT_EQ(store_->schema_version(), sqlite::kSchemaVersion);
  expect_rollups_exact();
  const auto after = both(r);
  EXPECT_EQ(after.fast, after.slow);
  EXPECT_EQ(after.slow, want.slow);
  EXPECT_GT(after.from_rollups, 0);
}

}  // namespace
}  // namespace imsm::collector
