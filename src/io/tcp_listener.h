// A TCP server that behaves like an RS485-to-Ethernet converter in TCP server mode: every
// byte from the bus goes to every connected client; bytes sent while nobody is connected
// are lost, as on the real device. Binds 127.0.0.1 unless told otherwise.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "io/unique_fd.h"

namespace imsm::io {

struct HostPort {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
};

// "HOST:PORT", "[V6]:PORT" or ":PORT"/"PORT" (host 127.0.0.1). Port 0 picks a free port.
[[nodiscard]] Result<HostPort, std::string> parse_host_port(const std::string& text);

class TcpListener {
 public:
  [[nodiscard]] static Result<TcpListener, std::string> listen(const HostPort& where);

  // The address actually bound ("127.0.0.1:40123").
  [[nodiscard]] const std::string& address() const { return address_; }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::size_t clients() const { return clients_.size(); }

  // Accepts every pending connection (non-blocking). Returns how many were accepted.
  std::size_t accept_pending();
  // Waits up to timeout_ms for a connection; true when at least one client is connected.
  bool wait_for_client(int timeout_ms);

  // Sends to every client. `wait` false: a client whose buffer is full loses these bytes
  // (counted) as it would on a converter; `wait` true: waits until each client takes them
  // (polling in slices of `slice_ms` and giving up when *stop becomes true). A client that
  // hung up is dropped.
  void broadcast(std::span<const std::uint8_t> bytes, bool wait, const std::atomic<bool>* stop,
                 int slice_ms = 100);

  // Waits until every client has received everything sent (kernel queues empty), giving
  // up after timeout_ms without progress.
  void drain(int timeout_ms);

  [[nodiscard]] std::uint64_t bytes_lost() const { return bytes_lost_; }

 private:
  UniqueFd fd_;
  std::string address_;
  std::uint16_t port_ = 0;
  std::vector<UniqueFd> clients_;
  std::uint64_t bytes_lost_ = 0;
};

}  // namespace imsm::io
