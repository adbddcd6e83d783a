#include "collector/sources/file_source.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <stdexcept>

#include "collector/sources/framed_capture.h"

namespace imsm::collector {

namespace {
struct Stopped {};
}  // namespace

void FileSource::open() {
  if (auto err = io::CaptureReader::open(spec_.path, std::nullopt, true, reader_)) {
    // A bad sidecar is bad input (exit 2), as in `decode`; an unreadable file is 1.
    if (err->kind == io::CaptureError::Kind::BadTimes)
      throw std::invalid_argument("source " + spec_.name + ": " + err->message);
    throw std::runtime_error("source " + spec_.name + ": " + err->message);
  }
  if (reader_->empty_times())
    spdlog::warn("source {}: {} holds no timing line: replayed without arrival times", spec_.name,
                 *reader_->empty_times());
  std::error_code ec;
  const auto size = std::filesystem::file_size(spec_.path, ec);
  consumed_ = !ec && spec_.path != "-" && ctx_.resume_offset > 0 && size == ctx_.resume_offset;
  if (consumed_) return;  // not re-read nor re-framed
  spdlog::info("source {}: replay{}", spec_.name,
               reader_->timed() ? " with arrival times from " + *reader_->times_path()
                                : " without arrival times (frames stamped as read)");
}

void FileSource::run() {
  set_health(service::Health::ok());
  if (consumed_) {
    spdlog::info("source {}: already consumed to its end ({} bytes) by an earlier run", spec_.name,
                 ctx_.resume_offset);
    finished_ = true;
    ctx_.queue->wake();
    return;
  }
  protocol::StreamFramer framer(ctx_.framer);
  std::vector<Event> events;
  const bool timed = reader_->timed();
  auto utc_of = [&](const protocol::LocatedFrame& f) -> UtcMicros {
    if (timed && f.time) return ctx_.replay_start + f.time->count() / 1000;
    return now_utc();
  };
  bool complete = false;
  try {
    FramedCapture capture(framer, [&](std::vector<protocol::LocatedFrame>& frames) {
      if (ctx_.stop->load()) throw Stopped{};
      deliver(frames, events, utc_of);
      update_counters(framer, 0);
    });
    auto failure = capture.run(*reader_);
    if (failure) spdlog::error("source {}: {}", spec_.name, *failure);
    complete = !failure;
  } catch (const Stopped&) {
  }
  update_counters(framer, 0);
  {
    std::lock_guard lock(counters_mu_);
    if (complete) end_offset_ = framer.bytes_in();
  }
  spdlog::info("source {}: done, {} bytes, {} frames, {} bytes skipped", spec_.name,
               framer.bytes_in(), framer.frames_out(), framer.skipped().total());
  finished_ = true;
  ctx_.queue->wake();
}

}  // namespace imsm::collector
