#include "collector/report/tz.h"

#include <fmt/format.h>

#include <algorithm>
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

}  // namespace

TimeZone::TimeZone() = default;

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
