#include "settings/DataPaths.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "errors/Error.h"
#include "platform/Strings.h"
#include "settings/Settings.h"
#include "settings/UserDirs.h"

#ifndef BRAINGRAPH_DEFAULT_DATA
#define BRAINGRAPH_DEFAULT_DATA "../shared"
#endif
#ifndef BRAINGRAPH_MANIFEST_SOURCE_DIR
#define BRAINGRAPH_MANIFEST_SOURCE_DIR "atlases"
#endif
#ifndef BRAINGRAPH_MANIFEST_INSTALL_DIR
#define BRAINGRAPH_MANIFEST_INSTALL_DIR "share/braingraph/atlases"
#endif

namespace bg {
namespace {
std::vector<std::filesystem::path> splitPath(const std::string& s) {
  const auto parts = splitList(s, ':');
  return {parts.begin(), parts.end()};
}

std::filesystem::path executableDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : exe.parent_path();
}
}  // namespace

std::filesystem::path DataPaths::builtinDefault() { return BRAINGRAPH_DEFAULT_DATA; }

DataPaths DataPaths::resolve(const std::vector<std::filesystem::path>& explicitRoots, const Settings& settings) {
  std::vector<std::filesystem::path> roots = {builtinDefault()};
  if (!explicitRoots.empty()) {
    roots = explicitRoots;
  } else if (const char* env = std::getenv("BRAINGRAPH_DATA"); env && *env) {
    roots = splitPath(env);
  } else if (!settings.dataPath.empty()) {
    roots = settings.dataPath;
  }
  // What `data fetch` downloaded is found without further settings (searched last).
  const auto fetched = userFetchedDataDir();
  std::error_code ec;
  if (!fetched.empty() && std::filesystem::is_directory(fetched, ec) && std::find(roots.begin(), roots.end(), fetched) == roots.end()) roots.push_back(fetched);
  return DataPaths(std::move(roots));
}

std::filesystem::path DataPaths::find(const std::filesystem::path& relative) const {
  for (const auto& root : roots_) {
    auto candidate = root / relative;
    if (std::filesystem::exists(candidate)) return candidate;
  }
  throw Error(ErrorCode::NoInput, "file " + relative.string() + " not found in the data path " + describe() +
                                      " (set BRAINGRAPH_DATA or --data to the folder that holds atlases/ and data/)");
}

std::string DataPaths::describe() const {
  std::string s;
  for (const auto& r : roots_) {
    if (!s.empty()) s += ':';
    s += r.string();
  }
  return s.empty() ? "(empty)" : s;
}

std::filesystem::path DataPaths::manifestDir() {
  if (const char* env = std::getenv("BRAINGRAPH_MANIFESTS"); env && *env) return env;
  const auto installed = executableDir() / ".." / BRAINGRAPH_MANIFEST_INSTALL_DIR;
  if (std::filesystem::exists(installed / "schaefer100" / "manifest.json")) return installed.lexically_normal();
  return BRAINGRAPH_MANIFEST_SOURCE_DIR;
}

std::filesystem::path DataPaths::resourceDir() {
#ifndef BRAINGRAPH_RESOURCE_SOURCE_DIR
#define BRAINGRAPH_RESOURCE_SOURCE_DIR "resources"
#define BRAINGRAPH_RESOURCE_INSTALL_DIR "share/braingraph/resources"
#endif
  if (const char* env = std::getenv("BRAINGRAPH_RESOURCES"); env && *env) return env;
  const auto installed = executableDir() / ".." / BRAINGRAPH_RESOURCE_INSTALL_DIR;
  if (std::filesystem::exists(installed / "text" / "disorders.tsv")) return installed.lexically_normal();
  return BRAINGRAPH_RESOURCE_SOURCE_DIR;
}

}  // namespace bg
