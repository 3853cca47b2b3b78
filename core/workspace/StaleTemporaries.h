#pragma once
// Temporary files a killed process left in a workspace: every writer here names its temporary with
// its process id (".tmp-PID-N" for arrays and files written atomically, "NAME.tmp-PID" for model
// checkpoints), so one whose process is gone can never be finished and is safe to remove. A file whose
// process still runs (another command writing now) is left alone.
#include <filesystem>
#include <vector>

namespace bg {

struct StaleTemporary {
  std::filesystem::path file;
  long pid = 0;
};

std::vector<StaleTemporary> findStaleTemporaries(const std::filesystem::path& workspaceDir);
// Removes them; returns how many were removed.
std::size_t removeStaleTemporaries(const std::filesystem::path& workspaceDir);

}  // namespace bg
