// A child process of `imsmeter demo` (its own binary running simulate or collect): started
// with posix_spawn, its stdout read line by line (the commands announce what they opened),
// its stderr left on ours; stopped with SIGTERM and reaped by the destructor at the latest.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace imsm::cli {

class ChildProcess {
 public:
  // Throws RuntimeError naming the program when it cannot start.
  explicit ChildProcess(const std::vector<std::string>& argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The next stdout line (without its newline); nullopt at end of output or after `timeout`.
  [[nodiscard]] std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  // The exit status once it has exited (non-blocking), else nullopt.
  [[nodiscard]] std::optional<int> exited();
  // SIGTERM, then waits up to `grace` (then SIGKILL); returns its exit code (128+signal when
  // killed by one).
  int stop(std::chrono::milliseconds grace);

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffer_;
  std::optional<int> status_;
};

}  // namespace imsm::cli
