// The HTTP server's options (api_server.h, docs/http.md), apart from the server: the CLI fills
// them and hands them to the network module (net/net_api.h) without seeing a class the
// module defines.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "collector/config.h"
#include "collector/service/health.h"
#include "collector/service/store_writer.h"
#include "collector/time_util.h"

namespace imsm::collector::http {

struct StreamOptions {
  std::size_t max_streams = 16;                 // clients streaming at once
  std::size_t ring_frames = 4096;               // newest frames kept for clients
  std::size_t page = 500;                       // items per outbox read
  std::chrono::milliseconds poll_every{500};    // max-seq check when nobody calls notify()
  std::chrono::milliseconds keepalive{15'000};  // a comment line while nothing happens
};

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

}  // namespace imsm::collector::http
