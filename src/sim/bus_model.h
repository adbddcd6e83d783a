// The virtual RS485 bus (docs/simulate.md "Bus model").
//
// Time is integer nanoseconds of bus time since the simulation start. At 9600 8N1 a byte
// takes B = 1,041,667 ns (10 bits) and a frame 12 B = 12.5 ms. A transmission starting at
// s occupies [s, s + len*B).
//
// Collisions: transmissions whose occupied intervals overlap (transitively) form a group.
// The group is put on the wire as one run of back-to-back byte slots starting at the
// earliest start t0; byte j of a transmission starting at s lands in slot
// floor((s - t0) / B) + j. Where several transmissions drive the same slot, the line
// carries the bitwise OR of their bytes (a simple dominant-bit model: RS485 drivers
// fighting, with the receiver sampling whichever level wins). Every transmission that
// shares a slot with another is corrupted (intact = false in the truth), even when the OR
// happens to reproduce its bytes.
//
// Line noise: every data bit on the wire flips independently with probability
// bit_error_rate. Byte drops: every byte on the wire is lost with probability
// byte_drop_rate (the bytes around it keep their times, so the run splits). Garbage:
// bursts of 1..garbage_max_bytes random bytes arrive as a Poisson process of
// garbage_per_hour and collide like any other transmission.
//
// Determinism: the output depends only on the transmissions, the configuration and the
// seed, never on how flush() horizons are chosen.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "io/capture_times.h"
#include "protocol/frame.h"
#include "protocol/stream_framer.h"
#include "sim/fleet_config.h"
#include "sim/rng.h"

namespace imsm::sim {

inline constexpr std::int64_t kByteNs = protocol::kByteTime9600.count();
inline constexpr std::int64_t kFrameNs = static_cast<std::int64_t>(protocol::kFrameSize) * kByteNs;
inline constexpr std::uint32_t kGarbageSource = 0xFFFFFFFFu;
inline constexpr std::size_t kMaxTransmissionBytes = 64;

struct Transmission {
  std::int64_t start_ns = 0;
  std::uint32_t source = 0;  // meter index in the fleet, or kGarbageSource
  std::uint8_t len = protocol::kFrameSize;
  std::array<std::uint8_t, kMaxTransmissionBytes> bytes{};
  // Ground truth energies at the frame (milliwatt-hours, truncated): what an exact meter
  // would have registered from the real load, and what this meter registered.
  std::uint64_t true_mwh = 0;
  std::uint64_t registered_mwh = 0;
};

// One transmitted frame as the meter sent it (ground truth).
struct TruthRecord {
  std::int64_t t_ns = 0;     // start of its first byte
  std::uint32_t source = 0;  // meter index
  protocol::RawFrame raw{};
  bool intact = true;          // the bus carried exactly these bytes, alone in their slots
  std::uint64_t offset = 0;    // offset in the bus stream of its first slot (or where it would be)
  std::uint64_t true_mwh = 0;  // exact energy of the real load since the start, mWh
  std::uint64_t registered_mwh = 0;  // the meter's register, mWh
};

// What the bus put on the wire since the last flush: bytes, their back-to-back runs, and
// the truth of the frames among them. Offsets count from the start of the bus stream.
struct BusOutput {
  std::vector<std::uint8_t> bytes;
  std::uint64_t first_offset = 0;    // stream offset of bytes[0]
  std::vector<io::BurstMark> marks;  // a new mark wherever the byte spacing is not B
  std::vector<TruthRecord> frames;
  void clear(std::uint64_t next_offset) {
    bytes.clear();
    marks.clear();
    frames.clear();
    first_offset = next_offset;
  }
};

struct BusStats {
  std::uint64_t frames = 0;
  std::uint64_t frames_collided = 0;  // shared a slot with another transmission
  std::uint64_t frames_noisy = 0;     // alone, but a bit flipped or a byte dropped
  std::uint64_t bytes = 0;            // bytes on the wire (after drops)
  std::uint64_t bits_flipped = 0;
  std::uint64_t bytes_dropped = 0;
  std::uint64_t garbage_bursts = 0;
};

class BusModel {
 public:
  BusModel(const BusConfig& cfg, std::uint64_t seed, std::uint64_t bus_index);

  // Transmissions may arrive in any order, but none may start before the last horizon.
  void add(const Transmission& t) { pending_.push_back(t); }
  void add_frame(std::int64_t start_ns, std::uint32_t source, const protocol::RawFrame& raw,
                 std::uint64_t true_mwh = 0, std::uint64_t registered_mwh = 0);

  // Every transmission starting before `horizon_ns` has been added: puts on the wire every
  // group that nothing later can overlap, appending to `out`.
  void flush(std::int64_t horizon_ns, BusOutput& out);
  // End of the simulation: everything pending goes out.
  void finish(BusOutput& out);

  [[nodiscard]] const BusStats& stats() const { return stats_; }
  [[nodiscard]] std::uint64_t stream_offset() const { return offset_; }
  [[nodiscard]] const BusConfig& config() const { return cfg_; }

 private:
  void generate_garbage(std::int64_t horizon_ns);
  void emit_group(std::size_t begin, std::size_t end, BusOutput& out);
  void flush_impl(std::int64_t horizon_ns, bool final, BusOutput& out);

  BusConfig cfg_;
  Rng noise_rng_;
  Rng garbage_rng_;
  std::vector<Transmission> pending_;
  std::int64_t next_garbage_ns_ = 0;
  std::uint64_t bits_to_error_ = 0;  // countdown to the next flipped bit (0: none ever)
  std::uint64_t bytes_to_drop_ = 0;  // countdown to the next dropped byte (0: none ever)
  std::uint64_t offset_ = 0;         // stream offset of the next byte
  std::int64_t last_byte_ns_ = -1;   // time of the last byte put on the wire
  // Scratch, reused between groups.
  std::vector<std::uint8_t> slot_value_;
  std::vector<std::uint16_t> slot_users_;
  std::vector<std::uint8_t> slot_damaged_;  // 1 flipped, 2 dropped
  std::vector<std::uint64_t> slot_offset_;
  BusStats stats_;
};

}  // namespace imsm::sim
