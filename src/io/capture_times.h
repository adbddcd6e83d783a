// The timing sidecar of a raw capture (SPEC "Captures with timing"): `PATH.times`, one line
// per burst of back-to-back bytes, "<byte offset> <seconds since the capture start>".
// Bytes inside a burst follow at 1.0417 ms (9600 8N1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/unique_fd.h"

namespace imsm::io {

struct BurstMark {
  std::uint64_t offset = 0;
  std::int64_t time_ns = 0;
};

// The latest time a sidecar may give: 10^9 s (31.7 years) after the capture start. Far past
// any real capture, and far inside int64 nanoseconds (9.2 x 10^9 s), so a time such as
// 9,999,999,999 s is refused as bad input instead of wrapping into a negative time.
inline constexpr std::int64_t kMaxCaptureSeconds = 1'000'000'000;

struct TimesError {
  std::size_t line = 0;  // 1-based; 0 when the file itself failed (unreadable)
  std::string message;
  bool unreadable = false;  // a read failure, not bad content
};

// Parses sidecar text. Offsets must increase strictly and times must not go backwards nor
// exceed kMaxCaptureSeconds; `capture_size` bounds the offsets. Blank lines and lines
// starting with '#' are skipped.
[[nodiscard]] std::optional<TimesError> parse_capture_times(std::string_view text,
                                                            std::uint64_t capture_size,
                                                            std::vector<BurstMark>& out);

// Reads a sidecar file one mark at a time, in constant memory however long the capture,
// with the checks of parse_capture_times.
class CaptureTimesStream {
 public:
  // Opens `path`; the message names it when it cannot.
  static std::optional<std::string> open(const std::string& path, std::uint64_t capture_size,
                                         std::optional<CaptureTimesStream>& out);
  // The next mark into `mark`, or nullopt in `mark` at the end of the file.
  [[nodiscard]] std::optional<TimesError> next(std::optional<BurstMark>& mark);

 private:
  CaptureTimesStream(UniqueFd fd, std::uint64_t capture_size)
      : fd_(std::move(fd)), capture_size_(capture_size) {}
  // The next line without its newline; false at the end of the file.
  bool next_line(std::string_view& line, std::optional<TimesError>& err);

  UniqueFd fd_;
  std::uint64_t capture_size_;
  std::vector<char> buf_ = std::vector<char>(1 << 16);
  std::size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  std::size_t line_no_ = 0;
  std::optional<BurstMark> last_;
};

// One sidecar line, with microsecond precision ("1234 300.012500\n").
[[nodiscard]] std::string format_burst_mark(const BurstMark& mark);

}  // namespace imsm::io
