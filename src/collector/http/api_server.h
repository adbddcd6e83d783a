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
#include "collector/net/servers.h"
#include "collector/service/health.h"
#include "collector/service/store_writer.h"
#include "collector/store/store.h"

namespace httplib {
class Server;
}

namespace imsm::collector::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;              // 0: any free port (see bound_port())
  std::string token;            // non-empty: every request needs "Authorization: Bearer <token>"
  std::size_t threads = 4;      // requests served at once
  std::size_t max_body = 4096;  // bytes of a request body (the API takes none)
  CollectorConfig config;       // tariffs, tenants and billing time zone of /api/report
  StreamOptions stream;         // /api/stream: streams at once, ring, poll timer
  // /healthz: the health of each component of the process hosting the server (`collect
  // --http`); empty: the server alone (`serve`). Called from request threads.
  std::function<std::vector<std::pair<std::string, service::Health>>()> health;
  // The server's clock (UTC microseconds) for meter statuses, ages and receive ratios. Empty:
  // the wall clock (`serve`); `collect --http`: the collector's (StoreWriter::collector_now(),
  // so --clock-scale and replays are seen in their own time). Called from request threads.
  std::function<UtcMicros()> now;
  // `collect --http`: the running store writer's counters and histograms for /metrics;
  // empty under `serve` (a read-only database cannot know them). Called from request threads.
  std::function<service::WriterMetrics()> writer_metrics;
};

// True for 127.0.0.0/8 (as a dotted address), ::1 and "localhost". Inline: the CLI checks
// its options with it without loading the network module.
[[nodiscard]] inline bool is_loopback(const std::string& host) {
  // 127.x.y.z as digits and dots only: a name such as 127.example.org may resolve anywhere.
  return host == "localhost" || host == "::1" ||
         (host.rfind("127.", 0) == 0 && host.find_first_not_of("0123456789.") == std::string::npos);
}

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
