// The HTTP API and /metrics over a Store (docs/http.md): `imsmeter serve` runs it; the
// collector can run one beside its ingest loop. Every request holds the store's mutex while
// it queries, so one Store (SQLite, not thread-safe) serves every worker thread.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "collector/config.h"
#include "collector/http/event_stream.h"
#include "collector/http/server_options.h"
#include "collector/net/servers.h"
#include "collector/service/health.h"
#include "collector/service/store_writer.h"
#include "collector/store/store.h"

namespace httplib {
class Server;
}

namespace imsm::collector::http {

class ApiServer final : public net::HttpServer {
 public:
  ApiServer(Store& store, ServerOptions options);
  ~ApiServer() override;
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds the listening socket; throws std::runtime_error naming host:port when it cannot.
  void bind() override;
  [[nodiscard]] int bound_port() const override { return port_; }
  // Serves until stop() (from any thread). bind() first.
  void run() override;
  void stop() override;
  // True while run() accepts connections.
  [[nodiscard]] bool running() const override;
  // Thread-safe, never blocks: something was committed (the collector's commit hook); the
  // event stream reads the outbox now instead of at its next poll.
  void notify_commit() { stream_.notify(); }
  [[nodiscard]] std::uint64_t stream_read_through() const { return stream_.read_through(); }

 private:
  void add_routes();
  void add_stream_route();
  void add_dashboard_routes();
  [[nodiscard]] UtcMicros now() const;
  Store& store_;
  std::mutex store_mutex_;
  ServerOptions options_;
  EventStream stream_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
};

}  // namespace imsm::collector::http
