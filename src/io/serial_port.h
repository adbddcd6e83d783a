// A serial port (a real RS485 adapter or a pty) opened raw at 9600 8N1 (guide 2.5.1).
// Note: a pty ignores the baud rate; whoever writes must pace bytes itself.
#pragma once

#include <string>

#include "common/result.h"
#include "io/unique_fd.h"

namespace imsm::io {

enum class SerialMode { Read, Write, ReadWrite };

struct SerialOptions {
  int baud = 9600;
  SerialMode mode = SerialMode::Read;
  bool nonblocking = true;
};

// Opens `path` and configures it raw (no echo, no line discipline, 8N1, no flow control).
// The error message names the path and the reason.
[[nodiscard]] Result<UniqueFd, std::string> open_serial(const std::string& path,
                                                        const SerialOptions& options = {});

// Raw 8N1 settings on an already open terminal fd (used for both ends of a pty).
[[nodiscard]] bool configure_raw(int fd, int baud);

}  // namespace imsm::io
