#include "io/serial_port.h"

#include <fcntl.h>
#include <termios.h>

#include <cerrno>
#include <cstring>

namespace imsm::io {

namespace {

speed_t to_speed(int baud) {
  switch (baud) {
    case 1200:
      return B1200;
    case 2400:
      return B2400;
    case 4800:
      return B4800;
    case 9600:
      return B9600;
    case 19200:
      return B19200;
    case 38400:
      return B38400;
    case 57600:
      return B57600;
    case 115200:
      return B115200;
    default:
      return 0;
  }
}

}  // namespace

bool configure_raw(int fd, int baud) {
  termios tio{};
  if (::tcgetattr(fd, &tio) != 0) return false;
  ::cfmakeraw(&tio);
  tio.c_cflag &= ~static_cast<tcflag_t>(CSTOPB | PARENB | CRTSCTS | CSIZE);
  tio.c_cflag |= CS8 | CLOCAL | CREAD;
  tio.c_iflag &= ~static_cast<tcflag_t>(IXON | IXOFF | IXANY);
  tio.c_cc[VMIN] = 1;
  tio.c_cc[VTIME] = 0;  // gaps are timed with a monotonic clock, not VTIME (too coarse)
  const speed_t s = to_speed(baud);
  if (s == 0) {
    errno = EINVAL;
    return false;
  }
  ::cfsetispeed(&tio, s);
  ::cfsetospeed(&tio, s);
  return ::tcsetattr(fd, TCSANOW, &tio) == 0;
}

Result<UniqueFd, std::string> open_serial(const std::string& path, const SerialOptions& options) {
  int flags = O_NOCTTY | O_CLOEXEC;
  flags |= options.mode == SerialMode::Read    ? O_RDONLY
           : options.mode == SerialMode::Write ? O_WRONLY
                                               : O_RDWR;
  if (options.nonblocking) flags |= O_NONBLOCK;
  UniqueFd fd(::open(path.c_str(), flags));
  if (!fd) return unexpected(path + ": " + std::strerror(errno));
  if (!::isatty(fd.get())) return unexpected(path + ": not a serial device or pty");
  if (!configure_raw(fd.get(), options.baud))
    return unexpected(path + ": cannot set 9600 8N1 raw: " + std::strerror(errno));
  return fd;
}

}  // namespace imsm::io
