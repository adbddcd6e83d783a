#include "io/pty.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <termios.h>

#include <cerrno>
#include <cstring>

#include "io/serial_port.h"

namespace imsm::io {

Result<Pty, std::string> open_pty() {
  int master = -1;
  int slave = -1;
  char name[256] = {};
  if (::openpty(&master, &slave, name, nullptr, nullptr) != 0)
    return unexpected(std::string("cannot create a pty: ") + std::strerror(errno));
  Pty p;
  p.master.reset(master);
  UniqueFd slave_fd(slave);
  p.path = name;
  for (int fd : {master, slave}) {
    const int fl = ::fcntl(fd, F_GETFD);
    if (fl >= 0) (void)::fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
  }
  if (!configure_raw(slave, 9600) || !configure_raw(master, 9600))
    return unexpected(p.path + ": cannot set raw 9600 8N1: " + std::strerror(errno));
  const int fl = ::fcntl(master, F_GETFL);
  if (fl < 0 || ::fcntl(master, F_SETFL, fl | O_NONBLOCK) != 0)
    return unexpected(p.path + ": cannot make the master non-blocking: " + std::strerror(errno));
  return p;
}

bool pty_has_reader(const Pty& pty) {
  pollfd p{pty.master.get(), POLLOUT, 0};
  if (::poll(&p, 1, 0) < 0) return false;
  return (p.revents & POLLHUP) == 0;
}

std::size_t pty_pending_bytes(const Pty& pty) {
  // Peek at the slave's input queue through a second descriptor (reads nothing).
  UniqueFd slave(::open(pty.path.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  int n = 0;
  if (!slave || ::ioctl(slave.get(), FIONREAD, &n) != 0 || n < 0) return 0;
  return static_cast<std::size_t>(n);
}

}  // namespace imsm::io
