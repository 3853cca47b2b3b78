#pragma once
// XDG base directories for this user (no Qt: QStandardPaths is not available in core).
#include <filesystem>

namespace bg {
std::filesystem::path userConfigDir();  // $XDG_CONFIG_HOME/braingraph or ~/.config/braingraph
std::filesystem::path userDataDir();    // $XDG_DATA_HOME/braingraph or ~/.local/share/braingraph
}  // namespace bg
