#pragma once
// Small string helpers shared by parsers of command-line lists and settings.
#include <sstream>
#include <string>
#include <vector>

namespace bg {

// "a,b,,c" -> {"a", "b", "c"} (empty parts dropped).
inline std::vector<std::string> splitList(const std::string& text, char separator = ',') {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string part; std::getline(ss, part, separator);)
    if (!part.empty()) out.push_back(part);
  return out;
}

}  // namespace bg
