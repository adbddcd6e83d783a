// Readings in meter-hour blocks (store schema 3): the block text, the in-memory open block,
// late and retracted readings in older hours, restart, rollback and the SQL `readings` view.
#include "collector/store/reading_blocks.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <limits>

#include "collector/store/store.h"
#include "helpers.h"

namespace imsm::collector {
namespace {

using test::kMinute;
using test::kT0;

constexpr std::int64_t kHour = 60 * kMinute;

Reading reading(std::int64_t frame_id, std::uint16_t meter, UtcMicros at, std::int64_t kwh) {
  Reading r;
  r.frame_id = frame_id;
  r.meter_id = meter;
  r.received_at = at;
  r.total_kwh = kwh;
  r.kwh24 = static_cast<std::uint32_t>(kwh & 0xFFFFFF);
  r.peak_demand_counts = 321;
  r.demand_resets = 7;
  return r;
}

TEST(BlockText, HourIsTheFloorAlsoBefore1970) {
  EXPECT_EQ(block_hour(0), 0);
  EXPECT_EQ(block_hour(kBlockMicros - 1), 0);
  EXPECT_EQ(block_hour(kBlockMicros), 1);
  EXPECT_EQ(block_hour(-1), -1);
  EXPECT_EQ(block_hour(-kBlockMicros), -1);
  EXPECT_EQ(block_hour(-kBlockMicros - 1), -2);
  EXPECT_LT(block_hour(std::numeric_limits<UtcMicros>::min()), 0);  // no overflow
}

TEST(BlockText, RoundTripsEveryField) {
  std::vector<Reading> in{reading(5, 9, kT0, 16'777'300), reading(6, 9, kT0 + 1, 0)};
  in[0].epoch = 2;
  in[1].peak_demand_counts = 65535;
  in[1].demand_resets = 255;
  std::string text;
  encode_block(in, text);
  EXPECT_EQ(text.substr(0, 2), "[[");
  std::vector<Reading> out;
  ASSERT_TRUE(decode_block(text, 9, out));
  ASSERT_EQ(out.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(out[i].frame_id, in[i].frame_id);
    EXPECT_EQ(out[i].meter_id, 9);
    EXPECT_EQ(out[i].received_at, in[i].received_at);
    EXPECT_EQ(out[i].epoch, in[i].epoch);
    EXPECT_EQ(out[i].total_kwh, in[i].total_kwh);
    EXPECT_EQ(out[i].kwh24, in[i].kwh24);
    EXPECT_EQ(out[i].peak_demand_counts, in[i].peak_demand_counts);
    EXPECT_EQ(out[i].demand_resets, in[i].demand_resets);
  }
}

TEST(BlockText, UnorderedRowsComeBackOrderedByTimeThenFrame) {
  std::vector<Reading> out;
  ASSERT_TRUE(decode_block("[[30,3,0,1,1,0,0],[10,2,0,1,1,0,0],[10,1,0,1,1,0,0]]", 1, out));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].frame_id, 1);
  EXPECT_EQ(out[1].frame_id, 2);
  EXPECT_EQ(out[2].frame_id, 3);
}

TEST(BlockText, RejectsWhatIsNotABlock) {
  std::vector<Reading> out;
  for (const char* bad :
       {"", "[", "[[1,2,3,4,5,6]]", "[[1,2,3,4,5,6,7,8]]", "[[1,2,3,4,5,6,7]", "[[1,2,3,4,5,6,7]] ",
        "[[1,2,3,4,5,70000,7]]", "[[1,2,3,4,5,6,256]]", "[[1,2,-3,4,5,6,7]]", "[[1,2,3,4,5,6,x]]",
        "[[1,2,3,4,5,6,7],]", "[[99999999999999999999,2,3,4,5,6,7]]"})
    EXPECT_FALSE(decode_block(bad, 1, out)) << bad;
  EXPECT_TRUE(out.empty());  // a failed parse leaves nothing behind
  EXPECT_TRUE(decode_block("[]", 1, out));
  EXPECT_TRUE(out.empty());
}

class BlocksStoreTest : public test::DbTest {
 protected:
  // Journals a frame per reading (the view joins nothing, but the journal is the truth) and
  // stores the readings through the store's decisions path.
  static void put(Store& s, const std::vector<Reading>& rows, const std::vector<Reading>& retract,
                  const Validator& v) {
    Decisions d;
    d.readings = rows;
    d.retracted = retract;
    s.apply(d, v);
  }
  static std::vector<std::int64_t> frames_of(Store& s, std::uint16_t meter) {
    std::vector<std::int64_t> out;
    s.each_meter_reading(meter, std::numeric_limits<UtcMicros>::min(),
                         std::numeric_limits<UtcMicros>::max(),
                         [&](const Reading& r) { out.push_back(r.frame_id); });
    return out;
  }
  void with_meters(Store& s) {
    CollectorConfig c;
    for (int id = 1; id <= 2; ++id) {
      MeterEntry e;
      e.id = static_cast<std::uint16_t>(id);
      c.meters.push_back(e);
    }
    s.begin();
    s.save_registry(c);
    s.commit();
  }
};

TEST_F(BlocksStoreTest, OneRowPerMeterHourAndTheViewExpandsThem) {
  Store s(path_);
  with_meters(s);
  Validator v(ValidationSettings{});
  s.begin();
  std::vector<Reading> rows;
  for (int i = 0; i < 30; ++i)  // 2.5 hours of 5-minute readings from two meters
    for (int m = 1; m <= 2; ++m)
      rows.push_back(
          reading(2 * i + m, static_cast<std::uint16_t>(m), kT0 + i * 5 * kMinute + m, 1000 + i));
  put(s, rows, {}, v);
  s.commit();
  EXPECT_EQ(s.count("reading_blocks"), 6);  // 3 hours x 2 meters
  EXPECT_EQ(s.count("readings"), 60);
  EXPECT_EQ(s.db()
                .execAndGet("SELECT sum(total_kwh) FROM readings WHERE meter_id = 2 AND "
                            "received_at_us >= " +
                            std::to_string(kT0 + kHour))
                .getInt64(),
            (1012 + 1029) * 18 / 2);  // readings 12..29 of meter 2
  EXPECT_EQ(s.reading_counts().at(1), 30);
  const auto last = s.last_reading(1, kT0 + kHour);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->total_kwh, 1011);
  const auto next = s.first_reading_after(1, kT0 + kHour);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->total_kwh, 1012);
  EXPECT_FALSE(s.first_reading_after(1, kT0 + 3 * kHour));
  EXPECT_FALSE(s.last_reading(1, kT0));
}

TEST_F(BlocksStoreTest, LateAndRetractedReadingsInAnOlderHourAreWrittenInPlace) {
  Store s(path_);
  with_meters(s);
  Validator v(ValidationSettings{});
  s.begin();
  put(s, {reading(1, 1, kT0, 10), reading(3, 1, kT0 + 10 * kMinute, 12)}, {}, v);
  put(s, {reading(4, 1, kT0 + kHour, 20)}, {}, v);         // the meter moves to hour 2
  put(s, {reading(2, 1, kT0 + 5 * kMinute, 11)}, {}, v);   // a held frame decided late
  put(s, {}, {reading(3, 1, kT0 + 10 * kMinute, 12)}, v);  // retracted from the older hour
  put(s, {}, {reading(4, 1, kT0 + kHour, 20)}, v);         // and from the open one
  EXPECT_EQ(frames_of(s, 1), (std::vector<std::int64_t>{1, 2}));
  s.commit();
  EXPECT_EQ(frames_of(s, 1), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(s.count("reading_blocks"), 1);  // the emptied hour's row is deleted
}

TEST_F(BlocksStoreTest, RestartAppendsToTheNewestBlockAndRollbackForgets) {
  {
    Store s(path_);
    with_meters(s);
    Validator v(ValidationSettings{});
    s.begin();
    put(s, {reading(1, 1, kT0, 10)}, {}, v);
    s.commit();
  }
  Store s(path_);
  Validator v(ValidationSettings{});
  s.begin();
  put(s, {reading(2, 1, kT0 + 5 * kMinute, 11)}, {}, v);
  s.rollback();
  s.begin();
  put(s, {reading(3, 1, kT0 + 10 * kMinute, 12)}, {}, v);
  s.commit();
  EXPECT_EQ(frames_of(s, 1), (std::vector<std::int64_t>{1, 3}));
  EXPECT_EQ(s.count("reading_blocks"), 1);
  const auto states = s.load_meter_states();
  ASSERT_EQ(states.size(), 2u);
  EXPECT_TRUE(states[0].has_last);
  EXPECT_EQ(states[0].last_total_kwh, 12);
  EXPECT_FALSE(states[1].has_last);
}

TEST_F(BlocksStoreTest, ACorruptBlockIsAnErrorNotSilence) {
  Store s(path_);
  with_meters(s);
  s.db().exec("INSERT INTO reading_blocks(meter_id, hour, n, readings) VALUES (1, 0, 1, 'junk')");
  EXPECT_THROW(static_cast<void>(frames_of(s, 1)), std::runtime_error);
}

}  // namespace
}  // namespace imsm::collector
