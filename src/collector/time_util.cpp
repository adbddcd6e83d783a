#include "collector/time_util.h"

#include <chrono>
#include <cstdio>

namespace imsm::collector {

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
}

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

std::optional<UtcMicros> parse_utc(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  if (s.front() == '@') {
    // Seconds since the epoch, optionally with up to 6 fractional digits.
    std::int64_t sec = 0;
    std::size_t i = 1;
    bool neg = false;
    if (i < s.size() && s[i] == '-') neg = true, ++i;
    if (i >= s.size()) return std::nullopt;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (sec > 9'000'000'000'000LL) return std::nullopt;
      sec = sec * 10 + (s[i] - '0');
    }
    std::int64_t frac = 0;
    if (i < s.size() && s[i] == '.') {
      ++i;
      int nd = 0;
      for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++nd)
        if (nd < 6) frac = frac * 10 + (s[i] - '0');
      for (; nd < 6; ++nd) frac *= 10;
    }
    if (i != s.size()) return std::nullopt;
    const std::int64_t us = sec * kMicrosPerSecond + frac;
    return neg ? -us : us;
  }
  int y = 0, mo = 0, d = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 ||
      d > static_cast<int>(days_in_month(y, static_cast<unsigned>(mo))))
    return std::nullopt;
  int hh = 0, mi = 0, ss = 0;
  std::int64_t frac_us = 0;
  std::size_t i = 10;
  if (i < s.size() && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
    if (!digits(s, i + 1, 2, hh) || i + 3 >= s.size() + 0 || s.size() < i + 6 || s[i + 3] != ':' ||
        !digits(s, i + 4, 2, mi))
      return std::nullopt;
    i += 6;
    if (i < s.size() && s[i] == ':') {
      if (!digits(s, i + 1, 2, ss)) return std::nullopt;
      i += 3;
      if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
        ++i;
        int nd = 0;
        for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++nd)
          if (nd < 6) frac_us = frac_us * 10 + (s[i] - '0');
        if (nd == 0) return std::nullopt;
        for (; nd < 6; ++nd) frac_us *= 10;
      }
    }
    if (hh > 23 || mi > 59 || ss > 60) return std::nullopt;
  }
  std::int64_t offset_s = 0;
  if (i < s.size()) {
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == s.size()) {
      ++i;
    } else if (s[i] == '+' || s[i] == '-') {
      const int sign = s[i] == '-' ? -1 : 1;
      int oh = 0, om = 0;
      if (!digits(s, i + 1, 2, oh)) return std::nullopt;
      std::size_t j = i + 3;
      if (j < s.size() && s[j] == ':') ++j;
      if (j < s.size()) {
        if (!digits(s, j, 2, om)) return std::nullopt;
        j += 2;
      }
      if (j != s.size() || oh > 23 || om > 59) return std::nullopt;
      offset_s = sign * (oh * 3600 + om * 60);
      i = j;
    } else {
      return std::nullopt;
    }
  }
  if (i != s.size()) return std::nullopt;
  const std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const std::int64_t secs = days * 86400 + hh * 3600 + mi * 60 + ss - offset_s;
  return secs * kMicrosPerSecond + frac_us;
}

UtcParts split_utc(UtcMicros t) {
  std::int64_t secs = t / kMicrosPerSecond;
  std::int64_t us = t % kMicrosPerSecond;
  if (us < 0) us += kMicrosPerSecond, --secs;
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) rem += 86400, --days;
  return UtcParts{days, rem, us};
}

std::string format_utc(UtcMicros t) {
  const auto [days, rem, us] = split_utc(t);
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60),
                static_cast<long long>(us));
  return buf;
}

std::string format_utc_seconds(UtcMicros t) {
  std::string s = format_utc(t);
  return s.substr(0, 19) + "Z";
}

UtcMicros now_utc() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace imsm::collector
