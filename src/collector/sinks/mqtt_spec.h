// The `mqtt:` and `mqtts:` sink specs (docs/mqtt.md):
//   mqtt://HOST[:PORT][?gateway=NAME&user=USER&password_file=PATH]
//   mqtts://HOST[:PORT][?ca=PATH&cert=PATH&key=PATH&gateway=...&user=...&password_file=...]
// The registry hands over what follows "mqtt:" / "mqtts:", i.e. "//HOST:PORT?...".
#pragma once

#include <cstdint>
#include <string>

namespace imsm::collector {

struct MqttSpec {
  std::string host;
  std::uint16_t port = 1883;
  std::string gateway;  // topic level imsmeter/<gateway>/...; [A-Za-z0-9_-]+
  std::string user;
  std::string password_file;  // first line is the password; empty: none
  // TLS (mqtts): the broker's certificate is verified against `ca_file` (PEM; empty: the
  // system's trust store) and its host name; `cert_file` + `key_file` (PEM) authenticate
  // the client when the broker asks (both or neither).
  bool tls = false;
  std::string ca_file, cert_file, key_file;
  [[nodiscard]] std::string uri() const;  // "tcp://HOST:PORT" or "ssl://HOST:PORT" for Paho
};

// Throws std::invalid_argument naming the bad part. A missing gateway defaults to the
// host name (made topic-safe). `tls`: an mqtts spec (port 8883 by default, TLS options).
[[nodiscard]] MqttSpec parse_mqtt_spec(const std::string& target, bool tls = false);

}  // namespace imsm::collector
