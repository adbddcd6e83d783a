// Small text helpers shared by every writer of JSON, CSV and tables: exact integers, exact
// kW from demand counts, JSON string escaping, CSV quoting.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/units.h"

namespace imsm {

template <class T>
void append_int(std::string& out, T v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// Exact kW with two decimals from demand counts (1 count = 20 W): 3313 -> "66.26".
inline void append_kw(std::string& out, DemandCounts counts) {
  const std::uint32_t centi = counts.centi_kw();
  append_int(out, centi / 100);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + (centi / 10) % 10));
  out.push_back(static_cast<char>('0' + centi % 10));
}

inline std::string kw_text(DemandCounts counts) {
  std::string s;
  append_kw(s, counts);
  return s;
}

// Seconds with microsecond precision from integer nanoseconds, exact (no binary float):
// 300'012'500'000 -> "300.012500". Non-negative times only.
inline void append_seconds_us(std::string& out, std::int64_t ns) {
  const std::int64_t us = (ns + 500) / 1000;
  append_int(out, us / 1'000'000);
  char frac[6];
  std::int64_t r = us % 1'000'000;
  for (int i = 5; i >= 0; --i) {
    frac[i] = static_cast<char>('0' + r % 10);
    r /= 10;
  }
  out.push_back('.');
  out.append(frac, 6);
}

// The contents of a JSON string (no quotes): quote, backslash and control characters escaped.
inline void append_json_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20) {
      out.append("\\u00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    } else {
      out.push_back(ch);
    }
  }
}

inline std::string json_escape(std::string_view s) {
  std::string o;
  append_json_escaped(o, s);
  return o;
}

// A CSV field, quoted (RFC 4180) only when it holds a comma, quote or newline.
inline std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string o = "\"";
  for (const char ch : s) {
    if (ch == '"') o += '"';
    o += ch;
  }
  return o + "\"";
}

}  // namespace imsm
