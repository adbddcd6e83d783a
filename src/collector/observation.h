// One framed observation from a source: the raw frame, where and when it arrived, and
// whether it stood alone in its burst (SPEC "Framing a stream").
#pragma once

#include <cstdint>

#include "collector/time_util.h"
#include "protocol/frame.h"
#include "protocol/stream_framer.h"

namespace imsm::collector {

struct Observation {
  std::int64_t frame_id = 0;  // row in the raw-frame journal; 0 until journaled
  std::uint32_t source_id = 0;
  UtcMicros received_at = 0;  // arrival of the frame's first byte, UTC
  std::uint64_t stream_offset = 0;
  protocol::Burst burst = protocol::Burst::Unknown;
  protocol::RawFrame raw{};

  [[nodiscard]] protocol::Frame frame() const { return protocol::decode_unchecked(raw.data()); }
  // A frame from a shared burst never confirms anything (SPEC "Validation beyond structure");
  // without arrival times (Unknown) there is no evidence either way and it counts as alone.
  [[nodiscard]] bool alone() const {
    return burst != protocol::Burst::Shared && burst != protocol::Burst::Overlapped;
  }
};

}  // namespace imsm::collector
