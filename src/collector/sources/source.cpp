#include "collector/sources/source.h"

#include <sys/stat.h>

#include "collector/sources/file_source.h"
#include "collector/sources/live_source.h"
#include "io/tcp_client.h"

namespace imsm::collector {

std::optional<std::string> parse_source(const std::string& text, SourceSpec& out) {
  out = SourceSpec{};
  if (text == "-") {
    out.kind = SourceSpec::Kind::File;
    out.path.assign(1, '-');
    out.name.assign(1, '-');
    return std::nullopt;
  }
  auto starts = [&](const char* p) { return text.rfind(p, 0) == 0; };
  if (starts("serial:")) {
    out.kind = SourceSpec::Kind::Serial;
    out.path = text.substr(7);
    if (out.path.empty()) return "source '" + text + "': serial: needs a device path";
  } else if (starts("tcp:")) {
    out.kind = SourceSpec::Kind::Tcp;
    if (!io::split_host_port(text.substr(4), out.host, out.port))
      return "source '" + text + "': expected tcp:HOST:PORT with a port in 1..65535";
  } else if (starts("file:")) {
    out.kind = SourceSpec::Kind::File;
    out.path = text.substr(5);
    if (out.path.empty()) return "source '" + text + "': file: needs a path";
  } else if (text.find(':') == std::string::npos && !text.empty()) {
    struct stat st {};
    out.path = text;
    out.kind = ::stat(text.c_str(), &st) == 0 && S_ISCHR(st.st_mode) ? SourceSpec::Kind::Serial
                                                                     : SourceSpec::Kind::File;
    out.name = (out.kind == SourceSpec::Kind::Serial ? "serial:" : "file:") + text;
    return std::nullopt;
  } else {
    return "source '" + text + "': expected serial:PATH, tcp:HOST:PORT, file:PATH or -";
  }
  out.name = text;
  return std::nullopt;
}

void ObservationQueue::push(SourceBatch&& batch, const std::atomic<bool>& stop) {
  const std::size_t n = batch.observations.size();
  std::unique_lock lock(mu_);
  while (count_ > 0 && count_ + n > max_ && !stop.load())
    not_full_.wait_for(lock, std::chrono::milliseconds(100));
  count_ += n;
  items_.push_back(std::move(batch));
  lock.unlock();
  not_empty_.notify_one();
  if (on_push_) on_push_();
}

void ObservationQueue::pop(std::vector<SourceBatch>& out, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (items_.empty()) not_empty_.wait_for(lock, timeout);
  for (auto& b : items_) out.push_back(std::move(b));
  items_.clear();
  count_ = 0;
  lock.unlock();
  not_full_.notify_all();
}

void ObservationQueue::wake() {
  not_empty_.notify_all();
  not_full_.notify_all();
}

SourceCounters Source::counters() const {
  std::lock_guard lock(counters_mu_);
  return counters_;
}

service::Health Source::health() const {
  std::lock_guard lock(counters_mu_);
  return health_;
}

void Source::set_health(service::Health h) {
  std::lock_guard lock(counters_mu_);
  health_ = std::move(h);
}

std::uint64_t Source::end_offset() const {
  std::lock_guard lock(counters_mu_);
  return end_offset_;
}

// Bytes and frames below the resume offset are left out exactly; skipped bytes as of the
// last block that ended at or before it (a resumed run re-frames the file from offset 0).
void Source::update_counters(const protocol::StreamFramer& framer, std::uint64_t reconnects) {
  std::lock_guard lock(counters_mu_);
  const auto& s = framer.skipped();
  const std::uint64_t resume = ctx_.resume_offset;
  if (resume > 0 && framer.bytes_in() <= resume) resumed_skipped_ = s;
  const auto& r = resumed_skipped_;
  auto skipped = [&](protocol::SkipReason why) { return s[why] - r[why]; };
  counters_.bytes_in = base_.bytes_in + framer.bytes_in() - std::min(framer.bytes_in(), resume);
  counters_.frames = base_.frames + framer.frames_out() - resumed_frames_;
  counters_.shared_frames = shared_frames_;
  counters_.skipped_no_stop = base_.skipped_no_stop + skipped(protocol::SkipReason::NoStopByte);
  counters_.skipped_padding = base_.skipped_padding + skipped(protocol::SkipReason::NonZeroPadding);
  counters_.skipped_gap = base_.skipped_gap + skipped(protocol::SkipReason::CutByGap);
  counters_.skipped_end = base_.skipped_end + skipped(protocol::SkipReason::CutAtEnd);
  counters_.reconnects = reconnects;
}

void Source::deliver(std::vector<protocol::LocatedFrame>& frames, std::vector<Event>& events,
                     const std::function<UtcMicros(const protocol::LocatedFrame&)>& utc_of) {
  SourceBatch batch;
  batch.observations.reserve(frames.size());
  for (const auto& f : frames) {
    // Journaled (and counted) by an earlier run: the resume offset is the end of the last
    // frame journaled, and frames end in stream order (an alternative window, `overlaps`,
    // may start before the end of the frame before it).
    if (f.offset + protocol::kFrameSize <= ctx_.resume_offset) {
      std::lock_guard lock(counters_mu_);
      ++resumed_frames_;
      continue;
    }
    if (f.burst == protocol::Burst::Shared || f.burst == protocol::Burst::Overlapped)
      ++shared_frames_;
    Observation o;
    o.source_id = ctx_.source_id;
    o.received_at = utc_of(f);
    o.stream_offset = f.offset;
    o.burst = f.burst;
    o.raw = protocol::encode(f.frame);
    batch.observations.push_back(o);
  }
  frames.clear();
  batch.events = std::move(events);
  events.clear();
  if (!batch.observations.empty() || !batch.events.empty())
    ctx_.queue->push(std::move(batch), *ctx_.stop);
}

std::unique_ptr<Source> make_source(const SourceSpec& spec, SourceContext ctx) {
  if (spec.kind == SourceSpec::Kind::File)
    return std::make_unique<FileSource>(spec, std::move(ctx));
  return std::make_unique<LiveSource>(spec, std::move(ctx));
}

}  // namespace imsm::collector
