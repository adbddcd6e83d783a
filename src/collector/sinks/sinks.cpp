// The sink registry: one line per sink kind. MQTT's sinks are in the network module
// (net/net_api.h), loaded when such a sink is made.
#include <stdexcept>
#include <string_view>

#include "collector/net/net_module.h"
#include "collector/sinks/jsonl_sink.h"
#include "collector/sinks/sink.h"

namespace imsm::collector {

namespace {

// `store`, when given, is what a sink may name things from (the registry's labels).
struct SinkKind {
  std::string_view prefix;
  std::unique_ptr<Sink> (*make)(const std::string& target, Store* store);
  bool net = false;  // made by the network module
};

// Made by the network module (net/net_module.h), loaded at the first call.
std::unique_ptr<Sink> make_mqtt(const std::string& t, Store* s) {
  return net::net_api().make_mqtt_sink(t, s, false);
}
std::unique_ptr<Sink> make_mqtts(const std::string& t, Store* s) {
  return net::net_api().make_mqtt_sink(t, s, true);
}

constexpr SinkKind kSinks[] = {
    {"jsonl", [](const std::string& t, Store*) { return make_jsonl_sink(t); }},
    {"mqtt", make_mqtt, true},
    {"mqtts", make_mqtts, true},
};

std::string_view kind_of(const std::string& spec) {
  return std::string_view(spec).substr(0, spec.find(':'));
}

}  // namespace

bool sink_needs_net_module(const std::string& spec) {
  for (const auto& k : kSinks)
    if (kind_of(spec) == k.prefix) return k.net;
  return false;
}

std::unique_ptr<Sink> make_sink(const std::string& spec, Store* store) {
  const auto colon = spec.find(':');
  const std::string_view kind = kind_of(spec);
  for (const auto& k : kSinks) {
    if (kind != k.prefix) continue;
    if (colon == std::string::npos || colon + 1 == spec.size())
      throw std::invalid_argument("sink '" + spec + "': say where, e.g. " + std::string(kind) +
                                  ":PATH");
    return k.make(spec.substr(colon + 1), store);
  }
  throw std::invalid_argument("sink '" + spec + "': unknown kind (known: " + sink_kinds() + ")");
}

std::string sink_kinds() {
  std::string out;
  for (const auto& k : kSinks) {
    if (!out.empty()) out += ", ";
    out += k.prefix;
  }
  return out;
}

}  // namespace imsm::collector
