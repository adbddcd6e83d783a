// The Modbus TCP gateway over a real SQLite store, polled by a real libmodbus client over
// 127.0.0.1: every register of two meters, the exceptions, several clients at once, malformed
// wire input, the client bound and stopping with clients connected.
#include "collector/modbus/modbus_gateway.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "collector/collector.h"
#include "collector/store/sqlite/sqlite_store.h"
#include "unit/collector/helpers.h"
#include "unit/collector/ingest.h"

namespace imsm::collector::modbus {
namespace {

using test::kMinute;
using test::kT0;

// The registry by meter ID: 17 (position 1: unit 1), registered without a model, three frames 5
// minutes apart (the third confirms the second's peak rise); 40 (position 2: unit 2), registered,
// never read; 2578 (position 3, but configured at unit 7), the guide's frame (2.5.2). Unit 3
// answers nothing.
constexpr const char* kConfig = R"(
[[meter]]
id = 2578
model = "S2-480-N-01-01-041-01"
modbus_unit = 7
[[meter]]
id = 17
[[meter]]
id = 40
)";

class GatewayTest : public test::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    config_ = parse_config(kConfig, "t.toml");
    SqliteStore s(path_);
    Validator v(config_.validation);
    register_meters(config_, v);
    s.begin();
    s.save_registry(config_);
    s.commit();
    const auto src = s.source_id("file:x");
    std::vector<Observation> in = {test::guide_obs(0, kT0),
                                   test::obs(1, 17, 1000, 150, 3, kT0 + 5 * kMinute),
                                   test::obs(2, 17, 1002, 160, 3, kT0 + 10 * kMinute),
                                   test::obs(3, 17, 1003, 160, 3, kT0 + 15 * kMinute)};
    test::ingest(s, v, src, in);
    store_ = std::make_unique<SqliteStore>(path_, StoreOptions{true, false});
  }
  void TearDown() override {
    if (gateway_) {
      gateway_->stop();
      runner_.join();
    }
    gateway_.reset();
    store_.reset();
    DbTest::TearDown();
  }
  void start(std::size_t max_clients = 8) {
    GatewayOptions o;
    o.port = 0;
    o.config = config_;
    o.max_clients = max_clients;
    o.clock = [this] { return now_.load(); };
    gateway_ = std::make_unique<ModbusGateway>(*store_, o);
    gateway_->bind();
    runner_ = std::thread([this] { gateway_->run(); });
  }
  modbus_t* client(int unit) {
    modbus_t* ctx = modbus_new_tcp("127.0.0.1", gateway_->bound_port());
    EXPECT_NE(ctx, nullptr);
    // libmodbus bounds connect() by the response timeout (0.5 s by default): under a
    // sanitizer, after hundreds of connections, the gateway's backlog can take longer.
    modbus_set_response_timeout(ctx, 5, 0);
    EXPECT_EQ(modbus_connect(ctx), 0) << modbus_strerror(errno);
    modbus_set_slave(ctx, unit);
    clients_.emplace_back(ctx);
    return ctx;
  }
  // A raw TCP connection to the gateway: sends `bytes`, returns the reply (empty on close).
  int raw_connect() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(gateway_->bound_port()));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return fd;
  }
  static std::vector<std::uint8_t> exchange(int fd, const std::vector<std::uint8_t>& bytes) {
    EXPECT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
    std::vector<std::uint8_t> out(300);
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) return {};
    const auto n = ::recv(fd, out.data(), out.size(), 0);
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
  }

  struct Closer {
    void operator()(modbus_t* c) const {
      modbus_close(c);
      modbus_free(c);
    }
  };
  CollectorConfig config_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<ModbusGateway> gateway_;
  std::thread runner_;
  std::atomic<UtcMicros> now_{kT0 + 20 * kMinute};
  std::vector<std::unique_ptr<modbus_t, Closer>> clients_;
};

TEST_F(GatewayTest, ReadsEveryRegisterOfTwoMetersAsInputAndHolding) {
  start();
  std::uint16_t in[19] = {}, hold[19] = {};
  auto* guide = client(7);
  ASSERT_EQ(modbus_read_input_registers(guide, 0, 19, in), 19) << modbus_strerror(errno);
  ASSERT_EQ(modbus_read_registers(guide, 0, 19, hold), 19) << modbus_strerror(errno);
  // Derivations in register_map_test.cpp (Guide2_5_2ReadingInEveryRegister). Age: the frame
  // at T0, now T0 + 20 min: 1200 s, more than the silent rule's 3 cadences x 300 s = 900 s,
  // so the status is silent (2). First meter at its ID: epoch 0.
  const std::uint16_t want_guide[19] = {0x040B, 0x008C, 0x4925, 0x99B0, 0x0001, 0x02D4, 0x4284,
                                        0x851F, 195,    0,      1200,   2,      2578,   2000,
                                        5,      3,      400,    1,      0};
  for (int i = 0; i < 19; ++i) {
    EXPECT_EQ(in[i], want_guide[i]) << "input register " << i;
    EXPECT_EQ(hold[i], want_guide[i]) << "holding register " << i;
  }
  // Meter 17 at unit 1: last frame 1003 kWh, 160 counts, 3 resets at T0 + 15 min.
  // 1003 kWh = 100,300 x 0.01 kWh = 0x000187CC (65536 + 34764; 34764 = 0x87CC);
  // 1003.0f: 2^9 <= x < 2^10, exponent 136 = 0x88, mantissa (1003 - 512) << 14 = 0x7AC000
  // -> 0x447AC000; 160 x 20 W = 3200 W = 0x0C80; 3.2 kW = 1.6 x 2^1: exponent 128 = 0x80,
  // mantissa round(0.6 x 2^23) = 5033164.8 -> 5033165 = 0x4CCCCD -> 0x404CCCCD;
  // age 5 min = 300 s, online; no model; registered; epoch 0.
  auto* seventeen = client(1);
  ASSERT_EQ(modbus_read_input_registers(seventeen, 0, 19, in), 19);
  const std::uint16_t want_17[19] = {0x0001, 0x87CC, 0x447A, 0xC000, 0, 0x0C80, 0x404C,
                                     0xCCCD, 3,      0,      300,    1, 17,     0,
                                     0,      0,      0,      1,      0};
  for (int i = 0; i < 19; ++i) EXPECT_EQ(in[i], want_17[i]) << "register " << i;
  // A partial read in the middle: registers 9..12 of meter 17.
  std::uint16_t part[4] = {};
  ASSERT_EQ(modbus_read_registers(seventeen, 9, 4, part), 4);
  EXPECT_EQ(part[0], 0);
  EXPECT_EQ(part[1], 300);
  EXPECT_EQ(part[2], 1);
  EXPECT_EQ(part[3], 17);
}

TEST_F(GatewayTest, MeterWithoutReadingAndPositionsAroundAConfiguredUnit) {
  start();
  std::uint16_t r[19] = {};
  auto* forty = client(2);
  ASSERT_EQ(modbus_read_input_registers(forty, 0, 19, r), 19) << modbus_strerror(errno);
  EXPECT_EQ(r[0], 0xFFFF);  // not available
  EXPECT_EQ(r[11], 0);      // waiting
  EXPECT_EQ(r[12], 40);
  auto* three = client(3);  // position 3 is 2578's rank, but 2578 answers at 7 only
  EXPECT_EQ(modbus_read_input_registers(three, 0, 1, r), -1);
  EXPECT_EQ(errno, EMBXGTAR);
}

TEST_F(GatewayTest, ExceptionsForWritesAddressesAndUnknownUnits) {
  start();
  auto* c = client(7);
  std::uint16_t r[19] = {};
  std::uint8_t bits[8] = {};
  // Every write: 01 illegal function (06, 16, 05, 15, 23).
  EXPECT_EQ(modbus_write_register(c, 0, 1), -1);
  EXPECT_EQ(errno, EMBXILFUN);
  EXPECT_EQ(modbus_write_registers(c, 0, 2, r), -1);
  EXPECT_EQ(errno, EMBXILFUN);
  EXPECT_EQ(modbus_write_bit(c, 0, 1), -1);
  EXPECT_EQ(errno, EMBXILFUN);
  EXPECT_EQ(modbus_write_bits(c, 0, 2, bits), -1);
  EXPECT_EQ(errno, EMBXILFUN);
  EXPECT_EQ(modbus_write_and_read_registers(c, 0, 1, r, 0, 1, r), -1);
  EXPECT_EQ(errno, EMBXILFUN);
  // No coils or discrete inputs: 01 as well.
  EXPECT_EQ(modbus_read_bits(c, 0, 1, bits), -1);
  EXPECT_EQ(errno, EMBXILFUN);
  // Outside the map (19 registers, 0..18): 02.
  EXPECT_EQ(modbus_read_registers(c, 18, 2, r), -1);
  EXPECT_EQ(errno, EMBXILADD);
  EXPECT_EQ(modbus_read_input_registers(c, 19, 1, r), -1);
  EXPECT_EQ(errno, EMBXILADD);
  // Unknown units: 0B gateway target failed to respond (248 is reserved, 99 unassigned).
  for (int unit : {99, 248, 4}) {
    modbus_set_slave(c, unit);
    EXPECT_EQ(modbus_read_registers(c, 0, 1, r), -1) << unit;
    EXPECT_EQ(errno, EMBXGTAR) << unit;
  }
  // The connection is still good after exceptions.
  modbus_set_slave(c, 7);
  EXPECT_EQ(modbus_read_registers(c, 12, 1, r), 1);
  EXPECT_EQ(r[0], 2578);
  EXPECT_EQ(gateway_->counters().exceptions.load(), 11u);  // 5 writes, 1 coil, 2 addresses, 3 units
}

TEST_F(GatewayTest, BadQuantityAnswers03OnTheWire) {
  start();
  const int fd = raw_connect();
  // MBAP: transaction 0x0102, protocol 0, length 6, unit 7; function 04, address 0, quantity 0.
  auto reply = exchange(fd, {0x01, 0x02, 0, 0, 0, 6, 7, 0x04, 0, 0, 0, 0});
  // Exception response: same transaction, length 3, unit 7, function 0x84, code 03.
  EXPECT_EQ(reply, (std::vector<std::uint8_t>{0x01, 0x02, 0, 0, 0, 3, 7, 0x84, 0x03}));
  // Quantity 126 (> 125, Modbus application protocol 6.4): 03 too.
  reply = exchange(fd, {0x01, 0x03, 0, 0, 0, 6, 7, 0x03, 0, 0, 0, 126});
  EXPECT_EQ(reply, (std::vector<std::uint8_t>{0x01, 0x03, 0, 0, 0, 3, 7, 0x83, 0x03}));
  // A well-formed read on the same connection: meter ID 2578 = 0x0A12 at register 12.
  reply = exchange(fd, {0x01, 0x04, 0, 0, 0, 6, 7, 0x03, 0, 12, 0, 1});
  EXPECT_EQ(reply, (std::vector<std::uint8_t>{0x01, 0x04, 0, 0, 0, 5, 7, 0x03, 2, 0x0A, 0x12}));
  ::close(fd);
}

TEST_F(GatewayTest, SeveralClientsAtOnce) {
  start();
  // Four connections open together; an idle one never holds up the others.
  std::vector<modbus_t*> cs;
  for (int i = 0; i < 4; ++i) cs.push_back(client(i % 2 == 0 ? 7 : 1));
  std::atomic<int> good{0};
  std::vector<std::thread> ts;
  for (int i = 1; i < 4; ++i)
    ts.emplace_back([&, c = cs[i], want = i % 2 == 0 ? 2578 : 17] {
      for (int k = 0; k < 50; ++k) {
        std::uint16_t id = 0;
        if (modbus_read_input_registers(c, 12, 1, &id) == 1 && id == want) ++good;
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(good.load(), 150);
  EXPECT_EQ(gateway_->counters().connections.load(), 4u);
}

TEST_F(GatewayTest, MalformedRequestsNeverCrashIt) {
  start(256);  // connections end at once, but their threads may linger: no refusals here
  // Hand-made bad frames, each on its own connection.
  const std::vector<std::vector<std::uint8_t>> bad = {
      {0x00},                                               // one byte, then close
      {0, 1, 0, 0, 0, 6, 7},                                // header, no PDU
      {0, 1, 0, 0, 0, 0xFF, 7, 0x10, 0, 0, 0, 0x7B, 0xF6},  // write of 246 bytes: too long
      {0, 1, 0, 0, 0, 2, 7, 0x10, 0, 0, 0, 1, 2},           // truncated write
      {0, 1, 0, 0, 0, 2, 7, 0x2B, 0x0E, 1, 0},              // device identification
      {0, 1, 0, 0, 0, 2, 7, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}};
  for (const auto& b : bad) {
    const int fd = raw_connect();
    ::send(fd, b.data(), b.size(), MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_WR);
    std::uint8_t sink[300];
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, 5000) == 1 && ::recv(fd, sink, sizeof sink, 0) > 0) {
    }
    ::close(fd);
  }
  // Random bytes (a fixed seed, so a failure replays), 200 connections.
  std::mt19937 rng(12345);
  for (int i = 0; i < 200; ++i) {
    std::vector<std::uint8_t> b(rng() % 270);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    if (b.size() > 7 && i % 2 == 0) b[2] = b[3] = 0;  // half look like MBAP
    const int fd = raw_connect();
    ::send(fd, b.data(), b.size(), MSG_NOSIGNAL);
    ::close(fd);
  }
  std::uint16_t id = 0;
  ASSERT_EQ(modbus_read_input_registers(client(7), 12, 1, &id), 1);
  EXPECT_EQ(id, 2578);
}

TEST_F(GatewayTest, ConnectionsBeyondTheBoundAreClosed) {
  start(2);
  auto* a = client(7);
  auto* b = client(1);
  std::uint16_t id = 0;
  // Both served (so both are accepted and counted) before the third arrives.
  ASSERT_EQ(modbus_read_registers(a, 12, 1, &id), 1);
  ASSERT_EQ(modbus_read_registers(b, 12, 1, &id), 1);
  const int fd = raw_connect();
  const auto reply = exchange(fd, {0, 1, 0, 0, 0, 6, 7, 0x03, 0, 12, 0, 1});
  EXPECT_TRUE(reply.empty());  // closed without an answer
  ::close(fd);
  EXPECT_EQ(gateway_->counters().refused.load(), 1u);
  // Closing one frees its slot: a new client is served (the gateway reaps on accept).
  clients_.erase(clients_.begin());
  std::uint16_t again = 0;
  bool served = false;
  // The slot frees when the gateway's thread sees the close: poll with a deadline, since the
  // close is noticed asynchronously and nothing signals the test.
  for (int i = 0; i < 100 && !served; ++i) {
    modbus_t* c = modbus_new_tcp("127.0.0.1", gateway_->bound_port());
    modbus_set_slave(c, 7);
    served = modbus_connect(c) == 0 && modbus_read_registers(c, 12, 1, &again) == 1;
    modbus_close(c);
    modbus_free(c);
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(served);
  EXPECT_EQ(again, 2578);
}

TEST_F(GatewayTest, StopEndsRunWithClientsConnected) {
  start();
  auto* c = client(7);
  std::uint16_t id = 0;
  ASSERT_EQ(modbus_read_registers(c, 12, 1, &id), 1);
  gateway_->stop();
  runner_.join();
  gateway_.reset();                                     // TearDown: nothing left to stop
  EXPECT_EQ(modbus_read_registers(c, 12, 1, &id), -1);  // the server side closed
}

TEST_F(GatewayTest, BindNamesTheAddressInUse) {
  start();
  GatewayOptions o;
  o.port = gateway_->bound_port();
  ModbusGateway second(*store_, o);
  try {
    second.bind();
    ADD_FAILURE() << "bound a port in use";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "127.0.0.1:" + std::to_string(o.port) + ": Address already in use");
  }
}

}  // namespace
}  // namespace imsm::collector::modbus
