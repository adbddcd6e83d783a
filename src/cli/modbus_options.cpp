#include "cli/modbus_options.h"

#include <exception>

#include "cli/cli_error.h"
#include "cli/http_options.h"
#include "cli/net_module.h"
#include "collector/http/server_options.h"

namespace imsm::cli {

collector::modbus::GatewayOptions modbus_gateway_options(const ModbusCliOptions& o,
                                                         const std::string& command,
                                                         const collector::CollectorConfig& config) {
  collector::modbus::GatewayOptions go;
  parse_host_port(o.listen, command + ": --modbus", 1502, go.host, go.port);
  if (!collector::http::is_loopback(go.host) && !o.allow_remote)
    throw UsageError(command + ": --modbus " + o.listen +
                     " is not a loopback address and Modbus has no authentication: add "
                     "--modbus-allow-remote to serve it anyway");
  go.config = config;
  return go;
}

std::unique_ptr<collector::net::ModbusComponent> make_modbus_gateway(
    const collector::modbus::GatewayOptions& options, const std::string& command,
    const std::string& db, const collector::service::StoreWriter* writer) {
  const auto& net = require_net_module(command + " --modbus");
  auto gateway = net.make_modbus_component(
      collector::open_store(db, collector::StoreOptions{true, false}), options, writer);
  try {
    gateway->configure();
  } catch (const std::exception& e) {
    throw RuntimeError(command + ": " + e.what());  // "modbus: HOST:PORT: why"
  }
  return gateway;
}

}  // namespace imsm::cli
