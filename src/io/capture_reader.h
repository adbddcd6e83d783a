// Reads a raw capture (a file, standard input or a live terminal), with its timing sidecar
// when present, and hands the bytes with their arrival times to a ByteSink in blocks. io knows
// no frames: the framer is driven by the sink (collector/sources/framed_capture.h).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "io/capture_times.h"
#include "io/unique_fd.h"

namespace imsm::io {

// The spacing of back-to-back bytes on a 9600 8N1 line (10 bits a byte): a sidecar marks a
// burst's first byte, the others follow at this spacing.
inline constexpr std::chrono::nanoseconds kByteTime9600{1'041'667};

// Where a reader's bytes go.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // `first`: arrival time of bytes[0] (since the capture's start, or since the port was
  // opened), absent for an untimed capture; `spacing`: the time between consecutive bytes.
  virtual void bytes(std::span<const std::uint8_t> b, std::optional<std::chrono::nanoseconds> first,
                     std::chrono::nanoseconds spacing) = 0;
  // A live line was quiet until `now`.
  virtual void idle(std::chrono::nanoseconds now) = 0;
  // A block (or a live chunk, or an idle poll) has been handed over.
  virtual void block_done() = 0;
};

struct CaptureError {
  enum class Kind { Unreadable, BadTimes } kind = Kind::Unreadable;
  std::string message;  // names the path (and the line for a bad sidecar)
};

// The sidecar is read twice, both times streamed (constant memory however long the capture):
// once by open(), which checks every line so that bad input fails before any frame is
// delivered, and once by run(), which applies the marks to the bytes.
class CaptureReader {
 public:
  // Opens `path` ("-" for standard input). The sidecar is `times_path` when given, else
  // `path.times` when it exists and `auto_times` is set. A sidecar without a single mark
  // (an empty file) gives no times: the capture is untimed, see `empty_times()`.
  static std::optional<CaptureError> open(const std::string& path,
                                          const std::optional<std::string>& times_path,
                                          bool auto_times, std::optional<CaptureReader>& out);

  // Bytes carry times: from the sidecar, or from the clock when the input is a live
  // terminal (a serial port or pty, opened raw at 9600 8N1).
  [[nodiscard]] bool timed() const { return marks_ > 0 || live_; }
  [[nodiscard]] bool live() const { return live_; }
  [[nodiscard]] const std::string& path() const { return path_; }
  // The sidecar in use (nullopt when untimed, an empty sidecar included).
  [[nodiscard]] const std::optional<std::string>& times_path() const { return times_path_; }
  // A sidecar was found or given but holds no mark.
  [[nodiscard]] const std::optional<std::string>& empty_times() const { return empty_times_; }

  // Set before run() to end a live read early (SIGINT/SIGTERM); checked every 5 ms.
  void stop_when(const std::atomic<bool>* flag) { stop_ = flag; }

  // Hands everything to `sink`, calling block_done() after each block. Returns an error
  // when a read fails. A live terminal is read until it closes (or hangs up), with each
  // chunk timestamped on arrival (monotonic clock, since open) and idle() between chunks.
  std::optional<std::string> run(ByteSink& sink, std::size_t block_size = 1 << 20);

 private:
  CaptureReader(UniqueFd owned, int fd, std::string path)
      : owned_(std::move(owned)), fd_(fd), path_(std::move(path)) {}
  std::optional<CaptureError> check_times(const std::string& sidecar, std::uint64_t size);
  std::optional<std::string> run_live(ByteSink& sink);

  UniqueFd owned_;  // the capture file; empty for standard input, which is never closed
  int fd_ = -1;     // what is read: owned_ or STDIN_FILENO
  bool live_ = false;
  std::string path_;
  std::uint64_t size_ = 0;
  std::optional<std::string> times_path_, empty_times_;
  std::uint64_t marks_ = 0;
  const std::atomic<bool>* stop_ = nullptr;
};

}  // namespace imsm::io
