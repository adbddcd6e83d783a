// The MQTT sink (docs/mqtt.md): its spec, the Home Assistant discovery payloads, and the
// sink fed by the real SqliteStore + SinkPump into a real mosquitto that restarts mid-run,
// watched by a Paho subscriber that checks every item arrived exactly once and in order.
#include <gtest/gtest.h>

#include <mqtt/async_client.h>
#include <nlohmann/json.hpp>

#include "collector/sinks/ha_discovery.h"
#include "collector/sinks/mqtt_sink.h"
#include "collector/sinks/mqtt_spec.h"
#include "collector/sinks/sink.h"
#include "collector/sinks/sink_pump.h"
#include "collector/store/sqlite/sqlite_store.h"
#include "helpers.h"
#include "ingest.h"
#include "mosquitto_broker.h"
#include "mqtt_subscriber.h"

namespace imsm::collector {
namespace {

using nlohmann::json;
using test::kMinute;
using test::kT0;
using test::Subscriber;

TEST(MqttSpec, HostPortAndOptions) {
  const auto s = parse_mqtt_spec("//broker.lan:8883?gateway=plant-2&user=ha&password_file=/p");
  EXPECT_EQ(s.host, "broker.lan");
  EXPECT_EQ(s.port, 8883);
  EXPECT_EQ(s.gateway, "plant-2");
  EXPECT_EQ(s.user, "ha");
  EXPECT_EQ(s.password_file, "/p");
  EXPECT_EQ(s.uri(), "tcp://broker.lan:8883");
  const auto d = parse_mqtt_spec("//127.0.0.1");
  EXPECT_EQ(d.port, 1883);          // the MQTT default port
  EXPECT_FALSE(d.gateway.empty());  // defaults to the host name
}

TEST(MqttSpec, MalformedSpecsAreErrorsNamingTheBadPart) {
  const auto message = [](const std::string& target) {
    try {
      (void)make_sink("mqtt:" + target);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("broker:1883").find("expected mqtt://HOST:PORT"), std::string::npos);
  EXPECT_NE(message("//:1883").find("no host"), std::string::npos);
  EXPECT_NE(message("//h:0").find("port '0'"), std::string::npos);
  EXPECT_NE(message("//h:70000").find("port '70000'"), std::string::npos);
  EXPECT_NE(message("//h:1?gateway=a/b").find("gateway 'a/b'"), std::string::npos);
  EXPECT_NE(message("//h:1?qos=2").find("unknown option 'qos'"), std::string::npos);
  EXPECT_NE(message("//h:1?user").find("option 'user' needs a value"), std::string::npos);
  EXPECT_THROW((void)make_sink("mqtt://h:1?password_file=/nonexistent/pw"), std::runtime_error);
}

// HA MQTT discovery: one device per meter, three sensors. The energy sensor must carry
// device_class energy + state_class total_increasing + kWh, or the Energy dashboard
// refuses it; the values are templates over the state JSON (outbox_json keys).
TEST(HaDiscovery, ThreeSensorsOnOneDevicePerMeter) {
  const MqttTopics t{"gw"};
  const auto configs = ha_discovery(t, HaMeter{2578, "IMS 2000", "Suite \"4\""});
  ASSERT_EQ(configs.size(), 3u);
  std::map<std::string, json> by_id;
  for (const auto& c : configs) {
    const auto j = json::parse(c.payload);
    EXPECT_EQ(c.topic, "homeassistant/sensor/" + j["unique_id"].get<std::string>() + "/config");
    EXPECT_EQ(j["state_topic"], "imsmeter/gw/2578/state");
    EXPECT_EQ(j["availability"][0]["topic"], "imsmeter/gw/status");
    EXPECT_EQ(j["availability"][1]["topic"], "imsmeter/gw/2578/availability");
    EXPECT_EQ(j["device"]["identifiers"][0], "imsmeter_gw_2578");
    EXPECT_EQ(j["device"]["model"], "IMS 2000");
    EXPECT_EQ(j["device"]["name"], "Suite \"4\"");
    by_id[j["unique_id"]] = j;
  }
  const auto& e = by_id.at("imsmeter_gw_2578_energy");
  EXPECT_EQ(e["device_class"], "energy");
  EXPECT_EQ(e["state_class"], "total_increasing");
  EXPECT_EQ(e["unit_of_measurement"], "kWh");
  EXPECT_EQ(e["value_template"], "{{ value_json.total_kwh }}");
  const auto& p = by_id.at("imsmeter_gw_2578_peak_demand");
  EXPECT_EQ(p["device_class"], "power");
  EXPECT_EQ(p["unit_of_measurement"], "kW");
  EXPECT_EQ(p["value_template"], "{{ value_json.peak_demand_w / 1000 }}");
  const auto& l = by_id.at("imsmeter_gw_2578_last_seen");
  EXPECT_EQ(l["device_class"], "timestamp");
  EXPECT_FALSE(l.contains("state_class"));
  // An unregistered meter: a generic device named after its ID.
  const auto j = json::parse(ha_discovery(t, HaMeter{41, {}, {}}).at(0).payload);
  EXPECT_EQ(j["device"]["name"], "IMS meter 41");
}

TEST(MqttSink, ConsumeThrowsNamingTheBrokerWhenNothingListens) {
  // Port 1 on loopback: nothing listens there (privileged, never a broker in tests).
  auto sink = make_sink("mqtt://127.0.0.1:1?gateway=gw");
  OutboxItem item;
  item.seq = 1;
  item.kind = OutboxKind::Event;
  item.event = StoredEvent{};
  try {
    (void)sink->consume({item});
    FAIL() << "consume delivered to a broker that does not exist";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect to tcp://127.0.0.1:1"), std::string::npos)
        << e.what();
  }
}

class MqttSinkTest : public test::DbTest {
 protected:
  void ingest(SqliteStore& s, Validator& v, std::uint16_t meter, int from, int to) {
    test::ingest_series(s, v, meter, from, to, 50);
  }
};

std::size_t count_topic(const std::vector<std::pair<std::string, std::string>>& m,
                        const std::string& topic) {
  std::size_t n = 0;
  for (const auto& [t, p] : m) n += t == topic ? 1 : 0;
  return n;
}

// Meters 40 and 41, 10 frames each: outbox 1..22 (per meter a discovered event and 10
// readings, as in sink_test). The broker stops; 10 more frames of meter 40 (23..32) are
// committed and the pump's attempt fails; the broker returns (empty: persistence false)
// and the next poll past the backoff publishes 23..32. The subscriber saw 1..32 exactly
// once and in order, and the discovery configs again after the restart.
TEST_F(MqttSinkTest, BrokerRestartLosesNothingAndDuplicatesNothing) {
  imsm::test::MosquittoBroker broker(dir_);
  SqliteStore s(path_);
  Validator v(ValidationSettings{});
  const std::string spec = "mqtt://127.0.0.1:" + std::to_string(broker.port()) + "?gateway=gw";
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(make_sink(spec));
  SinkPump pump(s, std::move(sinks), SinkPumpOptions{8});
  auto t = std::chrono::steady_clock::time_point{};

  auto sub = std::make_unique<Subscriber>(broker.uri());
  ingest(s, v, 40, 0, 10);
  ingest(s, v, 41, 0, 10);
  EXPECT_EQ(pump.poll(t), 22u);
  ASSERT_TRUE(sub->wait_for_seq(22));
  auto before = sub->seqs();
  const auto first = sub->messages();
  // 3 sensors x 2 meters, each announced once.
  EXPECT_EQ(count_topic(first, "homeassistant/sensor/imsmeter_gw_40_energy/config"), 1u);
  EXPECT_EQ(count_topic(first, "homeassistant/sensor/imsmeter_gw_41_last_seen/config"), 1u);
  EXPECT_EQ(count_topic(first, "imsmeter/gw/40/availability"), 1u);
  sub.reset();

  broker.stop();
  ingest(s, v, 40, 10, 20);
  EXPECT_EQ(pump.poll(t), 0u);
  ASSERT_FALSE(pump.status().at(0).ok);
  // "cannot connect to tcp://..." (or, had the loss gone unnoticed, "no PUBACK"): the URI.
  EXPECT_NE(pump.status().at(0).error.find(broker.uri()), std::string::npos)
      << pump.status().at(0).error;

  broker.start();
  sub = std::make_unique<Subscriber>(broker.uri());
  t += std::chrono::minutes(1);  // past any backoff
  EXPECT_EQ(pump.poll(t), 10u);
  ASSERT_TRUE(sub->wait_for_seq(32));
  EXPECT_TRUE(pump.status().at(0).ok);
  auto after = sub->seqs();
  before.insert(before.end(), after.begin(), after.end());
  std::vector<std::uint64_t> want(32);
  for (std::uint64_t i = 0; i < want.size(); ++i) want[i] = i + 1;
  EXPECT_EQ(before, want);

  // Re-announced to the restarted (empty) broker: retained discovery and status are back.
  const auto second = sub->messages();
  EXPECT_EQ(count_topic(second, "homeassistant/sensor/imsmeter_gw_40_energy/config"), 1u);
  EXPECT_EQ(count_topic(second, "imsmeter/gw/status"), 1u);
  for (const auto& [topic, payload] : second) {
    if (topic == "imsmeter/gw/status") {
      EXPECT_EQ(payload, "online");
    }
    if (topic != "imsmeter/gw/40/state") continue;
    const auto j = json::parse(payload);
    EXPECT_EQ(j["meter_id"], 40);
    EXPECT_EQ(j["peak_demand_w"], 1000);  // 50 counts x 20 W (guide 2.5.2)
  }
}

OutboxItem event_item(std::uint64_t seq, EventKind kind, std::uint16_t meter) {
  OutboxItem item;
  item.seq = seq;
  item.kind = OutboxKind::Event;
  StoredEvent e;
  e.e = Event{kT0, kind, meter, 1, EventDetail{}};
  item.event = e;
  return item;
}

// Hand-built items straight into consume(): a withdrawn reading goes to events (its frame
// has no unwrapped total for HA), silent/back_online move the meter's retained
// availability, and a clean shutdown leaves the gateway status offline (the LWT covers a
// crash). consume() answers the last acknowledged seq.
TEST_F(MqttSinkTest, AvailabilityFollowsSilenceAndShutdown) {
  imsm::test::MosquittoBroker broker(dir_);
  Subscriber sub(broker.uri());
  auto sink = make_sink("mqtt://127.0.0.1:" + std::to_string(broker.port()) + "?gateway=gw");
  OutboxItem withdrawn;
  withdrawn.seq = 5;
  withdrawn.kind = OutboxKind::Reading;
  withdrawn.withdrawn = true;
  withdrawn.reading = StoredReading{};
  withdrawn.reading->r.meter_id = 7;
  EXPECT_EQ(sink->consume({withdrawn, event_item(6, EventKind::Silent, 7),
                           event_item(7, EventKind::BackOnline, 7)}),
            7u);
  ASSERT_TRUE(sub.wait_for_seq(7));
  sink.reset();  // says offline, then disconnects cleanly
  ASSERT_TRUE(sub.wait_for_topic_count("imsmeter/gw/status", 2));  // online, offline
  std::vector<std::string> availability, status;
  std::size_t states = 0;
  for (const auto& [topic, payload] : sub.messages()) {
    if (topic == "imsmeter/gw/7/availability") availability.push_back(payload);
    if (topic == "imsmeter/gw/status") status.push_back(payload);
    states += topic.ends_with("/state") ? 1 : 0;
  }
  EXPECT_EQ(states, 0u);
  EXPECT_EQ(availability, (std::vector<std::string>{"offline", "online"}));
  EXPECT_EQ(status, (std::vector<std::string>{"online", "offline"}));
}

// Through the sink factory with the store (as `collect --sink mqtt://` makes it): the HA
// device carries the registry's label and model (meter 40 registered as "Unit 4B", model
// "IMS 2000"; meter 41 unregistered keeps the generic name).
TEST_F(MqttSinkTest, DiscoveryNamesTheDeviceFromTheRegistry) {
  imsm::test::MosquittoBroker broker(dir_);
  Subscriber sub(broker.uri());
  SqliteStore s(path_);
  CollectorConfig c;
  c.meters.push_back(MeterEntry{40, "IMS 2000", std::nullopt, "Unit 4B", "Acme", "", ""});
  s.begin();
  s.save_registry(c);
  s.commit();
  auto sink = make_sink("mqtt://127.0.0.1:" + std::to_string(broker.port()) + "?gateway=gw", &s);
  std::vector<OutboxItem> batch;
  for (const std::uint16_t meter : {std::uint16_t{40}, std::uint16_t{41}}) {
    OutboxItem r;
    r.seq = meter;
    r.reading = StoredReading{};
    r.reading->r.meter_id = meter;
    batch.push_back(r);
  }
  EXPECT_EQ(sink->consume(batch), 41u);
  ASSERT_TRUE(sub.wait_for_seq(41));
  std::map<std::string, json> devices;
  for (const auto& [topic, payload] : sub.messages())
    if (topic.ends_with("_energy/config")) devices[topic] = json::parse(payload)["device"];
  const auto& d40 = devices.at("homeassistant/sensor/imsmeter_gw_40_energy/config");
  EXPECT_EQ(d40["name"], "Unit 4B");
  EXPECT_EQ(d40["model"], "IMS 2000");
  EXPECT_EQ(devices.at("homeassistant/sensor/imsmeter_gw_41_energy/config")["name"],
            "IMS meter 41");
}

}  // namespace
}  // namespace imsm::collector
