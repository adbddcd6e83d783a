#include "collector/modbus/gateway_component.h"

#include <stdexcept>

namespace imsm::collector::modbus {

GatewayOptions GatewayComponent::with_clock(GatewayOptions o, const service::StoreWriter* writer,
                                            const std::atomic<UtcMicros>& now) {
  if (writer) o.clock = [&now] { return now.load(); };
  return o;
}

GatewayComponent::GatewayComponent(std::unique_ptr<Store> store, GatewayOptions options,
                                   const service::StoreWriter* writer)
    : writer_(writer),
      now_(writer ? writer->collector_now() : 0),
      store_(std::move(store)),
      gateway_(*store_, with_clock(std::move(options), writer, now_)) {}

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

void GatewayComponent::poll() {
  if (writer_) now_.store(writer_->collector_now());
}

void GatewayComponent::stop() noexcept {
  thread_.stop_and_join();
}

service::Health GatewayComponent::health() const {
  if (!bound_) return {};
  return service::Health::ok();
}

}  // namespace imsm::collector::modbus
