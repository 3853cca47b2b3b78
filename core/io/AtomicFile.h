#pragma once
// Writes a file so that readers only ever see the old or the complete new
// content: write beside it, flush to disk, then rename over the target.
#include <filesystem>
#include <functional>
#include <ostream>
#include <string_view>

namespace bg {

// Calls write(stream) into a temporary file next to `target`, then renames it.
// On any failure the temporary file is removed, the target is untouched and a
// bg::Error naming `target` is thrown.
void writeFileAtomically(const std::filesystem::path& target, const std::function<void(std::ostream&)>& write);

void writeTextAtomically(const std::filesystem::path& target, std::string_view text);

}  // namespace bg
