// Hex text <-> bytes, for frames typed by people ("0A 12", "0x0A 0x12", "000a12...").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imsm {

// Parses pairs of hex digits, allowing whitespace, ':' and a "0x" prefix before a pair.
// Returns the index of the first offending character on error.
struct HexError {
  std::size_t position = 0;
  const char* what = "";
};

inline std::optional<HexError> parse_hex(std::string_view text, std::vector<std::uint8_t>& out) {
  auto nibble = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const char ch = text[i];
    if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == ':' || ch == ',') {
      ++i;
      continue;
    }
    if (ch == '0' && i + 1 < text.size() && (text[i + 1] == 'x' || text[i + 1] == 'X')) {
      i += 2;
      if (i >= text.size() || nibble(text[i]) < 0) return HexError{i, "hex digits after 0x"};
      continue;
    }
    const int hi = nibble(ch);
    if (hi < 0) return HexError{i, "a hex digit"};
    if (i + 1 >= text.size() || nibble(text[i + 1]) < 0)
      return HexError{i + 1, "a second hex digit (bytes are two digits)"};
    out.push_back(static_cast<std::uint8_t>(hi * 16 + nibble(text[i + 1])));
    i += 2;
  }
  return std::nullopt;
}

inline void append_hex(std::string& out, const std::uint8_t* bytes, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0x0F]);
  }
}

}  // namespace imsm
