// A component's health (ESPHome's component state): starting until it has done its first
// work, ok, degraded with a reason (working around a fault: a source reconnecting, a store
// retrying), failed (gave up). The log and, later, /healthz show it.
#pragma once

#include <string>
#include <vector>

namespace imsm::collector::service {

enum class HealthState { Starting, Ok, Degraded, Failed };

[[nodiscard]] const char* to_string(HealthState s);

struct Health {
  HealthState state = HealthState::Starting;
  std::string reason;  // degraded or failed: why

  [[nodiscard]] static Health ok() { return {HealthState::Ok, {}}; }
  [[nodiscard]] static Health degraded(std::string why) {
    return {HealthState::Degraded, std::move(why)};
  }
  [[nodiscard]] static Health failed(std::string why) {
    return {HealthState::Failed, std::move(why)};
  }
  // "ok", "degraded: database is locked".
  [[nodiscard]] std::string text() const;
  bool operator==(const Health&) const = default;
};

// The worst of several (failed > degraded > starting > ok), with its reason.
[[nodiscard]] Health worst(const std::vector<Health>& all);

}  // namespace imsm::collector::service
