// The virtual RS485 bus (docs/simulate.md "Bus model"; guide 2.5.1: 9600 8N1).
#include "sim/bus_model.h"

#include <gtest/gtest.h>

#include <cmath>

#include "protocol/stream_framer.h"
#include "support/vectors.h"

namespace imsm::sim {
namespace {

protocol::RawFrame guide_frame() {
  const auto& v = test::frame_vectors().at(0).raw;
  protocol::RawFrame f{};
  std::copy(v.begin(), v.end(), f.begin());
  return f;
}

protocol::RawFrame frame_with_id(std::uint16_t id) {
  protocol::Frame f = *protocol::decode(guide_frame());
  f.meter_id.value = id;
  return protocol::encode(f);
}

TEST(BusModel, Guide2_5_1_LoneFrameIsTwelveBytesAtOneByteTime) {
  EXPECT_EQ(kByteNs, 1'041'667);
  BusModel bus(BusConfig{}, 1, 0);
  bus.add_frame(300'000'000'000, 0, guide_frame());
  BusOutput out;
  bus.finish(out);
  ASSERT_EQ(out.bytes.size(), 12u);
  EXPECT_TRUE(std::equal(out.bytes.begin(), out.bytes.end(), guide_frame().begin()));
  ASSERT_EQ(out.marks.size(), 1u);
  EXPECT_EQ(out.marks[0].offset, 0u);
  EXPECT_EQ(out.marks[0].time_ns, 300'000'000'000);
  ASSERT_EQ(out.frames.size(), 1u);
  EXPECT_TRUE(out.frames[0].intact);
  EXPECT_EQ(out.frames[0].offset, 0u);
}

TEST(BusModel, OverlappingFramesMergeByOrAndAreBothCorrupted) {
  BusModel bus(BusConfig{}, 1, 0);
  const auto a = frame_with_id(0x0A12);
  const auto b = frame_with_id(0x0155);
  // b starts 3.5 byte times after a: its byte j lands in slot 3 + j.
  bus.add_frame(1'000'000'000, 0, a);
  bus.add_frame(1'000'000'000 + 3 * kByteNs + kByteNs / 2, 1, b);
  BusOutput out;
  bus.finish(out);
  ASSERT_EQ(out.bytes.size(), 15u);  // union of slots 0..14
  for (std::size_t s = 0; s < 15; ++s) {
    std::uint8_t expect = 0;
    if (s < 12) expect |= a[s];
    if (s >= 3) expect |= b[s - 3];
    EXPECT_EQ(out.bytes[s], expect) << "slot " << s;
  }
  ASSERT_EQ(out.marks.size(), 1u);  // one back-to-back run
  ASSERT_EQ(out.frames.size(), 2u);
  EXPECT_FALSE(out.frames[0].intact);
  EXPECT_FALSE(out.frames[1].intact);
  EXPECT_EQ(out.frames[1].offset, 3u);
  EXPECT_EQ(bus.stats().frames_collided, 2u);
}

TEST(BusModel, FramesThatOnlyTouchDoNotCollide) {
  BusModel bus(BusConfig{}, 1, 0);
  bus.add_frame(0, 0, frame_with_id(1));
  bus.add_frame(kFrameNs, 1, frame_with_id(2));          // starts exactly when the first ends
  bus.add_frame(2 * kFrameNs + 1, 2, frame_with_id(3));  // 1 ns later: a new run
  BusOutput out;
  bus.finish(out);
  ASSERT_EQ(out.frames.size(), 3u);
  for (const auto& f : out.frames) EXPECT_TRUE(f.intact);
  ASSERT_EQ(out.marks.size(), 2u);  // frames 1 and 2 are back to back: one run
  EXPECT_EQ(out.marks[1].offset, 24u);
}

TEST(BusModel, OneNanosecondOfOverlapIsACollision) {
  BusModel bus(BusConfig{}, 1, 0);
  bus.add_frame(0, 0, frame_with_id(1));
  bus.add_frame(kFrameNs - 1, 1, frame_with_id(2));
  BusOutput out;
  bus.finish(out);
  EXPECT_FALSE(out.frames[0].intact);
  EXPECT_FALSE(out.frames[1].intact);
  EXPECT_EQ(out.bytes.size(), 23u);  // slot 11 shared
}

TEST(BusModel, BitErrorRateFlipsTheExpectedShareOfBits) {
  BusConfig cfg;
  cfg.bit_error_rate = 1e-3;
  BusModel bus(cfg, 7, 0);
  const int n = 20000;
  for (int i = 0; i < n; ++i)
    bus.add_frame(static_cast<std::int64_t>(i) * 1'000'000'000, 0, guide_frame());
  BusOutput out;
  bus.finish(out);
  std::uint64_t flipped = 0;
  for (std::size_t i = 0; i < out.bytes.size(); ++i)
    flipped += static_cast<std::uint64_t>(__builtin_popcount(out.bytes[i] ^ guide_frame()[i % 12]));
  EXPECT_EQ(flipped, bus.stats().bits_flipped);
  const double expected = n * 96 * 1e-3;  // 1920
  EXPECT_NEAR(static_cast<double>(flipped), expected, 4 * std::sqrt(expected));
  // P(frame intact) = (1 - p)^96.
  std::size_t intact = 0;
  for (const auto& f : out.frames) intact += f.intact;
  EXPECT_NEAR(static_cast<double>(intact) / n, std::pow(1 - 1e-3, 96), 0.01);
}

TEST(BusModel, DroppedBytesSplitTheRunAndKeepTheirTimes) {
  BusConfig cfg;
  cfg.byte_drop_rate = 0.05;
  BusModel bus(cfg, 3, 0);
  for (int i = 0; i < 1000; ++i)
    bus.add_frame(static_cast<std::int64_t>(i) * 1'000'000'000, 0, guide_frame());
  BusOutput out;
  bus.finish(out);
  EXPECT_EQ(out.bytes.size() + bus.stats().bytes_dropped, 12000u);
  EXPECT_GT(bus.stats().bytes_dropped, 450u);
  EXPECT_LT(bus.stats().bytes_dropped, 750u);
  // Every mark is the time of its byte: frame start + slot * B.
  for (const auto& m : out.marks) EXPECT_EQ((m.time_ns % 1'000'000'000) % kByteNs, 0) << m.offset;
  EXPECT_GT(out.marks.size(), 1000u);
}

TEST(BusModel, GarbageBurstsArriveAtTheConfiguredRate) {
  BusConfig cfg;
  cfg.garbage_per_hour = 60.0;
  cfg.garbage_max_bytes = 4;
  BusModel bus(cfg, 5, 0);
  BusOutput out;
  bus.flush(100LL * 3600 * 1'000'000'000, out);
  bus.finish(out);
  EXPECT_NEAR(static_cast<double>(bus.stats().garbage_bursts), 6000.0, 4 * std::sqrt(6000.0));
  EXPECT_TRUE(out.frames.empty());  // garbage is no frame
  EXPECT_GE(out.bytes.size(), bus.stats().garbage_bursts);
  EXPECT_LE(out.bytes.size(), 4 * bus.stats().garbage_bursts);
}

TEST(BusModel, ChunkedFlushEqualsOneFinish) {
  BusConfig cfg;
  cfg.bit_error_rate = 2e-3;
  cfg.garbage_per_hour = 500;
  Rng rng(5);
  std::vector<std::pair<std::int64_t, std::uint16_t>> tx;
  for (int i = 0; i < 5000; ++i)
    tx.emplace_back(static_cast<std::int64_t>(rng.below(3600ull * 1'000'000'000)) / 1000 * 1000,
                    static_cast<std::uint16_t>(i));
  std::sort(tx.begin(), tx.end());
  BusModel whole(cfg, 8, 0);
  for (auto [t, id] : tx) whole.add_frame(t, id, frame_with_id(id));
  BusOutput one;
  whole.flush(3600LL * 1'000'000'000, one);
  whole.finish(one);

  BusModel chunked(cfg, 8, 0);
  BusOutput acc, out;
  std::size_t next = 0;
  for (std::int64_t h = 7'000'000'000; h <= 3600LL * 1'000'000'000; h += 7'000'000'000) {
    while (next < tx.size() && tx[next].first < h) {
      chunked.add_frame(tx[next].first, tx[next].second, frame_with_id(tx[next].second));
      ++next;
    }
    chunked.flush(h, out);
    acc.bytes.insert(acc.bytes.end(), out.bytes.begin(), out.bytes.end());
    acc.marks.insert(acc.marks.end(), out.marks.begin(), out.marks.end());
    acc.frames.insert(acc.frames.end(), out.frames.begin(), out.frames.end());
    out.clear(chunked.stream_offset());
  }
  while (next < tx.size()) {
    chunked.add_frame(tx[next].first, tx[next].second, frame_with_id(tx[next].second));
    ++next;
  }
  chunked.flush(3600LL * 1'000'000'000, acc);
  chunked.finish(acc);
  EXPECT_EQ(one.bytes, acc.bytes);
  ASSERT_EQ(one.frames.size(), acc.frames.size());
  for (std::size_t i = 0; i < one.frames.size(); ++i) {
    EXPECT_EQ(one.frames[i].t_ns, acc.frames[i].t_ns);
    EXPECT_EQ(one.frames[i].intact, acc.frames[i].intact);
    EXPECT_EQ(one.frames[i].offset, acc.frames[i].offset);
  }
  EXPECT_GT(whole.stats().frames_collided, 0u);
}

}  // namespace
}  // namespace imsm::sim
