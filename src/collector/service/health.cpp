#include "collector/service/health.h"

namespace imsm::collector::service {

const char* to_string(HealthState s) {
  switch (s) {
    case HealthState::Starting:
      return "starting";
    case HealthState::Ok:
      return "ok";
    case HealthState::Degraded:
      return "degraded";
    case HealthState::Failed:
      return "failed";
  }
  return "unknown";
}

std::string Health::text() const {
  std::string t = to_string(state);
  if (!reason.empty()) t += ": " + reason;
  return t;
}

Health worst(const std::vector<Health>& all) {
  auto rank = [](HealthState s) {
    switch (s) {
      case HealthState::Ok:
        return 0;
      case HealthState::Starting:
        return 1;
      case HealthState::Degraded:
        return 2;
      case HealthState::Failed:
        return 3;
    }
    return 3;
  };
  Health w = Health::ok();
  for (const auto& h : all)
    if (rank(h.state) > rank(w.state)) w = h;
  return w;
}

}  // namespace imsm::collector::service
