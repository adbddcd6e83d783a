#include "collector/sinks/mqtt_spec.h"

#include <unistd.h>

#include <charconv>
#include <stdexcept>
#include <string_view>

namespace imsm::collector {

namespace {

bool topic_safe(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string default_gateway() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "gateway";
  std::string out;
  for (const char* p = buf; *p != '\0'; ++p) out += topic_safe(std::string_view(p, 1)) ? *p : '_';
  return out.empty() ? "gateway" : out;
}

[[noreturn]] void bad(const MqttSpec& s, const std::string& target, const std::string& why) {
  throw std::invalid_argument(std::string("sink '") + (s.tls ? "mqtts:" : "mqtt:") + target +
                              "': " + why);
}

void parse_host_port(const std::string& target, std::string_view hp, MqttSpec& s) {
  const auto colon = hp.rfind(':');
  s.host = std::string(hp.substr(0, colon));
  if (s.host.empty()) bad(s, target, "no host (mqtt://HOST:PORT)");
  if (colon == std::string_view::npos) return;
  const auto port = hp.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
    bad(s, target, "port '" + std::string(port) + "' is not 1..65535");
  s.port = static_cast<std::uint16_t>(value);
}

void parse_query(const std::string& target, std::string_view q, MqttSpec& s) {
  while (!q.empty()) {
    const auto amp = q.find('&');
    const auto kv = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos || eq + 1 == kv.size())
      bad(s, target, "option '" + std::string(kv) + "' needs a value (NAME=VALUE)");
    const auto key = kv.substr(0, eq);
    const std::string value(kv.substr(eq + 1));
    if (key == "gateway") {
      if (!topic_safe(value)) bad(s, target, "gateway '" + value + "' must be [A-Za-z0-9_-]+");
      s.gateway = value;
    } else if (key == "user") {
      s.user = value;
    } else if (key == "password_file") {
      s.password_file = value;
    } else if (s.tls && (key == "ca" || key == "cert" || key == "key")) {
      (key == "ca" ? s.ca_file : key == "cert" ? s.cert_file : s.key_file) = value;
    } else if (key == "ca" || key == "cert" || key == "key") {
      bad(s, target,
          "option '" + std::string(key) + "' needs TLS: mqtts://HOST:PORT?" + std::string(key) +
              "=PATH");
    } else {
      bad(s, target,
          "unknown option '" + std::string(key) + "' (known: gateway, user, password_file" +
              (s.tls ? ", ca, cert, key)" : ")"));
    }
  }
}

}  // namespace

std::string MqttSpec::uri() const {
  return (tls ? "ssl://" : "tcp://") + host + ":" + std::to_string(port);
}

MqttSpec parse_mqtt_spec(const std::string& target, bool tls) {
  MqttSpec s;
  s.tls = tls;
  if (tls) s.port = 8883;  // MQTT over TLS (IANA)
  std::string_view t(target);
  if (t.substr(0, 2) != "//")
    bad(s, target, tls ? "expected mqtts://HOST:PORT" : "expected mqtt://HOST:PORT");
  t.remove_prefix(2);
  const auto qmark = t.find('?');
  parse_host_port(target, t.substr(0, qmark), s);
  if (qmark != std::string_view::npos) parse_query(target, t.substr(qmark + 1), s);
  if (s.cert_file.empty() != s.key_file.empty())
    bad(s, target, "cert and key go together (the client's certificate and its private key)");
  if (s.gateway.empty()) s.gateway = default_gateway();
  return s;
}

}  // namespace imsm::collector
