// Time zones for bills (docs/collector.md "Billing", SPEC "Billing"): a small reader of the
// system's compiled zone files (TZif, RFC 8536) under /usr/share/zoneinfo, Debian's tzdata.
// g++ 12's libstdc++ has no std::chrono tzdb, and the process time zone (TZ) is never
// consulted or changed: a zone is a value, loaded by name.
//
// A zone maps a UTC instant to its UTC offset (the transition table, 64-bit section) and a
// local wall-clock time back to the instant: a time in the spring-forward gap is moved forward
// by the gap (02:30 on a 23-hour day is 03:30), and a time that occurs twice in the fall-back
// hour is its first occurrence (the daylight one). After the table's last transition the
// file's footer rule applies (a POSIX TZ string like "EST5EDT,M3.2.0,M11.1.0", RFC 8536
// section 3.3; the Mm.w.d form, which every zone with DST uses today); without a usable rule
// the last offset is kept. Debian's "fat" files list transitions to 2037, "slim" ones stop
// earlier and rely on the rule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/time_util.h"

namespace imsm::collector {

class TimeZone {
 public:
  // UTC (no file needed).
  TimeZone();
  // Loads `name` ("America/New_York", "UTC") from `dir`. nullopt with `error` set when the
  // name is not a zone or its file is not TZif.
  [[nodiscard]] static std::optional<TimeZone> load(std::string_view name, std::string& error,
                                                    const std::string& dir = "/usr/share/zoneinfo");
  // Parses TZif bytes (tests build them by hand).
  [[nodiscard]] static std::optional<TimeZone> parse(std::string_view name, std::string_view bytes);

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] bool is_utc() const {
    return transitions_.empty() && offsets_.size() == 1 && offsets_[0] == 0;
  }
  // Offset from UTC, seconds, in force at `t`.
  [[nodiscard]] std::int64_t offset_s(UtcMicros t) const;
  // The instant of local wall-clock time `local` (microseconds since 1970-01-01T00:00 local).
  [[nodiscard]] UtcMicros from_local(std::int64_t local) const;
  // Local midnight starting the civil day that contains `t` here, and the next one.
  [[nodiscard]] UtcMicros day_start(UtcMicros t) const;
  [[nodiscard]] UtcMicros next_day(UtcMicros day_start) const;
  // First instant of the local month containing `t`, and of the following month.
  [[nodiscard]] UtcMicros month_start(UtcMicros t) const;
  [[nodiscard]] UtcMicros next_month(UtcMicros month_start) const;

 private:
  std::string name_ = "UTC";
  std::vector<std::int64_t> transitions_;  // UTC seconds, ascending
  std::vector<std::uint8_t> types_;        // offset index in force from each transition
  std::vector<std::int32_t> offsets_{0};   // seconds east of UTC per local time type
  std::int32_t initial_ = 0;               // before the first transition

 public:
  // A footer rule: standard and daylight offsets (seconds east of UTC) and the daylight
  // period's local start and end, each the w-th (5 = last) weekday d of month m at `time_s`.
  struct RuleDate {
    int month = 0, week = 0, weekday = 0;
    std::int64_t time_s = 7200;
  };
  struct Rule {
    std::int64_t std_offset_s = 0, dst_offset_s = 0;
    bool has_dst = false;
    RuleDate start, end;
  };
  // Parses the POSIX TZ string of a footer; nullopt for forms not handled (J, n dates).
  [[nodiscard]] static std::optional<Rule> parse_rule(std::string_view tz);

 private:
  std::optional<Rule> rule_;
  [[nodiscard]] std::int64_t rule_offset_s(std::int64_t utc_s) const;
};

// Local civil fields of `t` in `tz`.
struct LocalTime {
  std::int64_t year = 1970;
  unsigned month = 1, day = 1;
  int hour = 0, minute = 0, second = 0;
  int weekday = 4;  // 0 Sunday .. 6 Saturday
  std::int64_t offset_s = 0;
};
[[nodiscard]] LocalTime local_time(const TimeZone& tz, UtcMicros t);

// "2026-11-01T00:00:00-04:00" ("...Z" in UTC), whole seconds (truncated), or with six
// fractional digits when `micros`.
[[nodiscard]] std::string format_local(const TimeZone& tz, UtcMicros t, bool micros = false);

// A time argument: with a "Z" or an offset (or "@seconds") it is that instant; without, it is
// local wall-clock time in `tz` ("2026-11-01" = local midnight). nullopt when not ISO 8601.
[[nodiscard]] std::optional<UtcMicros> parse_time_in(const TimeZone& tz, std::string_view text);

}  // namespace imsm::collector
