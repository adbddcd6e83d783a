// A plain-text table whose column widths come from its contents, so long source paths or
// meter names never push a row out of line with its header. The last column is not padded.
#pragma once

#include <string>
#include <vector>

namespace imsm::collector {

class TextTable {
 public:
  struct Column {
    std::string name;
    bool right = false;  // right-aligned (numbers)
  };
  explicit TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}
  // One cell per column.
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // The header and every row, columns separated by two spaces.
  void render(std::string& out) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace imsm::collector
