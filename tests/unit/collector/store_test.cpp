// The SQLite store's own concerns: migrations from every earlier schema, WAL, foreign keys.
// What every store must do is in store_contract_test.cpp.
#include "collector/store/sqlite/sqlite_schema.h"
#include "collector/store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "collector/collector.h"
#include "helpers.h"
#include "ingest.h"
#include "old_schemas.h"

namespace imsm::collector {
namespace {

using test::kMinute;
using test::kT0;
using test::obs;

class StoreTest : public test::DbTest {};

// A source's rejections per reason are one lookup (schema 7), kept equal to counting the
// rejected frames by their source: frames 1-3 from source A, 4 from B; A rejects 1 and 2 as
// kwh_backwards and 3 as peak_fell, B rejects 4 as peak_fell. Frame 2 is then decided again
// (INSERT OR REPLACE) as held_not_confirmed: A has 1 kwh_backwards, 1 peak_fell, 1
// held_not_confirmed; B 1 peak_fell. Clearing the derived rows (rebuild) leaves none.
TEST_F(StoreTest, SourceRejectCountsFollowTheRejectionsThroughReDecisionsAndRebuild) {
  SqliteStore s(path_);
  Validator v(ValidationSettings{});
  s.begin();
  const auto a = s.source_id("file:a");
  const auto b = s.source_id("file:b");
  std::vector<Observation> frames;
  for (int i = 1; i <= 4; ++i) {
    auto o = obs(0, 7, 100 + static_cast<std::uint32_t>(i), 0, 0, kT0 + i * 5 * kMinute);
    o.source_id = i <= 3 ? a : b;
    s.journal(o);
    frames.push_back(o);
  }
  Decisions d;
  auto rej = [&](int i, RejectReason r) {
    const auto& o = frames[static_cast<std::size_t>(i - 1)];
    d.rejections.push_back(Rejection{o.frame_id, 7, r, "test"});
  };
  rej(1, RejectReason::KwhBackwards);
  rej(2, RejectReason::KwhBackwards);
  rej(3, RejectReason::PeakFell);
  rej(4, RejectReason::PeakFell);
  s.apply(d, v);
  d.clear();
  rej(2, RejectReason::HeldNotConfirmed);
  s.apply(d, v);
  s.commit();
  auto n = [](const SourceCounters& c, RejectReason r) {
    return c.rejected[static_cast<std::size_t>(r)];
  };
  const auto ca = s.source_counters(a);
  EXPECT_EQ(n(ca, RejectReason::KwhBackwards), 1u);
  EXPECT_EQ(n(ca, RejectReason::PeakFell), 1u);
  EXPECT_EQ(n(ca, RejectReason::HeldNotConfirmed), 1u);
  const auto cb = s.source_counters(b);
  EXPECT_EQ(n(cb, RejectReason::PeakFell), 1u);
  EXPECT_EQ(n(cb, RejectReason::KwhBackwards), 0u);
  EXPECT_EQ(s.count("rejected"), 4);
  s.begin();
  s.clear_derived();
  s.commit();
  for (auto src : {a, b})
    for (auto c : s.source_counters(src).rejected) EXPECT_EQ(c, 0u);
}

TEST_F(StoreTest, MigratesWithWalAndForeignKeys) {
  SqliteStore s(path_);
  EXPECT_EQ(s.schema_version(), sqlite::kSchemaVersion);
  EXPECT_EQ(s.db().execAndGet("PRAGMA journal_mode").getString(), "wal");
  EXPECT_EQ(s.db().execAndGet("PRAGMA foreign_keys").getInt(), 1);
  // A reading of a meter that does not exist violates a foreign key; a journal row of a
  // known source is valid.
  s.begin();
  const auto src = s.source_id("file:x");
  s.commit();
  EXPECT_THROW(s.db().exec("INSERT INTO readings VALUES (1, 0, 1, 0, 0, 0, 0, 0, 1, 0)"),
               SQLite::Exception);
  s.db().exec(
      "INSERT INTO frames(id, received_at_us, source_id, stream_offset, burst, raw) "
      "VALUES (1, 0, " +
      std::to_string(src) + ", 0, 0, zeroblob(12))");
  EXPECT_EQ(s.count("frames"), 1);
  EXPECT_EQ(s.count("readings"), 0);
}

// A version-1 database (separate journal and readings tables) migrates through version 2
// (readings on their journal rows) and 3 (meter-hour blocks) to 4 (a readings table again):
// its readings read back unchanged and the journal keeps every frame.
TEST_F(StoreTest, MigratesVersion1ReadingsThroughEveryVersion) {
  {
    SQLite::Database db(path_, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec(R"sql(
CREATE TABLE sources(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
  bytes_in INTEGER NOT NULL DEFAULT 0, frames INTEGER NOT NULL DEFAULT 0,
  shared_frames INTEGER NOT NULL DEFAULT 0, skipped_no_stop INTEGER NOT NULL DEFAULT 0,
  skipped_padding INTEGER NOT NULL DEFAULT 0, skipped_gap INTEGER NOT NULL DEFAULT 0,
  skipped_end INTEGER NOT NULL DEFAULT 0, reconnects INTEGER NOT NULL DEFAULT 0,
  last_offset INTEGER NOT NULL DEFAULT 0);
CREATE TABLE meters(id INTEGER PRIMARY KEY CHECK (id BETWEEN 0 AND 65535),
  registered INTEGER NOT NULL DEFAULT 0, model TEXT NOT NULL DEFAULT '',
  label TEXT NOT NULL DEFAULT '', tenant TEXT NOT NULL DEFAULT '',
  location TEXT NOT NULL DEFAULT '', tariff TEXT NOT NULL DEFAULT '',
  discovered_at_us INTEGER, epoch INTEGER NOT NULL DEFAULT 0, silent INTEGER NOT NULL DEFAULT 0);
CREATE TABLE frames(id INTEGER PRIMARY KEY, received_at_us INTEGER NOT NULL,
  source_id INTEGER NOT NULL REFERENCES sources(id), stream_offset INTEGER NOT NULL,
  burst INTEGER NOT NULL, raw BLOB NOT NULL CHECK (length(raw) = 12));
CREATE TABLE readings(meter_id INTEGER NOT NULL REFERENCES meters(id),
  received_at_us INTEGER NOT NULL, frame_id INTEGER NOT NULL REFERENCES frames(id),
  epoch INTEGER NOT NULL, total_kwh INTEGER NOT NULL, kwh24 INTEGER NOT NULL,
  peak_demand_counts INTEGER NOT NULL, demand_resets INTEGER NOT NULL,
  PRIMARY KEY(meter_id, received_at_us, frame_id)) WITHOUT ROWID;
CREATE TABLE rejected(frame_id INTEGER PRIMARY KEY REFERENCES frames(id),
  meter_id INTEGER NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');
CREATE TABLE pending(frame_id INTEGER PRIMARY KEY REFERENCES frames(id));
CREATE TABLE events(id INTEGER PRIMARY KEY, at_us INTEGER NOT NULL, kind TEXT NOT NULL,
  meter_id INTEGER, source_id INTEGER REFERENCES sources(id), detail TEXT NOT NULL DEFAULT '{}');
CREATE INDEX events_by_time ON events(at_us);
CREATE INDEX events_by_meter ON events(meter_id, at_us);
INSERT INTO sources(id, name) VALUES (1, 'file:old');
INSERT INTO meters(id, registered) VALUES (7, 1);
INSERT INTO frames VALUES (1, 100, 1, 0, 0, zeroblob(12)), (2, 200, 1, 12, 0, zeroblob(12)),
  (3, 300, 1, 24, 0, zeroblob(12));
INSERT INTO readings VALUES (7, 100, 1, 0, 5000, 5000, 12, 1), (7, 300, 3, 1, 16777300, 84, 13, 2);
INSERT INTO rejected VALUES (2, 7, 'kwh_too_fast', '');
PRAGMA user_version = 1;
)sql");
  }
  SqliteStore s(path_);
  EXPECT_EQ(s.schema_version(), sqlite::kSchemaVersion);
  EXPECT_EQ(s.count("frames"), 3);
  EXPECT_EQ(s.count("rejected"), 1);
  std::vector<StoredReading> got;
  s.each_reading(std::nullopt, 0, 1000, [&](const StoredReading& r) { got.push_back(r); });
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].r.frame_id, 1);
  EXPECT_EQ(got[0].r.total_kwh, 5000);
  EXPECT_EQ(got[0].r.demand_resets, 1);
  EXPECT_EQ(got[0].source, "file:old");
  EXPECT_EQ(got[1].r.frame_id, 3);
  EXPECT_EQ(got[1].r.epoch, 1u);
  EXPECT_EQ(got[1].r.total_kwh, 16777300);
  EXPECT_EQ(got[1].r.kwh24, 84u);
  EXPECT_EQ(got[1].r.peak_demand_counts, 13);
  // Rollups are built for the migrated readings: both fall in the first hour of 1970 (one
  // row, two readings, no boundary value: nothing before the first reading).
  EXPECT_EQ(s.count("rollups_hourly"), 1);
  EXPECT_EQ(s.reading_counts()[7], 2);
  EXPECT_EQ(s.count("readings"), 2);
  SQLite::Statement fk(s.db(), "PRAGMA foreign_key_check");
  EXPECT_FALSE(fk.executeStep());  // no dangling references after the migration
  EXPECT_EQ(s.db().execAndGet("PRAGMA foreign_keys").getInt(), 1);
}

// Schema 10: a reading carries its source and its frame's first byte (guide 2.5.2: byte 1 has
// no significance, and the framer takes only frames with bytes 7-8 zero and byte 12 0x0D), so
// a listing rebuilds each frame from its reading alone. Six frames of two sources, their first
// bytes chosen to cover the hex digits 0, 1, 7, 8, D and F in both places, are stored, the file
// is taken back to schema 9 and reopened: the migration must fill both columns from the
// journal, and every listed frame and source must equal what the journal holds.
TEST_F(StoreTest, Migration9To10PutsEachReadingsSourceAndFirstByteOnItsRow) {
  const std::uint8_t leads[] = {0x00, 0x01, 0x7F, 0x80, 0xD0, 0xFF};
  {
    SqliteStore s(path_);
    s.begin();
    const std::uint32_t src[] = {s.source_id("file:a"), s.source_id("file:b")};
    CollectorConfig c;
    MeterEntry e;
    e.id = 7;
    c.meters.push_back(e);
    s.save_registry(c);
    s.commit();
    Validator v{ValidationSettings{}};
    for (int i = 0; i < 6; ++i) {
      Observation o = obs(0, 7, 100 + static_cast<std::uint32_t>(i), 12, 0, kT0 + i * 5 * kMinute);
      o.raw[0] = leads[i];
      test::ingest(s, v, src[i % 2], {o});
    }
    EXPECT_EQ(s.count("readings"), 6);
  }
  {
    SQLite::Database db(path_, SQLite::OPEN_READWRITE);
    test::readings_as_schema_9(db);
    db.exec("PRAGMA user_version = 9");
  }
  SqliteStore s(path_);
  EXPECT_EQ(s.schema_version(), sqlite::kSchemaVersion);
  SQLite::Statement journal(s.db(),
                            "SELECT f.raw, src.name, r.source_id = f.source_id FROM readings r "
                            "JOIN frames f ON f.id = r.frame_id JOIN sources src ON src.id = "
                            "f.source_id ORDER BY r.received_at_us");
  std::vector<StoredReading> listed;
  s.each_reading(7, INT64_MIN, INT64_MAX, [&](const StoredReading& r) { listed.push_back(r); });
  ASSERT_EQ(listed.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(journal.executeStep());
    protocol::RawFrame raw{};
    std::memcpy(raw.data(), journal.getColumn(0).getBlob(), raw.size());
    EXPECT_EQ(raw[0], leads[i]);
    EXPECT_EQ(listed[i].raw, raw) << "frame " << i;
    EXPECT_EQ(listed[i].r.lead, leads[i]);
    EXPECT_EQ(listed[i].source, journal.getColumn(1).getString());
    EXPECT_EQ(listed[i].source, i % 2 ? "file:b" : "file:a");
    EXPECT_EQ(journal.getColumn(2).getInt(), 1) << "frame " << i;
  }
  SQLite::Statement fk(s.db(), "PRAGMA foreign_key_check");
  EXPECT_FALSE(fk.executeStep());
}

}  // namespace
}  // namespace imsm::collector

namespace imsm::collector {
namespace {

// A schema-3 database written by the code of that version (tests/fixtures/schema3: the dump
// of `imsmeter collect` of cap.bin, 6 meters x 6 h at BER 1e-3, before schema 4): after the
// migration every reading of the old `readings` view is in the new table, unchanged, and
// the journal, rejections and events are all still there.
TEST_F(StoreTest, MigratesASchema3DatabaseWrittenByTheOldCode) {
  struct Row {
    std::int64_t meter, at, frame, epoch, kwh, kwh24, peak, resets;
    bool operator==(const Row&) const = default;
  };
  std::vector<Row> before;
  std::int64_t frames = 0, rejected = 0, events = 0;
  {
    SQLite::Database db(path_, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec(
        imsm::test::read_text_file(std::string(IMSM_TESTS_DIR) + "/fixtures/schema3/schema3.sql"));
    ASSERT_EQ(db.execAndGet("PRAGMA user_version").getInt(), 3);
    SQLite::Statement q(db,
                        "SELECT meter_id, received_at_us, frame_id, epoch, total_kwh, kwh24, "
                        "peak_demand_counts, demand_resets FROM readings "
                        "ORDER BY meter_id, received_at_us, frame_id");
    while (q.executeStep())
      before.push_back(Row{q.getColumn(0).getInt64(), q.getColumn(1).getInt64(),
                           q.getColumn(2).getInt64(), q.getColumn(3).getInt64(),
                           q.getColumn(4).getInt64(), q.getColumn(5).getInt64(),
                           q.getColumn(6).getInt64(), q.getColumn(7).getInt64()});
    frames = db.execAndGet("SELECT count(*) FROM frames").getInt64();
    rejected = db.execAndGet("SELECT count(*) FROM rejected").getInt64();
    events = db.execAndGet("SELECT count(*) FROM events").getInt64();
  }
  ASSERT_EQ(before.size(), 403u);  // what the old code stored (fixture README)
  SqliteStore s(path_);
  EXPECT_EQ(s.schema_version(), sqlite::kSchemaVersion);
  std::vector<Row> after;
  std::vector<StoredReading> listed;
  s.each_reading(std::nullopt, INT64_MIN, INT64_MAX, [&](const StoredReading& x) {
    const Reading& r = x.r;
    after.push_back(Row{r.meter_id, r.received_at, r.frame_id, r.epoch, r.total_kwh, r.kwh24,
                        r.peak_demand_counts, r.demand_resets});
    listed.push_back(x);
  });
  EXPECT_EQ(after, before);
  // Each listed frame, rebuilt from its reading (schema 10), is its journal row's bytes.
  SQLite::Statement j(s.db(),
                      "SELECT f.raw, src.name FROM frames f JOIN sources src ON src.id = "
                      "f.source_id WHERE f.id = ?");
  for (const StoredReading& x : listed) {
    j.bind(1, x.r.frame_id);
    ASSERT_TRUE(j.executeStep());
    protocol::RawFrame raw{};
    std::memcpy(raw.data(), j.getColumn(0).getBlob(), raw.size());
    EXPECT_EQ(x.raw, raw) << "frame " << x.r.frame_id;
    EXPECT_EQ(x.source, j.getColumn(1).getString());
    j.reset();
  }
  EXPECT_EQ(s.count("frames"), frames);
  EXPECT_EQ(s.count("rejected"), rejected);
  EXPECT_EQ(s.count("events"), events);
  std::int64_t n = 0;
  for (const auto& [m, c] : s.reading_counts()) n += c;
  EXPECT_EQ(n, 403);  // the migration built the rollups of every reading
  EXPECT_EQ(s.db().execAndGet("PRAGMA integrity_check").getString(), "ok");
  SQLite::Statement fk(s.db(), "PRAGMA foreign_key_check");
  EXPECT_FALSE(fk.executeStep());
}

}  // namespace
}  // namespace imsm::collector
