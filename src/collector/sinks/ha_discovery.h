// Topics and Home Assistant MQTT discovery payloads of the MQTT sink (docs/mqtt.md). Pure
// functions: the sink publishes what these return.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace imsm::collector {

struct MqttTopics {
  std::string gateway;
  [[nodiscard]] std::string status() const;  // imsmeter/<gw>/status: online/offline (LWT)
  [[nodiscard]] std::string events() const;  // imsmeter/<gw>/events
  [[nodiscard]] std::string state(std::uint16_t meter) const;         // .../<id>/state
  [[nodiscard]] std::string availability(std::uint16_t meter) const;  // .../<id>/availability
};

// What is known about a meter beyond its ID (the registry's model and label; empty when
// the meter is not registered).
struct HaMeter {
  std::uint16_t id = 0;
  std::string model, label;
};

struct HaConfig {
  std::string topic;    // homeassistant/sensor/<unique_id>/config
  std::string payload;  // JSON
};

// The three sensors of one meter: energy (kWh, total_increasing), peak demand (kW) and
// last seen (timestamp), all on one HA device per meter.
[[nodiscard]] std::vector<HaConfig> ha_discovery(const MqttTopics& t, const HaMeter& m);

}  // namespace imsm::collector
