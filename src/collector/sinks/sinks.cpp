// The sink registry: one line per sink kind.
#include <stdexcept>
#include <string_view>

#include "collector/sinks/jsonl_sink.h"
#include "collector/sinks/mqtt_sink.h"
#include "collector/sinks/sink.h"

namespace imsm::collector {

namespace {

// `store`, when given, is what a sink may name things from (the registry's labels).
struct SinkKind {
  std::string_view prefix;
  std::unique_ptr<Sink> (*make)(const std::string& target, Store* store);
};

constexpr SinkKind kSinks[] = {
    {"jsonl", [](const std::string& t, Store*) { return make_jsonl_sink(t); }},
    {"mqtt", [](const std::string& t, Store* s) { return make_mqtt_sink(t, s, false); }},
    {"mqtts", [](const std::string& t, Store* s) { return make_mqtt_sink(t, s, true); }},
};

}  // namespace

std::unique_ptr<Sink> make_sink(const std::string& spec, Store* store) {
  const auto colon = spec.find(':');
  const std::string_view kind = std::string_view(spec).substr(0, colon);
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
