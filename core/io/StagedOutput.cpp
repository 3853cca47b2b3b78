#include "io/StagedOutput.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "errors/Error.h"
#include "platform/Process.h"

namespace bg {

StagedOutput::StagedOutput(const std::filesystem::path& outDir) : outDir_(outDir) {
  createdOutDir_ = !std::filesystem::exists(outDir_);
  std::filesystem::create_directories(outDir_);
  // Staging folders of processes that were killed: theirs was never committed.
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(outDir_, ec)) {
    const auto name = e.path().filename().string();
    if (name.rfind(".staging-", 0) != 0) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + 9, &end, 10);
    if (pid > 0 && end && *end == '\0' && !processExists(pid)) std::filesystem::remove_all(e.path(), ec);
  }
  staging_ = outDir_ / (".staging-" + std::to_string(::getpid()));
  std::filesystem::remove_all(staging_);
  std::filesystem::create_directories(staging_);
}

StagedOutput::~StagedOutput() {
  std::error_code ec;
  std::filesystem::remove_all(staging_, ec);
  if (!committed_ && createdOutDir_ && std::filesystem::is_empty(outDir_, ec)) std::filesystem::remove(outDir_, ec);
}

std::vector<std::filesystem::path> StagedOutput::commit() {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(staging_)) {
    const auto target = outDir_ / e.path().filename();
    std::filesystem::rename(e.path(), target);
    out.push_back(target);
  }
  committed_ = true;
  return out;
}

}  // namespace bg
