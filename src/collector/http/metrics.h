// /metrics: the store's state in the Prometheus text format (docs/http.md "Metrics"). Per meter
// (labels meter_id, label, tenant): energy register, last peak demand, demand resets, seconds
// since the last reading, silent; per source: bytes, frames, skipped bytes by reason, rejected
// frames by reason.
#pragma once

#include <string>

#include "collector/store/store.h"

namespace imsm::collector::http {

// `now`: the server's clock (UTC microseconds), for the seconds since the last reading.
[[nodiscard]] std::string metrics_text(Store& store, UtcMicros now);

}  // namespace imsm::collector::http
