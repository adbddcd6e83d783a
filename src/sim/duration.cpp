#include "sim/duration.h"

#include <cmath>

namespace imsm::sim {

namespace {
__extension__ using Int128 = __int128;
constexpr std::int64_t kMaxNs = 100LL * 366 * 86400 * kNsPerSecond;
}  // namespace

std::optional<std::int64_t> seconds_to_ns(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0.0) return std::nullopt;
  const double ns = std::round(seconds * 1e9);
  if (ns > static_cast<double>(kMaxNs)) return std::nullopt;
  return static_cast<std::int64_t>(ns);
}

std::optional<std::int64_t> parse_duration_ns(std::string_view text) {
  // Whole part and fraction parsed exactly as decimal digits: "0.1s" is 100,000,000 ns.
  std::size_t i = 0;
  std::int64_t whole = 0;
  std::size_t whole_digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (whole_digits >= 12) return std::nullopt;
    whole = whole * 10 + (text[i] - '0');
    ++whole_digits;
    ++i;
  }
  std::int64_t frac = 0;  // nanodigits: fraction * 10^9
  std::size_t frac_digits = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (frac_digits < 9) {
        frac = frac * 10 + (text[i] - '0');
        ++frac_digits;
      }
      ++i;
    }
    if (frac_digits == 0) return std::nullopt;
    for (std::size_t k = frac_digits; k < 9; ++k) frac *= 10;
  }
  if (whole_digits == 0 && frac_digits == 0) return std::nullopt;
  const std::string_view unit = text.substr(i);
  std::int64_t unit_ns = 0;
  if (unit.empty() || unit == "s") {
    unit_ns = kNsPerSecond;
  } else if (unit == "ms") {
    unit_ns = 1'000'000;
  } else if (unit == "m" || unit == "min") {
    unit_ns = 60 * kNsPerSecond;
  } else if (unit == "h") {
    unit_ns = 3600 * kNsPerSecond;
  } else if (unit == "d") {
    unit_ns = 86400 * kNsPerSecond;
  } else {
    return std::nullopt;
  }
  // whole * unit + frac * unit / 10^9, in 128 bits so nothing overflows on the way.
  const Int128 total =
      static_cast<Int128>(whole) * unit_ns + static_cast<Int128>(frac) * unit_ns / kNsPerSecond;
  if (total > kMaxNs) return std::nullopt;
  return static_cast<std::int64_t>(total);
}

}  // namespace imsm::sim
