// The network module's table of factories (net_api.h), returned by its entry point
// (net_entry.cpp).
#include <httplib.h>

#include <memory>
#include <string>
#include <utility>

#include "collector/http/api_server.h"
#include "collector/http/http_component.h"
#include "collector/modbus/gateway_component.h"
#include "collector/net/net_api.h"
#include "collector/sinks/mqtt_sink.h"

namespace imsm::collector::net {

namespace {

std::unique_ptr<Sink> make_mqtt(const std::string& target, Store* store, bool tls) {
  return make_mqtt_sink(target, store, tls);
}

std::unique_ptr<HttpServer> make_http_server(Store& store, http::ServerOptions options) {
  return std::make_unique<http::ApiServer>(store, std::move(options));
}

std::unique_ptr<service::Component> make_http_component(
    const std::string& db_path, http::ServerOptions options, const service::EventLoop& loop,
    service::StoreWriter& writer, std::function<void(const std::string&)> on_listening) {
  auto http = std::make_unique<http::HttpComponent>(db_path, std::move(options), loop, &writer,
                                                    std::move(on_listening));
  auto* hook = http.get();
  writer.after_commit([hook] { hook->notify_commit(); });
  writer.add_outbox_reader([hook] { return hook->stream_read_through(); });
  return http;
}

std::unique_ptr<ModbusComponent> make_modbus_component(std::unique_ptr<Store> store,
                                                       modbus::GatewayOptions options,
                                                       const service::StoreWriter* writer) {
  return std::make_unique<modbus::GatewayComponent>(std::move(store), std::move(options), writer);
}

std::optional<HttpResponse> http_get(const std::string& host, int port, const std::string& path,
                                     int timeout_s) {
  httplib::Client client(host, port);
  client.set_read_timeout(timeout_s, 0);
  const auto res = client.Get(path);
  if (!res) return std::nullopt;
  return HttpResponse{res->status, res->body};
}

constexpr NetApi kApi{
    .api_version = kNetApiVersion,
    .project_version = IMSM_VERSION,
    .make_mqtt_sink = make_mqtt,
    .make_http_server = make_http_server,
    .make_http_component = make_http_component,
    .make_modbus_component = make_modbus_component,
    .http_get = http_get,
};

}  // namespace

const NetApi& module_net_api() {
  return kApi;
}

}  // namespace imsm::collector::net
