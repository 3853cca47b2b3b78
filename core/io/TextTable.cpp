#include "io/TextTable.h"

#include <fstream>
#include <sstream>

#include "errors/Error.h"
#include "io/Utf8.h"

namespace bg {
namespace {
std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::string cur;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      lines.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) lines.push_back(std::move(cur));
  return lines;
}

// Fields may be quoted ("a, b" or "say ""hi""") as RFC 4180 CSV allows.
std::vector<std::string> splitFields(const std::string& line, char delim) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur.push_back(c);
      }
    } else if (c == '"' && cur.empty()) {
      quoted = true;
    } else if (c == delim) {
      out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(std::move(cur));
  return out;
}
}  // namespace

TextTable TextTable::read(const std::filesystem::path& path, char delimiter) {
  return withContext("while reading table " + path.string(), [&] {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      throw Error(std::filesystem::exists(path) ? ErrorCode::Io : ErrorCode::NoInput,
                  std::filesystem::exists(path) ? "cannot open file" : "file does not exist");
    }
    std::stringstream buf;
    buf << in.rdbuf();
    if (const auto bad = firstInvalidUtf8(buf.str()))
      throw Error(
          ErrorCode::Data, describeTextPosition(buf.str(), *bad) + " is not UTF-8 text (byte 0x" + [&] {
            static const char* hex = "0123456789ABCDEF";
            const auto b = static_cast<unsigned char>(buf.str()[*bad]);
            return std::string{hex[b >> 4], hex[b & 15]};
          }() + "): save the table as UTF-8 and import it again");
    TextTable t;
    t.path_ = path;
    auto lines = splitLines(buf.str());
    if (lines.empty()) throw Error(ErrorCode::Data, "file is empty (no header row)");
    t.columns_ = splitFields(lines[0], delimiter);
    for (std::size_t i = 1; i < lines.size(); ++i) {
      if (lines[i].empty()) continue;
      auto fields = splitFields(lines[i], delimiter);
      if (fields.size() != t.columns_.size())
        throw Error(ErrorCode::Data, "line " + std::to_string(i + 1) + " has " + std::to_string(fields.size()) + " fields where the header has " +
                                         std::to_string(t.columns_.size()));
      t.rows_.push_back(std::move(fields));
    }
    return t;
  });
}

int TextTable::columnIndex(const std::string& name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i)
    if (columns_[i] == name) return static_cast<int>(i);
  return -1;
}

int TextTable::requireColumn(const std::string& name) const {
  const int i = columnIndex(name);
  if (i < 0) throw Error(ErrorCode::Data, "table " + path_.string() + " has no column '" + name + "'");
  return i;
}

}  // namespace bg
