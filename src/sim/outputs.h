// Where a bus's bytes go (docs/simulate.md "Outputs"): one interface, one factory.
//   file:PATH            raw bytes + PATH.times (one line per back-to-back run)
//   stdout               raw bytes on standard output
//   pty                  a new pseudo terminal; its path is announced
//   serial:/dev/ttyX     a real RS485 adapter at 9600 8N1
//   tcp-listen:HOST:PORT an RS485-to-Ethernet converter in TCP server mode
// Any of them may be prefixed with "BUS=" to choose the bus.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/result.h"

namespace imsm::sim {

enum class OutputKind : std::uint8_t { File, Stdout, Pty, Serial, TcpListen };

struct OutputSpec {
  std::string bus;  // empty: the only bus (or every bus when there is one output)
  OutputKind kind = OutputKind::File;
  std::string target;  // path, device or host:port
  std::string text;    // as given, for messages
};

[[nodiscard]] Result<OutputSpec, std::string> parse_output_spec(const std::string& text);

struct OutputContext {
  bool max_speed = true;                    // as fast as readers drain, no wall clock
  const std::atomic<bool>* stop = nullptr;  // set by SIGINT/SIGTERM
  double drain_timeout_s = 10.0;            // at the end, wait this long for readers
};

class Output {
 public:
  virtual ~Output() = default;
  // Back-to-back bytes whose first byte starts at bus time t_ns (the caller paces them
  // when the run is not at maximum speed).
  virtual void write_run(std::int64_t t_ns, std::span<const std::uint8_t> bytes) = 0;
  // The line that tells people (and scripts) where to find this output, e.g.
  // "pty main /dev/pts/7" or "tcp-listen main 127.0.0.1:40123".
  [[nodiscard]] virtual std::string announce() const = 0;
  // Called once before the first byte (e.g. a TCP server at maximum speed waits for its
  // first client here).
  virtual void start() {}
  // End of the run: flushes, and waits (bounded) until readers have everything.
  virtual void finish() {}
  // Bytes lost because nobody was reading fast enough (real-time outputs only).
  [[nodiscard]] virtual std::uint64_t bytes_lost() const { return 0; }
  [[nodiscard]] virtual bool writes_stdout() const { return false; }
};

// Opens the output for bus `bus_name`. Errors name the output and the reason.
[[nodiscard]] Result<std::unique_ptr<Output>, std::string> make_output(const OutputSpec& spec,
                                                                       const std::string& bus_name,
                                                                       const OutputContext& ctx);

}  // namespace imsm::sim
