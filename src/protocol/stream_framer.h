// StreamFramer: finds IMS frames in an arbitrary byte stream (SPEC "Framing a stream").
//
// A stepwise state machine in the manner of libmodbus's _modbus_receive_msg, but pure:
// bytes and arrival times in, located frames and skip counters out. Rules:
//   - the earliest structurally valid 12-byte window is a frame; scanning resumes after it;
//   - every byte not in such a frame is counted once, under one SkipReason;
//   - with arrival times, every other valid window of the burst is offered too, marked
//     `overlaps` (it shares bytes with the frame before it, whose bytes count it): inside a
//     shared burst the earliest window can be the wrong one (a frame with reset counter 0 and
//     kWh low byte 0x0D after other bytes validates one byte early), and the validator, which
//     knows the meters, chooses (docs/collector.md "Overlapping windows");
//   - with arrival times, an idle gap longer than the limit ends the burst: a partial frame
//     before it is skipped (CutByGap), so no frame is ever built across a gap;
//   - each frame says whether it stood alone (its burst was exactly those 12 bytes), shared
//     its burst, or overlapped another valid window of it; without arrival times that is
//     unknown.
// Output is identical however the input is chunked (with consistent times).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "protocol/frame.h"

namespace imsm::protocol {

using Nanos = std::chrono::nanoseconds;

// Airtime of one byte at 9600 8N1: 10 bits / 9600 baud = 1.0417 ms (guide 2.5.1).
inline constexpr Nanos kByteTime9600{1'041'667};
inline constexpr Nanos kDefaultIdleGap = std::chrono::milliseconds(20);

enum class SkipReason : std::uint8_t {
  NoStopByte,      // the 12-byte window starting here has no 0x0D in byte 12
  NonZeroPadding,  // stop byte present but byte 7 or 8 is not 0x00
  CutByGap,        // partial frame ended by an idle gap
  CutAtEnd,        // partial frame at the end of the input
};
inline constexpr std::size_t kSkipReasonCount = 4;
[[nodiscard]] const char* to_string(SkipReason r);

enum class Burst : std::uint8_t {
  Unknown,  // no arrival times
  Alone,    // the burst held exactly this frame
  Shared,   // the burst held other bytes too (collision, noise, back-to-back)
  // Shared, and another valid window of the burst starts inside this frame (or this frame, an
  // alternative, starts inside the one before it): two transmissions may have OR-ed these
  // bytes, so its tail may be a neighbour's head (timed only).
  Overlapped,
};
[[nodiscard]] const char* to_string(Burst b);

struct LocatedFrame {
  Frame frame;
  Burst burst = Burst::Unknown;
  std::uint64_t offset = 0;   // byte offset of the frame's first byte in the stream
  std::optional<Nanos> time;  // arrival time of the frame's first byte, when known
  // An alternative window: it starts inside the frame emitted before it (always Shared).
  bool overlaps = false;
  friend bool operator==(const LocatedFrame&, const LocatedFrame&) = default;
};

struct SkipCounts {
  std::array<std::uint64_t, kSkipReasonCount> by_reason{};
  [[nodiscard]] std::uint64_t operator[](SkipReason r) const {
    return by_reason[static_cast<std::size_t>(r)];
  }
  [[nodiscard]] std::uint64_t total() const;
  friend bool operator==(const SkipCounts&, const SkipCounts&) = default;
};

struct FramerOptions {
  Nanos idle_gap = kDefaultIdleGap;
};

class StreamFramer {
 public:
  explicit StreamFramer(FramerOptions options = {}) : options_(options) {}

  // Bytes without arrival times: they continue the current burst.
  void push(std::span<const std::uint8_t> bytes, std::vector<LocatedFrame>& out);
  // Bytes with arrival times: bytes[0] arrived at `first`, each later byte `spacing` after
  // the one before (0 for a chunk read at once, kByteTime9600 for a recorded burst).
  void push(std::span<const std::uint8_t> bytes, Nanos first, Nanos spacing,
            std::vector<LocatedFrame>& out);
  // The line was quiet until `now`: closes the burst once the idle gap has passed, so a
  // live reader learns of a lone frame without waiting for the next transmission.
  void idle(Nanos now, std::vector<LocatedFrame>& out);
  // End of input: a partial frame is skipped (CutAtEnd), a held frame is emitted.
  void finish(std::vector<LocatedFrame>& out);

  [[nodiscard]] const SkipCounts& skipped() const { return skipped_; }
  [[nodiscard]] std::uint64_t bytes_in() const { return bytes_in_; }
  // Every frame emitted, alternatives (`overlaps`) included; and those alone.
  [[nodiscard]] std::uint64_t frames_out() const { return frames_out_; }
  [[nodiscard]] std::uint64_t alternatives_out() const { return alternatives_out_; }

 private:
  static constexpr std::size_t kCarryMax = kFrameSize - 1;
  // Bytes of the burst a frame's alternatives need after its first: its 11 and 11 more.
  static constexpr std::size_t kTailMax = 2 * kFrameSize - 2;

  void push_impl(std::span<const std::uint8_t> bytes, std::optional<Nanos> first, Nanos spacing,
                 std::vector<LocatedFrame>& out);
  void close_burst(SkipReason reason, std::vector<LocatedFrame>& out);
  void emit(const std::uint8_t* window, std::uint64_t offset, std::optional<Nanos> time,
            std::vector<LocatedFrame>& out) const;
  // Timed: emits the staged frames whose alternatives are all known (every one when the
  // burst `closing`), each followed by its alternatives; keeps the burst's last bytes.
  void settle(std::span<const std::uint8_t> bytes, std::optional<Nanos> first, Nanos spacing,
              bool closing, std::vector<LocatedFrame>& out);
  void skip_window(const std::uint8_t* window);
  // Scans b[p..n) for windows starting before `start_limit`; returns the next undecided index.
  std::size_t scan(const std::uint8_t* b, std::size_t n, std::size_t p, std::size_t start_limit,
                   std::uint64_t base_offset, std::optional<Nanos> first, Nanos spacing,
                   std::vector<LocatedFrame>& out);
  void keep_tail(const std::uint8_t* b, std::size_t from, std::size_t n, std::optional<Nanos> first,
                 Nanos spacing);

  FramerOptions options_;
  std::array<std::uint8_t, kCarryMax> carry_{};
  std::array<std::optional<Nanos>, kCarryMax> carry_time_{};
  std::size_t carry_len_ = 0;
  std::uint64_t bytes_in_ = 0;
  std::uint64_t frames_out_ = 0;
  std::uint64_t burst_start_ = 0;  // stream offset where the current burst began
  bool timed_ = false;
  std::optional<Nanos> last_time_;  // arrival time of the last byte pushed
  std::uint64_t alternatives_out_ = 0;
  // Timed: frames found but not yet emitted (their alternatives, or whether the frame stands
  // alone, depend on bytes still to come), in stream order.
  std::vector<LocatedFrame> stage_;
  // Timed: the last bytes of the current burst (up to kTailMax) and their arrival times.
  std::array<std::uint8_t, kTailMax> tail_{};
  std::array<std::optional<Nanos>, kTailMax> tail_time_{};
  std::size_t tail_len_ = 0;
  SkipCounts skipped_;
};

}  // namespace imsm::protocol
