#pragma once
// The output format option every command that prints results shares: --format text|json|csv|md,
// with --json as its alias, and a table printed in any of them.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace CLI {
class App;
}

namespace bg::cli {

struct OutputFormat {
  std::string value = "text";
  // Adds --format and --json to `cmd`.
  void add(CLI::App* cmd);
  bool json() const { return value == "json"; }
  // A table's format: text prints tables as Markdown, which reads as text.
  std::string tableFormat() const { return value == "text" ? "md" : value; }
};

// Rows of cells under a header, as aligned text, CSV, a Markdown table, or JSON (an array of
// objects keyed by the header).
struct ResultTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::string render(const std::string& format) const;
  nlohmann::json toJson() const;
};

}  // namespace bg::cli
