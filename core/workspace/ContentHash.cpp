#include "workspace/ContentHash.h"

#include <cstdio>
#include <vector>

#include <xxhash.h>

#include "errors/Error.h"

namespace bg {
namespace {
std::string hex(const XXH128_hash_t& h) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h.high64), static_cast<unsigned long long>(h.low64));
  return buf;
}
}  // namespace

std::string hashBytes(const void* data, std::size_t size) { return hex(XXH3_128bits(data, size)); }

std::string hashBytes(const void* a, std::size_t aSize, const void* b, std::size_t bSize) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_128bits_reset(state);
  XXH3_128bits_update(state, a, aSize);
  XXH3_128bits_update(state, b, bSize);
  const auto h = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  return hex(h);
}

std::uint64_t checksum64(const void* data, std::size_t size) { return XXH3_64bits(data, size); }

std::string hashFile(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error(std::filesystem::exists(path) ? ErrorCode::Io : ErrorCode::NoInput, "cannot open " + path.string());
  XXH3_state_t* state = XXH3_createState();
  XXH3_128bits_reset(state);
  std::vector<char> buf(1 << 20);
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) XXH3_128bits_update(state, buf.data(), n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  const auto h = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  if (failed) throw Error(ErrorCode::Io, "read error in " + path.string());
  return hex(h);
}

}  // namespace bg
