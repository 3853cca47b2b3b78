#include "workspace/StaleTemporaries.h"
#include "platform/Process.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <regex>

#include <spdlog/spdlog.h>

namespace bg {

namespace {
// The writer's process id from a temporary's name, or 0 when the name is not one of ours.
long writerOf(const std::string& name) {
  static const std::regex ours(R"((?:^|\.)tmp-(\d+)(?:-\d+)?$)");
  std::smatch m;
  if (!std::regex_search(name, m, ours)) return 0;
  try {
    return std::stol(m[1].str());
  } catch (const std::exception&) {
    return 0;
  }
}

bool processGone(long pid) { return pid > 0 && pid != static_cast<long>(::getpid()) && !processExists(pid); }
}  // namespace

std::vector<StaleTemporary> findStaleTemporaries(const std::filesystem::path& workspaceDir) {
  std::vector<StaleTemporary> out;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(workspaceDir, std::filesystem::directory_options::skip_permission_denied, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const long pid = writerOf(it->path().filename().string());
    if (pid && processGone(pid)) out.push_back({it->path(), pid});
  }
  return out;
}

std::size_t removeStaleTemporaries(const std::filesystem::path& workspaceDir) {
  std::size_t removed = 0;
  for (const auto& t : findStaleTemporaries(workspaceDir)) {
    std::error_code ec;
    if (std::filesystem::remove(t.file, ec)) {
      ++removed;
      spdlog::info("removed {}, left by process {} which no longer runs", t.file.string(), t.pid);
    }
  }
  return removed;
}

}  // namespace bg
