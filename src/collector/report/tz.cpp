#include "collector/report/tz.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace imsm::collector {

namespace {

constexpr std::int64_t kDayUs = 86'400 * kMicrosPerSecond;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// Big-endian signed integer of `n` bytes at `p`.
std::int64_t be(std::string_view s, std::size_t p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(s[p + i]);
  if (n < 8 && (v >> (8 * n - 1)) != 0) v |= ~std::uint64_t{0} << (8 * n);
  return static_cast<std::int64_t>(v);
}

struct Counts {
  std::int64_t isut, isstd, leap, time, type, chars;
};

// The six counts of the header at `p` (RFC 8536 3.1), nullopt when truncated or not TZif.
std::optional<Counts> header(std::string_view s, std::size_t p) {
  if (s.size() < p + 44 || s.substr(p, 4) != "TZif") return std::nullopt;
  return Counts{be(s, p + 20, 4), be(s, p + 24, 4), be(s, p + 28, 4),
                be(s, p + 32, 4), be(s, p + 36, 4), be(s, p + 40, 4)};
}

std::size_t block_size(const Counts& c, int time_bytes) {
  return static_cast<std::size_t>(c.time * time_bytes + c.time + c.type * 6 + c.chars +
                                  c.leap * (time_bytes + 4) + c.isstd + c.isut);
}

// POSIX TZ pieces: a zone name ("EST" or "<-03>"), then an offset [+-]hh[:mm[:ss]].
bool skip_name(std::string_view s, std::size_t& i) {
  const std::size_t start = i;
  if (i < s.size() && s[i] == '<') {
    const auto close = s.find('>', i);
    if (close == std::string_view::npos) return false;
    i = close + 1;
    return true;
  }
  while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
  return i - start >= 3;
}

bool read_number(std::string_view s, std::size_t& i, std::int64_t& v) {
  const std::size_t start = i;
  v = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && i - start < 4)
    v = v * 10 + (s[i++] - '0');
  return i > start;
}

// [+-]hh[:mm[:ss]] in seconds, sign as written.
bool read_hms(std::string_view s, std::size_t& i, std::int64_t& out) {
  int sign = 1;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) sign = s[i++] == '-' ? -1 : 1;
  std::int64_t h = 0, m = 0, sec = 0;
  if (!read_number(s, i, h)) return false;
  if (i < s.size() && s[i] == ':' && (++i, !read_number(s, i, m))) return false;
  if (i < s.size() && s[i] == ':' && (++i, !read_number(s, i, sec))) return false;
  out = sign * (h * 3600 + m * 60 + sec);
  return true;
}

// ",Mm.w.d[/time]"
bool read_date(std::string_view s, std::size_t& i, TimeZone::RuleDate& d) {
  std::int64_t m = 0, w = 0, wd = 0;
  if (i + 1 >= s.size() || s[i] != ',' || s[i + 1] != 'M') return false;
  i += 2;
  if (!read_number(s, i, m) || i >= s.size() || s[i++] != '.' || !read_number(s, i, w) ||
      i >= s.size() || s[i++] != '.' || !read_number(s, i, wd))
    return false;
  if (m < 1 || m > 12 || w < 1 || w > 5 || wd > 6) return false;
  d.month = static_cast<int>(m);
  d.week = static_cast<int>(w);
  d.weekday = static_cast<int>(wd);
  if (i < s.size() && s[i] == '/') return read_hms(s, ++i, d.time_s);
  return true;
}

// Days since the epoch of the rule's date in `year`.
std::int64_t rule_day(std::int64_t year, const TimeZone::RuleDate& d) {
  const auto m = static_cast<unsigned>(d.month);
  const std::int64_t first = days_from_civil(year, m, 1);
  const std::int64_t next =
      m == 12 ? days_from_civil(year + 1, 1, 1) : days_from_civil(year, m + 1, 1);
  const std::int64_t wd_first = ((first % 7) + 11) % 7;  // 0 = Sunday
  std::int64_t day = first + ((d.weekday - wd_first) % 7 + 7) % 7 + (d.week - 1) * 7;
  while (day >= next) day -= 7;  // week 5: the last such weekday
  return day;
}

}  // namespace

TimeZone::TimeZone() = default;

std::optional<TimeZone::Rule> TimeZone::parse_rule(std::string_view s) {
  Rule r;
  std::size_t i = 0;
  std::int64_t off = 0;
  if (!skip_name(s, i) || !read_hms(s, i, off)) return std::nullopt;
  r.std_offset_s = -off;  // POSIX offsets are west of UTC
  if (i == s.size()) return r;
  if (!skip_name(s, i)) return std::nullopt;
  r.has_dst = true;
  r.dst_offset_s = r.std_offset_s + 3600;
  if (i < s.size() && s[i] != ',') {
    if (!read_hms(s, i, off)) return std::nullopt;
    r.dst_offset_s = -off;
  }
  if (!read_date(s, i, r.start) || !read_date(s, i, r.end) || i != s.size()) return std::nullopt;
  return r;
}

std::int64_t TimeZone::rule_offset_s(std::int64_t utc_s) const {
  const Rule& r = *rule_;
  if (!r.has_dst) return r.std_offset_s;
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(floor_div(utc_s + r.std_offset_s, 86'400), y, m, d);
  // The start is given in standard local time, the end in daylight local time.
  const std::int64_t start = rule_day(y, r.start) * 86'400 + r.start.time_s - r.std_offset_s;
  const std::int64_t end = rule_day(y, r.end) * 86'400 + r.end.time_s - r.dst_offset_s;
  const bool dst = start < end ? (utc_s >= start && utc_s < end) : !(utc_s >= end && utc_s < start);
  return dst ? r.dst_offset_s : r.std_offset_s;
}

std::optional<TimeZone> TimeZone::parse(std::string_view name, std::string_view s) {
  auto c = header(s, 0);
  if (!c) return std::nullopt;
  std::size_t p = 44;
  int tb = 4;
  if (s[4] >= '2') {  // skip the 32-bit block; use the 64-bit one that follows
    for (const std::int64_t n : {c->isut, c->isstd, c->leap, c->time, c->type, c->chars})
      if (n < 0 || n > (1 << 24)) return std::nullopt;
    p += block_size(*c, 4);
    c = header(s, p);
    if (!c) return std::nullopt;
    p += 44;
    tb = 8;
  }
  for (const std::int64_t n : {c->isut, c->isstd, c->leap, c->time, c->chars})
    if (n < 0 || n > (1 << 24)) return std::nullopt;  // counts are unsigned 32-bit; be sane
  if (c->type < 1 || c->type > 256 || s.size() < p + block_size(*c, tb)) return std::nullopt;
  const std::size_t data = p;
  TimeZone z;
  z.name_ = std::string(name);
  z.offsets_.clear();
  for (std::int64_t i = 0; i < c->time; ++i) z.transitions_.push_back(be(s, p + i * tb, tb));
  p += static_cast<std::size_t>(c->time * tb);
  for (std::int64_t i = 0; i < c->time; ++i) {
    const auto idx = static_cast<std::uint8_t>(s[p + i]);
    if (idx >= c->type) return std::nullopt;
    z.types_.push_back(idx);
  }
  p += static_cast<std::size_t>(c->time);
  for (std::int64_t i = 0; i < c->type; ++i)
    z.offsets_.push_back(static_cast<std::int32_t>(be(s, p + i * 6, 4)));
  if (!std::is_sorted(z.transitions_.begin(), z.transitions_.end())) return std::nullopt;
  z.initial_ = z.offsets_[0];  // RFC 8536: type 0 before the first transition
  if (tb == 8) {               // the footer: "\nTZ-string\n" after the 64-bit block
    const std::size_t f = data + block_size(*c, tb);
    const std::size_t close = s.find('\n', f + 1);
    if (f < s.size() && s[f] == '\n' && close != std::string_view::npos)
      z.rule_ = parse_rule(s.substr(f + 1, close - f - 1));
  }
  return z;
}

std::optional<TimeZone> TimeZone::load(std::string_view name, std::string& error,
                                       const std::string& dir) {
  if (name == "UTC" || name == "Etc/UTC" || name == "Z") return TimeZone{};
  if (name.empty() || name.front() == '/' || name.find("..") != std::string_view::npos) {
    error = fmt::format("'{}' is not a time zone name like America/New_York", name);
    return std::nullopt;
  }
  const std::string path = dir + "/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = fmt::format("unknown time zone '{}' (no {})", name, path);
    return std::nullopt;
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  auto z = parse(name, bytes.str());
  if (!z) error = fmt::format("time zone '{}': {} is not a TZif file", name, path);
  return z;
}

std::int64_t TimeZone::offset_s(UtcMicros t) const {
  const std::int64_t s = floor_div(t, kMicrosPerSecond);
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), s);
  if (rule_ && it == transitions_.end()) return rule_offset_s(s);  // after the table
  if (it == transitions_.begin()) return transitions_.empty() ? offsets_.back() : initial_;
  return offsets_[types_[static_cast<std::size_t>(it - transitions_.begin() - 1)]];
}

UtcMicros TimeZone::from_local(std::int64_t local) const {
  // The offsets in force a day and a half either side are the only candidates (transitions
  // are far more than three days apart in every zone).
  const std::int64_t before = offset_s(local - 3 * kDayUs / 2);
  const std::int64_t after = offset_s(local + 3 * kDayUs / 2);
  std::optional<UtcMicros> best;
  for (const std::int64_t o : {before, after}) {
    const UtcMicros t = local - o * kMicrosPerSecond;
    if (offset_s(t) == o && (!best || t < *best)) best = t;
  }
  // In a gap no instant has this wall time: keep the offset from before the gap.
  return best ? *best : local - before * kMicrosPerSecond;
}

LocalTime local_time(const TimeZone& tz, UtcMicros t) {
  LocalTime lt;
  lt.offset_s = tz.offset_s(t);
  const std::int64_t local_s = floor_div(t, kMicrosPerSecond) + lt.offset_s;
  const std::int64_t days = floor_div(local_s, 86'400);
  const std::int64_t sod = local_s - days * 86'400;
  civil_from_days(days, lt.year, lt.month, lt.day);
  lt.hour = static_cast<int>(sod / 3600);
  lt.minute = static_cast<int>(sod / 60 % 60);
  lt.second = static_cast<int>(sod % 60);
  lt.weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  return lt;
}

UtcMicros TimeZone::day_start(UtcMicros t) const {
  const LocalTime lt = local_time(*this, t);
  return from_local(days_from_civil(lt.year, lt.month, lt.day) * kDayUs);
}

UtcMicros TimeZone::next_day(UtcMicros day_start) const {
  const LocalTime lt = local_time(*this, day_start);
  return from_local((days_from_civil(lt.year, lt.month, lt.day) + 1) * kDayUs);
}

UtcMicros TimeZone::month_start(UtcMicros t) const {
  const LocalTime lt = local_time(*this, t);
  return from_local(days_from_civil(lt.year, lt.month, 1) * kDayUs);
}

UtcMicros TimeZone::next_month(UtcMicros month_start) const {
  const LocalTime lt = local_time(*this, month_start);
  const bool dec = lt.month == 12;
  return from_local(days_from_civil(lt.year + (dec ? 1 : 0), dec ? 1 : lt.month + 1, 1) * kDayUs);
}

std::string format_local(const TimeZone& tz, UtcMicros t, bool micros) {
  const LocalTime lt = local_time(tz, t);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", lt.year, lt.month, lt.day,
                                lt.hour, lt.minute, lt.second);
  if (micros) out += fmt::format(".{:06}", t - floor_div(t, kMicrosPerSecond) * kMicrosPerSecond);
  if (tz.is_utc()) return out + "Z";
  const std::int64_t a = lt.offset_s < 0 ? -lt.offset_s : lt.offset_s;
  return out + fmt::format("{}{:02}:{:02}", lt.offset_s < 0 ? '-' : '+', a / 3600, a / 60 % 60);
}

std::optional<UtcMicros> parse_time_in(const TimeZone& tz, std::string_view text) {
  const auto u = parse_utc(text);
  if (!u) return std::nullopt;
  const bool absolute =
      (!text.empty() && (text.front() == '@' || text.back() == 'Z' || text.back() == 'z')) ||
      (text.size() > 10 && text.find_first_of("+-", 10) != std::string_view::npos);
  return absolute ? *u : tz.from_local(*u);
}

}  // namespace imsm::collector
