#include "settings/UserDirs.h"

#include <cstdlib>

namespace bg {
namespace {
std::filesystem::path xdg(const char* var, const char* fallbackBelowHome) {
  if (const char* v = std::getenv(var); v && *v) return std::filesystem::path(v) / "braingraph";
  const char* home = std::getenv("HOME");
  std::filesystem::path base = (home && *home) ? std::filesystem::path(home) : std::filesystem::temp_directory_path();
  return base / fallbackBelowHome / "braingraph";
}
}  // namespace

std::filesystem::path userConfigDir() { return xdg("XDG_CONFIG_HOME", ".config"); }
std::filesystem::path userDataDir() { return xdg("XDG_DATA_HOME", ".local/share"); }
std::filesystem::path userFetchedDataDir() { return userDataDir() / "data"; }
}  // namespace bg
