// Restarts change nothing (docs/collector.md "Restarts"; issue 10): the validator's decision
// state survives encoding, the store keeps it with the decisions, and a validator restored at
// any point decides the rest of the frames exactly as the uninterrupted one.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "collector/config.h"
#include "collector/store/store.h"
#include "collector/validate/validator.h"
#include "collector/validate/validator_state.h"
#include "helpers.h"

namespace imsm::collector {
namespace {

using protocol::Burst;
using test::kMinute;
using test::kT0;
using test::obs;

constexpr std::int64_t kCadence = 5 * kMinute;

// Every decision as text, in order (readings, rejections, events, pending changes).
std::string text(const Decisions& d) {
  std::string s;
  for (const auto& r : d.readings)
    s += "R " + std::to_string(r.frame_id) + " " + std::to_string(r.meter_id) + " " +
         std::to_string(r.epoch) + " " + std::to_string(r.total_kwh) + "\n";
  for (const auto& r : d.rejections)
    s += "J " + std::to_string(r.frame_id) + " " + to_string(r.reason) + " " + r.detail + "\n";
  for (const auto& e : d.events)
    s += std::string("E ") + to_string(e.kind) + " " + std::to_string(e.at) + " " +
         e.detail.json() + "\n";
  for (auto id : d.held) s += "H " + std::to_string(id) + "\n";
  for (auto id : d.released) s += "U " + std::to_string(id) + "\n";
  for (const auto& r : d.retracted) s += "X " + std::to_string(r.frame_id) + "\n";
  return s;
}

// A small bus: meters 0x0101, 0x0210, 0x0311 (= 0x0101 | 0x0210), 0x4000 and an unknown
// 0x5555 appearing now and then, with shared bursts, a demand reset, a false reset counter
// and lock-step merges of 0x0101 and 0x0210. Deterministic (seeded).
std::vector<Observation> bus(std::size_t cycles) {
  std::mt19937_64 rng(7);
  std::vector<Observation> out;
  std::int64_t id = 1;
  std::uint32_t kwh[4] = {100, 5000, 70000, 9};
  std::uint8_t resets[4] = {0, 3, 0, 200};
  const std::uint16_t ids[4] = {0x0101, 0x0210, 0x0311, 0x4000};
  for (std::size_t c = 0; c < cycles; ++c) {
    for (int m = 0; m < 4; ++m) {
      kwh[m] += static_cast<std::uint32_t>(rng() % 2);
      if (c == 20 && m == 1) ++resets[m];  // a real key press
      const UtcMicros at = kT0 + static_cast<std::int64_t>(c) * kCadence +
                           m * 7 * kMicrosPerSecond + static_cast<std::int64_t>(rng() % 1000);
      const Burst b = rng() % 5 == 0 ? Burst::Shared : Burst::Alone;
      std::uint8_t r = resets[m];
      if (rng() % 17 == 0) r = 0x0D;              // a neighbour's stop byte in byte 6
      if (m == 3 && c >= 30 && c < 40) continue;  // an outage
      out.push_back(obs(id++, ids[m], kwh[m], static_cast<std::uint16_t>(40 + m), r, at, b));
    }
    if (c % 9 == 4)  // an unknown ID, now and then
      out.push_back(obs(id++, 0x5555, 12, 0, 0,
                        kT0 + static_cast<std::int64_t>(c) * kCadence + 40 * kMicrosPerSecond));
    if (c % 11 == 6)  // a lock-step merge of the first two meters, alone in its burst
      out.push_back(obs(id++, 0x0101 | 0x0210, kwh[0] | kwh[1], 40 | 41, resets[0] | resets[1],
                        kT0 + static_cast<std::int64_t>(c) * kCadence + kMicrosPerSecond / 2));
  }
  return out;
}

Validator fresh() {
  Validator v{ValidationSettings{}};
  v.register_meter(0x4000, 13'200);  // one registered meter, the others discovered
  return v;
}

// The state of `a` through the codec into a fresh validator (as the store does).
Validator through_codec(const Validator& a) {
  Validator b = fresh();
  for (const auto& [id, m] : a.meters()) {
    const auto decoded = decode_meter_state(encode_meter_state(m));
    EXPECT_TRUE(decoded);
    b.restore(*decoded);
  }
  for (std::uint16_t id : a.provisional_id_list()) {
    const auto decoded = decode_candidates(encode_candidates(a.candidates(id)));
    EXPECT_TRUE(decoded);
    b.restore_candidates(id, *decoded);
    if (const auto shared = a.shared_unknown(id); !shared.empty()) {
      const auto back = decode_candidates(encode_candidates({shared}));
      EXPECT_TRUE(back && back->size() == 1);
      b.restore_shared_unknown(id, back->front());
    }
  }
  return b;
}

TEST(ValidatorRestart, StateRestoredAtAnyFrameDecidesTheRestExactlyAsOneRun) {
  const auto frames = bus(60);
  // The uninterrupted run: the decisions after each frame.
  Validator a = fresh();
  std::vector<std::string> expected;
  Decisions d;
  for (const auto& o : frames) {
    a.process(o, d);
    expected.push_back(text(d));
    d.clear();
  }
  // Sanity: the bus made decisions of each kind (else the comparison proves little).
  std::string all;
  for (const auto& e : expected) all += e;
  for (const char* kind : {"R ", "J ", "H ", "E discovered", "E demand_reset"})
    EXPECT_NE(all.find(kind), std::string::npos) << kind;
  for (std::size_t cut = 1; cut < frames.size(); cut += 3) {
    Validator straight = fresh();
    for (std::size_t i = 0; i < cut; ++i) {
      straight.process(frames[i], d);
      d.clear();
    }
    Validator b = through_codec(straight);
    for (std::size_t i = cut; i < frames.size(); ++i) {
      b.process(frames[i], d);
      ASSERT_EQ(text(d), expected[i]) << "restored after frame " << cut << ", at frame " << i;
      d.clear();
    }
  }
}

TEST(ValidatorRestart, APendingDeciderSurvivesTheCodecAndIsOverruledAsInOneRun) {
  // The second lookahead across a restart: held overlapped frame 2 and shared frame 3; frame 4,
  // alone with a flipped counter bit (0 -> 4), continues neither and waits as the decider;
  // frame 5 continues frame 3 and not frame 4. Restored after frame 4, the validator rejects
  // frame 4 and accepts 2, 3 and 5 exactly as the uninterrupted run does.
  const std::vector<Observation> frames = {
      obs(1, 0x4000, 100, 40, 0, kT0),
      obs(2, 0x4000, 101, 40, 0, kT0 + kCadence, Burst::Overlapped),
      obs(3, 0x4000, 102, 40, 0, kT0 + 2 * kCadence, Burst::Shared),
      obs(4, 0x4000, 103, 40, 4, kT0 + 3 * kCadence),
      obs(5, 0x4000, 104, 40, 0, kT0 + 4 * kCadence)};
  Validator a = fresh();
  Decisions d;
  for (std::size_t i = 0; i < 4; ++i) a.process(frames[i], d);
  ASSERT_TRUE(a.meter(0x4000)->decider);
  Validator b = through_codec(a);
  ASSERT_TRUE(b.meter(0x4000)->decider);
  EXPECT_EQ(b.meter(0x4000)->decider->frame_id, 4);
  Decisions da, db;
  a.process(frames[4], da);
  b.process(frames[4], db);
  EXPECT_EQ(text(db), text(da));
  ASSERT_EQ(da.rejections.size(), 1u);
  EXPECT_EQ(da.rejections[0].frame_id, 4);
  EXPECT_EQ(da.readings.size(), 3u);
}

TEST(ValidatorRestart, EveryFieldOfAMeterSurvivesTheCodec) {
  MeterState m;
  m.id = 4242;
  m.registered = true;
  m.max_power_w = 13'200;
  m.discovered_at = kT0 + 5;
  m.silent = true;
  m.epoch = 3;
  m.has_last = true;
  m.last_at = kT0 + 6;
  m.last_total_kwh = (1LL << 24) + 7;
  m.last_kwh24 = 7;
  m.last_peak = 65535;
  m.last_resets = 255;
  m.remember(kT0 + 1, 1);
  m.remember(kT0 + 2, 2);
  m.last_reading = Reading{11, 4242, kT0 + 6, 2, 3, (1LL << 24) + 7, 7, 65535, 255};
  m.held = obs(12, 4242, 9, 1, 2, kT0 + 7, Burst::Shared);
  m.held_reason = RejectReason::KwhBackwards;
  m.held_detail = "why \"quoted\"";
  m.held_suspect = true;
  m.shared_chain = {obs(13, 4242, 10, 1, 2, kT0 + 8, Burst::Shared)};
  m.unanchored = {obs(14, 4242, 11, 1, 2, kT0 + 9, Burst::Unknown)};
  m.merged_at = kT0 + 10;
  m.decider = obs(15, 4242, 12, 1, 2, kT0 + 11, Burst::Overlapped);
  const std::string blob = encode_meter_state(m);
  const auto back = decode_meter_state(blob);
  ASSERT_TRUE(back);
  EXPECT_EQ(encode_meter_state(*back), blob);
  EXPECT_EQ(back->last_total_kwh, (1LL << 24) + 7);
  EXPECT_EQ(back->history_len, 2u);
  EXPECT_EQ(back->held->frame_id, 12);
  EXPECT_EQ(back->held->burst, Burst::Shared);
  EXPECT_EQ(back->held_detail, "why \"quoted\"");
  EXPECT_EQ(back->shared_chain.at(0).raw, m.shared_chain[0].raw);
  EXPECT_EQ(back->unanchored.at(0).burst, Burst::Unknown);
  EXPECT_FALSE(back->prev_reading);
  EXPECT_EQ(*back->merged_at, kT0 + 10);
  EXPECT_EQ(back->decider->frame_id, 15);
  EXPECT_EQ(back->decider->burst, Burst::Overlapped);
  // Every truncation, and another version, is refused rather than half read.
  for (std::size_t n = 0; n < blob.size(); ++n)
    EXPECT_FALSE(decode_meter_state(blob.substr(0, n))) << n;
  std::string other = blob;
  other[0] = 99;
  EXPECT_FALSE(decode_meter_state(other));
  EXPECT_FALSE(decode_meter_state(blob + "x"));
}

class ValidatorStateStore : public test::DbTest {};

// The store writes the state with the decisions' commit and gives it back after reopening;
// a rolled-back batch leaves the state of the last commit.
TEST_F(ValidatorStateStore, StateCommittedWithTheDecisionsIsRestoredAfterReopening) {
  const auto frames = bus(30);
  const std::size_t cut = 50;
  Validator a = fresh();
  {
    auto store = open_store(path_);
    EXPECT_FALSE(store->load_validator_state(a));  // a new store holds none
    Decisions d;
    store->begin();
    const std::uint32_t src = store->source_id("file:bus");
    store->save_validator_state(a);
    for (std::size_t i = 0; i < cut; ++i) {
      Observation o = frames[i];
      o.source_id = src;
      store->journal(o);
      a.process(o, d);
      store->apply(d, a);
      d.clear();
    }
    store->commit();
    // A batch rolled back (a kill before its commit): neither its decisions nor its state.
    Validator scratch = a;
    store->begin();
    Observation o = frames[cut];
    o.source_id = src;
    store->journal(o);
    scratch.process(o, d);
    store->apply(d, scratch);
    d.clear();
    store->rollback();
  }
  auto store = open_store(path_);
  Validator b = fresh();
  ASSERT_TRUE(store->load_validator_state(b));
  ASSERT_EQ(b.meters().size(), a.meters().size());
  for (const auto& [id, m] : a.meters()) {
    ASSERT_NE(b.meter(id), nullptr) << id;
    EXPECT_EQ(encode_meter_state(*b.meter(id)), encode_meter_state(m)) << id;
  }
  EXPECT_EQ(b.provisional_id_list(), a.provisional_id_list());
  for (std::uint16_t id : a.provisional_id_list())
    EXPECT_EQ(encode_candidates(b.candidates(id)), encode_candidates(a.candidates(id)));
  // And it decides on as the validator that never stopped.
  Decisions da, db;
  for (std::size_t i = cut; i < frames.size(); ++i) {
    a.process(frames[i], da);
    b.process(frames[i], db);
    ASSERT_EQ(text(db), text(da)) << "frame " << i;
    da.clear();
    db.clear();
  }
}

}  // namespace
}  // namespace imsm::collector
