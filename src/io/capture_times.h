// The timing sidecar of a raw capture (SPEC "Captures with timing"): `PATH.times`, one line
// per burst of back-to-back bytes, "<byte offset> <seconds since the capture start>".
// Bytes inside a burst follow at 1.0417 ms (9600 8N1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imsm::io {

struct BurstMark {
  std::uint64_t offset = 0;
  std::int64_t time_ns = 0;
};

struct TimesError {
  std::size_t line = 0;  // 1-based
  std::string message;
};

// Parses sidecar text. Offsets must increase strictly and times must not go backwards;
// `capture_size` bounds the offsets. Blank lines and lines starting with '#' are skipped.
[[nodiscard]] std::optional<TimesError> parse_capture_times(std::string_view text,
                                                            std::uint64_t capture_size,
                                                            std::vector<BurstMark>& out);

// One sidecar line, with microsecond precision ("1234 300.012500\n").
[[nodiscard]] std::string format_burst_mark(const BurstMark& mark);

}  // namespace imsm::io
