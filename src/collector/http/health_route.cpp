#include "collector/http/health_route.h"

#include "common/text.h"

namespace imsm::collector::http {

Body healthz_body(int schema_version, const HealthList& components) {
  std::vector<service::Health> states;
  std::string list;
  for (const auto& [name, h] : components) {
    states.push_back(h);
    if (!list.empty()) list += ',';
    list += "{\"name\":\"" + json_escape(name) + "\",\"state\":\"" + to_string(h.state) + "\"";
    if (!h.reason.empty()) list += ",\"reason\":\"" + json_escape(h.reason) + "\"";
    list += '}';
  }
  // The server alone (imsmeter serve) answering at all is its health.
  const auto worst = states.empty() ? service::Health::ok() : service::worst(states);
  Body b;
  b.text = std::string("{\"status\":\"") + to_string(worst.state) +
           "\",\"schema_version\":" + std::to_string(schema_version) + ",\"components\":[" + list +
           "]}";
  if (worst.state == service::HealthState::Failed) b.status = 503;
  return b;
}

}  // namespace imsm::collector::http
