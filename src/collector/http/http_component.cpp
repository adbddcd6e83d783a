#include "collector/http/http_component.h"

#include <chrono>
#include <limits>
#include <stdexcept>
#include <thread>

namespace imsm::collector::http {

HttpComponent::HttpComponent(std::string db_path, ServerOptions options,
                             const service::EventLoop& loop, const service::StoreWriter* writer,
                             std::function<void(const std::string&)> on_listening)
    : db_path_(std::move(db_path)),
      options_(std::move(options)),
      loop_(loop),
      writer_(writer),
      on_listening_(std::move(on_listening)) {
  options_.health = [this] {
    std::lock_guard lock(health_mutex_);
    return health_;
  };
  if (!writer_) return;
  writer_metrics_ = writer_->metrics();
  options_.now = [this] {
    std::lock_guard lock(health_mutex_);
    return writer_metrics_.now;
  };
  options_.writer_metrics = [this] {
    std::lock_guard lock(health_mutex_);
    return writer_metrics_;
  };
}

HttpComponent::~HttpComponent() {
  stop();
}

void HttpComponent::configure() {
  // The writer created (or migrated) the database before any component is configured.
  store_ = open_store(db_path_, StoreOptions{true, false});
  server_ = std::make_unique<ApiServer>(*store_, options_);
  try {
    server_->bind();
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("--http: ") + e.what());
  }
  const bool v6 = options_.host.find(':') != std::string::npos;
  const auto host = v6 ? "[" + options_.host + "]" : options_.host;
  if (on_listening_) on_listening_("http://" + host + ":" + std::to_string(server_->bound_port()));
}

void HttpComponent::start() {
  poll();  // /healthz has every component from the first request
  serving_ = true;
  thread_.start([this] {
    server_->run();
    serving_ = false;
  });
}

void HttpComponent::poll() {
  HealthList all;
  for (const auto* c : loop_.components()) {
    // Its own state is what request threads see by answering at all.
    all.emplace_back(c->name(), c == this ? service::Health::ok() : c->health());
  }
  std::lock_guard lock(health_mutex_);
  health_ = std::move(all);
  if (writer_) writer_metrics_ = writer_->metrics();
}

void HttpComponent::snapshot_writer() {
  if (!writer_) return;
  auto m = writer_->metrics();
  std::lock_guard lock(health_mutex_);
  writer_metrics_ = std::move(m);
}

void HttpComponent::stop() noexcept {
  if (!server_) return;
  // httplib's stop() does nothing before its accept loop runs, and it has no handshake for
  // that: wait (bounded) until it runs or has returned, so a stop right after start() is
  // not lost and the join cannot hang.
  for (int i = 0; i < 2000 && thread_.running() && serving_ && !server_->running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server_->stop();
  thread_.stop_and_join();
}

service::Health HttpComponent::health() const {
  if (!server_) return {};
  return serving_ ? service::Health::ok() : service::Health::failed("not serving");
}

void HttpComponent::notify_commit() {
  snapshot_writer();
  if (server_) server_->notify_commit();
}

std::uint64_t HttpComponent::stream_read_through() const {
  return server_ ? server_->stream_read_through() : std::numeric_limits<std::uint64_t>::max();
}

}  // namespace imsm::collector::http
