#include "io/capture_times.h"

#include <fcntl.h>

#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace imsm::io {

namespace {

// Seconds with an optional fraction, parsed exactly into nanoseconds (no binary float), at
// most kMaxCaptureSeconds.
bool parse_seconds(std::string_view s, std::int64_t& ns) {
  if (s.empty()) return false;
  std::size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (whole.empty() || whole.size() > 11) return false;
  std::int64_t w = 0;
  for (char ch : whole) {
    if (ch < '0' || ch > '9') return false;
    w = w * 10 + (ch - '0');  // at most 11 digits: no overflow
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
  if (w > kMaxCaptureSeconds || (w == kMaxCaptureSeconds && f > 0)) return false;
  ns = w * 1'000'000'000 + f;
  return true;
}

std::string_view trim(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
    line.remove_suffix(1);
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  return line;
}

// One line: nullopt when it is fine (a mark in `mark`, or nothing for a blank line or a
// comment), else what is wrong with it.
std::optional<std::string> parse_line(std::string_view line, const std::optional<BurstMark>& prev,
                                      std::uint64_t capture_size, std::optional<BurstMark>& mark) {
  mark.reset();
  line = trim(line);
  if (line.empty() || line.front() == '#') return std::nullopt;
  const std::size_t sp = line.find_first_of(" \t");
  if (sp == std::string_view::npos) return "expected '<byte offset> <seconds>'";
  std::string_view off_text = line.substr(0, sp);
  std::string_view time_text = trim(line.substr(sp + 1));
  BurstMark m;
  auto [ptr, ec] = std::from_chars(off_text.data(), off_text.data() + off_text.size(), m.offset);
  if (ec != std::errc{} || ptr != off_text.data() + off_text.size())
    return "byte offset is not a whole number";
  if (!parse_seconds(time_text, m.time_ns))
    return "time '" + std::string(time_text) + "' is not a number of seconds from 0 to " +
           std::to_string(kMaxCaptureSeconds);
  if (m.offset >= capture_size && capture_size > 0)
    return "byte offset is past the end of the capture";
  if (prev && m.offset <= prev->offset) return "byte offsets must increase";
  if (prev && m.time_ns < prev->time_ns) return "times must not go backwards";
  mark = m;
  return std::nullopt;
}

}  // namespace

std::optional<TimesError> parse_capture_times(std::string_view text, std::uint64_t capture_size,
                                              std::vector<BurstMark>& out) {
  std::size_t line_no = 0;
  std::size_t pos = 0;
  std::optional<BurstMark> prev, mark;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (auto err = parse_line(line, prev, capture_size, mark)) return TimesError{line_no, *err};
    if (!mark) continue;
    out.push_back(*mark);
    prev = mark;
  }
  return std::nullopt;
}

std::optional<std::string> CaptureTimesStream::open(const std::string& path,
                                                    std::uint64_t capture_size,
                                                    std::optional<CaptureTimesStream>& out) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return path + ": " + std::strerror(errno);
  out.emplace(CaptureTimesStream(std::move(fd), capture_size));
  return std::nullopt;
}

bool CaptureTimesStream::next_line(std::string_view& line, std::optional<TimesError>& err) {
  for (;;) {
    const auto nl =
        static_cast<const char*>(std::memchr(buf_.data() + begin_, '\n', end_ - begin_));
    if (nl || (eof_ && begin_ < end_)) {
      const std::size_t len =
          nl ? static_cast<std::size_t>(nl - (buf_.data() + begin_)) : end_ - begin_;
      line = std::string_view(buf_.data() + begin_, len);
      begin_ += nl ? len + 1 : len;
      ++line_no_;
      return true;
    }
    if (eof_) return false;
    // Keep the partial line; grow only for a line longer than the buffer.
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
    const ssize_t got = ::read(fd_.get(), buf_.data() + end_, buf_.size() - end_);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      err = TimesError{0, std::strerror(errno), true};
      return false;
    }
    if (got == 0) eof_ = true;
    end_ += static_cast<std::size_t>(got);
  }
}

std::optional<TimesError> CaptureTimesStream::next(std::optional<BurstMark>& mark) {
  mark.reset();
  std::string_view line;
  std::optional<TimesError> err;
  while (next_line(line, err)) {
    if (auto bad = parse_line(line, last_, capture_size_, mark)) return TimesError{line_no_, *bad};
    if (!mark) continue;
    last_ = mark;
    return std::nullopt;
  }
  return err;
}

std::string format_burst_mark(const BurstMark& mark) {
  char buf[64];
  const std::int64_t us = (mark.time_ns + 500) / 1000;
  const int n = std::snprintf(buf, sizeof buf, "%" PRIu64 " %" PRId64 ".%06" PRId64 "\n",
                              mark.offset, us / 1'000'000, us % 1'000'000);
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace imsm::io
