#include "OutputFormat.h"

#include <algorithm>
#include <sstream>

#include <CLI/CLI.hpp>

#include "eval/Results.h"  // csvCell

namespace bg::cli {

void OutputFormat::add(CLI::App* cmd) {
  cmd->add_option("--format", value, "text, json, csv or md")->check(CLI::IsMember({"text", "json", "csv", "md"}))->capture_default_str();
  cmd->add_flag_callback(
      "--json", [this] { value = "json"; }, "Same as --format json");
}

nlohmann::json ResultTable::toJson() const {
  auto out = nlohmann::json::array();
  for (const auto& row : rows) {
    nlohmann::json o = nlohmann::json::object();
    for (std::size_t c = 0; c < header.size() && c < row.size(); ++c) o[header[c]] = row[c];
    out.push_back(o);
  }
  return out;
}

std::string ResultTable::render(const std::string& format) const {
  std::ostringstream out;
  if (format == "json") return toJson().dump(2) + "\n";
  if (format == "csv") {
    for (std::size_t c = 0; c < header.size(); ++c) out << (c ? "," : "") << csvCell(header[c]);
    out << '\n';
    for (const auto& row : rows) {
      for (std::size_t c = 0; c < row.size(); ++c) out << (c ? "," : "") << csvCell(row[c]);
      out << '\n';
    }
    return out.str();
  }
  if (format == "md") {
    auto cell = [](std::string s) {
      for (std::size_t at = s.find('|'); at != std::string::npos; at = s.find('|', at + 2)) s.replace(at, 1, "\\|");
      return s;
    };
    out << '|';
    for (const auto& h : header) out << ' ' << cell(h) << " |";
    out << "\n|";
    for (std::size_t c = 0; c < header.size(); ++c) out << "---|";
    out << '\n';
    for (const auto& row : rows) {
      out << '|';
      for (const auto& v : row) out << ' ' << cell(v) << " |";
      out << '\n';
    }
    return out.str();
  }
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], row[c].size());
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t c = 0; c < cells.size(); ++c) {
      out << cells[c];
      if (c + 1 < cells.size()) out << std::string(width[c] - cells[c].size() + 2, ' ');
    }
    out << '\n';
  };
  line(header);
  for (const auto& row : rows) line(row);
  return out.str();
}

}  // namespace bg::cli
