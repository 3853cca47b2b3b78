#pragma once
// Small delimited text tables with a header row (label tables, phenotypes).
#include <filesystem>
#include <string>
#include <vector>

namespace bg {

class TextTable {
 public:
  // Delimiter '\t' for .tsv, ',' for .csv; LF, CRLF and old-Mac CR line endings are accepted.
  static TextTable read(const std::filesystem::path& path, char delimiter);

  const std::vector<std::string>& columns() const { return columns_; }
  std::size_t rows() const { return rows_.size(); }
  // -1 when absent.
  int columnIndex(const std::string& name) const;
  // Throws bg::Error naming the file when the column is absent.
  int requireColumn(const std::string& name) const;
  const std::string& cell(std::size_t row, int column) const { return rows_[row][static_cast<std::size_t>(column)]; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace bg
