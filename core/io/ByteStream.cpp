#include "io/ByteStream.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <isa-l/igzip_lib.h>

#include "errors/Error.h"

namespace bg {
namespace {

constexpr std::size_t kInputChunk = 1 << 20;

// Raw bytes from a file or a memory buffer.
class RawSource {
 public:
  virtual ~RawSource() = default;
  virtual std::size_t read(std::uint8_t* dst, std::size_t n) = 0;
};

class FileSource final : public RawSource {
 public:
  explicit FileSource(const std::filesystem::path& path) : f_(std::fopen(path.c_str(), "rb")) {
    if (!f_) {
      const int err = errno;
      throw Error(std::filesystem::exists(path) ? ErrorCode::Io : ErrorCode::NoInput,
                  std::filesystem::exists(path) ? std::string("cannot open file: ") + std::strerror(err) : std::string("file does not exist"));
    }
  }
  ~FileSource() override { std::fclose(f_); }
  std::size_t read(std::uint8_t* dst, std::size_t n) override {
    const std::size_t got = std::fread(dst, 1, n, f_);
    if (got < n && std::ferror(f_)) throw Error(ErrorCode::Io, std::string("read error: ") + std::strerror(errno));
    return got;
  }

 private:
  std::FILE* f_;
};

class MemorySource final : public RawSource {
 public:
  MemorySource(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::size_t read(std::uint8_t* dst, std::size_t n) override {
    const std::size_t k = std::min(n, size_ - pos_);
    if (k) std::memcpy(dst, data_ + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_, pos_ = 0;
};

class PlainStream final : public ByteStream {
 public:
  explicit PlainStream(std::unique_ptr<RawSource> src, std::vector<std::uint8_t> prefix) : src_(std::move(src)), prefix_(std::move(prefix)) {}
  std::size_t read(void* dst, std::size_t n) override {
    auto* out = static_cast<std::uint8_t*>(dst);
    std::size_t done = 0;
    if (prefixPos_ < prefix_.size()) {
      const std::size_t k = std::min(n, prefix_.size() - prefixPos_);
      std::memcpy(out, prefix_.data() + prefixPos_, k);
      prefixPos_ += k;
      done = k;
    }
    while (done < n) {
      const std::size_t k = src_->read(out + done, n - done);
      if (k == 0) break;
      done += k;
    }
    position_ += done;
    return done;
  }

 private:
  std::unique_ptr<RawSource> src_;
  std::vector<std::uint8_t> prefix_;
  std::size_t prefixPos_ = 0;
};

class GzipStream final : public ByteStream {
 public:
  GzipStream(std::unique_ptr<RawSource> src, std::vector<std::uint8_t> prefix) : src_(std::move(src)), in_(std::max<std::size_t>(kInputChunk, prefix.size())) {
    std::memcpy(in_.data(), prefix.data(), prefix.size());
    inLen_ = prefix.size();
    startMember();
  }

  std::size_t read(void* dst, std::size_t n) override {
    auto* out = static_cast<std::uint8_t*>(dst);
    std::size_t done = 0;
    while (done < n && !finished_) {
      if (state_.block_state == ISAL_BLOCK_FINISH) {
        // A gzip file may hold several members one after another.
        if (!refillIfEmpty()) {
          finished_ = true;
          break;
        }
        startMember();
        continue;
      }
      if (state_.avail_in == 0 && !refillIfEmpty()) {
        throw Error(ErrorCode::Data, "truncated gzip stream: the compressed data ends after " + std::to_string(position_ + done) +
                                         " bytes of output, before the end of the stream");
      }
      state_.next_out = out + done;
      state_.avail_out = static_cast<std::uint32_t>(std::min<std::size_t>(n - done, UINT32_MAX));
      const int rc = isal_inflate(&state_);
      done = static_cast<std::size_t>(state_.next_out - out);
      if (rc < 0) throw Error(ErrorCode::Data, "corrupt gzip data (" + describe(rc) + ")");
    }
    position_ += done;
    return done;
  }

 private:
  static std::string describe(int rc) {
    switch (rc) {
      case ISAL_INVALID_BLOCK:
        return "invalid deflate block";
      case ISAL_INVALID_SYMBOL:
        return "invalid deflate symbol";
      case ISAL_INVALID_LOOKBACK:
        return "invalid back-reference";
      case ISAL_INVALID_WRAPPER:
        return "invalid gzip header";
      case ISAL_INCORRECT_CHECKSUM:
        return "CRC mismatch";
      default:
        return "ISA-L error " + std::to_string(rc);
    }
  }

  void startMember() {
    const std::uint8_t* next = state_.next_in;
    const std::uint32_t avail = state_.avail_in;
    const bool first = !started_;
    isal_inflate_init(&state_);
    state_.crc_flag = ISAL_GZIP;
    if (first) {
      state_.next_in = in_.data();
      state_.avail_in = static_cast<std::uint32_t>(inLen_);
      started_ = true;
    } else {
      state_.next_in = const_cast<std::uint8_t*>(next);
      state_.avail_in = avail;
    }
  }

  // Makes input available; false at the end of the file.
  bool refillIfEmpty() {
    if (state_.avail_in > 0) return true;
    if (eof_) return false;
    inLen_ = src_->read(in_.data(), in_.size());
    if (inLen_ == 0) {
      eof_ = true;
      return false;
    }
    state_.next_in = in_.data();
    state_.avail_in = static_cast<std::uint32_t>(inLen_);
    return true;
  }

  std::unique_ptr<RawSource> src_;
  std::vector<std::uint8_t> in_;
  std::size_t inLen_ = 0;
  inflate_state state_{};
  bool started_ = false, eof_ = false, finished_ = false;
};

std::unique_ptr<ByteStream> wrap(std::unique_ptr<RawSource> src) {
  std::vector<std::uint8_t> prefix(2);
  const std::size_t got = src->read(prefix.data(), 2);
  prefix.resize(got);
  if (got == 2 && prefix[0] == 0x1f && prefix[1] == 0x8b) return std::make_unique<GzipStream>(std::move(src), std::move(prefix));
  return std::make_unique<PlainStream>(std::move(src), std::move(prefix));
}

}  // namespace

void ByteStream::readExactly(void* dst, std::size_t n, const char* what) {
  const std::size_t got = read(dst, n);
  if (got != n)
    throw Error(ErrorCode::Data, std::string("file ends early: ") + what + " needs " + std::to_string(n) + " bytes, only " + std::to_string(got) + " remain");
}

void ByteStream::skip(std::uint64_t n, const char* what) {
  std::vector<std::uint8_t> buf(static_cast<std::size_t>(std::min<std::uint64_t>(n, 1 << 16)));
  while (n > 0) {
    const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(n, buf.size()));
    readExactly(buf.data(), k, what);
    n -= k;
  }
}

std::unique_ptr<ByteStream> openByteStream(const std::filesystem::path& path) { return wrap(std::make_unique<FileSource>(path)); }

std::unique_ptr<ByteStream> openMemoryStream(const std::uint8_t* data, std::size_t size) { return wrap(std::make_unique<MemorySource>(data, size)); }

}  // namespace bg
