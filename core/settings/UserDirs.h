#pragma once
// XDG base directories for this user (no Qt: QStandardPaths is not available in core).
#include <filesystem>

namespace bg {
std::filesystem::path userConfigDir();  // $XDG_CONFIG_HOME/braingraph or ~/.config/braingraph
std::filesystem::path userDataDir();    // $XDG_DATA_HOME/braingraph or ~/.local/share/braingraph
// userDataDir()/data: where `data fetch` puts atlases and datasets by default; it joins the data path.
std::filesystem::path userFetchedDataDir();
}  // namespace bg
