// The Modbus TCP gateway (docs/modbus.md): one-way meters made pollable like two-way ones.
// Serves the register map (register_map.h) of every meter in a Store at its unit ID
// (unit_map.h), as input registers (04) and holding registers (03) alike. Writes and every
// other function answer exception 01, reads outside the map 02, a bad quantity 03, an unknown
// unit 0B, a store failure 04. Modbus has no authentication: it binds 127.0.0.1 unless the
// caller opts in to more (the CLI's --modbus-allow-remote).
//
// Lifecycle as ApiServer: bind(), run() until stop() from any thread. One thread per client
// connection (libmodbus reads one connection per context), at most `max_clients` at once;
// further connections are closed at once. A request holds the store's mutex while it queries,
// so the gateway needs a Store of its own (SQLite handles are not shared across threads).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "collector/config.h"
#include "collector/modbus/gateway_options.h"
#include "collector/report/listing.h"
#include "collector/store/store.h"
#include "collector/time_util.h"

namespace imsm::collector::modbus {

// Counters since bind() (read at any time; the component's health and tests use them).
struct GatewayCounters {
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> refused{0};  // over max_clients
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> exceptions{0};
  std::atomic<std::uint64_t> bad_frames{0};  // connections closed on a malformed request
};

class ModbusGateway {
 public:
  ModbusGateway(Store& store, GatewayOptions options);
  ~ModbusGateway();
  ModbusGateway(const ModbusGateway&) = delete;
  ModbusGateway& operator=(const ModbusGateway&) = delete;

  // Binds the listening socket; throws std::runtime_error naming host:port when it cannot.
  void bind();
  [[nodiscard]] int bound_port() const { return port_; }
  // Serves until stop() (from any thread). bind() first.
  void run();
  void stop();
  [[nodiscard]] const GatewayCounters& counters() const { return counters_; }

 private:
  struct Client;
  void accept_one();
  void serve_client(Client& c);
  // Sends the response to one request (a whole ADU, MBAP header included).
  void answer(const std::uint8_t* req, int len, Client& c);
  // The meter answering at `unit` with its last reading and status at `now`, if any.
  std::optional<MeterSummary> meter_at(std::uint8_t unit, UtcMicros now);
  void reap(bool all);

  Store& store_;
  std::mutex store_mutex_;
  GatewayOptions options_;
  GatewayCounters counters_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // stop() writes a byte: run()'s poll wakes
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::list<std::unique_ptr<Client>> clients_;  // owned and reaped by run()'s thread
};

}  // namespace imsm::collector::modbus
