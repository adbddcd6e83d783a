// The servers the network module makes, as the executable sees them (net_api.h): interfaces
// only, so nothing outside the module calls a function defined in it except through a vtable.
#pragma once

#include "collector/service/component.h"

namespace imsm::collector::net {

// `serve`'s HTTP API over a store (http::ApiServer).
class HttpServer {
 public:
  virtual ~HttpServer() = default;
  // Binds the listening socket; throws std::runtime_error naming host:port when it cannot.
  virtual void bind() = 0;
  [[nodiscard]] virtual int bound_port() const = 0;
  // Serves until stop() (from any thread). bind() first.
  virtual void run() = 0;
  virtual void stop() = 0;
  // True while run() accepts connections.
  [[nodiscard]] virtual bool running() const = 0;
};

// The Modbus TCP gateway as a component of the loop (modbus::GatewayComponent).
class ModbusComponent : public service::Component {
 public:
  [[nodiscard]] virtual int bound_port() const = 0;
};

}  // namespace imsm::collector::net
