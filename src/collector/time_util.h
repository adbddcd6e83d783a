// UTC time for the collector: microseconds since the Unix epoch, ISO 8601 in and out.
// Never consults the local time zone (tests run with a non-UTC TZ).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace imsm::collector {

using UtcMicros = std::int64_t;

inline constexpr UtcMicros kMicrosPerSecond = 1'000'000;

// Accepts "2026-11-01", "2026-11-01T00:00", "2026-11-01T00:00:00", "...:00.25", a trailing
// "Z" or "+HH:MM"/"-HH:MM"/"+HHMM" offset (no suffix means UTC), and ' ' in place of 'T'.
// Also accepts "@<seconds since the epoch>".
[[nodiscard]] std::optional<UtcMicros> parse_utc(std::string_view text);

// "2026-11-01T00:05:00.012500Z" (always six fractional digits, always UTC).
[[nodiscard]] std::string format_utc(UtcMicros t);
// "2026-11-01T00:05:00Z" (whole seconds, truncated).
[[nodiscard]] std::string format_utc_seconds(UtcMicros t);

// A time as whole days since 1970-01-01, seconds into that day and microseconds (floored, so
// times before 1970 split the same way).
struct UtcParts {
  std::int64_t days = 0;
  std::int64_t second_of_day = 0;
  std::int64_t micros = 0;
};
[[nodiscard]] UtcParts split_utc(UtcMicros t);

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms).
[[nodiscard]] std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d);
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d);

// Current UTC time from the system clock.
[[nodiscard]] UtcMicros now_utc();

}  // namespace imsm::collector
