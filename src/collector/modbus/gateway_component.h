// The Modbus TCP gateway as a component of the collector's event loop (service/component.h):
// configure() binds (so a taken port fails start-up, naming it), start() serves on a thread
// of its own, stop() ends it. It owns its Store handle: open it read-only on the collector's
// database (the gateway's requests must not share the writer's SQLite connection). Under
// `collect`, give it the loop's store writer: "seconds since the last reading" and the status
// then follow the collector's clock (--clock-scale, replays), read at each poll(); without one
// (`serve`), the options' clock (the wall clock).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "collector/modbus/modbus_gateway.h"
#include "collector/net/servers.h"
#include "collector/service/joining_thread.h"
#include "collector/service/store_writer.h"

namespace imsm::collector::modbus {

class GatewayComponent final : public net::ModbusComponent {
 public:
  GatewayComponent(std::unique_ptr<Store> store, GatewayOptions options,
                   const service::StoreWriter* writer = nullptr);
  [[nodiscard]] std::string name() const override { return "modbus"; }
  void configure() override;
  void start() override;
  void poll() override;
  void stop() noexcept override;
  [[nodiscard]] service::Health health() const override;
  [[nodiscard]] int bound_port() const override { return gateway_.bound_port(); }

 private:
  static GatewayOptions with_clock(GatewayOptions o, const service::StoreWriter* writer,
                                   const std::atomic<UtcMicros>& now);

  const service::StoreWriter* writer_;
  std::atomic<UtcMicros> now_{0};  // the writer's collector_now(), for request threads
  std::unique_ptr<Store> store_;
  ModbusGateway gateway_;
  service::JoiningThread thread_;
  bool bound_ = false;
};

}  // namespace imsm::collector::modbus
