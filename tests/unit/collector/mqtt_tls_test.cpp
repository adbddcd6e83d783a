// The MQTT sink over TLS (docs/mqtt.md "TLS"): certificates made by the test with openssl (a
// CA, a broker certificate for 127.0.0.1 and a client certificate it signed, and a second,
// unrelated CA), a real mosquitto with a TLS listener that requires a client certificate,
// and the SqliteStore + SinkPump path. A wrong CA fails with OpenSSL's reason in the pump's
// status and the log, and loses nothing: the cursor stays, and a sink with the right CA
// delivers every item afterwards.
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <fstream>

#include "collector/sinks/mqtt_sink.h"
#include "collector/sinks/mqtt_spec.h"
#include "collector/sinks/sink_pump.h"
#include "collector/store/sqlite/sqlite_store.h"
#include "helpers.h"
#include "ingest.h"
#include "mosquitto_broker.h"
#include "mqtt_subscriber.h"

namespace imsm::collector {
namespace {

using test::kMinute;
using test::kT0;

TEST(MqttSpec, TlsOptions) {
  const auto s = parse_mqtt_spec("//broker.lan?ca=/etc/ca.pem&cert=/c.pem&key=/k.pem", true);
  EXPECT_TRUE(s.tls);
  EXPECT_EQ(s.port, 8883);  // MQTT over TLS by default
  EXPECT_EQ(s.ca_file, "/etc/ca.pem");
  EXPECT_EQ(s.cert_file, "/c.pem");
  EXPECT_EQ(s.key_file, "/k.pem");
  EXPECT_EQ(s.uri(), "ssl://broker.lan:8883");
  const auto message = [](const std::string& spec) {
    try {
      (void)make_sink(spec);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("mqtt://h:1?ca=/x"),
            "sink 'mqtt://h:1?ca=/x': option 'ca' needs TLS: mqtts://HOST:PORT?ca=PATH");
  EXPECT_EQ(message("mqtts://h:1?cert=/x"),
            "sink 'mqtts://h:1?cert=/x': cert and key go together (the client's certificate and "
            "its private key)");
  EXPECT_EQ(message("mqtts://h:1?ca=/nonexistent/ca.pem"),
            "mqtt ca '/nonexistent/ca.pem': cannot read it");
  EXPECT_NE(message("mqtts://h:1?qos=1").find("known: gateway, user, password_file, ca, cert, key"),
            std::string::npos);
}

class MqttTlsTest : public test::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    // EC P-256 keys: fast to make. The broker's certificate names 127.0.0.1 (the sink checks
    // the host name) and is valid for a day.
    const std::string d = dir_.string();
    std::ofstream(dir_ / "san.ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    const std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    sh("openssl req -x509" + key + " -keyout ca.key -out ca.crt -days 1 -subj /CN=imsm-test-ca");
    sh("openssl req -x509" + key + " -keyout other.key -out other.crt -days 1 -subj /CN=other");
    for (const std::string who : {"server", "client"}) {
      sh("openssl req" + key + " -keyout " + who + ".key -out " + who + ".csr -subj /CN=" + who);
      sh("openssl x509 -req -in " + who + ".csr -CA ca.crt -CAkey ca.key -CAcreateserial -out " +
         who + ".crt -days 1" + (who == "server" ? " -extfile san.ext" : ""));
    }
    // mosquitto started as root drops to its own user: the keys must be readable by it (a
    // test-only key in a temporary directory).
    sh("chmod 644 server.key ca.crt server.crt");
    broker_ = std::make_unique<imsm::test::MosquittoBroker>(
        dir_, "cafile " + d + "/ca.crt\ncertfile " + d + "/server.crt\nkeyfile " + d +
                  "/server.key\nrequire_certificate true\n");
  }
  void TearDown() override {
    broker_.reset();
    DbTest::TearDown();
  }
  void sh(const std::string& command) {
    const std::string line = "cd '" + dir_.string() + "' && " + command + " >>openssl.log 2>&1";
    ASSERT_EQ(std::system(line.c_str()), 0) << command;  // openssl: scripts/install-deps
  }
  std::string spec(const std::string& ca) const {
    const std::string d = dir_.string();
    return "mqtts://127.0.0.1:" + std::to_string(broker_->tls_port()) + "?gateway=gw&ca=" + d +
           "/" + ca + "&cert=" + d + "/client.crt&key=" + d + "/client.key";
  }
  // Ten readings of meter 40: outbox 1..11 (its discovered event and the readings).
  void ingest(SqliteStore& s) {
    Validator v(ValidationSettings{});
    test::ingest_series(s, v, 40, 0, 10, 50);
  }
  std::unique_ptr<imsm::test::MosquittoBroker> broker_;
};

TEST_F(MqttTlsTest, ClientCertificateOverTlsDeliversEveryItem) {
  test::Subscriber sub(broker_->uri());  // the plain listener of the same broker
  SqliteStore s(path_);
  ingest(s);
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(make_sink(spec("ca.crt")));
  EXPECT_EQ(sinks[0]->name(), "mqtts://127.0.0.1:" + std::to_string(broker_->tls_port()) + "/gw");
  SinkPump pump(s, std::move(sinks));
  EXPECT_EQ(pump.poll({}), 11u) << pump.status().at(0).error;
  ASSERT_TRUE(sub.wait_for_seq(11));
  std::vector<std::uint64_t> want(11);
  for (std::uint64_t i = 0; i < want.size(); ++i) want[i] = i + 1;
  EXPECT_EQ(sub.seqs(), want);
  EXPECT_TRUE(pump.status().at(0).ok);
}

TEST_F(MqttTlsTest, WrongCaIsAClearLoggedErrorAndLosesNothing) {
  auto ring = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(32);
  spdlog::default_logger()->sinks().push_back(ring);
  SqliteStore s(path_);
  ingest(s);
  {
    std::vector<std::unique_ptr<Sink>> sinks;
    sinks.push_back(make_sink(spec("other.crt")));  // does not sign the broker's certificate
    SinkPump pump(s, std::move(sinks));
    EXPECT_EQ(pump.poll({}), 0u);
    const auto st = pump.status().at(0);
    EXPECT_FALSE(st.ok);  // degraded: retried with backoff
    EXPECT_EQ(st.cursor, 0u);
    const std::string uri = "ssl://127.0.0.1:" + std::to_string(broker_->tls_port());
    EXPECT_NE(st.error.find("cannot connect to " + uri), std::string::npos) << st.error;
    EXPECT_NE(st.error.find("certificate verify failed"), std::string::npos) << st.error;
  }
  spdlog::default_logger()->sinks().pop_back();
  bool logged = false;
  for (const auto& line : ring->last_formatted())
    logged = logged || (line.find("retrying with backoff") != std::string::npos &&
                        line.find("certificate verify failed") != std::string::npos);
  EXPECT_TRUE(logged);
  EXPECT_EQ(s.sink_cursor("mqtts://127.0.0.1:" + std::to_string(broker_->tls_port()) + "/gw"), 0u);

  // The right CA, from the same durable cursor: every item, 1..11, once.
  test::Subscriber sub(broker_->uri());
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(make_sink(spec("ca.crt")));
  SinkPump pump(s, std::move(sinks));
  EXPECT_EQ(pump.poll({}), 11u) << pump.status().at(0).error;
  ASSERT_TRUE(sub.wait_for_seq(11));
  EXPECT_EQ(sub.seqs().size(), 11u);
  EXPECT_EQ(sub.seqs().front(), 1u);
}

}  // namespace
}  // namespace imsm::collector
