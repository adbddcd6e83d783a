#include "collector/sources/live_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <thread>

#include "io/fd_transport.h"
#include "io/serial_port.h"
#include "io/tcp_client.h"

namespace imsm::collector {

namespace {
protocol::Nanos raw_steady_ns() {
  return std::chrono::duration_cast<protocol::Nanos>(
      std::chrono::steady_clock::now().time_since_epoch());
}

// How long to wait for bytes: 10 ms (the stop flag's latency), or while a burst is open just
// past the moment its idle gap ends, so a lone frame is emitted about 1 ms after the gap
// rather than at the next 10 ms step (read_some() wakes up to 1 ms before its timeout).
std::chrono::milliseconds read_timeout(std::optional<protocol::Nanos> last_data,
                                       protocol::Nanos now, protocol::Nanos idle_gap) {
  constexpr std::chrono::milliseconds kMax{10};
  if (!last_data) return kMax;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(*last_data + idle_gap - now);
  return std::clamp(left + std::chrono::milliseconds(1), std::chrono::milliseconds(1), kMax);
}
}  // namespace

io::UniqueFd LiveSource::connect(std::string& error) const {
  if (spec_.kind == SourceSpec::Kind::Serial) {
    auto r = io::open_serial(spec_.path, io::SerialOptions{});
    if (!r) {
      error = r.error();
      return {};
    }
    return std::move(r).value();
  }
  auto r = io::tcp_connect(spec_.host, spec_.port, io::TcpOptions{});
  if (!r) {
    error = r.error();
    return {};
  }
  return std::move(r).value();
}

bool LiveSource::sleep_unless_stopped(std::chrono::milliseconds d) const {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    if (ctx_.stop->load()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return !ctx_.stop->load();
}

void LiveSource::run() {
  // Arrival times: the monotonic clock, scaled around the start-up instant when asked.
  const protocol::Nanos origin =
      std::chrono::duration_cast<protocol::Nanos>(ctx_.clock.steady0.time_since_epoch());
  const double scale = ctx_.clock_scale;
  auto steady_ns = [&]() -> protocol::Nanos {
    const protocol::Nanos now = raw_steady_ns();
    if (scale == 1.0) return now;
    return origin + protocol::Nanos{static_cast<std::int64_t>(
                        static_cast<double>((now - origin).count()) * scale)};
  };
  std::vector<protocol::LocatedFrame> frames;
  std::vector<Event> events;
  auto utc_of = [&](const protocol::LocatedFrame& f) -> UtcMicros {
    return f.time ? ctx_.clock.to_utc(*f.time) : now_utc();
  };
  // source_up/source_down in the readings' (scaled) time, not the wall clock.
  auto event_now = [&] { return ctx_.clock.to_utc(steady_ns()); };
  auto backoff = ctx_.backoff_min;
  std::uint64_t connections = 0;
  bool reported_down = false;
  std::vector<std::uint8_t> buf(4096);
  while (!ctx_.stop->load()) {
    std::string error;
    io::UniqueFd fd = connect(error);
    if (!fd) {
      if (!reported_down) {
        spdlog::warn("source {}: {}; retrying with backoff", spec_.name, error);
        events.push_back(Event{event_now(), EventKind::SourceDown, std::nullopt, ctx_.source_id,
                               EventDetail{}.add("error", error)});
        set_health(service::Health::degraded(error));
        deliver(frames, events, utc_of);
        reported_down = true;
      }
      if (!sleep_unless_stopped(backoff)) break;
      backoff = std::min(backoff * 2, ctx_.backoff_max);
      continue;
    }
    ++connections;
    backoff = ctx_.backoff_min;
    spdlog::info("source {}: connected", spec_.name);
    events.push_back(
        Event{event_now(), EventKind::SourceUp, std::nullopt, ctx_.source_id,
              EventDetail{}.add("connection", static_cast<std::int64_t>(connections))});
    deliver(frames, events, utc_of);
    set_health(service::Health::ok());
    reported_down = false;

    protocol::StreamFramer framer(ctx_.framer);
    std::string lost;
    std::optional<protocol::Nanos> last_data;  // the open burst's last chunk, until idle
    while (!ctx_.stop->load()) {
      const io::ReadResult r =
          io::read_some(fd.get(), buf, read_timeout(last_data, steady_ns(), ctx_.framer.idle_gap));
      const auto now = steady_ns();
      if (r.kind == io::ReadResult::Kind::Timeout) {
        framer.idle(now, frames);
        if (last_data && now - *last_data > ctx_.framer.idle_gap) last_data.reset();
      } else if (r.kind == io::ReadResult::Kind::Data) {
        framer.push({buf.data(), r.n}, now, protocol::Nanos{0}, frames);
        last_data = now;
      } else {
        lost = r.kind == io::ReadResult::Kind::End ? "end of stream" : r.error;
        break;
      }
      if (!frames.empty()) deliver(frames, events, utc_of);
      update_counters(framer, connections - 1);
    }
    // Close the burst: a held lone frame is emitted, a partial one counted as cut.
    framer.idle(steady_ns() + ctx_.framer.idle_gap * 2, frames);
    framer.finish(frames);
    update_counters(framer, connections - 1);
    {
      std::lock_guard lock(counters_mu_);
      base_ = counters_;
    }
    if (!lost.empty()) {
      spdlog::warn("source {}: lost ({}); reopening", spec_.name, lost);
      events.push_back(Event{event_now(), EventKind::SourceDown, std::nullopt, ctx_.source_id,
                             EventDetail{}.add("error", lost)});
      set_health(service::Health::degraded("lost: " + lost));
      reported_down = true;
    }
    deliver(frames, events, utc_of);
    if (!lost.empty() && !sleep_unless_stopped(backoff)) break;
  }
  finished_ = true;
  ctx_.queue->wake();
}

}  // namespace imsm::collector
