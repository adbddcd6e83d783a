// A long-running part of the collector (ESPHome's Component): sources, the store writer,
// sinks, later the HTTP, MQTT and Modbus servers. The event loop calls configure() and
// start() once each in registration order, poll() on every turn, stop() once in reverse
// order; health() at any time. Components never block in poll(): a blocking device gets a
// thread owned by a JoiningThread.
#pragma once

#include <string>

#include "collector/service/health.h"

namespace imsm::collector::service {

class Component {
 public:
  virtual ~Component() = default;
  [[nodiscard]] virtual std::string name() const = 0;
  // Checks what can be checked before anything runs; throws std::runtime_error naming the
  // component (a file that does not open).
  virtual void configure() {}
  virtual void start() {}
  virtual void poll() {}
  // Flushes and releases; must not throw.
  virtual void stop() noexcept {}
  [[nodiscard]] virtual Health health() const = 0;
  // A component with nothing more to do (a consumed file) lets the loop end.
  [[nodiscard]] virtual bool done() const { return false; }
};

}  // namespace imsm::collector::service
