// /metrics: the store's state in the Prometheus text format (docs/http.md "Metrics"). Per meter
// (labels meter_id, label, tenant): energy register, last peak demand, demand resets, seconds
// since the last reading, readings stored, receive ratio over the last hour, status, silent,
// registered; per source: bytes, frames, skipped bytes by reason, rejected frames by reason,
// reconnects, and (collect --http) up; per sink: outbox depth; and from a running collector's
// store writer (collect --http only): commit latency and batch size histograms, commits,
// failures, dropped and kept frames.
#pragma once

#include <optional>
#include <string>

#include "collector/config.h"
#include "collector/http/health_route.h"
#include "collector/service/store_writer.h"
#include "collector/store/store.h"

namespace imsm::collector::http {

// The window of imsmeter_meter_receive_ratio.
inline constexpr std::int64_t kReceiveWindowUs = 3'600'000'000;

struct MetricsContext {
  UtcMicros now = 0;              // the server's clock: status, age, receive ratio
  ValidationSettings validation;  // cadence and the silent rule
  // collect --http: the writer's snapshot and every component's health (source up).
  std::optional<service::WriterMetrics> writer;
  HealthList health;
};

[[nodiscard]] std::string metrics_text(Store& store, const MetricsContext& ctx);

// Exact decimal texts of the exposition (tested on their own).
// Microseconds as seconds with six decimals: 1500000 -> "1.500000".
[[nodiscard]] std::string seconds_text(std::int64_t us);
// A bucket bound in microseconds as seconds without trailing zeros: 2500 -> "0.0025".
[[nodiscard]] std::string seconds_bound(std::int64_t us);
// got / expected rounded half up to six decimals: (11, 12) -> "0.916667"; empty if expected <= 0.
[[nodiscard]] std::string ratio_text(std::int64_t got, std::int64_t expected);

}  // namespace imsm::collector::http
