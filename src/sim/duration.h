// Durations on the command line and in configs: "90s", "15m", "24h", "7d", "500ms", or a
// plain number of seconds ("3600", "0.5"). Kept as integer nanoseconds of bus time.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace imsm::sim {

inline constexpr std::int64_t kNsPerSecond = 1'000'000'000;

// Nanoseconds, or nullopt when the text is not a non-negative duration that fits
// (at most 100 years).
[[nodiscard]] std::optional<std::int64_t> parse_duration_ns(std::string_view text);

// Seconds (a config value) to nanoseconds, rounded to the nearest nanosecond; nullopt when
// negative, not finite or too large.
[[nodiscard]] std::optional<std::int64_t> seconds_to_ns(double seconds);

}  // namespace imsm::sim
