// /healthz (docs/http.md): the server's own answer, and under `collect --http` every
// component's health state (store writer, sources, sinks' host, the HTTP server itself).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "collector/http/routes.h"
#include "collector/service/health.h"

namespace imsm::collector::http {

using HealthList = std::vector<std::pair<std::string, service::Health>>;

// {"status": worst state, "schema_version": N, "components": [{"name", "state", "reason"}]};
// HTTP 503 when a component failed (a load balancer or systemd watchdog acts on it), else 200.
[[nodiscard]] Body healthz_body(int schema_version, const HealthList& components);

}  // namespace imsm::collector::http
