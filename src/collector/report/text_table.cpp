#include "collector/report/text_table.h"

#include <algorithm>

namespace imsm::collector {

namespace {

// Display width of UTF-8 text: code points, not bytes.
std::size_t width_of(const std::string& s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

}  // namespace

void TextTable::render(std::string& out) const {
  std::vector<std::size_t> width(columns_.size());
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    width[c] = width_of(columns_[c].name);
    for (const auto& row : rows_) width[c] = std::max(width[c], width_of(row[c]));
  }
  auto line = [&](auto cell) {
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const std::string& text = cell(c);
      const std::size_t pad = width[c] - width_of(text);
      const bool last = c + 1 == columns_.size();
      if (c > 0) out += "  ";
      if (columns_[c].right) out.append(pad, ' ');
      out += text;
      if (!columns_[c].right && !last) out.append(pad, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
  };
  line([&](std::size_t c) -> const std::string& { return columns_[c].name; });
  for (const auto& row : rows_) line([&](std::size_t c) -> const std::string& { return row[c]; });
}

}  // namespace imsm::collector
