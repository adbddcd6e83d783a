#include "collector/http/event_stream.h"

#include <algorithm>

#include "collector/sinks/outbox_json.h"

namespace imsm::collector::http {

std::string sse_frame(const OutboxItem& item) {
  // outbox_json is one line (JSON escapes newlines), so one "data:" line carries it.
  return "id: " + std::to_string(item.seq) + "\nevent: " + to_string(item.kind) +
         "\ndata: " + outbox_json(item) + "\n\n";
}

EventStream::EventStream(Store& store, std::mutex& store_mutex, StreamOptions options)
    : store_(store), store_mutex_(store_mutex), options_(options) {}

EventStream::~EventStream() {
  stop();
}

std::uint64_t EventStream::store_head() {
  std::lock_guard lock(store_mutex_);
  return store_.outbox_status().head;
}

void EventStream::start() {
  const auto head = store_head();
  std::lock_guard lock(mutex_);
  if (started_) return;
  floor_ = last_ = head;
  started_ = true;
  thread_ = std::thread([this] { reader(); });
}

void EventStream::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  reader_cv_.notify_all();
  clients_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EventStream::notify() {
  {
    std::lock_guard lock(mutex_);
    wake_ = true;
  }
  reader_cv_.notify_one();
}

void EventStream::reader() {
  std::unique_lock lock(mutex_);
  while (!stopped_) {
    reader_cv_.wait_for(lock, options_.poll_every, [this] { return wake_ || stopped_; });
    if (stopped_) break;
    wake_ = false;
    lock.unlock();
    bool more = true;
    try {
      while (more) more = read_new();
    } catch (const std::exception&) {
      // A busy or briefly unreadable database: the next wake or poll tries again.
    }
    lock.lock();
  }
}

// Reads one page past last_ into the ring; true when a full page came (more may follow).
bool EventStream::read_new() {
  std::uint64_t after = 0;
  {
    std::lock_guard lock(mutex_);
    after = last_;
  }
  std::vector<OutboxItem> items;
  {
    std::lock_guard lock(store_mutex_);
    // The cheap check first (max(seq) on the primary key): most wakes find nothing new.
    if (store_.outbox_status().head <= after) return false;
    items = store_.outbox_after(after, options_.page);
  }
  if (items.empty()) return false;
  std::deque<Frame> fresh;
  for (const auto& item : items) fresh.push_back(Frame{item.seq, sse_frame(item)});
  {
    std::lock_guard lock(mutex_);
    for (auto& f : fresh) ring_.push_back(std::move(f));
    last_ = ring_.back().seq;
    while (ring_.size() > options_.ring_frames) {
      floor_ = ring_.front().seq;
      ring_.pop_front();
    }
  }
  clients_cv_.notify_all();
  return items.size() == options_.page;
}

std::unique_ptr<EventStream::Client> EventStream::open(std::optional<std::uint64_t> last_event_id) {
  const std::uint64_t cursor = last_event_id ? *last_event_id : store_head();
  std::lock_guard lock(mutex_);
  if (open_ >= options_.max_streams || stopped_) return nullptr;
  ++open_;
  return std::make_unique<Client>(*this, cursor);
}

std::size_t EventStream::open_streams() const {
  std::lock_guard lock(mutex_);
  return open_;
}

EventStream::Client::~Client() {
  std::lock_guard lock(stream_.mutex_);
  --stream_.open_;
}

// A client behind the ring reads its next page from the store itself (only while catching
// up: a live client never queries).
bool EventStream::catch_up(std::uint64_t& cursor, std::string& out, std::uint64_t floor) {
  std::vector<OutboxItem> items;
  {
    std::lock_guard lock(store_mutex_);
    items = store_.outbox_after(cursor, options_.page);
  }
  for (const auto& item : items) {
    if (item.seq > floor) break;  // the ring has it from here on
    out += sse_frame(item);
    cursor = item.seq;
  }
  // Nothing older is left (trimmed past the bound): go on from the ring.
  if (out.empty()) cursor = std::max(cursor, floor);
  return true;
}

bool EventStream::Client::next(std::string& out) {
  out.clear();
  auto& s = stream_;
  std::unique_lock lock(s.mutex_);
  if (s.stopped_) return false;
  if (cursor_ < s.floor_) {
    const auto floor = s.floor_;
    lock.unlock();
    return s.catch_up(cursor_, out, floor);
  }
  const bool got = s.clients_cv_.wait_for(lock, s.options_.keepalive,
                                          [&] { return s.stopped_ || s.last_ > cursor_; });
  if (s.stopped_) return false;
  if (!got) {
    out = ": keepalive\n\n";
    return true;
  }
  if (cursor_ < s.floor_) {  // the ring moved past this client while it waited
    const auto floor = s.floor_;
    lock.unlock();
    return s.catch_up(cursor_, out, floor);
  }
  auto it = std::upper_bound(s.ring_.begin(), s.ring_.end(), cursor_,
                             [](std::uint64_t c, const Frame& f) { return c < f.seq; });
  for (; it != s.ring_.end(); ++it) out += it->text;
  cursor_ = s.last_;
  return true;
}

}  // namespace imsm::collector::http
