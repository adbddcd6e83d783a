#include "io/capture_times.h"

#include <charconv>
#include <cinttypes>
#include <cstdio>

namespace imsm::io {

namespace {

// Seconds with an optional fraction, parsed exactly into nanoseconds (no binary float).
bool parse_seconds(std::string_view s, std::int64_t& ns) {
  if (s.empty()) return false;
  std::size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (whole.empty() || whole.size() > 11) return false;
  std::int64_t w = 0;
  for (char ch : whole) {
    if (ch < '0' || ch > '9') return false;
    w = w * 10 + (ch - '0');
  }
  if (dot != std::string_view::npos && frac.empty()) return false;
  std::int64_t f = 0;
  std::size_t digits = 0;
  for (char ch : frac) {
    if (ch < '0' || ch > '9') return false;
    if (digits < 9) {
      f = f * 10 + (ch - '0');
      ++digits;
    }
  }
  while (digits < 9) {
    f *= 10;
    ++digits;
  }
  ns = w * 1'000'000'000 + f;
  return true;
}

}  // namespace

std::optional<TimesError> parse_capture_times(std::string_view text, std::uint64_t capture_size,
                                              std::vector<BurstMark>& out) {
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t sp = line.find_first_of(" \t");
    if (sp == std::string_view::npos)
      return TimesError{line_no, "expected '<byte offset> <seconds>'"};
    std::string_view off_text = line.substr(0, sp);
    std::string_view time_text = line.substr(sp + 1);
    while (!time_text.empty() && (time_text.front() == ' ' || time_text.front() == '\t'))
      time_text.remove_prefix(1);
    BurstMark mark;
    auto [ptr, ec] =
        std::from_chars(off_text.data(), off_text.data() + off_text.size(), mark.offset);
    if (ec != std::errc{} || ptr != off_text.data() + off_text.size())
      return TimesError{line_no, "byte offset is not a whole number"};
    if (!parse_seconds(time_text, mark.time_ns))
      return TimesError{line_no, "time is not a non-negative number of seconds"};
    if (mark.offset >= capture_size && capture_size > 0)
      return TimesError{line_no, "byte offset is past the end of the capture"};
    if (!out.empty() && mark.offset <= out.back().offset)
      return TimesError{line_no, "byte offsets must increase"};
    if (!out.empty() && mark.time_ns < out.back().time_ns)
      return TimesError{line_no, "times must not go backwards"};
    out.push_back(mark);
  }
  return std::nullopt;
}

std::string format_burst_mark(const BurstMark& mark) {
  char buf[64];
  const std::int64_t us = (mark.time_ns + 500) / 1000;
  const int n = std::snprintf(buf, sizeof buf, "%" PRIu64 " %" PRId64 ".%06" PRId64 "\n",
                              mark.offset, us / 1'000'000, us % 1'000'000);
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace imsm::io
