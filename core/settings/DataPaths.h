#pragma once
// Where data (atlases/, data/) and atlas manifests are found.
#include <filesystem>
#include <string>
#include <vector>

namespace bg {

struct Settings;

class DataPaths {
 public:
  // Precedence: explicit list (CLI --data) > $BRAINGRAPH_DATA (colon-separated)
  // > settings.dataPath > the build's default (CMake BRAINGRAPH_DATA, `../shared` beside the checkout).
  static DataPaths resolve(const std::vector<std::filesystem::path>& explicitRoots, const Settings& settings);
  explicit DataPaths(std::vector<std::filesystem::path> roots) : roots_(std::move(roots)) {}

  const std::vector<std::filesystem::path>& roots() const { return roots_; }
  // First existing <root>/<relative>; throws bg::Error(NoInput) naming the file and the roots searched.
  std::filesystem::path find(const std::filesystem::path& relative) const;
  std::string describe() const;  // "a:b:c"

  static std::filesystem::path builtinDefault();
  // The folder holding <atlas-id>/manifest.json: $BRAINGRAPH_MANIFESTS, the installed
  // share/braingraph/atlases beside the executable, or the source tree's atlases/.
  static std::filesystem::path manifestDir();
  // Shipped resources (text descriptions, icons): $BRAINGRAPH_RESOURCES, installed, or the source tree.
  static std::filesystem::path resourceDir();

 private:
  std::vector<std::filesystem::path> roots_;
};

}  // namespace bg
