// The Modbus TCP gateway's command-line options, shared by `serve --modbus` and
// `collect --modbus` (docs/modbus.md): HOST:PORT, and the rule that a non-loopback address
// needs --modbus-allow-remote, since Modbus TCP has no authentication.
#pragma once

#include <memory>
#include <string>

#include "collector/config.h"
#include "collector/modbus/gateway_options.h"
#include "collector/net/servers.h"
#include "collector/service/store_writer.h"

namespace imsm::cli {

struct ModbusCliOptions {
  std::string listen;  // HOST:PORT; empty: no gateway
  bool allow_remote = false;
};

// Checks the options (UsageError, exit 2, naming `command`); throws nothing when they are
// fine. Separate from make_modbus_gateway so a bad option fails before anything starts.
collector::modbus::GatewayOptions modbus_gateway_options(const ModbusCliOptions& o,
                                                         const std::string& command,
                                                         const collector::CollectorConfig& config);

// The gateway (the network module) on its own read-only handle of `db`, bound (configure())
// but not started; with `writer` (collect), on the collector's clock. A bind failure or a
// module that cannot be loaded is a RuntimeError (exit 1) naming `command`.
std::unique_ptr<collector::net::ModbusComponent> make_modbus_gateway(
    const collector::modbus::GatewayOptions& options, const std::string& command,
    const std::string& db, const collector::service::StoreWriter* writer = nullptr);

}  // namespace imsm::cli
