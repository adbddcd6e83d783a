// The Modbus TCP gateway as a component of the collector's event loop (service/component.h):
// configure() binds (so a taken port fails start-up, naming it), start() serves on a thread
// of its own, stop() ends it. It owns its Store handle: open it read-only on the collector's
// database (the gateway's requests must not share the writer's SQLite connection).
#pragma once

#include <memory>
#include <string>

#include "collector/modbus/modbus_gateway.h"
#include "collector/service/component.h"
#include "collector/service/joining_thread.h"

namespace imsm::collector::modbus {

class GatewayComponent : public service::Component {
 public:
  GatewayComponent(std::unique_ptr<Store> store, GatewayOptions options);
  [[nodiscard]] std::string name() const override { return "modbus"; }
  void configure() override;
  void start() override;
  void stop() noexcept override;
  [[nodiscard]] service::Health health() const override;
  [[nodiscard]] int bound_port() const { return gateway_.bound_port(); }

 private:
  std::unique_ptr<Store> store_;
  ModbusGateway gateway_;
  service::JoiningThread thread_;
  bool bound_ = false;
};

}  // namespace imsm::collector::modbus
