// The Modbus TCP gateway's options (modbus_gateway.h, docs/modbus.md), apart from the
// gateway: the CLI fills them and hands them to the network module (net/net_api.h) without
// seeing a class the module defines.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "collector/config.h"
#include "collector/time_util.h"

namespace imsm::collector::modbus {

struct GatewayOptions {
  std::string host = "127.0.0.1";
  int port = 1502;              // 0: any free port (see bound_port()); 502 needs privileges
  std::size_t max_clients = 8;  // connections served at once
  int idle_timeout_s = 60;      // a connection silent this long is closed (0: never)
  CollectorConfig config;       // modbus_unit mapping and the silent rule (validation)
  std::function<UtcMicros()> clock = now_utc;  // "seconds since the last reading" and status
};

}  // namespace imsm::collector::modbus
