#include "io/tcp_listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace imsm::io {

Result<HostPort, std::string> parse_host_port(const std::string& text) {
  HostPort hp;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return unexpected("'" + text + "': expected [IPV6]:PORT");
    hp.host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) {
      port_text = text;
    } else {
      if (colon > 0) hp.host = text.substr(0, colon);
      port_text = text.substr(colon + 1);
    }
  }
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos)
    return unexpected("'" + text + "': the port must be a number 0..65535");
  const long p = std::stol(port_text);
  if (p > 65535) return unexpected("'" + text + "': the port must be a number 0..65535");
  hp.port = static_cast<std::uint16_t>(p);
  return hp;
}

Result<TcpListener, std::string> TcpListener::listen(const HostPort& where) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(where.port);
  if (const int rc = ::getaddrinfo(where.host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return unexpected(where.host + ": " + ::gai_strerror(rc));
  std::string last_error = "no address";
  TcpListener l;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) {
      last_error = std::strerror(errno);
      continue;
    }
    const int one = 1;
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd.get(), 16) != 0) {
      last_error = std::strerror(errno);
      continue;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    (void)::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len);
    char host[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET6) {
      const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
      ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
      l.port_ = ntohs(a->sin6_port);
      l.address_ = std::string("[") + host + "]:" + std::to_string(l.port_);
    } else {
      const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
      ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
      l.port_ = ntohs(a->sin_port);
      l.address_ = std::string(host) + ":" + std::to_string(l.port_);
    }
    l.fd_ = std::move(fd);
    break;
  }
  ::freeaddrinfo(res);
  if (!l.fd_) return unexpected(where.host + ":" + port + ": cannot listen: " + last_error);
  return l;
}

std::size_t TcpListener::accept_pending() {
  std::size_t n = 0;
  while (true) {
    UniqueFd c(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!c) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      break;  // EAGAIN or a real error: nothing more to accept now
    }
    const int one = 1;
    (void)::setsockopt(c.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    clients_.push_back(std::move(c));
    ++n;
  }
  return n;
}

bool TcpListener::wait_for_client(int timeout_ms) {
  accept_pending();
  if (!clients_.empty()) return true;
  pollfd p{fd_.get(), POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) > 0) accept_pending();
  return !clients_.empty();
}

void TcpListener::broadcast(std::span<const std::uint8_t> bytes, bool wait,
                            const std::atomic<bool>* stop, int slice_ms) {
  accept_pending();
  for (std::size_t i = 0; i < clients_.size();) {
    const int fd = clients_[i].get();
    std::size_t sent = 0;
    bool dead = false;
    while (sent < bytes.size()) {
      const ssize_t w = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (w > 0) {
        sent += static_cast<std::size_t>(w);
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!wait || (stop && *stop)) break;
        pollfd p{fd, POLLOUT, 0};
        (void)::poll(&p, 1, slice_ms);
        if (p.revents & (POLLERR | POLLHUP)) {
          dead = true;
          break;
        }
        continue;
      }
      dead = true;  // EPIPE, ECONNRESET...
      break;
    }
    if (!dead && sent < bytes.size()) bytes_lost_ += bytes.size() - sent;
    if (dead) {
      clients_.erase(clients_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
}

void TcpListener::drain(int timeout_ms) {
  // Waits while the clients keep taking bytes; gives up after timeout_ms without progress.
  auto last_progress = std::chrono::steady_clock::now();
  long long last_queued = -1;
  while (true) {
    long long queued = 0;
    for (const auto& c : clients_) {
      int q = 0;
      if (::ioctl(c.get(), TIOCOUTQ, &q) == 0 && q > 0) queued += q;
    }
    if (queued == 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (last_queued < 0 || queued < last_queued) last_progress = now;
    last_queued = queued;
    if (now - last_progress > std::chrono::milliseconds(timeout_ms)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace imsm::io
