#pragma once
// SHA-256 (lower-case hex) through OpenSSL: of bytes in memory, of a file streamed from disk, and of
// the content of a gzip file (what a recompressed copy of a released file is checked by).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace bg {

std::string sha256Hex(const void* data, std::size_t size);
inline std::string sha256Hex(const std::string& bytes) { return sha256Hex(bytes.data(), bytes.size()); }
// Throws bg::Error naming the file when it cannot be read.
std::string fileSha256(const std::filesystem::path& path);
// The SHA-256 and length of a gzip file's decompressed content; a damaged stream is an error naming it.
struct ContentDigest {
  std::string sha256;
  std::int64_t size = 0;
};
ContentDigest gzipContentSha256(const std::filesystem::path& path);

}  // namespace bg
