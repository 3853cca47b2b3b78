#include "io/ProcessLock.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "errors/Error.h"
#include "platform/Process.h"

namespace bg {

ProcessLock::ProcessLock(std::filesystem::path file) : file_(std::move(file)) {}

ProcessLock::~ProcessLock() {
  std::error_code ec;
  if (held_) std::filesystem::remove(file_, ec);
}

std::optional<long> ProcessLock::holder(const std::filesystem::path& file) {
  std::ifstream in(file);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  if (!processExists(pid)) return std::nullopt;
  return pid;
}

ProcessLock::State ProcessLock::acquire() {
  if (held_) return State::Held;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) {
      const auto pid = std::to_string(::getpid());
      const bool written = ::write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
      ::close(fd);
      if (!written) {
        std::error_code ec;
        std::filesystem::remove(file_, ec);
        return State::Unavailable;
      }
      held_ = true;
      return State::Held;
    }
    if (errno != EEXIST) return State::Unavailable;
    const auto other = holder(file_);
    if (other) return *other == static_cast<long>(::getpid()) ? State::Held : State::Busy;
    std::error_code ec;
    std::filesystem::remove(file_, ec);  // left by a process that has ended
  }
  return State::Busy;
}

std::unique_ptr<ProcessLock> lockOutput(const std::filesystem::path& out) {
  const auto target = std::filesystem::absolute(out).lexically_normal();
  const auto name = target.filename().empty() ? target.parent_path().filename() : target.filename();
  const auto parent = target.filename().empty() ? target.parent_path().parent_path() : target.parent_path();
  std::error_code ec;
  if (name.empty() || !std::filesystem::is_directory(parent, ec)) return nullptr;
  auto lock = std::make_unique<ProcessLock>(parent / ("." + name.string() + ".braingraph-lock"));
  switch (lock->acquire()) {
    case ProcessLock::State::Held:
      return lock;
    case ProcessLock::State::Unavailable:
      return nullptr;
    case ProcessLock::State::Busy:
      break;
  }
  const auto other = ProcessLock::holder(lock->file());
  throw Error(ErrorCode::Usage, "another braingraph process (" + (other ? "process " + std::to_string(*other) : std::string("one that just ended")) +
                                    ") is writing " + out.string() + ": wait for it, or choose another --out (two writers would both report success " +
                                    "while one overwrote the other)");
}

}  // namespace bg
