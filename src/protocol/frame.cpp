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

}  // namespace imsm::protocol
