#include "workspace/ArrayStore.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

#include <spdlog/spdlog.h>

#include "errors/Error.h"
#include "workspace/ContentHash.h"

namespace bg {
namespace {

constexpr char kMagic[8] = {'B', 'G', 'A', 'R', 'R', 'A', 'Y', '1'};
constexpr std::size_t kHeader = 64;

struct Header {
  char magic[8];
  std::uint32_t dtype;  // 1 = float32
  std::uint32_t ndim;
  std::int64_t rows, cols;
  std::uint64_t checksum;
  char pad[kHeader - 40];
};
static_assert(sizeof(Header) == kHeader);

void (*g_writeHook)(const std::filesystem::path&) = nullptr;

void writeAll(int fd, const void* p, std::size_t n, const std::filesystem::path& file) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t k = ::write(fd, c, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorCode::Io, "cannot write " + file.string() + ": " + std::strerror(errno));
    }
    c += k;
    n -= static_cast<std::size_t>(k);
  }
}

}  // namespace

MappedArray::~MappedArray() {
  if (base_) ::munmap(base_, length_);
}

void ArrayStore::setWriteHook(void (*hook)(const std::filesystem::path&)) { g_writeHook = hook; }

ArrayStore::ArrayStore(std::filesystem::path root) : root_(std::move(root)) { std::filesystem::create_directories(root_); }

std::filesystem::path ArrayStore::pathOf(const std::string& hash) const {
  if (hash.size() < 8) throw Error(ErrorCode::Data, "malformed array hash '" + hash + "'");
  return root_ / hash.substr(0, 2) / (hash + ".bga");
}

bool ArrayStore::contains(const std::string& hash) const { return std::filesystem::exists(pathOf(hash)); }

std::string ArrayStore::put(const Eigen::MatrixXd& m) {
  std::vector<float> rowMajor(static_cast<std::size_t>(m.size()));
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c) rowMajor[static_cast<std::size_t>(r * m.cols() + c)] = static_cast<float>(m(r, c));
  return put(rowMajor.data(), m.rows(), m.cols());
}

std::string ArrayStore::put(const float* data, std::int64_t rows, std::int64_t cols) {
  const std::size_t bytes = static_cast<std::size_t>(rows * cols) * sizeof(float);
  Header h{};
  std::memcpy(h.magic, kMagic, 8);
  h.dtype = 1;
  h.ndim = 2;
  h.rows = rows;
  h.cols = cols;
  h.checksum = checksum64(data, bytes);
  // The name covers shape and values.
  const std::string hash = hashBytes(&h, 40, data, bytes);
  const auto target = pathOf(hash);
  if (std::filesystem::exists(target)) {
    // Content-addressed: the same name means the same content, unless the file was damaged since.
    try {
      (void)map(hash, true);
      return hash;
    } catch (const Error& e) {
      spdlog::warn("{}; writing it again", e.what());
    }
  }
  std::filesystem::create_directories(target.parent_path());
  static std::atomic<unsigned> counter{0};
  const auto tmp = target.parent_path() / (".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw Error(ErrorCode::Io, "cannot create " + tmp.string() + ": " + std::strerror(errno));
  try {
    writeAll(fd, &h, sizeof h, target);
    writeAll(fd, data, bytes, target);
    if (::fsync(fd) != 0) throw Error(ErrorCode::Io, "cannot flush " + target.string() + " (disk full?)");
    ::close(fd);
    if (g_writeHook) g_writeHook(tmp);
    std::filesystem::rename(tmp, target);
  } catch (...) {
    ::close(fd);
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
  return hash;
}

std::unique_ptr<MappedArray> ArrayStore::map(const std::string& hash, bool verify) const {
  const auto file = pathOf(hash);
  const int fd = ::open(file.c_str(), O_RDONLY);
  if (fd < 0) throw Error(ErrorCode::NoInput, "array " + file.string() + " is missing from the workspace store");
  struct stat st {};
  ::fstat(fd, &st);
  const auto length = static_cast<std::size_t>(st.st_size);
  if (length < kHeader) {
    ::close(fd);
    throw Error(ErrorCode::Data, "array " + file.string() + " is truncated (" + std::to_string(length) + " bytes)");
  }
  void* base = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (base == MAP_FAILED) throw Error(ErrorCode::Io, "cannot map " + file.string() + ": " + std::strerror(errno));
  std::unique_ptr<MappedArray> a(new MappedArray());
  a->base_ = base;
  a->length_ = length;
  Header h;
  std::memcpy(&h, base, sizeof h);
  if (std::memcmp(h.magic, kMagic, 8) != 0 || h.dtype != 1 || h.rows < 0 || h.cols < 0)
    throw Error(ErrorCode::Data, "array " + file.string() + " has a corrupt header");
  const std::size_t bytes = static_cast<std::size_t>(h.rows * h.cols) * sizeof(float);
  if (length != kHeader + bytes)
    throw Error(ErrorCode::Data,
                "array " + file.string() + " has " + std::to_string(length) + " bytes, its header promises " + std::to_string(kHeader + bytes));
  a->data_ = reinterpret_cast<const float*>(static_cast<const char*>(base) + kHeader);
  a->rows_ = h.rows;
  a->cols_ = h.cols;
  if (verify && checksum64(a->data_, bytes) != h.checksum) throw Error(ErrorCode::Data, "array " + file.string() + " is corrupt (checksum mismatch)");
  return a;
}

Eigen::MatrixXd ArrayStore::read(const std::string& hash) const {
  const auto a = map(hash);
  return a->matrix().cast<double>();
}

}  // namespace bg
