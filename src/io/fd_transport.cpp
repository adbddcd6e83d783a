#include "io/fd_transport.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace imsm::io {

namespace {
ReadResult failed(std::string why) {
  return ReadResult{ReadResult::Kind::Error, 0, std::move(why)};
}
}  // namespace

// A full non-blocking fd (EAGAIN) is waited for, not an error: everything is written or the
// error is returned.
bool write_all(int fd, const void* buf, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(buf);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        pollfd out{fd, POLLOUT, 0};
        if (::poll(&out, 1, -1) < 0 && errno != EINTR) return false;
        continue;
      }
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

ReadResult read_some(int fd, std::span<std::uint8_t> buf, std::chrono::milliseconds timeout) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + timeout;
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    const int r = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
    if (r < 0) {
      if (errno == EINTR) continue;
      return failed(std::strerror(errno));
    }
    if (r == 0) return {};
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n > 0) return ReadResult{ReadResult::Kind::Data, static_cast<std::size_t>(n), {}};
    if (n == 0) return ReadResult{ReadResult::Kind::End, 0, {}};
    if (errno == EINTR || errno == EAGAIN) {
      if ((p.revents & (POLLHUP | POLLERR)) != 0) return failed("hang-up");
      continue;
    }
    return failed(std::strerror(errno));
  }
}

}  // namespace imsm::io
