// The store's outbox (store.h): every committed reading, rejection, retraction and event in
// one numbered sequence, written in the same transaction; sinks' durable cursors; trimming.
// Run once per store implementation (store_impls.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "collector/collector.h"
#include "collector/sinks/outbox_json.h"
#include "helpers.h"
#include "store_impls.h"

namespace imsm::collector {
namespace {

using test::kMinute;
using test::kT0;

class OutboxTest : public test::StoreContractTest {
 protected:
  void SetUp() override {
    StoreContractTest::SetUp();
    store_ = open();
    store_->begin();
    src_ = store_->source_id("tcp:h:1");
    store_->commit();
  }
  // Journals and decides, as the ingest loop does, in one batch.
  void ingest(std::vector<Observation> in) {
    Decisions d;
    store_->begin();
    for (auto& o : in) {
      o.source_id = src_;
      store_->journal(o);
      v_.process(o, d);
      store_->apply(d, v_);
      d.clear();
    }
    store_->commit();
  }
  // A meter in the configuration, saved in the store and known to the validator.
  void register_meter(std::uint16_t id) {
    CollectorConfig c;
    MeterEntry e;
    e.id = id;
    c.meters.push_back(e);
    store_->begin();
    store_->save_registry(c);
    store_->commit();
    register_meters(c, v_);
  }
  std::unique_ptr<Store> store_;
  Validator v_{ValidationSettings{}};
  std::uint32_t src_ = 0;
};

// Meter 40, unknown: its first frame is pending, the second confirms both (two readings and
// a `discovered` event); a third frame of meter 40 from a shared burst, 5 minutes later, whose
// kWh jumped from 101 to 100,000 (about 1.2 GW) is rejected at once (implausible, and a
// shared burst cannot be a replacement waiting for its next frame: kwh_too_fast). The store
// writes a decision's readings, then its rejections, then its events, so the outbox reads:
// reading 100, reading 101, event discovered, rejection.
TEST_P(OutboxTest, EveryCommittedChangeInOrderWithWhatItRefersTo) {
  ingest({test::obs(0, 40, 100, 0, 0, kT0), test::obs(0, 40, 101, 0, 0, kT0 + 5 * kMinute),
          test::obs(0, 40, 100'000, 0, 0, kT0 + 10 * kMinute, protocol::Burst::Shared)});
  const auto items = store_->outbox_after(0, 100);
  ASSERT_EQ(items.size(), 4u);
  for (std::size_t i = 0; i < items.size(); ++i) EXPECT_EQ(items[i].seq, i + 1);
  EXPECT_EQ(items[0].kind, OutboxKind::Reading);
  ASSERT_TRUE(items[0].reading);
  EXPECT_EQ(items[0].reading->r.total_kwh, 100);
  EXPECT_EQ(items[0].reading->source, "tcp:h:1");
  EXPECT_EQ(items[1].kind, OutboxKind::Reading);
  EXPECT_EQ(items[1].reading->r.total_kwh, 101);
  EXPECT_EQ(items[2].kind, OutboxKind::Event);
  ASSERT_TRUE(items[2].event);
  EXPECT_EQ(items[2].event->e.kind, EventKind::Discovered);
  EXPECT_EQ(items[3].kind, OutboxKind::Rejection);
  ASSERT_TRUE(items[3].rejection);
  EXPECT_EQ(items[3].rejection->reason, "kwh_too_fast");
  EXPECT_EQ(store_->outbox_after(2, 1).front().seq, 3u);  // the cursor and the limit
  EXPECT_EQ(store_->outbox_status().head, 4u);
}

// A rolled-back batch takes its ids back: replaying the same calls gives the same frame ids
// and sequence numbers (what the collector relies on to retry a batch the database refused).
TEST_P(OutboxTest, RollbackRestoresIdsSoARetriedBatchIsIdentical) {
  // Each attempt decides with a fresh validator, alive until its batch ends (Store::apply).
  Validator v1(ValidationSettings{}), v2(ValidationSettings{});
  auto batch = [&](Validator& v) {
    std::vector<Observation> in = {test::obs(0, 40, 100, 0, 0, kT0),
                                   test::obs(0, 40, 101, 0, 0, kT0 + 5 * kMinute)};
    Decisions d;
    store_->begin();
    std::vector<std::int64_t> ids;
    for (auto& o : in) {
      o.source_id = src_;
      store_->journal(o);
      ids.push_back(o.frame_id);
      v.process(o, d);
      store_->apply(d, v);
      d.clear();
    }
    return ids;
  };
  const auto first = batch(v1);
  store_->rollback();
  EXPECT_EQ(store_->count("frames"), 0);
  const auto again = batch(v2);
  store_->commit();
  EXPECT_EQ(first, again);
  EXPECT_EQ(store_->outbox_status().head, 3u);  // 2 readings + discovered, numbered from 1
  EXPECT_EQ(store_->outbox_after(0, 10).front().seq, 1u);
}

// A withdrawn reading is published as a retraction naming its frame, and its own entry
// still reads back from the journal (what was published is not rewritten).
TEST_P(OutboxTest, ARetractionFollowsTheReadingItWithdraws) {
  register_meter(17);
  // Derivation as in StoreTest.EventsOfARetractedReadingAreMarkedRetracted: a one-off kWh
  // wrap (0xFFFFFE -> 0x000000) is accepted; the next two frames (0xFFFFFF) agree with the one
  // before it, so it is retracted.
  ingest({test::obs(0, 17, 0xFFFFFE, 199, 0, kT0), test::obs(0, 17, 0, 199, 0, kT0 + 5 * kMinute),
          test::obs(0, 17, 0xFFFFFF, 199, 0, kT0 + 10 * kMinute),
          test::obs(0, 17, 0xFFFFFF, 199, 0, kT0 + 15 * kMinute)});
  std::int64_t published = 0, withdrawn = 0;
  for (const auto& it : store_->outbox_after(0, 100)) {
    if (it.kind == OutboxKind::Reading && it.reading->r.kwh24 == 0)
      published = it.reading->r.frame_id;
    if (it.kind == OutboxKind::Retraction) {
      withdrawn = it.reading->r.frame_id;
      EXPECT_EQ(it.reading->r.kwh24, 0u);
      EXPECT_EQ(it.reading->r.meter_id, 17);
    }
  }
  EXPECT_NE(published, 0);
  EXPECT_EQ(withdrawn, published);
}

TEST_P(OutboxTest, TrimKeepsWhatTheSlowestSinkHasNotReadAndCountsWhatTheBoundDrops) {
  std::vector<Observation> in;
  for (int i = 0; i < 10; ++i)
    in.push_back(
        test::obs(0, 40, 100 + static_cast<std::uint32_t>(i), 0, 0, kT0 + i * 5 * kMinute));
  ingest(in);  // 10 readings + discovered = 11 entries
  ASSERT_EQ(store_->outbox_status().head, 11u);
  store_->save_sink_cursor("fast", 9);
  store_->save_sink_cursor("slow", 4);
  store_->save_sink_cursor("slow", 2);  // a cursor never moves back
  EXPECT_EQ(store_->sink_cursor("slow"), 4u);
  EXPECT_EQ(store_->sink_cursor("new"), 0u);
  EXPECT_EQ(store_->trim_outbox(100), 0u);  // 1..4 read by both: dropped, not counted
  EXPECT_EQ(store_->outbox_status().oldest, 5u);
  EXPECT_EQ(store_->trim_outbox(3), 4u);  // 5..11 is 7 entries; keep 3: 4 dropped unsent
  const auto st = store_->outbox_status();
  EXPECT_EQ(st.oldest, 9u);
  EXPECT_EQ(st.head, 11u);
  EXPECT_EQ(st.trimmed_unsent, 4u);
}

// The HTTP event stream reads the outbox too, after each commit and after the sinks: trimming
// what every sink has read must stop at what the stream has read, or its clients never see
// those entries (with an MQTT sink, SSE lost 16 of 1,000 readings). Sinks read 1..9, the stream
// 1..3: a trim keeps 4..11 (8 entries, within the bound: none counted as dropped).
TEST_P(OutboxTest, TrimKeepsWhatTheEventStreamHasNotRead) {
  std::vector<Observation> in;
  for (int i = 0; i < 10; ++i)
    in.push_back(
        test::obs(0, 40, 100 + static_cast<std::uint32_t>(i), 0, 0, kT0 + i * 5 * kMinute));
  ingest(in);  // 11 entries
  store_->save_sink_cursor("mqtt", 9);
  EXPECT_EQ(store_->trim_outbox(100, 3), 0u);
  EXPECT_EQ(store_->outbox_status().oldest, 4u);
  EXPECT_EQ(store_->outbox_status().trimmed_unsent, 0u);
  EXPECT_EQ(store_->trim_outbox(100, 20), 0u);  // the stream is ahead: the sinks decide
  EXPECT_EQ(store_->outbox_status().oldest, 10u);
}

// Every sink read everything, the outbox is trimmed empty, the store reopens: the next
// entries continue the sequence (a sink's cursor must never see a number again).
TEST_P(OutboxTest, NumbersNeverRepeatAfterTheOutboxWasTrimmedEmpty) {
  ingest({test::obs(0, 40, 100, 0, 0, kT0), test::obs(0, 40, 101, 0, 0, kT0 + 5 * kMinute)});
  store_->save_sink_cursor("all", 3);  // 2 readings + discovered
  store_->trim_outbox(100);
  EXPECT_EQ(store_->count("outbox"), 0);
  store_.reset();
  store_ = open();
  for (const auto& m : store_->load_meter_states()) v_.restore(m);
  ingest({test::obs(0, 40, 102, 0, 0, kT0 + 10 * kMinute)});
  const auto items = store_->outbox_after(store_->sink_cursor("all"), 10);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].seq, 4u);
}

// A known meter's frame put on hold (docs/collector.md "Hindsight") is published at once as
// provisional, and the entry that decides it later says so. Derivation as in
// ValidatorHindsight.Guide3_8_RealDemandResetIsConfirmedByTheNextFrame and
// ...ResetJumpNotRepeatedByTheNextFrameIsNoise: frame 2 (counter 4 -> 5, peak cleared) is held
// and confirmed by frame 3 (counter 5 again); frame 4, from a shared burst, has counter 13
// (a neighbour's 0x0D stop byte), is held, and frame 5 (counter 5), which would reject it, is
// held too until frame 6 (continuing frame 5) shows it is not the odd one (the second
// lookahead, ValidatorLookahead): frame 5 withdraws frame 4 and is confirmed.
TEST_P(OutboxTest, AHeldFrameIsProvisionalUntilTheEntryThatConfirmsOrWithdrawsIt) {
  register_meter(7);
  ingest({test::obs(0, 7, 50, 300, 4, kT0), test::obs(0, 7, 51, 0, 5, kT0 + 5 * kMinute),
          test::obs(0, 7, 52, 0, 5, kT0 + 10 * kMinute),
          test::obs(0, 7, 54, 0, 13, kT0 + 35 * kMinute, protocol::Burst::Shared),
          test::obs(0, 7, 55, 0, 5, kT0 + 40 * kMinute),
          test::obs(0, 7, 56, 0, 5, kT0 + 45 * kMinute)});
  // Frame ids follow the journal: 1..6.
  std::map<std::int64_t, std::vector<const OutboxItem*>> by_frame;
  const auto items = store_->outbox_after(0, 100);
  for (const auto& it : items) {
    const std::int64_t f = it.reading     ? it.reading->r.frame_id
                           : it.rejection ? it.rejection->frame_id
                                          : 0;
    if (f != 0) by_frame[f].push_back(&it);
  }
  for (std::int64_t f : {1, 3, 6}) {  // accepted at once: one plain reading each
    ASSERT_EQ(by_frame[f].size(), 1u) << f;
    EXPECT_EQ(by_frame[f][0]->kind, OutboxKind::Reading);
    EXPECT_FALSE(by_frame[f][0]->decides_provisional);
  }
  ASSERT_EQ(by_frame[2].size(), 2u);
  EXPECT_EQ(by_frame[2][0]->kind, OutboxKind::Provisional);
  EXPECT_EQ(by_frame[2][0]->reading->r.demand_resets, 5);
  EXPECT_EQ(by_frame[2][1]->kind, OutboxKind::Reading);
  EXPECT_TRUE(by_frame[2][1]->decides_provisional);
  EXPECT_EQ(by_frame[2][1]->reading->r.total_kwh, 51);
  ASSERT_EQ(by_frame[4].size(), 2u);
  EXPECT_EQ(by_frame[4][0]->kind, OutboxKind::Provisional);
  EXPECT_EQ(by_frame[4][0]->reading->r.demand_resets, 13);
  EXPECT_EQ(by_frame[4][1]->kind, OutboxKind::Rejection);
  EXPECT_TRUE(by_frame[4][1]->decides_provisional);
  EXPECT_EQ(by_frame[4][1]->rejection->reason, "held_not_confirmed");
  ASSERT_EQ(by_frame[5].size(), 2u);
  EXPECT_EQ(by_frame[5][0]->kind, OutboxKind::Provisional);
  EXPECT_EQ(by_frame[5][1]->kind, OutboxKind::Reading);
  EXPECT_TRUE(by_frame[5][1]->decides_provisional);
  EXPECT_EQ(store_->count("pending"), 0);
  // The JSON says the same to a sink's reader.
  EXPECT_NE(outbox_json(*by_frame[2][1]).find("\"confirms_provisional\":true"), std::string::npos);
  EXPECT_NE(outbox_json(*by_frame[4][1]).find("\"withdraws_provisional\":true"), std::string::npos);
  EXPECT_NE(outbox_json(*by_frame[4][0]).find("\"type\":\"provisional\""), std::string::npos);
}

// After 256 meters, BER 1e-4, meter 33580: frame 2 (overlapped) is held and frame 3 (shared)
// waits with it; frame 4, alone, is back 1 kWh from frame 3 and has a peak bit cleared (298 for
// 300): it continues neither held frame and waits as the decider. It fell from the held frames in
// kWh and from the last reading in the peak, so it is no lone step down (docs/collector.md
// "Second lookahead"), and frame 5 (alone, 104 kWh, peak 300) continues it too: the decider
// decides. Frames 2 and 3 are rejected, frame 4 is held again (alone, its peak fell from the last
// reading), and frame 5, which agrees with the last reading, rejects it, all in one decision:
// frame 4 was held, released and rejected there, and was left pending as well as rejected.
TEST_P(OutboxTest, AFrameHeldAgainAndRejectedInOneDecisionIsNotLeftPending) {
  register_meter(7);
  ingest({test::obs(0, 7, 100, 300, 0, kT0),
          test::obs(0, 7, 101, 300, 0, kT0 + 5 * kMinute, protocol::Burst::Overlapped),
          test::obs(0, 7, 102, 300, 0, kT0 + 10 * kMinute, protocol::Burst::Shared),
          test::obs(0, 7, 101, 298, 0, kT0 + 15 * kMinute)});
  ASSERT_NE(v_.meter(7)->decider, std::nullopt);
  EXPECT_EQ(store_->count("pending"), 3);
  ingest({test::obs(0, 7, 104, 300, 0, kT0 + 20 * kMinute)});
  EXPECT_EQ(store_->count("pending"), 0);
  EXPECT_EQ(store_->count("rejected"), 3);
  const auto items = store_->outbox_after(0, 100);
  const auto withdrawn = std::find_if(items.begin(), items.end(), [](const OutboxItem& it) {
    return it.rejection && it.rejection->frame_id == 4;
  });
  ASSERT_NE(withdrawn, items.end());
  EXPECT_EQ(withdrawn->rejection->reason, "peak_fell");
  EXPECT_TRUE(withdrawn->decides_provisional);
}

INSTANTIATE_TEST_SUITE_P(Stores, OutboxTest, ::testing::ValuesIn(test::store_impls()),
                         test::store_impl_name);

}  // namespace
}  // namespace imsm::collector
