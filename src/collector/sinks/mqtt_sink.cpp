#include "collector/sinks/mqtt_sink.h"

#include <mqtt/async_client.h>
#include <deque>
#include <fstream>
#include <mutex>
#include <set>
#include <stdexcept>

#include "collector/sinks/outbox_json.h"

namespace imsm::collector {

namespace {

constexpr int kQos = 1;
constexpr std::size_t kWindow = 64;  // publishes in flight before waiting for the oldest PUBACK

std::string read_password(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line))
    throw std::runtime_error("mqtt password_file '" + path + "': cannot read it");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// TLS files are read by OpenSSL at connect time; checking them when the sink is made turns a
// typo into a start-up error naming the file instead of an endless reconnect loop.
void check_readable(const std::string& what, const std::string& path) {
  if (path.empty()) return;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("mqtt " + what + " '" + path + "': cannot read it");
}

class MqttSink final : public Sink {
 public:
  MqttSink(MqttSpec spec, MqttOptions options)
      : spec_(std::move(spec)),
        options_(std::move(options)),
        topics_{spec_.gateway},
        name_(std::string(spec_.tls ? "mqtts://" : "mqtt://") + spec_.host + ":" +
              std::to_string(spec_.port) + "/" + spec_.gateway),
        client_(spec_.uri(), "imsmeter-" + spec_.gateway) {
    if (!spec_.password_file.empty()) password_ = read_password(spec_.password_file);
    check_readable("ca", spec_.ca_file);
    check_readable("cert", spec_.cert_file);
    check_readable("key", spec_.key_file);
  }

  ~MqttSink() override {
    try {
      if (!client_.is_connected()) return;
      // A clean disconnect suppresses the LWT, so say offline ourselves.
      client_.publish(topics_.status(), "offline", kQos, true)->wait_for(options_.ack_timeout);
      client_.disconnect()->wait_for(options_.connect_timeout);
    } catch (const mqtt::exception&) {  // nothing to do on the way out
    }
  }

  const std::string& name() const override { return name_; }

  std::uint64_t consume(const std::vector<OutboxItem>& batch) override {
    if (batch.empty()) return 0;
    connect_if_needed();
    std::uint64_t acked = 0;
    try {
      for (const auto& item : batch) {
        publish_item(item);
        while (window_.size() > kWindow) acked = wait_oldest(acked);
      }
      while (!window_.empty()) acked = wait_oldest(acked);
    } catch (const std::exception& e) {
      window_.clear();
      announced_.clear();
      online_.clear();
      if (acked == 0) throw std::runtime_error(spec_.uri() + ": " + e.what());
    }
    return acked;
  }

 private:
  struct InFlight {
    mqtt::delivery_token_ptr token;
    std::uint64_t seq;
  };

  void connect_if_needed() {
    if (client_.is_connected()) return;
    auto b = mqtt::connect_options_builder()
                 .clean_session(true)
                 .max_inflight(static_cast<int>(kWindow))
                 .connect_timeout(options_.connect_timeout)
                 .will(mqtt::message(topics_.status(), "offline", kQos, true));
    if (!spec_.user.empty()) b.user_name(spec_.user);
    if (!spec_.password_file.empty()) b.password(password_);
    if (spec_.tls) b.ssl(tls_options());
    try {
      if (!client_.connect(b.finalize())->wait_for(options_.connect_timeout))
        throw std::runtime_error("no CONNACK within the timeout");
      client_.publish(topics_.status(), "online", kQos, true)->wait_for(options_.ack_timeout);
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot connect to " + spec_.uri() + ": " + e.what() + tls_error());
    }
    // A broker that restarted has lost retained discovery and availability: send again.
    announced_.clear();
    online_.clear();
  }

  // The broker's certificate is verified (chain to `ca`, and host name); OpenSSL's reason for
  // a failed handshake arrives through the error handler, on Paho's thread.
  mqtt::ssl_options tls_options() {
    {
      const std::lock_guard lock(tls_mutex_);
      tls_error_.clear();
    }
    auto b = mqtt::ssl_options_builder().enable_server_cert_auth(true).verify(true).error_handler(
        [this](const std::string& message) {
          const std::lock_guard lock(tls_mutex_);
          if (tls_error_.empty()) tls_error_ = message;
        });
    if (!spec_.ca_file.empty()) b.trust_store(spec_.ca_file);
    if (!spec_.cert_file.empty()) b.key_store(spec_.cert_file).private_key(spec_.key_file);
    return b.finalize();
  }

  // "; TLS: <OpenSSL's reason>" after a failed TLS connect, else "".
  std::string tls_error() {
    const std::lock_guard lock(tls_mutex_);
    return tls_error_.empty() ? std::string() : "; TLS: " + tls_error_;
  }

  void publish(const std::string& topic, const std::string& payload, bool retained,
               std::uint64_t seq) {
    window_.push_back({client_.publish(topic, payload, kQos, retained), seq});
  }

  void publish_item(const OutboxItem& item) {
    const bool state = item.kind == OutboxKind::Reading && item.reading && !item.withdrawn;
    if (!state) {
      publish_event(item);
      return;
    }
    const auto meter = item.reading->r.meter_id;
    if (announced_.insert(meter).second) {
      HaMeter m{meter, {}, {}};
      if (options_.meter_info)
        if (auto info = options_.meter_info(meter)) m = *info;
      for (const auto& c : ha_discovery(topics_, m)) publish(c.topic, c.payload, true, item.seq);
    }
    if (online_.insert(meter).second)
      publish(topics_.availability(meter), "online", true, item.seq);
    publish(topics_.state(meter), outbox_json(item), true, item.seq);
  }

  // Events, rejections, retractions and withdrawn readings; silent/back-online also move
  // the meter's availability.
  void publish_event(const OutboxItem& item) {
    publish(topics_.events(), outbox_json(item), false, item.seq);
    if (!item.event || !item.event->e.meter_id) return;
    const auto meter = *item.event->e.meter_id;
    if (item.event->e.kind == EventKind::Silent) {
      online_.erase(meter);
      publish(topics_.availability(meter), "offline", true, item.seq);
    } else if (item.event->e.kind == EventKind::BackOnline) {
      online_.insert(meter);
      publish(topics_.availability(meter), "online", true, item.seq);
    }
  }

  // Waits for the oldest publish's PUBACK; an item counts as delivered once its last
  // publish is acknowledged (publishes are acknowledged in order on one connection).
  std::uint64_t wait_oldest(std::uint64_t acked) {
    InFlight f = std::move(window_.front());
    window_.pop_front();
    if (!f.token->wait_for(options_.ack_timeout))
      throw std::runtime_error("no PUBACK within the timeout");
    const bool item_done = window_.empty() || window_.front().seq != f.seq;
    return item_done ? f.seq : acked;
  }

  MqttSpec spec_;
  MqttOptions options_;
  MqttTopics topics_;
  std::string name_, password_;
  mqtt::async_client client_;
  std::deque<InFlight> window_;
  std::set<std::uint16_t> announced_, online_;
  std::mutex tls_mutex_;
  std::string tls_error_;
};

}  // namespace

std::unique_ptr<Sink> make_mqtt_sink(const MqttSpec& spec, MqttOptions options) {
  return std::make_unique<MqttSink>(spec, std::move(options));
}

std::unique_ptr<Sink> make_mqtt_sink(const std::string& target, Store* store, bool tls) {
  MqttOptions o;
  if (store)
    o.meter_info = [store](std::uint16_t id) -> std::optional<HaMeter> {
      const auto m = store->meter(id);
      if (!m) return std::nullopt;
      return HaMeter{id, m->model, m->label};
    };
  return make_mqtt_sink(parse_mqtt_spec(target, tls), std::move(o));
}

}  // namespace imsm::collector
