// Reads a raw capture (a file or standard input), with its timing sidecar when present,
// and feeds it through a StreamFramer in blocks.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "io/capture_times.h"
#include "protocol/stream_framer.h"

namespace imsm::io {

struct CaptureError {
  enum class Kind { Unreadable, BadTimes } kind = Kind::Unreadable;
  std::string message;  // names the path (and the line for a bad sidecar)
};

class CaptureReader {
 public:
  CaptureReader(const CaptureReader&) = delete;
  CaptureReader& operator=(const CaptureReader&) = delete;
  CaptureReader(CaptureReader&& other) noexcept;
  ~CaptureReader();

  // Opens `path` ("-" for standard input). The sidecar is `times_path` when given, else
  // `path.times` when it exists and `auto_times` is set.
  static std::optional<CaptureError> open(const std::string& path,
                                          const std::optional<std::string>& times_path,
                                          bool auto_times, std::optional<CaptureReader>& out);

  // Bytes carry times: from the sidecar, or from the clock when the input is a live
  // terminal (a serial port or pty, opened raw at 9600 8N1).
  [[nodiscard]] bool timed() const { return !marks_.empty() || live_; }
  [[nodiscard]] bool live() const { return live_; }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] const std::optional<std::string>& times_path() const { return times_path_; }

  using Sink = std::function<void(std::vector<protocol::LocatedFrame>&)>;
  // Feeds everything through `framer` (finish() included); `sink` gets the frames after
  // each block and may clear the vector. Returns an error message when a read fails. A live
  // terminal is read until it closes (or hangs up), with each chunk timestamped on arrival
  // (monotonic clock, seconds since open) and the idle-gap rule applied between chunks.
  std::optional<std::string> run(protocol::StreamFramer& framer, const Sink& sink,
                                 std::size_t block_size = 1 << 20);

 private:
  CaptureReader(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  std::optional<std::string> run_live(protocol::StreamFramer& framer, const Sink& sink);

  int fd_ = -1;
  bool owns_fd_ = true;
  bool live_ = false;
  std::string path_;
  std::optional<std::string> times_path_;
  std::vector<BurstMark> marks_;
};

}  // namespace imsm::io
