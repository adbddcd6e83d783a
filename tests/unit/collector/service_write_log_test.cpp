// WriteLog (issue 9 item 2): a batch replayed after rollback() writes the same rows with the
// same frame and event ids, in the same order, without running the validator again.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include "collector/service/write_log.h"
#include "collector/store/sqlite/sqlite_store.h"
#include "collector/validate/validator.h"
#include "helpers.h"

namespace imsm::collector::test {
namespace {

class WriteLogTest : public DbTest {};

// Rows as a text dump, to compare a first attempt with its replay.
std::string dump(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  std::string out;
  for (const char* sql : {"SELECT id || ':' || stream_offset FROM frames ORDER BY id",
                          "SELECT frame_id || ':' || total_kwh FROM readings ORDER BY frame_id",
                          "SELECT frame_id || ':' || reason FROM rejected ORDER BY frame_id",
                          "SELECT id || ':' || kind FROM events ORDER BY id",
                          "SELECT frame_id FROM pending ORDER BY frame_id"}) {
    SQLite::Statement q(db, sql);
    while (q.executeStep()) out += q.getColumn(0).getString() + " ";
    out += "| ";
  }
  return out;
}

TEST_F(WriteLogTest, ReplayAfterRollbackWritesTheSameRowsWithTheSameIds) {
  // A registered meter (readings at once), an unknown one seen once (held pending), a held
  // too-fast frame later rejected (validator "too fast, held, then rejected"): readings,
  // rejections, held and released frames and events all go through the log.
  const std::vector<Observation> frames{
      obs(0, 5, 100, 0, 0, kT0),
      obs(0, 5, 101, 0, 0, kT0 + 5 * kMinute),
      obs(0, 900, 7, 0, 0, kT0 + 6 * kMinute),
      obs(0, 5, 400, 0, 0, kT0 + 10 * kMinute),  // +299 kWh in 5 min: too fast, held
      obs(0, 5, 102, 0, 0, kT0 + 15 * kMinute),  // agrees with 101: the held one rejected
  };
  auto run = [&](bool fail_first) {
    SqliteStore store(path_, StoreOptions{false, false, 2048, 0});
    Validator v{ValidationSettings{}};
    v.register_meter(5, std::nullopt);
    store.begin();
    const auto source = store.source_id("file:x");
    store.commit();
    service::WriteLog log;
    Decisions d;
    store.begin();
    for (std::size_t i = 0; i < frames.size(); ++i) {
      Observation o = frames[i];
      o.source_id = source;
      o.stream_offset = i * 12;
      store.journal(o);
      log.journal(o);
      v.process(o, d);
      log.apply(d);
      store.apply(d, v);
      d.clear();
    }
    if (fail_first) {
      store.rollback();
      store.begin();
      log.replay(store, v);
    }
    store.commit();
  };
  run(false);
  const std::string once = dump(path_);
  std::filesystem::remove(path_);
  std::filesystem::remove(path_ + "-wal");
  std::filesystem::remove(path_ + "-shm");
  run(true);
  EXPECT_EQ(dump(path_), once);
  // Sanity of the scenario itself: 5 frames, the too-fast one (id 4) rejected.
  EXPECT_NE(once.find("1:0 2:12 3:24 4:36 5:48"), std::string::npos) << once;
  EXPECT_NE(once.find("4:kwh_too_fast"), std::string::npos) << once;
}

TEST_F(WriteLogTest, AStoreHandingOutOtherIdsOnReplayIsALogicError) {
  SqliteStore store(path_, StoreOptions{false, false, 2048, 0});
  store.begin();
  const auto source = store.source_id("file:x");
  service::WriteLog log;
  Observation o = obs(0, 5, 100, 0, 0, kT0);
  o.source_id = source;
  store.journal(o);
  log.journal(o);
  Validator v{ValidationSettings{}};
  // No rollback: the store's next id has moved on, so the replayed frame gets id 2, not 1.
  EXPECT_THROW(log.replay(store, v), std::logic_error);
  store.rollback();
}

}  // namespace
}  // namespace imsm::collector::test
