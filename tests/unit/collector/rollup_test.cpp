// Hourly rollups (rollup.h): the pure computation against hand-derived values, and the
// SQLite store's incremental upkeep against that computation over all readings.
#include "collector/store/rollup.h"

#include <gtest/gtest.h>

#include "collector/collector.h"
#include "helpers.h"
#include "rollup_checks.h"
#include "store_impls.h"

namespace imsm::collector {
namespace {

using test::kMinute;
using test::kT0;  // 2026-11-01T00:00:00Z, an hour boundary
constexpr std::int64_t kHour = 60 * kMinute;

Reading reading(std::int64_t frame, UtcMicros at, std::int64_t kwh, std::uint32_t epoch = 0,
                std::uint16_t peak = 0, std::uint8_t resets = 0) {
  Reading r;
  r.frame_id = frame;
  r.meter_id = 5;
  r.received_at = at;
  r.epoch = epoch;
  r.total_kwh = kwh;
  r.kwh24 = static_cast<std::uint32_t>(kwh & 0xFFFFFF);
  r.peak_demand_counts = peak;
  r.demand_resets = resets;
  return r;
}

TEST(Rollup, HourFloorAlsoBefore1970) {
  EXPECT_EQ(hour_start(kT0 + 59 * kMinute), kT0);
  EXPECT_EQ(hour_start(-1), -kHour);
  EXPECT_EQ(hour_start(-kHour), -kHour);
}

// 100 kWh at 00:50 and 102 kWh at 01:10: the register at 01:00 is 100,000 Wh + 2,000 Wh x
// (10 min / 20 min) = 101,000 Wh. Hour 00 has no reading before it, so no start value.
TEST(Rollup, BoundaryIsTheExactInterpolationBetweenItsNeighbours) {
  const std::vector<Reading> rows = {reading(1, kT0 + 50 * kMinute, 100, 0, 40, 3),
                                     reading(2, kT0 + 70 * kMinute, 102, 0, 55, 3)};
  const auto got = compute_rollups(5, std::nullopt, rows, kT0, kT0 + kHour, std::nullopt);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].hour, kT0);
  EXPECT_EQ(got[0].n, 1);
  EXPECT_FALSE(got[0].start_wh);
  EXPECT_EQ(got[0].peak_max_counts, 40);
  EXPECT_EQ(got[1].hour, kT0 + kHour);
  EXPECT_EQ(got[1].n, 1);
  ASSERT_TRUE(got[1].start_wh);
  EXPECT_EQ(*got[1].start_wh, 101'000);
  EXPECT_EQ(got[1].kwh_first, 102);
  EXPECT_EQ(got[1].resets_last, 3);
}

// 0 kWh at 00:30, 3 kWh at 03:30 (180 min): 01:00 is 30 min in -> 3,000 x 30/180 = 500 Wh;
// 02:00 -> 3,000 x 90/180 = 1,500 Wh; 03:00 -> 3,000 x 150/180 = 2,500 Wh. Hours 01 and 02
// have no reading (n = 0) but their boundary values are known.
TEST(Rollup, HoursWithoutReadingsKeepTheirBoundaryValues) {
  const std::vector<Reading> rows = {reading(1, kT0 + 30 * kMinute, 0),
                                     reading(2, kT0 + 210 * kMinute, 3)};
  const auto got = compute_rollups(5, std::nullopt, rows, kT0, kT0 + 3 * kHour, std::nullopt);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[1].n, 0);
  EXPECT_EQ(got[1].start_wh, 500);
  EXPECT_EQ(got[2].n, 0);
  EXPECT_EQ(got[2].start_wh, 1'500);
  EXPECT_EQ(got[3].n, 1);
  EXPECT_EQ(got[3].start_wh, 2'500);
}

// A replacement (epoch 0 -> 1) between two readings: the boundary between them belongs to
// neither register, so it has no value; a reading exactly at a boundary is its value.
TEST(Rollup, NoValueAcrossEpochsAndAReadingAtTheBoundaryIsTheValue) {
  const std::vector<Reading> rows = {reading(1, kT0 + 50 * kMinute, 900, 0),
                                     reading(2, kT0 + 70 * kMinute, 3, 1),
                                     reading(3, kT0 + 2 * kHour, 7, 1)};
  const auto got = compute_rollups(5, std::nullopt, rows, kT0, kT0 + 2 * kHour, std::nullopt);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_FALSE(got[1].start_wh);
  EXPECT_EQ(got[2].start_wh, 7'000);
  EXPECT_EQ(got[2].start_epoch, 1u);
}

// A silence longer than kMaxGapHours gives no rows inside it (and no walk through it).
TEST(Rollup, ALongSilenceLeavesItsBoundariesUnknown) {
  const std::vector<Reading> rows = {reading(1, kT0, 0),
                                     reading(2, kT0 + (kMaxGapHours + 5) * kHour, 10)};
  const auto got = compute_rollups(5, std::nullopt, rows, kT0, rows[1].received_at, std::nullopt);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].hour, rows[1].received_at);
  EXPECT_TRUE(got[1].start_wh);  // an hour with a reading is bracketed whatever the gap
}

class RollupStoreTest : public test::StoreContractTest {
 protected:
  // Stores `r` as a reading of meter 5 with its own journal row.
  void store_reading(Store& s, Reading& r) {
    Observation o = test::obs(0, 5, static_cast<std::uint32_t>(r.total_kwh), 0, 0, r.received_at);
    o.source_id = src_;
    s.journal(o);
    r.frame_id = o.frame_id;
    r.source_id = o.source_id;  // as the validator names them: the frame's own
    r.lead = o.raw[0];
    Decisions d;
    d.readings.push_back(r);
    s.apply(d, v_);
  }
  void retract(Store& s, const Reading& r) {
    Decisions d;
    d.retracted.push_back(r);
    s.apply(d, v_);
  }
  // What the store keeps must be what compute_rollups gives over every stored reading.
  void expect_rollups_match(Store& s) {
    std::vector<Reading> all;
    s.each_meter_reading(5, INT64_MIN, INT64_MAX, [&](const Reading& r) { all.push_back(r); });
    ASSERT_FALSE(all.empty());
    const auto want = compute_rollups(5, std::nullopt, all, hour_start(all.front().received_at),
                                      hour_start(all.back().received_at), std::nullopt);
    std::vector<HourRollup> got;
    s.each_rollup(5, INT64_MIN, INT64_MAX, [&](const HourRollup& h) { got.push_back(h); });
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], want[i]) << "row " << i;
    test::expect_days_fold_hours(path_, 5, got);
  }
  void init(Store& s) {
    s.begin();
    CollectorConfig c;
    MeterEntry e;
    e.id = 5;
    c.meters.push_back(e);
    s.save_registry(c);
    src_ = s.source_id("file:r");
    s.commit();
  }
  Validator v_{ValidationSettings{}};
  std::uint32_t src_ = 0;
};

TEST_P(RollupStoreTest, InOrderLateAndWithdrawnReadingsAcrossCommitsAndRestarts) {
  std::vector<Reading> rs;
  for (int i = 0; i < 40; ++i) rs.push_back(reading(0, kT0 + i * 7 * kMinute, 100 + i * 2));
  {
    auto sp = open();
    Store& s = *sp;
    init(s);
    s.begin();
    for (int i = 0; i < 20; ++i) store_reading(s, rs[static_cast<std::size_t>(i)]);
    s.commit();
    expect_rollups_match(s);
    s.begin();
    for (int i = 20; i < 30; ++i) store_reading(s, rs[static_cast<std::size_t>(i)]);
    s.commit();
    expect_rollups_match(s);
  }
  auto sp = open();  // a restart: the open hour is read back from the database
  Store& s = *sp;
  s.begin();
  for (int i = 30; i < 40; i += 2) store_reading(s, rs[static_cast<std::size_t>(i)]);
  s.commit();
  expect_rollups_match(s);
  s.begin();
  for (int i = 31; i < 40; i += 2) store_reading(s, rs[static_cast<std::size_t>(i)]);  // late
  retract(s, rs[12]);
  s.commit();
  expect_rollups_match(s);
  // A rolled-back batch leaves nothing behind in the rollups either.
  s.begin();
  Reading extra = reading(0, kT0 + 50 * kHour, 500);
  store_reading(s, extra);
  s.rollback();
  expect_rollups_match(s);
  EXPECT_EQ(s.reading_counts()[5], 39);
}

// A process's first reading of a meter older than the meter's newest stored one: a later
// replay of another bus where the same ID was heard (a 10,000-meter build showed it as 4
// bills differing between rollups and readings). The late reading, at 122 min, follows the
// last reading of its hour's predecessor (19 readings every 7 min: 0..126 min; hour 1's
// last is 119 min), so the store must not take it for the newest: hour 2's start (120 min)
// now interpolates between 119 and 122 min, not 119 and 126, and hour 2 counts 2 readings.
TEST_P(RollupStoreTest, ALateFirstReadingAfterARestartIsNotTakenForTheNewest) {
  std::vector<Reading> rs;
  for (int i = 0; i < 19; ++i) rs.push_back(reading(0, kT0 + i * 7 * kMinute, 100 + i * 2));
  {
    auto sp = open();
    init(*sp);
    sp->begin();
    for (auto& r : rs) store_reading(*sp, r);
    sp->commit();
  }
  auto sp = open();
  Store& s = *sp;
  Reading late = reading(0, kT0 + 122 * kMinute, 135);
  s.begin();
  store_reading(s, late);
  s.commit();
  expect_rollups_match(s);
  std::vector<HourRollup> got;
  s.each_rollup(5, kT0 + 2 * kHour, kT0 + 3 * kHour,
                [&](const HourRollup& h) { got.push_back(h); });
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].n, 2);  // 122 and 126 min
  // 134 kWh at 119 min, 135 at 122: 134,000 + 1,000 x 1/3 = 134,333 Wh (half up) at 120 min.
  ASSERT_TRUE(got[0].start_wh);
  EXPECT_EQ(*got[0].start_wh, 134'333);
}

INSTANTIATE_TEST_SUITE_P(Stores, RollupStoreTest, ::testing::ValuesIn(test::store_impls()),
                         test::store_impl_name);

}  // namespace
}  // namespace imsm::collector
