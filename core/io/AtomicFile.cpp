#include "io/AtomicFile.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <string>

#include "errors/Error.h"

namespace bg {
namespace {
std::filesystem::path temporarySibling(const std::filesystem::path& target) {
  static std::atomic<unsigned> counter{0};
  return target.parent_path() / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
}

void syncFile(const std::filesystem::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY);
  if (fd < 0) return;
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw Error(ErrorCode::Io, "could not flush to disk (disk full?)");
}
// Tests only: BRAINGRAPH_TEST_WRITE_LIMIT=N makes every file written here fail like a full disk once it
// passes N bytes (cut there, as a real ENOSPC leaves it), since CI has no small filesystem to fill.
void simulateFullDisk(const std::filesystem::path& tmp) {
  static const long long limit = [] {
    const char* v = std::getenv("BRAINGRAPH_TEST_WRITE_LIMIT");
    return v ? std::atoll(v) : -1LL;
  }();
  if (limit < 0) return;
  std::error_code ec;
  if (static_cast<long long>(std::filesystem::file_size(tmp, ec)) <= limit) return;
  std::filesystem::resize_file(tmp, static_cast<std::uintmax_t>(limit), ec);
  throw Error(ErrorCode::Io, "No space left on device (test write limit of " + std::to_string(limit) + " bytes)");
}
}  // namespace

void writeFileAtomically(const std::filesystem::path& target, const std::function<void(std::ostream&)>& write) {
  const auto tmp = temporarySibling(target);
  try {
    if (!target.parent_path().empty()) std::filesystem::create_directories(target.parent_path());
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw Error(ErrorCode::Io, "cannot create " + tmp.string());
      write(out);
      out.flush();
      if (!out) throw Error(ErrorCode::Io, "write failed (disk full?)");
    }
    simulateFullDisk(tmp);
    syncFile(tmp);
    std::filesystem::rename(tmp, target);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    Error e = currentExceptionAsError();
    e.addContext("while writing " + target.string());
    throw e;
  }
}

void writeTextAtomically(const std::filesystem::path& target, std::string_view text) {
  writeFileAtomically(target, [&](std::ostream& out) { out.write(text.data(), static_cast<std::streamsize>(text.size())); });
}

TemporaryDirectory::TemporaryDirectory(std::string_view prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / std::string(prefix)).string();
  pattern += "-XXXXXX";
  if (!::mkdtemp(pattern.data())) throw Error(ErrorCode::Io, "cannot create a temporary folder " + pattern);
  path_ = pattern;
}

TemporaryDirectory::~TemporaryDirectory() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace bg
