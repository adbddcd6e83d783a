// The IMS Series 1000/2000 RS485 frame (guide 2.5.2, Table 4; SPEC "The wire format").
//
//   byte:   1     2    3    4    5    6    7    8    9    10   11   12
//         +----+---------+---------+----+---------+--------------+----+
//         | xx | ID hi lo| PK hi lo| RC | 00   00 | kWh hi mid lo| 0D |
//         +----+---------+---------+----+---------+--------------+----+
//   xx  no significance (the emulator sends 0x00; decoders keep but ignore it)
//   ID  meter ID, big-endian, 0..65535             (0x0A 0x12 -> 2578)
//   PK  peak demand, big-endian counts of 0.02 kW  (0x0C 0xF1 -> 3313 -> 66.26 kW)
//   RC  demand reset counter, wraps at 256         (0xC3 -> 195)
//   kWh total kWh, big-endian 24 bits              (0x0A 0x59 0x9B -> 678,299 kWh)
//   0D  stop byte
// 9600 baud 8N1, one frame every 5 minutes, one-way, no checksum.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/result.h"
#include "common/units.h"

namespace imsm::protocol {

inline constexpr std::size_t kFrameSize = 12;
inline constexpr std::uint8_t kStopByte = 0x0D;
// Offsets (0-based) of the structural bytes.
inline constexpr std::size_t kPad1 = 6;
inline constexpr std::size_t kPad2 = 7;
inline constexpr std::size_t kStop = 11;

using RawFrame = std::array<std::uint8_t, kFrameSize>;

struct Frame {
  std::uint8_t lead = 0;  // byte 1, no significance
  MeterId meter_id;
  DemandCounts peak_demand;
  ResetCounter demand_resets;
  Kwh24 total_kwh;
  friend constexpr bool operator==(const Frame&, const Frame&) = default;
};

enum class FrameError : std::uint8_t {
  WrongLength,     // not exactly 12 bytes
  NonZeroPadding,  // byte 7 or 8 is not 0x00
  BadStopByte,     // byte 12 is not 0x0D
};

[[nodiscard]] const char* to_string(FrameError e);

// True when a 12-byte window has the frame's structure (bytes 7-8 zero, stop byte).
[[nodiscard]] inline bool is_frame_window(const std::uint8_t* w) {
  return w[kStop] == kStopByte && w[kPad1] == 0 && w[kPad2] == 0;
}

// Decodes a window already known to be structurally valid (inline: the framer's hot path).
[[nodiscard]] inline Frame decode_unchecked(const std::uint8_t* w) {
  Frame f;
  f.lead = w[0];
  f.meter_id.value = static_cast<std::uint16_t>((w[1] << 8) | w[2]);
  f.peak_demand.value = static_cast<std::uint16_t>((w[3] << 8) | w[4]);
  f.demand_resets.value = w[5];
  f.total_kwh.value = (std::uint32_t{w[8]} << 16) | (std::uint32_t{w[9]} << 8) | w[10];
  return f;
}

[[nodiscard]] Result<Frame, FrameError> decode(std::span<const std::uint8_t> bytes);

[[nodiscard]] inline RawFrame encode(const Frame& f) {
  const std::uint32_t kwh = f.total_kwh.value & Kwh24::kMask;
  return RawFrame{f.lead,
                  static_cast<std::uint8_t>(f.meter_id.value >> 8),
                  static_cast<std::uint8_t>(f.meter_id.value & 0xFF),
                  static_cast<std::uint8_t>(f.peak_demand.value >> 8),
                  static_cast<std::uint8_t>(f.peak_demand.value & 0xFF),
                  f.demand_resets.value,
                  0x00,
                  0x00,
                  static_cast<std::uint8_t>(kwh >> 16),
                  static_cast<std::uint8_t>((kwh >> 8) & 0xFF),
                  static_cast<std::uint8_t>(kwh & 0xFF),
                  kStopByte};
}

}  // namespace imsm::protocol
