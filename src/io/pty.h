// A pseudo terminal standing in for an RS485 adapter: the simulator writes the master,
// any serial program opens the slave path (e.g. /dev/pts/7) as if it were /dev/ttyUSB0.
// Both ends are raw 9600 8N1 (a pty ignores the baud rate: the writer paces bytes).
#pragma once

#include <string>

#include "common/result.h"
#include "io/unique_fd.h"

namespace imsm::io {

struct Pty {
  UniqueFd master;  // non-blocking, written by the simulator
  std::string path;
};

// Creates a pty (glibc openpty), both ends raw 9600 8N1. The slave is closed again, so
// that the master can tell whether anybody has the slave open. The error says why.
[[nodiscard]] Result<Pty, std::string> open_pty();

// True while some process has the slave open (the master reports no hang-up).
[[nodiscard]] bool pty_has_reader(const Pty& pty);

// Bytes written to the master and not yet read from the slave (0 when unknown).
[[nodiscard]] std::size_t pty_pending_bytes(const Pty& pty);

}  // namespace imsm::io
