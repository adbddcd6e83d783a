// `--sink mqtt://HOST:PORT[?gateway=NAME&user=USER&password_file=PATH]`, or over TLS
// `--sink mqtts://HOST:PORT[?ca=PATH&cert=PATH&key=PATH&...]` (docs/mqtt.md):
// per-meter state JSON (retained), gateway and per-meter availability, events, and Home
// Assistant discovery, published with QoS 1. consume() returns the last sequence number
// whose every publish the broker acknowledged (PUBACK) and throws when the broker cannot
// be reached, so the pump retries and an outage loses nothing.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "collector/sinks/ha_discovery.h"
#include "collector/sinks/mqtt_spec.h"
#include "collector/sinks/sink.h"

namespace imsm::collector {

struct MqttOptions {
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds ack_timeout{5000};
  // Model and label of a meter for its HA device; unset or nullopt: "IMS meter <id>".
  std::function<std::optional<HaMeter>(std::uint16_t)> meter_info;
};

// `target` is what follows "mqtt:" ("//HOST:PORT?...", or "mqtts:" with `tls`). Throws
// std::invalid_argument for a malformed spec, std::runtime_error for an unreadable password,
// CA, cert or key file. Does not connect: the first consume() does. With `store`, each HA
// device is named after the meter's registry label and model (read from the pump's thread, in
// consume(); `store` must outlive the sink).
[[nodiscard]] std::unique_ptr<Sink> make_mqtt_sink(const std::string& target, Store* store,
                                                   bool tls = false);
[[nodiscard]] std::unique_ptr<Sink> make_mqtt_sink(const MqttSpec& spec, MqttOptions options);

}  // namespace imsm::collector
