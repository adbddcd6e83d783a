#include "collector/modbus/gateway_component.h"

#include <stdexcept>

namespace imsm::collector::modbus {

GatewayComponent::GatewayComponent(std::unique_ptr<Store> store, GatewayOptions options)
    : store_(std::move(store)), gateway_(*store_, std::move(options)) {}

void GatewayComponent::configure() {
  try {
    gateway_.bind();
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("modbus: ") + e.what());
  }
  bound_ = true;
}

void GatewayComponent::start() {
  thread_.start([this] { gateway_.run(); }, [this] { gateway_.stop(); });
}

void GatewayComponent::stop() noexcept {
  thread_.stop_and_join();
}

service::Health GatewayComponent::health() const {
  if (!bound_) return {};
  return service::Health::ok();
}

}  // namespace imsm::collector::modbus
