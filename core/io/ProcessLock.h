#pragma once
// A lock file holding the id of the process that holds it (one writer per --out). A lock whose
// process has ended (killed) is taken over.
#include <filesystem>
#include <memory>
#include <optional>

namespace bg {

class ProcessLock {
 public:
  enum class State { Held, Busy, Unavailable };  // Unavailable: the file cannot be created (read-only folder)
  explicit ProcessLock(std::filesystem::path file);
  ~ProcessLock();
  ProcessLock(const ProcessLock&) = delete;
  ProcessLock& operator=(const ProcessLock&) = delete;

  State acquire();
  const std::filesystem::path& file() const { return file_; }
  // The live process holding `file`, if any.
  static std::optional<long> holder(const std::filesystem::path& file);

 private:
  std::filesystem::path file_;
  bool held_ = false;
};

// Locks a command's --out (a file, a folder or a prefix) for this process: a lock file beside it,
// ".NAME.braingraph-lock". A second process writing the same output is refused (bg::Error Usage,
// naming the output and the process holding it) instead of both reporting success. Where the lock
// cannot be created (no parent folder yet, read-only) the command goes on and its write reports
// the problem.
std::unique_ptr<ProcessLock> lockOutput(const std::filesystem::path& out);

}  // namespace bg
