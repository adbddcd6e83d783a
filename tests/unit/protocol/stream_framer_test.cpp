// StreamFramer (SPEC "Framing a stream"; guide 2.5.2 for the frame itself).
#include "protocol/stream_framer.h"

#include <gtest/gtest.h>

#include <random>

#include "support/vectors.h"

namespace imsm::protocol {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;

Bytes guide_frame() {
  return test::frame_vectors().at(0).raw;
}

Bytes frame_with_id(std::uint16_t id, std::uint32_t kwh = 1000) {
  Frame f;
  f.meter_id.value = id;
  f.total_kwh.value = kwh;
  const RawFrame r = encode(f);
  return Bytes(r.begin(), r.end());
}

Bytes noise(std::mt19937_64& rng, std::size_t n) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

struct Result {
  std::vector<LocatedFrame> frames;
  SkipCounts skipped;
  std::uint64_t bytes = 0;
};

Result frame_whole(const Bytes& in) {
  StreamFramer f;
  Result r;
  f.push(in, r.frames);
  f.finish(r.frames);
  r.skipped = f.skipped();
  r.bytes = f.bytes_in();
  return r;
}

Result frame_chunked(const Bytes& in, std::mt19937_64& rng, std::size_t max_chunk) {
  StreamFramer f;
  Result r;
  std::size_t i = 0;
  while (i < in.size()) {
    const std::size_t n = std::min<std::size_t>(in.size() - i, 1 + rng() % max_chunk);
    f.push(std::span(in).subspan(i, n), r.frames);
    i += n;
  }
  f.finish(r.frames);
  r.skipped = f.skipped();
  r.bytes = f.bytes_in();
  return r;
}

TEST(StreamFramer, Guide2_5_2_FrameAloneIsFound) {
  const Result r = frame_whole(guide_frame());
  ASSERT_EQ(r.frames.size(), 1u);
  EXPECT_EQ(r.frames[0].offset, 0u);
  EXPECT_EQ(r.frames[0].frame.meter_id.value, test::frame_vectors()[0].meter_id);
  EXPECT_EQ(r.frames[0].burst, Burst::Unknown);
  EXPECT_EQ(r.skipped.total(), 0u);
}

TEST(StreamFramer, FindsTheFrameAfterNoiseAndCountsWhatItSkipped) {
  Bytes in = {0xFF, 0x0D, 0x00, 0x00, 0x12};
  const Bytes fr = guide_frame();
  in.insert(in.end(), fr.begin(), fr.end());
  in.push_back(0x42);
  const Result r = frame_whole(in);
  ASSERT_EQ(r.frames.size(), 1u);
  EXPECT_EQ(r.frames[0].offset, 5u);
  EXPECT_EQ(r.skipped.total(), 6u);
  EXPECT_EQ(r.skipped[SkipReason::CutAtEnd], 1u);
}

TEST(StreamFramer, EarliestValidWindowWinsAndScanningResumesAfterIt) {
  // Two frames overlapping by 4 bytes where both windows are valid: the first wins and the
  // second, whose start lies inside the first, is not reported.
  const Bytes a = frame_with_id(0x0101);
  const Bytes b = frame_with_id(0x0202);
  Bytes in = a;
  in.insert(in.end(), b.begin(), b.end());
  const Result r = frame_whole(in);
  ASSERT_EQ(r.frames.size(), 2u);
  EXPECT_EQ(r.frames[0].offset, 0u);
  EXPECT_EQ(r.frames[1].offset, 12u);
  // One noise byte before a frame whose kWh low byte is 0x0D and reset counter 0: the window
  // one byte early is structurally valid too, and the earliest valid window wins. That is
  // why the collector validates beyond structure (SPEC "Validation beyond structure").
  Bytes tricky = {0x77};
  const Bytes c = frame_with_id(0x0303, 0x00000D);
  tricky.insert(tricky.end(), c.begin(), c.end());
  const Result t = frame_whole(tricky);
  ASSERT_EQ(t.frames.size(), 1u);
  EXPECT_EQ(t.frames[0].offset, 0u);
  EXPECT_EQ(t.frames[0].frame.lead, 0x77);
  EXPECT_NE(t.frames[0].frame.meter_id.value, 0x0303);
  EXPECT_EQ(t.skipped[SkipReason::CutAtEnd], 1u);
}

TEST(StreamFramer, SkipReasonsAreCountedPerByte) {
  Bytes bad_stop = guide_frame();
  bad_stop[11] = 0x0A;
  Result r = frame_whole(bad_stop);
  EXPECT_TRUE(r.frames.empty());
  EXPECT_EQ(r.skipped[SkipReason::NoStopByte], 1u);  // the only complete window
  EXPECT_EQ(r.skipped[SkipReason::CutAtEnd], 11u);
  Bytes pad = guide_frame();
  pad[6] = 0x7F;
  r = frame_whole(pad);
  EXPECT_TRUE(r.frames.empty());
  EXPECT_EQ(r.skipped[SkipReason::NonZeroPadding], 1u);
  EXPECT_EQ(r.skipped.total(), 12u);
}

TEST(StreamFramer, PropertyChunkingDoesNotChangeTheOutput) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    Bytes in;
    const int parts = 1 + static_cast<int>(rng() % 20);
    for (int p = 0; p < parts; ++p) {
      Bytes piece;
      switch (rng() % 4) {
        case 0:
          piece = noise(rng, rng() % 40);
          break;
        case 1:
          piece = frame_with_id(static_cast<std::uint16_t>(rng()),
                                static_cast<std::uint32_t>(rng() & 0xFFFFFF));
          break;
        case 2:
          piece = guide_frame();
          piece.resize(rng() % 12);
          break;
        default:
          piece = {0x00, 0x00, 0x0D, 0x00, 0x00, 0x0D};
          break;
      }
      in.insert(in.end(), piece.begin(), piece.end());
    }
    const Result whole = frame_whole(in);
    for (std::size_t max_chunk : {1, 3, 11, 13, 64}) {
      const Result chunked = frame_chunked(in, rng, max_chunk);
      ASSERT_EQ(chunked.frames, whole.frames) << "round " << round << " chunk " << max_chunk;
      ASSERT_EQ(chunked.skipped, whole.skipped) << "round " << round;
    }
    // Emitted + skipped bytes = input length.
    ASSERT_EQ(whole.frames.size() * kFrameSize + whole.skipped.total(), in.size());
  }
}

// A timed stream: bursts of bytes, each at 1.0417 ms spacing, separated by gaps.
struct Burst_ {
  Bytes bytes;
  Nanos start;
};

Result frame_timed(const std::vector<Burst_>& bursts, std::mt19937_64* rng, std::size_t max_chunk,
                   FramerOptions options = {}) {
  StreamFramer f(options);
  Result r;
  for (const auto& b : bursts) {
    std::size_t i = 0;
    while (i < b.bytes.size()) {
      const std::size_t n =
          rng ? std::min<std::size_t>(b.bytes.size() - i, 1 + (*rng)() % max_chunk)
              : b.bytes.size();
      f.push(std::span(b.bytes).subspan(i, n), b.start + kByteTime9600 * static_cast<long>(i),
             kByteTime9600, r.frames);
      i += n;
    }
  }
  f.finish(r.frames);
  r.skipped = f.skipped();
  return r;
}

TEST(StreamFramer, IdleGapEndsAPartialFrame) {
  // The first 7 bytes of one frame, a 30 ms pause, then a whole frame: without the gap rule
  // the 7 bytes and the next frame's head would make a valid-looking window.
  const Bytes a = frame_with_id(0x1111);
  Bytes head(a.begin(), a.begin() + 7);
  const Bytes b = frame_with_id(0x2222);
  const Result r = frame_timed({{head, 0ms}, {b, 30ms}}, nullptr, 0);
  ASSERT_EQ(r.frames.size(), 1u);
  EXPECT_EQ(r.frames[0].frame.meter_id.value, 0x2222);
  EXPECT_EQ(r.frames[0].offset, 7u);
  EXPECT_EQ(r.frames[0].burst, Burst::Alone);
  EXPECT_EQ(r.skipped[SkipReason::CutByGap], 7u);
  ASSERT_TRUE(r.frames[0].time);
  EXPECT_EQ(*r.frames[0].time, 30ms);
}

TEST(StreamFramer, PropertyNoFrameAcrossAGap) {
  // Split frames at every position across a gap: none may be emitted.
  for (std::size_t cut = 1; cut < kFrameSize; ++cut) {
    const Bytes fr = guide_frame();
    const Result r = frame_timed({{Bytes(fr.begin(), fr.begin() + static_cast<long>(cut)), 0ms},
                                  {Bytes(fr.begin() + static_cast<long>(cut), fr.end()), 100ms}},
                                 nullptr, 0);
    EXPECT_TRUE(r.frames.empty()) << "cut at " << cut;
    EXPECT_EQ(r.skipped.total(), kFrameSize);
  }
  // The gap limit is configurable: at 200 ms the same split merges.
  const Bytes fr = guide_frame();
  const Result merged = frame_timed(
      {{Bytes(fr.begin(), fr.begin() + 5), 0ms}, {Bytes(fr.begin() + 5, fr.end()), 100ms}}, nullptr,
      0, FramerOptions{200ms});
  EXPECT_EQ(merged.frames.size(), 1u);
}

TEST(StreamFramer, BurstSaysAloneOrShared) {
  const Bytes a = frame_with_id(1), b = frame_with_id(2);
  Bytes two = a;
  two.insert(two.end(), b.begin(), b.end());
  Bytes noisy = {0x55};
  noisy.insert(noisy.end(), a.begin(), a.end());
  const Result r = frame_timed({{a, 0ms}, {two, 300s}, {noisy, 600s}, {b, 900s}}, nullptr, 0);
  ASSERT_EQ(r.frames.size(), 5u);
  EXPECT_EQ(r.frames[0].burst, Burst::Alone);
  EXPECT_EQ(r.frames[1].burst, Burst::Shared);
  EXPECT_EQ(r.frames[2].burst, Burst::Shared);
  EXPECT_EQ(r.frames[3].burst, Burst::Shared);
  EXPECT_EQ(r.frames[4].burst, Burst::Alone);
  EXPECT_EQ(*r.frames[2].time, 300s + kByteTime9600 * 12);
}

TEST(StreamFramer, IdleReleasesALoneFrameWithoutWaitingForMoreBytes) {
  StreamFramer f;
  std::vector<LocatedFrame> out;
  f.push(guide_frame(), 1s, Nanos{0}, out);
  EXPECT_TRUE(out.empty());  // might still be the start of a longer burst
  f.idle(1s + 10ms, out);
  EXPECT_TRUE(out.empty());  // gap not yet passed
  f.idle(1s + 25ms, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].burst, Burst::Alone);
  f.finish(out);
  EXPECT_EQ(out.size(), 1u);  // emitted once only
}

TEST(StreamFramer, PropertyTimedChunkingDoesNotChangeTheOutput) {
  std::mt19937_64 rng(99);
  for (int round = 0; round < 100; ++round) {
    std::vector<Burst_> bursts;
    Nanos t{0};
    for (int k = 0; k < 12; ++k) {
      Bytes bytes;
      const int parts = 1 + static_cast<int>(rng() % 3);
      for (int p = 0; p < parts; ++p) {
        Bytes piece =
            (rng() % 2) ? frame_with_id(static_cast<std::uint16_t>(rng())) : noise(rng, rng() % 14);
        bytes.insert(bytes.end(), piece.begin(), piece.end());
      }
      if (bytes.empty()) continue;
      bursts.push_back({bytes, t});
      t += kByteTime9600 * static_cast<long>(bytes.size()) + std::chrono::milliseconds(rng() % 60);
    }
    const Result whole = frame_timed(bursts, nullptr, 0);
    for (std::size_t max_chunk : {1, 5, 12, 40}) {
      const Result chunked = frame_timed(bursts, &rng, max_chunk);
      ASSERT_EQ(chunked.frames, whole.frames) << "round " << round;
      ASSERT_EQ(chunked.skipped, whole.skipped) << "round " << round;
    }
    // Every byte is in one frame that does not overlap, or skipped once; an alternative
    // starts inside the frame emitted before it.
    std::size_t total = 0, primaries = 0;
    for (const auto& b : bursts) total += b.bytes.size();
    for (std::size_t i = 0; i < whole.frames.size(); ++i) {
      const LocatedFrame& f = whole.frames[i];
      if (!f.overlaps) {
        ++primaries;
        continue;
      }
      ASSERT_EQ(f.burst, Burst::Shared);
      std::size_t j = i;
      while (j > 0 && whole.frames[j - 1].overlaps) --j;
      ASSERT_GT(j, 0u);
      const LocatedFrame& base = whole.frames[j - 1];
      ASSERT_GT(f.offset, base.offset);
      ASSERT_LT(f.offset, base.offset + kFrameSize);
    }
    ASSERT_EQ(primaries * kFrameSize + whole.skipped.total(), total);
  }
}

// Issue 10: a frame after other bytes of its burst, with reset counter 0 and kWh low byte
// 0x0D. The bytes (guide 2.5.2 layout): one noise byte 0x55, then the frame
//   00 | 0A 12 (ID 2578) | 0C F1 (peak 3313) | 00 (resets 0) | 00 00 | 0A 59 0D (kWh) | 0D.
// The window one byte early, 55 00 0A 12 0C F1 00 00 00 0A 59 0D, is valid too: its byte 7 is
// the reset counter (00), its byte 8 the frame's first pad byte (00), its byte 12 the kWh low
// byte (0D). It decodes as ID 0x000A = 10, peak 0x120C, resets 0xF1, kWh 0x000A59. Earliest
// valid window alone took it and left the frame's stop byte over; the true frame must be
// offered too, with its own bytes, offset 1 and the time of its first byte.
TEST(StreamFramer, Issue10_AFrameCutOneByteEarlyIsOfferedAsAnAlternative) {
  const Bytes frame = {0x00, 0x0A, 0x12, 0x0C, 0xF1, 0x00, 0x00, 0x00, 0x0A, 0x59, 0x0D, 0x0D};
  Bytes burst = {0x55};
  burst.insert(burst.end(), frame.begin(), frame.end());
  const Result r = frame_timed({{burst, 1s}}, nullptr, 0);
  ASSERT_EQ(r.frames.size(), 2u);
  EXPECT_EQ(r.frames[0].offset, 0u);  // the early window, still offered
  EXPECT_EQ(r.frames[0].frame.meter_id.value, 10);
  EXPECT_FALSE(r.frames[0].overlaps);
  // Both windows share 11 bytes: each may hold the other's bytes (Overlapped).
  EXPECT_EQ(r.frames[0].burst, Burst::Overlapped);
  const LocatedFrame& f = r.frames[1];
  EXPECT_TRUE(f.overlaps);
  EXPECT_EQ(f.burst, Burst::Overlapped);
  EXPECT_EQ(f.offset, 1u);
  EXPECT_EQ(f.frame.meter_id.value, 2578);
  EXPECT_EQ(f.frame.peak_demand.value, 3313);
  EXPECT_EQ(f.frame.demand_resets.value, 0);
  EXPECT_EQ(f.frame.total_kwh.value, 0x0A590Du);  // 678,157 kWh
  EXPECT_EQ(encode(f.frame),
            RawFrame({0x00, 0x0A, 0x12, 0x0C, 0xF1, 0x00, 0x00, 0x00, 0x0A, 0x59, 0x0D, 0x0D}));
  ASSERT_TRUE(f.time);
  EXPECT_EQ(*f.time, 1s + kByteTime9600);
  // Bytes: 12 in the early window, the frame's stop byte skipped (no window starts there).
  EXPECT_EQ(r.skipped.total(), 1u);
  // Byte by byte, the same.
  std::mt19937_64 rng(1);
  EXPECT_EQ(frame_timed({{burst, 1s}}, &rng, 1).frames, r.frames);
}

// Issue 10, the tail of a frame OR-ed with a neighbour's head: meter A's frame
//   00 | 12 34 | 01 00 | 00 | 00 00 | 00 20 40 | 0D
// and meter B (ID 0x0105) starting 10 bytes after it, its 00 on A's kWh low byte and its ID
// high byte 01 on A's stop byte: 0x0D | 0x01 = 0x0D, so A's window still validates, with its
// kWh low byte 0x40 | 0x00 = 0x40 (here intact). B's window starts inside A's (at offset 10)
// and validates too (its pad bytes and stop byte are its own): both are Overlapped, so the
// validator knows A's tail may be B's head; a frame after B's end (22 bytes) is Shared.
TEST(StreamFramer, Issue10_AFrameWhoseTailAnotherWindowStartsInIsOverlapped) {
  const Bytes a = {0x00, 0x12, 0x34, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x40, 0x0D};
  const Bytes b = {0x00, 0x01, 0x05, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0D};
  Bytes burst(a.begin(), a.end());
  burst[10] |= b[0];
  burst[11] |= b[1];
  burst.insert(burst.end(), b.begin() + 2, b.end());
  ASSERT_EQ(burst.size(), 22u);
  const Result r = frame_timed({{burst, 1s}}, nullptr, 0);
  ASSERT_EQ(r.frames.size(), 2u);
  EXPECT_EQ(r.frames[0].frame.meter_id.value, 0x1234);
  EXPECT_EQ(r.frames[0].burst, Burst::Overlapped);
  EXPECT_FALSE(r.frames[0].overlaps);
  EXPECT_EQ(r.frames[1].offset, 10u);
  EXPECT_TRUE(r.frames[1].overlaps);
  EXPECT_EQ(r.frames[1].burst, Burst::Overlapped);
  EXPECT_STREQ(to_string(Burst::Overlapped), "overlapped");
  // Two frames back to back (no window inside the first): Shared, not Overlapped.
  Bytes apart(a.begin(), a.end());
  apart.insert(apart.end(), b.begin(), b.end());
  const Result s = frame_timed({{apart, 1s}}, nullptr, 0);
  ASSERT_EQ(s.frames.size(), 2u);
  EXPECT_EQ(s.frames[0].burst, Burst::Shared);
  EXPECT_EQ(s.frames[1].burst, Burst::Shared);
}

// The same frame alone in its burst has no alternative: no other window fits in 12 bytes.
TEST(StreamFramer, Issue10_AFrameAloneHasNoAlternative) {
  const Bytes frame = {0x00, 0x0A, 0x12, 0x0C, 0xF1, 0x00, 0x00, 0x00, 0x0A, 0x59, 0x0D, 0x0D};
  const Result r = frame_timed({{frame, 1s}}, nullptr, 0);
  ASSERT_EQ(r.frames.size(), 1u);
  EXPECT_EQ(r.frames[0].burst, Burst::Alone);
  EXPECT_FALSE(r.frames[0].overlaps);
}

// Without arrival times there is no burst to share: nothing is offered twice.
TEST(StreamFramer, UntimedBytesOfferNoAlternative) {
  const Bytes frame = {0x00, 0x0A, 0x12, 0x0C, 0xF1, 0x00, 0x00, 0x00, 0x0A, 0x59, 0x0D, 0x0D};
  Bytes in = {0x55};
  in.insert(in.end(), frame.begin(), frame.end());
  const Result r = frame_whole(in);
  ASSERT_EQ(r.frames.size(), 1u);
  EXPECT_EQ(r.frames[0].offset, 0u);
}

}  // namespace
}  // namespace imsm::protocol
