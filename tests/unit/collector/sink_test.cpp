// Sinks: the registry, the JSON form of outbox items, and the jsonl sink fed by the pump,
// catching up from its durable cursor after being stopped.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "collector/sinks/outbox_json.h"
#include "collector/sinks/sink.h"
#include "collector/sinks/sink_pump.h"
#include "collector/store/sqlite/sqlite_store.h"
#include "helpers.h"
#include "ingest.h"

namespace imsm::collector {
namespace {

using test::kMinute;
using test::kT0;

TEST(Sinks, UnknownKindsAndMissingTargetsAreErrorsNamingThem) {
  try {
    (void)make_sink("kafka:x");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown kind (known: jsonl, mqtt, mqtts)"),
              std::string::npos);
  }
  EXPECT_THROW((void)make_sink("jsonl:"), std::invalid_argument);
  EXPECT_THROW((void)make_sink("jsonl:/nonexistent-dir/x.jsonl"), std::runtime_error);
}

// Hand-built item: the guide's frame (2.5.2: meter 2578, 3313 counts = 66,260 W, 195 resets,
// 678,299 kWh) as reading seq 7; every string escaped, integers exact.
TEST(OutboxJson, ReadingAndEventLines) {
  OutboxItem item;
  item.seq = 7;
  item.kind = OutboxKind::Reading;
  StoredReading s;
  s.r = Reading{12, 2578, kT0, 1, 0, 678'299, 678'299, 3313, 195};
  s.source = "serial:/dev/tty\"USB0\"";
  const auto& v = imsm::test::frame_vectors().at(0);
  std::copy(v.raw.begin(), v.raw.end(), s.raw.begin());
  item.reading = s;
  const auto j = nlohmann::json::parse(outbox_json(item));
  EXPECT_EQ(j["seq"], 7);
  EXPECT_EQ(j["type"], "reading");
  EXPECT_EQ(j["meter_id"], 2578);
  EXPECT_EQ(j["received_at"], "2026-11-01T00:00:00.000000Z");
  EXPECT_EQ(j["total_kwh"], 678'299);
  EXPECT_EQ(j["peak_demand_w"], 66'260);
  EXPECT_EQ(j["demand_resets"], 195);
  EXPECT_EQ(j["source"], "serial:/dev/tty\"USB0\"");
  EXPECT_EQ(j["raw"], "000a120cf1c300000a599b0d");

  OutboxItem ev;
  ev.seq = 8;
  ev.kind = OutboxKind::Event;
  StoredEvent e;
  e.id = 3;
  e.e = Event{kT0, EventKind::SourceDown, std::nullopt, 1,
              EventDetail{}.add("error", std::string("bad \"line\"\n"))};
  ev.event = e;
  const auto k = nlohmann::json::parse(outbox_json(ev));
  EXPECT_EQ(k["kind"], "source_down");
  EXPECT_TRUE(k["meter_id"].is_null());
  EXPECT_EQ(k["detail"]["error"], "bad \"line\"\n");
}

class SinkPumpTest : public test::DbTest {
 protected:
  void ingest(SqliteStore& s, Validator& v, int from, int to) {
    test::ingest_series(s, v, 40, from, to, 0);
  }
  std::vector<std::uint64_t> seqs_in(const std::string& path) {
    std::vector<std::uint64_t> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);)
      out.push_back(nlohmann::json::parse(line)["seq"].get<std::uint64_t>());
    return out;
  }
};

// 10 frames of meter 40: 10 readings + discovered = outbox 1..11. The sink reads in batches
// of 4, is stopped (the pump destroyed) at 11, 10 more frames arrive (12..21), and a new
// pump on the same file continues from the stored cursor: 1..21, each exactly once.
TEST_F(SinkPumpTest, JsonlSinkCatchesUpFromItsCursorAfterBeingStopped) {
  const std::string out = (dir_ / "out.jsonl").string();
  SqliteStore s(path_);
  Validator v(ValidationSettings{});
  ingest(s, v, 0, 10);
  const auto t = std::chrono::steady_clock::time_point{};
  {
    std::vector<std::unique_ptr<Sink>> sinks;
    sinks.push_back(make_sink("jsonl:" + out));
    SinkPump pump(s, std::move(sinks), SinkPumpOptions{4});
    EXPECT_EQ(pump.poll(t, 2), 8u);  // two batches of 4 this poll
    EXPECT_EQ(pump.poll(t), 3u);
    EXPECT_EQ(pump.status().at(0).cursor, 11u);
  }
  ingest(s, v, 10, 20);
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(make_sink("jsonl:" + out));
  SinkPump pump(s, std::move(sinks), SinkPumpOptions{4});
  EXPECT_EQ(pump.poll(t), 10u);
  std::vector<std::uint64_t> want(21);
  for (std::uint64_t i = 0; i < want.size(); ++i) want[i] = i + 1;
  EXPECT_EQ(seqs_in(out), want);
  EXPECT_EQ(s.sink_cursor("jsonl:" + out), 21u);
}

// The bound holds inside a replay too: a poll after a batch that took the outbox more than an
// eighth over its bound trims it, not only every 64th poll. Derivation: 20 readings of a new
// meter give outbox 1..21 (discovered event + 20 readings); the first poll trims (poll 0) to
// the newest 8, 14..21; 10 more give 14..31 (18 > 8 + 1): the second poll trims to 24..31.
TEST_F(SinkPumpTest, TheOutboxBoundHoldsBetweenTheRoutineTrims) {
  SqliteStore s(path_);
  Validator v(ValidationSettings{});
  ingest(s, v, 0, 20);
  SinkPump pump(s, {}, SinkPumpOptions{100, 8});
  const auto t = std::chrono::steady_clock::time_point{};
  pump.poll(t);
  EXPECT_EQ(s.outbox_status().oldest, 14u);
  ingest(s, v, 20, 30);
  pump.poll(t);
  EXPECT_EQ(s.outbox_status().head, 31u);
  EXPECT_EQ(s.outbox_status().oldest, 24u);
  ingest(s, v, 30, 31);  // 24..32: 9 entries, within 8 + 1: no trim until the 64th poll
  pump.poll(t);
  EXPECT_EQ(s.outbox_status().oldest, 24u);
}

// A sink that throws is degraded, retried after its backoff, and loses nothing.
TEST_F(SinkPumpTest, AFailingSinkIsRetriedAndLosesNothing) {
  struct Flaky final : Sink {
    std::string n = "flaky";
    int fail = 2;
    std::vector<std::uint64_t> got;
    const std::string& name() const override { return n; }
    std::uint64_t consume(const std::vector<OutboxItem>& b) override {
      if (fail-- > 0) throw std::runtime_error("broker away");
      for (const auto& i : b) got.push_back(i.seq);
      return b.back().seq;
    }
  };
  SqliteStore s(path_);
  Validator v(ValidationSettings{});
  ingest(s, v, 0, 3);  // outbox 1..4
  auto flaky = std::make_unique<Flaky>();
  Flaky* f = flaky.get();
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::move(flaky));
  SinkPump pump(s, std::move(sinks), SinkPumpOptions{100, 1000, std::chrono::milliseconds(200)});
  const auto t0 = std::chrono::steady_clock::time_point{};
  EXPECT_EQ(pump.poll(t0), 0u);
  EXPECT_FALSE(pump.status()[0].ok);
  EXPECT_EQ(pump.status()[0].error, "broker away");
  EXPECT_EQ(pump.poll(t0 + std::chrono::milliseconds(100)), 0u);  // before its backoff: skipped
  EXPECT_EQ(f->fail, 1);
  EXPECT_EQ(pump.poll(t0 + std::chrono::milliseconds(200)), 0u);  // second failure: 400 ms
  EXPECT_EQ(pump.poll(t0 + std::chrono::milliseconds(700)), 4u);
  EXPECT_TRUE(pump.status()[0].ok);
  EXPECT_EQ(f->got, (std::vector<std::uint64_t>{1, 2, 3, 4}));
}

}  // namespace
}  // namespace imsm::collector
