#include "protocol/frame.h"

namespace imsm::protocol {

const char* to_string(FrameError e) {
  switch (e) {
    case FrameError::WrongLength:
      return "wrong_length";
    case FrameError::NonZeroPadding:
      return "non_zero_padding";
    case FrameError::BadStopByte:
      return "bad_stop_byte";
  }
  return "unknown";
}

Result<Frame, FrameError> decode(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kFrameSize) return unexpected(FrameError::WrongLength);
  if (bytes[kStop] != kStopByte) return unexpected(FrameError::BadStopByte);
  if (bytes[kPad1] != 0 || bytes[kPad2] != 0) return unexpected(FrameError::NonZeroPadding);
  return decode_unchecked(bytes.data());
}

RawFrame encode(const Frame& f) {
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
