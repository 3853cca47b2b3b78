#pragma once
// A zip archive read from memory through minizip (PyTorch checkpoints, the AAL releases): its entry
// list, and one entry's bytes with sizes checked before anything is allocated and the CRC after.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bg {

class ZipArchive {
 public:
  // `data` must outlive the archive. `name` names the file in every error (ErrorCode::Data).
  ZipArchive(const std::uint8_t* data, std::size_t size, const std::string& name);
  ~ZipArchive();
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;

  // Entry names and their uncompressed sizes.
  const std::map<std::string, std::uint64_t>& entries() const { return sizes_; }
  bool has(const std::string& entry) const { return sizes_.count(entry) != 0; }
  std::uint64_t sizeOf(const std::string& entry) const { return sizes_.at(entry); }
  // The entry itself, or the one entry whose last path component is `member` (releases put their
  // files in a folder); empty when there is none or more than one.
  std::string find(const std::string& member) const;
  // Refuses an entry larger than `limit` bytes, a truncated one and a CRC mismatch.
  std::vector<std::uint8_t> read(const std::string& entry, std::uint64_t limit);

 private:
  [[noreturn]] void fail(const std::string& what) const;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string name_;
  std::map<std::string, std::uint64_t> sizes_;
};

}  // namespace bg
