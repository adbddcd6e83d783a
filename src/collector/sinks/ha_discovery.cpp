#include "collector/sinks/ha_discovery.h"

#include <nlohmann/json.hpp>

namespace imsm::collector {

namespace {

using nlohmann::ordered_json;

struct SensorKind {
  const char* key;
  const char* name;
  const char* device_class;
  const char* state_class;  // nullptr: none (a timestamp has no state class)
  const char* unit;         // nullptr: none
  const char* value_template;
};

// State JSON is outbox_json(): total_kwh (integer kWh), peak_demand_w (integer W, guide
// 2.5.2: counts x 20 W) and received_at (ISO 8601 UTC). HA divides W by 1000 for kW, so
// nothing stored is a float.
constexpr SensorKind kSensors[] = {
    {"energy", "Energy", "energy", "total_increasing", "kWh", "{{ value_json.total_kwh }}"},
    {"peak_demand", "Peak demand", "power", "measurement", "kW",
     "{{ value_json.peak_demand_w / 1000 }}"},
    {"last_seen", "Last seen", "timestamp", nullptr, nullptr, "{{ value_json.received_at }}"},
};

ordered_json device(const HaMeter& m, const std::string& base) {
  ordered_json d;
  d["identifiers"] = ordered_json::array({base});
  d["name"] = m.label.empty() ? "IMS meter " + std::to_string(m.id) : m.label;
  d["manufacturer"] = "IMS";
  d["model"] = m.model.empty() ? "Series 1000/2000" : m.model;
  d["serial_number"] = std::to_string(m.id);
  return d;
}

}  // namespace

std::string MqttTopics::status() const {
  return "imsmeter/" + gateway + "/status";
}
std::string MqttTopics::events() const {
  return "imsmeter/" + gateway + "/events";
}
std::string MqttTopics::state(std::uint16_t meter) const {
  return "imsmeter/" + gateway + "/" + std::to_string(meter) + "/state";
}
std::string MqttTopics::availability(std::uint16_t meter) const {
  return "imsmeter/" + gateway + "/" + std::to_string(meter) + "/availability";
}

std::vector<HaConfig> ha_discovery(const MqttTopics& t, const HaMeter& m) {
  const std::string base = "imsmeter_" + t.gateway + "_" + std::to_string(m.id);
  std::vector<HaConfig> out;
  for (const auto& k : kSensors) {
    ordered_json j;
    const std::string unique_id = base + "_" + k.key;
    j["name"] = k.name;
    j["unique_id"] = unique_id;
    j["object_id"] = unique_id;
    j["state_topic"] = t.state(m.id);
    j["value_template"] = k.value_template;
    j["device_class"] = k.device_class;
    if (k.state_class != nullptr) j["state_class"] = k.state_class;
    if (k.unit != nullptr) j["unit_of_measurement"] = k.unit;
    // Both must say online: the gateway (LWT) and the meter (offline while silent).
    j["availability"] = ordered_json::array(
        {ordered_json{{"topic", t.status()}}, ordered_json{{"topic", t.availability(m.id)}}});
    j["availability_mode"] = "all";
    j["device"] = device(m, base);
    out.push_back({"homeassistant/sensor/" + unique_id + "/config",
                   j.dump(-1, ' ', false, ordered_json::error_handler_t::replace)});
  }
  return out;
}

}  // namespace imsm::collector
