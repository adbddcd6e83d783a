// EventStream (collector/http/event_stream.h): one reader of the outbox fanned out to every
// client; a client behind the ring catches up from the store without gaps or repeats; the
// number of open streams is bounded. A real SQLite file: a writer connection ingests, the
// stream reads through its own read-only one (as under `collect --http`).
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "collector/http/event_stream.h"
#include "collector/store/sqlite/sqlite_store.h"
#include "helpers.h"

namespace imsm::collector::http {
namespace {

using test::kMinute;
using test::kT0;

class EventStreamTest : public test::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    writer_ = std::make_unique<SqliteStore>(path_);
    writer_->begin();
    src_ = writer_->source_id("tcp:h:1");
    writer_->commit();
    reader_ = open_store(path_, StoreOptions{true, false});
  }
  // `n` frames of meter 40, five minutes apart, from kWh `kwh`, committed in one batch.
  void ingest(int n, std::uint32_t kwh) {
    Decisions d;
    writer_->begin();
    for (int i = 0; i < n; ++i) {
      auto o = test::obs(0, 40, kwh + static_cast<std::uint32_t>(i), 0, 0,
                         kT0 + (kwh + i) * 5 * kMinute);
      o.source_id = src_;
      writer_->journal(o);
      v_.process(o, d);
      writer_->apply(d, v_);
      d.clear();
    }
    writer_->commit();
  }
  // The ids of the SSE frames in `text`, in order.
  static std::vector<std::uint64_t> ids(const std::string& text) {
    std::vector<std::uint64_t> out;
    // Each frame's lines start at the text's start or after a '\n'.
    for (std::size_t at = 0; at < text.size();) {
      const auto end = text.find('\n', at);
      if (end == std::string::npos) break;
      const std::string_view line(text.data() + at, end - at);
      if (line.starts_with("id: ")) out.push_back(std::stoull(std::string(line.substr(4))));
      at = end + 1;
    }
    return out;
  }
  // Reads frames until the client's cursor reaches `head`.
  static std::vector<std::uint64_t> read_until(EventStream::Client& c, std::uint64_t head) {
    std::vector<std::uint64_t> got;
    std::string out;
    while (c.cursor() < head) {
      EXPECT_TRUE(c.next(out));
      for (auto i : ids(out)) got.push_back(i);
    }
    return got;
  }
  std::unique_ptr<SqliteStore> writer_;
  std::unique_ptr<Store> reader_;
  std::mutex mutex_;
  Validator v_{ValidationSettings{}};
  std::uint32_t src_ = 0;
};

// A ring of 3 frames and 13 outbox entries (meter 40, unknown: its second frame confirms the
// first, so 12 readings and one `discovered` event; the outbox table is the expectation): a
// client from id 0 reads the older entries from the store, then the ring, each once, in order.
TEST_F(EventStreamTest, ClientBehindTheRingCatchesUpWithoutGapsOrRepeats) {
  StreamOptions o;
  o.ring_frames = 3;
  o.page = 4;
  EventStream s(*reader_, mutex_, o);
  s.start();
  ingest(12, 100);
  const auto head = writer_->outbox_status().head;
  std::vector<std::uint64_t> expected;
  for (const auto& item : writer_->outbox_after(0, 1000)) expected.push_back(item.seq);
  ASSERT_EQ(expected.size(), 13u);
  s.notify();
  auto c = s.open(0);
  ASSERT_TRUE(c);
  EXPECT_EQ(read_until(*c, head), expected);
}

// A client without Last-Event-ID starts at the store's head: it sees only what is committed
// after it opened, and that exactly once.
TEST_F(EventStreamTest, NewClientSeesOnlyLaterCommits) {
  EventStream s(*reader_, mutex_, StreamOptions{});
  s.start();
  ingest(3, 100);
  const auto before = writer_->outbox_status().head;
  auto c = s.open(std::nullopt);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cursor(), before);
  ingest(2, 200);  // readings 200 and 201, and whatever the validator held back from before
  s.notify();
  // What was committed after the client opened is exactly the outbox entries (before, head]
  // (the outbox numbers entries consecutively), however many the validator released.
  const auto head = writer_->outbox_status().head;
  ASSERT_GE(head, before + 2);
  std::vector<std::uint64_t> expected;
  for (auto seq = before + 1; seq <= head; ++seq) expected.push_back(seq);
  EXPECT_EQ(read_until(*c, head), expected);
}

TEST_F(EventStreamTest, OpenStreamsAreBoundedAndAClosedOneFreesItsSlot) {
  StreamOptions o;
  o.max_streams = 2;
  EventStream s(*reader_, mutex_, o);
  s.start();
  auto a = s.open(std::nullopt);
  auto b = s.open(std::nullopt);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(s.open(std::nullopt));
  EXPECT_EQ(s.open_streams(), 2u);
  a.reset();
  EXPECT_TRUE(s.open(std::nullopt));
}

// stop() wakes a client waiting for frames: next() returns false, so the server's worker
// thread can be joined.
TEST_F(EventStreamTest, StopEndsWaitingClients) {
  StreamOptions o;
  o.keepalive = std::chrono::milliseconds(60'000);
  EventStream s(*reader_, mutex_, o);
  s.start();
  auto c = s.open(std::nullopt);
  ASSERT_TRUE(c);
  std::thread stopper([&] { s.stop(); });
  std::string out;
  EXPECT_FALSE(c->next(out));  // returns at stop, not after the 60 s keepalive
  stopper.join();
}

TEST(SseFrame, IdEventAndOneDataLine) {
  OutboxItem item;
  item.seq = 7;
  item.kind = OutboxKind::Event;
  StoredEvent e;
  e.id = 3;
  e.e.kind = EventKind::Silent;
  e.source = "line\nbreak";  // escaped by the JSON: still one data line
  item.event = e;
  const auto f = sse_frame(item);
  EXPECT_EQ(f.rfind("id: 7\nevent: event\ndata: {", 0), 0u) << f;
  EXPECT_EQ(f.substr(f.size() - 3), "}\n\n");
  EXPECT_EQ(std::count(f.begin(), f.end(), '\n'), 4);  // id, event, data, blank
}

}  // namespace
}  // namespace imsm::collector::http
