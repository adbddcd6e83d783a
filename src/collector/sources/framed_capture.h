// A capture read through the stream framer: io::CaptureReader knows bytes and times only,
// this sink turns them into frames (`collect` file sources and `decode` both read this way).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "io/capture_reader.h"
#include "protocol/stream_framer.h"

namespace imsm::collector {

class FramedCapture final : public io::ByteSink {
 public:
  // `deliver` gets the frames completed by each block read and may clear the vector.
  using Deliver = std::function<void(std::vector<protocol::LocatedFrame>&)>;
  FramedCapture(protocol::StreamFramer& framer, Deliver deliver);

  // Reads `reader` to its end, then closes the last burst (framer.finish). Returns the
  // reader's error, if a read failed (the last burst is then left open).
  std::optional<std::string> run(io::CaptureReader& reader);

  void bytes(std::span<const std::uint8_t> b, std::optional<std::chrono::nanoseconds> first,
             std::chrono::nanoseconds spacing) override;
  void idle(std::chrono::nanoseconds now) override;
  void block_done() override;

 private:
  protocol::StreamFramer& framer_;
  Deliver deliver_;
  std::vector<protocol::LocatedFrame> frames_;
};

}  // namespace imsm::collector
