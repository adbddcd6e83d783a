// A TCP client connection (an RS485-to-Ethernet converter, SPEC "collector"): connect with a
// timeout, then read like a serial port. The error message names the host and port.
#pragma once

#include <string>

#include "common/result.h"
#include "io/unique_fd.h"

namespace imsm::io {

struct TcpOptions {
  int connect_timeout_ms = 5000;
  bool nonblocking = true;  // the returned socket
  bool keepalive = true;    // notice a peer that vanished without a FIN
};

// Connects to host:port (numeric or a name; IPv4 or IPv6).
[[nodiscard]] Result<UniqueFd, std::string> tcp_connect(const std::string& host, int port,
                                                        const TcpOptions& options = {});

// Splits "HOST:PORT" or "[V6]:PORT"; false when malformed or the port is not 1..65535.
[[nodiscard]] bool split_host_port(const std::string& text, std::string& host, int& port);

}  // namespace imsm::io
