#pragma once
// Sequential reading of plain or gzip-compressed files. Gzip is inflated with
// ISA-L (several times faster than zlib), streaming: memory stays bounded
// whatever the file's size.
#include <cstdint>
#include <filesystem>
#include <memory>

namespace bg {

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Reads up to n bytes; returns fewer only at the end of the data. Throws bg::Error on
  // corrupt or truncated input (naming neither the file: callers add that context).
  virtual std::size_t read(void* dst, std::size_t n) = 0;
  // Reads exactly n bytes or throws bg::Error(Data) saying how many were missing.
  void readExactly(void* dst, std::size_t n, const char* what);
  // Skips n bytes (reading through them).
  void skip(std::uint64_t n, const char* what);
  // Bytes of (decompressed) data delivered so far.
  std::uint64_t position() const { return position_; }

 protected:
  std::uint64_t position_ = 0;
};

// Opens `path`; gzip is detected by its magic bytes, not by the name.
std::unique_ptr<ByteStream> openByteStream(const std::filesystem::path& path);
// Gzip inflation of an in-memory buffer (fuzzing, tests).
std::unique_ptr<ByteStream> openMemoryStream(const std::uint8_t* data, std::size_t size);

}  // namespace bg
