#include "collector/sources/framed_capture.h"

namespace imsm::collector {

static_assert(io::kByteTime9600 == protocol::kByteTime9600,
              "the capture's byte spacing is the bus's (9600 8N1)");

FramedCapture::FramedCapture(protocol::StreamFramer& framer, Deliver deliver)
    : framer_(framer), deliver_(std::move(deliver)) {
  frames_.reserve((1 << 20) / protocol::kFrameSize + 2);  // a 1 MiB block's worth
}

std::optional<std::string> FramedCapture::run(io::CaptureReader& reader) {
  if (auto failure = reader.run(*this)) return failure;
  framer_.finish(frames_);
  block_done();
  return std::nullopt;
}

void FramedCapture::bytes(std::span<const std::uint8_t> b,
                          std::optional<std::chrono::nanoseconds> first,
                          std::chrono::nanoseconds spacing) {
  if (first)
    framer_.push(b, *first, spacing, frames_);
  else
    framer_.push(b, frames_);
}

void FramedCapture::idle(std::chrono::nanoseconds now) {
  framer_.idle(now, frames_);
}

void FramedCapture::block_done() {
  if (!frames_.empty()) deliver_(frames_);
  frames_.clear();
}

}  // namespace imsm::collector
