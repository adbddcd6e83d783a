// The HTTP API as a component of the collector's event loop (`collect --http ADDR:PORT`,
// docs/http.md): its own read-only Store handle on the collector's database (a WAL reader,
// so requests never block the writer), its server threads owned here and joined at stop().
// poll() (on the loop's thread) snapshots every component's health for /healthz and the store
// writer's metrics and clock for /metrics and the meters' statuses, so request threads never
// touch another component; the commit hook snapshots the writer again (a client woken by a
// commit sees it counted) and wakes the event stream.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "collector/http/api_server.h"
#include "collector/http/health_route.h"
#include "collector/service/component.h"
#include "collector/service/event_loop.h"
#include "collector/service/joining_thread.h"

namespace imsm::collector::http {

class HttpComponent final : public service::Component {
 public:
  // `on_listening` gets "http://HOST:PORT" once the socket is bound (port 0: the one chosen).
  // `writer`: the loop's store writer (not owned; nullptr: no writer metrics, the wall clock).
  HttpComponent(std::string db_path, ServerOptions options, const service::EventLoop& loop,
                const service::StoreWriter* writer,
                std::function<void(const std::string&)> on_listening);
  ~HttpComponent() override;

  [[nodiscard]] std::string name() const override { return "http"; }
  // Opens the store read-only and binds; throws std::runtime_error naming HOST:PORT.
  void configure() override;
  void start() override;
  void poll() override;
  void stop() noexcept override;
  [[nodiscard]] service::Health health() const override;

  // The commit hook (on the loop's thread, inside the writer's commit): snapshots the writer,
  // then wakes the event stream without blocking.
  void notify_commit();
  // What the event stream has read of the outbox (no limit while not serving).
  [[nodiscard]] std::uint64_t stream_read_through() const;

 private:
  void snapshot_writer();
  std::string db_path_;
  ServerOptions options_;
  const service::EventLoop& loop_;
  const service::StoreWriter* writer_;
  std::function<void(const std::string&)> on_listening_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<ApiServer> server_;
  service::JoiningThread thread_;
  mutable std::mutex health_mutex_;
  HealthList health_;
  service::WriterMetrics writer_metrics_;  // under health_mutex_
  std::atomic<bool> serving_{false};
};

}  // namespace imsm::collector::http
