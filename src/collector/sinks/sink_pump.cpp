#include "collector/sinks/sink_pump.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

namespace imsm::collector {

SinkPump::SinkPump(Store& store, std::vector<std::unique_ptr<Sink>> sinks, SinkPumpOptions options)
    : store_(store), options_(options) {
  for (auto& s : sinks) {
    Entry e;
    e.cursor = store_.sink_cursor(s->name());
    // A new sink starts where the outbox starts: everything still kept.
    if (e.cursor == 0) store_.save_sink_cursor(s->name(), 0);
    spdlog::info("sink {}: from outbox entry {}", s->name(), e.cursor + 1);
    e.sink = std::move(s);
    sinks_.push_back(std::move(e));
  }
}

std::uint64_t SinkPump::feed(Entry& e, std::chrono::steady_clock::time_point now,
                             std::size_t max_batches) {
  if (!e.ok && now < e.retry_at) return 0;
  std::uint64_t delivered = 0;
  try {
    for (std::size_t b = 0; b < max_batches; ++b) {
      const auto items = store_.outbox_after(e.cursor, options_.batch);
      if (items.empty()) break;
      const std::uint64_t upto = e.sink->consume(items);
      if (upto <= e.cursor) break;
      delivered += static_cast<std::uint64_t>(
          std::count_if(items.begin(), items.end(), [&](const auto& i) { return i.seq <= upto; }));
      e.cursor = upto;
      store_.save_sink_cursor(e.sink->name(), e.cursor);
      if (items.size() < options_.batch) break;
    }
    if (!e.ok) spdlog::info("sink {}: delivering again", e.sink->name());
    e.ok = true;
    e.error.clear();
    e.backoff = std::chrono::milliseconds{0};
  } catch (const std::exception& ex) {
    if (e.ok) spdlog::warn("sink {}: {}; retrying with backoff", e.sink->name(), ex.what());
    e.ok = false;
    e.error = ex.what();
    e.backoff = std::clamp(e.backoff * 2, options_.retry_min, options_.retry_max);
    e.retry_at = now + e.backoff;
  }
  return delivered;
}

bool SinkPump::over_bound() {
  const OutboxStatus st = store_.outbox_status();
  if (st.oldest == 0) return false;  // empty
  return st.head - st.oldest + 1 > options_.max_outbox + options_.max_outbox / 8;
}

void SinkPump::trim() {
  const std::uint64_t dropped = store_.trim_outbox(
      options_.max_outbox, others_ ? others_() : std::numeric_limits<std::uint64_t>::max());
  if (dropped == 0) return;
  // Without sinks the outbox only waits for a future one: its bound is routine then.
  if (sinks_.empty())
    spdlog::debug("outbox: {} oldest entries dropped (bound {}, no sink)", dropped,
                  options_.max_outbox);
  else
    spdlog::warn("outbox: {} entr{} dropped before every sink read them (bound {})", dropped,
                 dropped == 1 ? "y" : "ies", options_.max_outbox);
}

std::uint64_t SinkPump::poll(std::chrono::steady_clock::time_point now, std::size_t max_batches) {
  std::uint64_t delivered = 0;
  for (auto& e : sinks_) delivered += feed(e, now, max_batches);
  // Trimming deletes rows: every 64th poll is enough for a bound of entries at a live rate;
  // a replay commits far more between polls, so also once the outbox is 1/8 over its bound.
  if ((polls_++ & 63) == 0 || over_bound()) trim();
  return delivered;
}

std::vector<SinkStatus> SinkPump::status() const {
  std::vector<SinkStatus> out;
  for (const auto& e : sinks_) out.push_back(SinkStatus{e.sink->name(), e.cursor, e.ok, e.error});
  return out;
}

}  // namespace imsm::collector
