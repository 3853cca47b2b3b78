#pragma once
// Versions of the libraries core is built with (for About boxes and bug reports).
#include <string>
#include <utility>
#include <vector>

namespace bg {
std::string braingraphVersion();
// name -> version, e.g. {"ITK", "5.2.1"}.
std::vector<std::pair<std::string, std::string>> coreLibraryVersions();
}  // namespace bg
