// The `mqtt:` sink spec (docs/mqtt.md):
// mqtt://HOST[:PORT][?gateway=NAME&user=USER&password_file=PATH] The registry hands over what
// follows "mqtt:", i.e. "//HOST:PORT?...".
#pragma once

#include <cstdint>
#include <string>

namespace imsm::collector {

struct MqttSpec {
  std::string host;
  std::uint16_t port = 1883;
  std::string gateway;  // topic level imsmeter/<gateway>/...; [A-Za-z0-9_-]+
  std::string user;
  std::string password_file;              // first line is the password; empty: none
  [[nodiscard]] std::string uri() const;  // "tcp://HOST:PORT" for Paho
};

// Throws std::invalid_argument naming the bad part. A missing gateway defaults to the
// host name (made topic-safe).
[[nodiscard]] MqttSpec parse_mqtt_spec(const std::string& target);

}  // namespace imsm::collector
