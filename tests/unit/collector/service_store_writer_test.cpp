// The store writer on a manual clock (issue 9 item 1): commit cadence, a database error as a
// state (degraded, retried with exponential backoff, ok again), nothing lost within the
// memory bound and the excess counted. Failures are real SQLite errors: a second connection
// holding BEGIN IMMEDIATE (SQLITE_BUSY), and max_page_count (SQLITE_FULL, a full disk).
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "collector/service/clock.h"
#include "collector/service/store_writer.h"
#include "collector/store/sqlite/sqlite_store.h"
#include "collector/validate/validator.h"
#include "helpers.h"

namespace imsm::collector::test {
namespace {

using namespace std::chrono_literals;
using service::HealthState;

constexpr std::uint16_t kMeter = 61;

// `n` frames of the registered meter, 5 min apart, kWh rising by 1 from `first`: each one a
// reading at once (a registered meter needs no confirmation; 1 kWh in 5 min is far below the
// default maximum power).
SourceBatch batch(int first, int n) {
  SourceBatch b;
  for (int i = first; i < first + n; ++i) {
    Observation o =
        obs(0, kMeter, static_cast<std::uint32_t>(1000 + i), 0, 0, kT0 + i * 5 * kMinute);
    o.source_id = 1;
    o.stream_offset = static_cast<std::uint64_t>(i) * 12;
    b.observations.push_back(o);
  }
  return b;
}

class StoreWriterTest : public DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    store_ = std::make_unique<SqliteStore>(path_, StoreOptions{false, false, 2048, 0});
    store_->begin();
    source_ = store_->source_id("file:x");  // id 1
    store_->source_id("file:y");            // id 2
    store_->commit();
    validator_.register_meter(kMeter, std::nullopt);
  }
  service::StoreWriter& writer(service::WriterOptions o = options()) {
    writer_ = std::make_unique<service::StoreWriter>(*store_, validator_, clock_, o,
                                                     [this](Store&) { ++counter_saves_; });
    return *writer_;
  }
  static service::WriterOptions options() {
    service::WriterOptions o;
    o.commit_every = 1000ms;
    o.queue_frames = 100;
    o.backoff_min = 100ms;
    o.backoff_max = 400ms;
    return o;
  }
  // What another process sees: committed rows only.
  std::int64_t committed(const char* sql) {
    SQLite::Database other(path_, SQLite::OPEN_READONLY);
    return other.execAndGet(sql).getInt64();
  }

  service::ManualClock clock_{kT0};
  std::unique_ptr<SqliteStore> store_;
  Validator validator_{ValidationSettings{}};
  std::unique_ptr<service::StoreWriter> writer_;
  std::uint32_t source_ = 0;
  int counter_saves_ = 0;
};

TEST_F(StoreWriterTest, CommitsOncePerCommitIntervalOnTheInjectedClock) {
  auto& w = writer();
  EXPECT_EQ(w.health().state, HealthState::Starting);
  w.submit(batch(0, 3));
  w.poll();
  EXPECT_EQ(committed("SELECT count(*) FROM frames"), 0);  // written, not yet committed
  clock_.advance(999ms);
  w.poll();
  EXPECT_EQ(committed("SELECT count(*) FROM frames"), 0);
  clock_.advance(1ms);  // 1000 ms since the writer started: the interval is due
  w.poll();
  EXPECT_EQ(committed("SELECT count(*) FROM frames"), 3);
  EXPECT_EQ(committed("SELECT count(*) FROM readings"), 3);
  EXPECT_EQ(counter_saves_, 1);  // counters saved inside the batch
  EXPECT_EQ(w.stats().commits, 1u);
  EXPECT_EQ(w.health().state, HealthState::Ok);
}

// The commit rule (docs/collector.md "Commit rule"): a frame that finds the writer idle (no
// open batch, the last commit at least prompt_after ago) is committed by the poll that
// brings it; a frame arriving while a batch is open, or within prompt_after of a commit (a
// flood refilling the queue), waits for the cadence, so a flood still commits in groups.
TEST_F(StoreWriterTest, AFrameFindingTheWriterIdleCommitsAtOnceAFloodKeepsTheCadence) {
  auto o = options();  // commit_every 1000 ms
  o.prompt_after = 2ms;
  auto& w = writer(o);
  clock_.advance(2ms);  // idle since the writer started, 2 ms >= prompt_after
  w.submit(batch(0, 1));
  w.poll();
  EXPECT_EQ(committed("SELECT count(*) FROM readings"), 1);  // at once, not after 1000 ms
  EXPECT_EQ(w.stats().commits, 1u);

  // A flood: the next frame comes 0 ms after that commit, then one every 100 ms into the
  // open batch. The batch opened at the commit (t = 2 ms), so it commits at 1002 ms, with
  // all of them: frames 1..10 at 0, 100, ..., 900 ms after it, then frame 11 at 1000 ms.
  for (int i = 1; i <= 10; ++i) {
    if (i > 1) clock_.advance(100ms);
    w.submit(batch(i, 1));
    w.poll();
  }
  EXPECT_EQ(committed("SELECT count(*) FROM readings"), 1) << "a flood must not commit per frame";
  clock_.advance(100ms);
  w.submit(batch(11, 1));
  w.poll();
  EXPECT_EQ(committed("SELECT count(*) FROM readings"), 12);
  EXPECT_EQ(w.stats().commits, 2u);

  // 1 ms after a commit is not idle (1 < 2): this frame waits for the cadence, which counts
  // from that commit (t = 1002 ms) as a flood's next batch does: it commits at 2002 ms.
  clock_.advance(1ms);
  w.submit(batch(12, 1));
  w.poll();
  EXPECT_EQ(committed("SELECT count(*) FROM readings"), 12);
  clock_.advance(998ms);
  w.poll();
  EXPECT_EQ(committed("SELECT count(*) FROM readings"), 12);
  clock_.advance(1ms);
  w.poll();
  EXPECT_EQ(committed("SELECT count(*) FROM readings"), 13);

  // Quiet polls commit nothing; the next frame after 2 ms of quiet is committed at once.
  clock_.advance(2ms);
  w.poll();
  w.poll();
  EXPECT_EQ(w.stats().commits, 3u);
  w.submit(batch(13, 1));
  w.poll();
  EXPECT_EQ(committed("SELECT count(*) FROM readings"), 14);
  EXPECT_EQ(w.stats().commits, 4u);
  // Batches of 1, 11, 1, 1 frames: bounds le 1, 4, 16 hold 3, 3, 4 of them.
  const auto m = w.metrics();
  EXPECT_EQ(m.batch_frames.cumulative()[0], 3u);
  EXPECT_EQ(m.batch_frames.cumulative()[1], 3u);
  EXPECT_EQ(m.batch_frames.cumulative()[2], 4u);
}

TEST_F(StoreWriterTest, LockedDatabaseIsDegradedRetriedWithBackoffThenWrittenInOrder) {
  auto& w = writer();
  SQLite::Database other(path_, SQLite::OPEN_READWRITE);
  other.exec("BEGIN IMMEDIATE");  // another process holds the write lock
  w.submit(batch(0, 4));
  w.poll();
  EXPECT_EQ(w.health().state, HealthState::Degraded);
  EXPECT_NE(w.health().reason.find("locked"), std::string::npos) << w.health().reason;
  EXPECT_EQ(w.stats().store_failures, 1u);
  w.submit(batch(4, 4));  // sources keep reading into memory
  EXPECT_EQ(w.kept_frames(), 8u);
  // Backoff 100 ms, then 200, then 400 (the maximum), then 400 again.
  const std::vector<std::chrono::milliseconds> waits{100ms, 200ms, 400ms, 400ms};
  std::uint64_t failures = 1;
  for (auto wait : waits) {
    clock_.advance(wait - 1ms);
    w.poll();
    EXPECT_EQ(w.stats().store_failures, failures)
        << "retried before the backoff of " << wait.count();
    clock_.advance(1ms);
    w.poll();
    EXPECT_EQ(w.stats().store_failures, ++failures) << "no retry after " << wait.count();
  }
  other.exec("ROLLBACK");
  clock_.advance(400ms);
  w.poll();  // the retry succeeds, then the kept batches are written
  clock_.advance(1000ms);
  w.poll();
  EXPECT_EQ(w.health().state, HealthState::Ok);
  EXPECT_EQ(w.stats().dropped_frames, 0u);
  // Every frame once, in arrival order (stream offsets 0, 12, ... with ids 1..8).
  SQLite::Database check(path_, SQLite::OPEN_READONLY);
  SQLite::Statement q(check, "SELECT id, stream_offset FROM frames ORDER BY id");
  std::int64_t n = 0;
  while (q.executeStep()) {
    EXPECT_EQ(q.getColumn(0).getInt64(), n + 1);
    EXPECT_EQ(q.getColumn(1).getInt64(), n * 12);
    ++n;
  }
  EXPECT_EQ(n, 8);
  EXPECT_EQ(committed("SELECT count(*) FROM readings"), 8);
}

TEST_F(StoreWriterTest, DiskFullMidBatchIsRolledBackAndTheSameBatchReplayedWithTheSameIds) {
  auto o = options();
  o.queue_frames = 5000;
  auto& w = writer(o);
  w.submit(batch(0, 2));
  w.poll();
  clock_.advance(1000ms);
  w.poll();
  ASSERT_EQ(committed("SELECT count(*) FROM frames"), 2);
  // No page may be added: the next batch fails part-way (SQLITE_FULL, as on a full disk).
  const auto pages = store_->db().execAndGet("PRAGMA page_count").getInt64();
  store_->db().exec("PRAGMA max_page_count = " + std::to_string(pages));
  w.submit(batch(2, 2000));  // 2,000 frames of ~40 bytes each need new 16 KiB pages
  w.poll();
  clock_.advance(1000ms);
  w.poll();
  ASSERT_EQ(w.health().state, HealthState::Degraded);
  EXPECT_NE(w.health().reason.find("full"), std::string::npos) << w.health().reason;
  EXPECT_EQ(committed("SELECT count(*) FROM frames"), 2);
  store_->db().exec("PRAGMA max_page_count = 1073741823");
  clock_.advance(1000ms);  // past any backoff: the kept batch is replayed and committed
  w.poll();
  EXPECT_EQ(w.stats().commits, 2u);
  clock_.advance(1000ms);
  w.poll();
  EXPECT_EQ(w.health().state, HealthState::Ok);
  // 2,002 frames, ids 1..2002 without a gap, and every reading refers to the frame of its own
  // stream offset (the replay handed out the ids of the first attempt).
  EXPECT_EQ(committed("SELECT count(*) FROM frames"), 2002);
  EXPECT_EQ(committed("SELECT max(id) FROM frames"), 2002);
  EXPECT_EQ(committed("SELECT count(*) FROM readings"), 2002);
  EXPECT_EQ(committed("SELECT count(*) FROM readings r JOIN frames f ON f.id = r.frame_id "
                      "WHERE f.stream_offset = (r.total_kwh - 1000) * 12"),
            2002);
}

TEST_F(StoreWriterTest, PastTheBoundFramesAreCountedNotKept) {
  auto o = options();
  o.queue_frames = 10;
  auto& w = writer(o);
  SQLite::Database other(path_, SQLite::OPEN_READWRITE);
  other.exec("BEGIN IMMEDIATE");
  w.submit(batch(0, 4));
  w.poll();               // fails: 4 kept
  w.submit(batch(4, 4));  // 8 kept
  w.submit(batch(8, 4));  // 8 + 4 > 10: this batch cannot be kept
  EXPECT_EQ(w.kept_frames(), 8u);
  EXPECT_EQ(w.stats().dropped_frames, 4u);
  other.exec("ROLLBACK");
  EXPECT_TRUE(w.finish());
  EXPECT_EQ(committed("SELECT count(*) FROM frames"), 8);
}

// A source's batch may be larger than the bound (a file source hands over up to 65,536
// frames at once); while nothing is kept it is taken whole. Before, a replay with
// --store-queue-frames below the batch size dropped every frame of a working store.
TEST_F(StoreWriterTest, ABatchLargerThanTheBoundIsTakenWhenNothingIsKept) {
  auto o = options();
  o.queue_frames = 10;
  auto& w = writer(o);
  w.submit(batch(0, 25));  // 25 > 10, nothing kept before it
  EXPECT_EQ(w.kept_frames(), 25u);
  EXPECT_EQ(w.stats().dropped_frames, 0u);
  EXPECT_TRUE(w.finish());
  EXPECT_EQ(committed("SELECT count(*) FROM readings"), 25);
}

TEST_F(StoreWriterTest, FinishWhileTheStoreStillFailsSaysSoAndKeepsTheFrames) {
  auto& w = writer();
  SQLite::Database other(path_, SQLite::OPEN_READWRITE);
  other.exec("BEGIN IMMEDIATE");
  w.submit(batch(0, 3));
  w.poll();
  EXPECT_FALSE(w.finish());
  EXPECT_EQ(w.kept_frames(), 3u);
  other.exec("ROLLBACK");
  EXPECT_TRUE(w.finish());
  EXPECT_EQ(committed("SELECT count(*) FROM frames"), 3);
}

TEST_F(StoreWriterTest, AfterCommitHooksRunOncePerSuccessfulCommit) {
  auto& w = writer();
  int calls = 0;
  w.after_commit([&] { ++calls; });
  w.submit(batch(0, 1));
  w.poll();
  EXPECT_EQ(calls, 0);
  clock_.advance(1000ms);
  w.poll();
  EXPECT_EQ(calls, 1);
  SQLite::Database other(path_, SQLite::OPEN_READWRITE);
  other.exec("BEGIN IMMEDIATE");
  w.submit(batch(1, 1));
  clock_.advance(1000ms);
  w.poll();
  EXPECT_EQ(calls, 1);  // nothing committed while locked
  other.exec("ROLLBACK");
  clock_.advance(100ms);
  w.poll();
  EXPECT_EQ(calls, 2);
}

TEST_F(StoreWriterTest, RejectionsAreCountedPerReasonAgainstTheSourceOfTheRejectedFrame) {
  auto& w = writer();
  // Validator "too fast, held, then rejected when the next frame agrees with the old state":
  // +200 kWh in 5 min is 2,400 kW, above the default maximum of 1,373,760 W, so that frame
  // (heard on source 2) is held; the next frame (source 1) continues from 1001, so the held
  // one is rejected kwh_too_fast while source 1's frame is being decided.
  SourceBatch b = batch(0, 2);  // 1000, 1001 from source 1
  Observation fast = obs(0, kMeter, 1201, 0, 0, kT0 + 10 * kMinute);
  fast.source_id = 2;
  fast.stream_offset = 0;
  Observation next = obs(0, kMeter, 1002, 0, 0, kT0 + 15 * kMinute);
  next.source_id = 1;
  next.stream_offset = 24;
  b.observations.push_back(fast);
  b.observations.push_back(next);
  w.submit(std::move(b));
  ASSERT_TRUE(w.finish());
  const auto too_fast = static_cast<std::size_t>(RejectReason::KwhTooFast);
  auto total = [](const service::RejectCounts& r) {
    std::uint64_t n = 0;
    for (auto x : r) n += x;
    return n;
  };
  EXPECT_EQ(w.rejects(2)[too_fast], 1u);
  EXPECT_EQ(total(w.rejects(2)), 1u);
  EXPECT_EQ(total(w.rejects(1)), 0u);
  EXPECT_EQ(w.stats().rejected, 1u);
  EXPECT_EQ(committed("SELECT count(*) FROM readings"), 3);
}

TEST_F(StoreWriterTest, CommitHistogramsTimeEachCommitOnTheInjectedClockAndCountItsFrames) {
  // The commit's duration is the injected clock's steady time across it: the counters'
  // callback (called inside the commit) moves the manual clock by a chosen cost.
  std::chrono::milliseconds cost{0};
  service::StoreWriter w(*store_, validator_, clock_, options(),
                         [&](Store&) { clock_.advance(cost); });
  EXPECT_EQ(w.collector_now(), kT0);  // no frame, no sweep yet: the injected clock
  w.submit(batch(0, 3));
  w.poll();
  clock_.advance(1000ms);
  cost = 3ms;
  w.poll();  // commit 1: 3 frames in 3 ms
  w.submit(batch(3, 5));
  w.poll();
  clock_.advance(1000ms);
  cost = 40ms;
  w.poll();  // commit 2: 5 frames in 40 ms
  const auto m = w.metrics();
  EXPECT_EQ(m.stats.commits, 2u);
  EXPECT_EQ(m.commit_us.count(), 2u);
  EXPECT_EQ(m.commit_us.sum(), 43'000);  // 3 ms + 40 ms in microseconds
  // Bounds 1, 2.5, 5, 10, 25, 50 ms, ...: 3 ms first fits 5 ms, 40 ms first fits 50 ms.
  EXPECT_EQ(m.commit_us.cumulative()[1], 0u);
  EXPECT_EQ(m.commit_us.cumulative()[2], 1u);
  EXPECT_EQ(m.commit_us.cumulative()[4], 1u);
  EXPECT_EQ(m.commit_us.cumulative()[5], 2u);
  EXPECT_EQ(m.batch_frames.sum(), 8);
  EXPECT_EQ(m.batch_frames.cumulative()[1], 1u);  // le 4: the batch of 3
  EXPECT_EQ(m.batch_frames.cumulative()[2], 2u);  // le 16: and the batch of 5
  EXPECT_EQ(m.kept_frames, 0u);
  // The collector's clock: the newest arrival (frame 7 at 35 min), far past the manual clock's
  // 2.043 s; then a live sweep's time when that is later.
  EXPECT_EQ(m.now, kT0 + 35 * kMinute);
  w.sweep(kT0 + 120 * kMinute);
  EXPECT_EQ(w.collector_now(), kT0 + 120 * kMinute);
}

}  // namespace
}  // namespace imsm::collector::test
