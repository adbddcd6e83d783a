// One fd transport (issue 9 item 7): wait for input with a timeout, read what is there,
// write everything, with EINTR retried and short writes completed in one place, for every
// byte stream the project reads or writes (serial ports, ptys, TCP, pipes).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "io/unique_fd.h"  // write_all(fd, buf, n): everything, EINTR and EAGAIN waited out

namespace imsm::io {

struct ReadResult {
  enum class Kind { Data, Timeout, End, Error } kind = Kind::Timeout;
  std::size_t n = 0;  // Data: bytes read into the buffer
  std::string error;  // Error: strerror text, or "hang-up"
};

// Waits up to `timeout` for `fd` to be readable, then reads at most buf.size() bytes.
// Timeout: nothing arrived. End: the peer closed (read returned 0). Error: a failed poll or
// read, or a hang-up with nothing left to read. A signal (EINTR) never ends the wait early
// with an error: the wait resumes with the time that is left.
[[nodiscard]] ReadResult read_some(int fd, std::span<std::uint8_t> buf,
                                   std::chrono::milliseconds timeout);

}  // namespace imsm::io
