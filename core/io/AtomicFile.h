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

// A fresh private folder under the system's temporary directory, removed with everything in it.
class TemporaryDirectory {
 public:
  explicit TemporaryDirectory(std::string_view prefix);
  ~TemporaryDirectory();
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace bg
