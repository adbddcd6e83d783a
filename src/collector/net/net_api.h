// The network module's seam (docs/architecture.md "The network module"). Everything that
// needs cpp-httplib, Paho MQTT (and through it OpenSSL) or libmodbus is built into
// libimsmeter-net.so, which the executable loads with dlopen only for the commands and options
// that use it (`serve`, `demo`, `collect --http`, `--modbus`, `--sink mqtt[s]:`;
// net_module.h), so every other command starts without binding those libraries.
//
// The module exports one C symbol, kNetEntrySymbol, returning this table of factories. It is
// linked without the collector core: it binds to the executable's copy (the executable
// exports its symbols), so each type, vtable and global exists once and the table passes the
// C++ types of one build. kNetApiVersion and the project version must match the loader's.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "collector/http/server_options.h"
#include "collector/modbus/gateway_options.h"
#include "collector/net/servers.h"
#include "collector/service/event_loop.h"
#include "collector/service/store_writer.h"
#include "collector/sinks/sink.h"
#include "collector/store/store.h"

namespace imsm::collector::net {

// Bump when NetApi or a type it passes changes shape.
inline constexpr std::uint32_t kNetApiVersion = 1;
inline constexpr const char* kNetEntrySymbol = "imsm_net_api";

struct HttpResponse {
  int status = 0;
  std::string body;
};

struct NetApi {
  std::uint32_t api_version;    // kNetApiVersion of the module's build
  const char* project_version;  // IMSM_VERSION of the module's build
  // make_sink's "mqtt:" and "mqtts:" kinds (sinks/mqtt_sink.h): `target` is what follows
  // the kind. Throws std::invalid_argument for a malformed spec.
  std::unique_ptr<Sink> (*make_mqtt_sink)(const std::string& target, Store* store, bool tls);
  // `serve`: the HTTP API over `store` (which must outlive it), not yet bound.
  std::unique_ptr<HttpServer> (*make_http_server)(Store& store, http::ServerOptions options);
  // `collect --http`: the HTTP component (http/http_component.h) on its own read-only handle
  // of `db_path`, hooked to `writer`'s commits and outbox.
  std::unique_ptr<service::Component> (*make_http_component)(
      const std::string& db_path, http::ServerOptions options, const service::EventLoop& loop,
      service::StoreWriter& writer, std::function<void(const std::string&)> on_listening);
  // The Modbus TCP gateway owning `store`; with `writer` (collect), on the collector's clock.
  std::unique_ptr<ModbusComponent> (*make_modbus_component)(std::unique_ptr<Store> store,
                                                            modbus::GatewayOptions options,
                                                            const service::StoreWriter* writer);
  // `demo`: GET http://host:port/path; nullopt when nothing answered within timeout_s.
  std::optional<HttpResponse> (*http_get)(const std::string& host, int port,
                                          const std::string& path, int timeout_s);
};

using NetEntry = const NetApi* (*)();

// The table, in the module's code (net_table.cpp): what its entry point returns, and what a
// program linking that code (the unit tests) hands to use_linked_net_api() (net_module.h).
[[nodiscard]] const NetApi& module_net_api();

}  // namespace imsm::collector::net

// Defined by the module (net_entry.cpp), found by name (kNetEntrySymbol) with dlsym.
extern "C" const imsm::collector::net::NetApi* imsm_net_api();
