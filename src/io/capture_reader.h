// Reads a raw capture (a file or standard input), with its timing sidecar when present,
// and feeds it through a StreamFramer in blocks.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "io/capture_times.h"
#include "io/unique_fd.h"
#include "protocol/stream_framer.h"

namespace imsm::io {

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

  using Sink = std::function<void(std::vector<protocol::LocatedFrame>&)>;
  // Feeds everything through `framer` (finish() included); `sink` gets the frames after
  // each block and may clear the vector. Returns an error when a read fails. A live
  // terminal is read until it closes (or hangs up), with each chunk timestamped on arrival
  // (monotonic clock, seconds since open) and the idle-gap rule applied between chunks.
  std::optional<std::string> run(protocol::StreamFramer& framer, const Sink& sink,
                                 std::size_t block_size = 1 << 20);

 private:
  CaptureReader(UniqueFd owned, int fd, std::string path)
      : owned_(std::move(owned)), fd_(fd), path_(std::move(path)) {}
  std::optional<CaptureError> check_times(const std::string& sidecar, std::uint64_t size);
  std::optional<std::string> run_live(protocol::StreamFramer& framer, const Sink& sink);

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
