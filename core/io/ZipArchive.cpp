#include "io/ZipArchive.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <unzip.h>

#include "errors/Error.h"

namespace bg {

namespace {
// Printable form of a name from the file (it may hold any bytes).
std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  return s.size() > 80 ? out + "..." : out;
}

struct MemoryFile {
  const std::uint8_t* data;
  std::uint64_t size, pos = 0;
};

voidpf ZCALLBACK memOpen(voidpf opaque, const void*, int) { return opaque; }
uLong ZCALLBACK memRead(voidpf, voidpf stream, void* buf, uLong size) {
  auto* f = static_cast<MemoryFile*>(stream);
  const auto n = static_cast<uLong>(std::min<std::uint64_t>(size, f->size - std::min(f->pos, f->size)));
  if (n) std::memcpy(buf, f->data + f->pos, n);
  f->pos += n;
  return n;
}
uLong ZCALLBACK memWrite(voidpf, voidpf, const void*, uLong) { return 0; }
ZPOS64_T ZCALLBACK memTell(voidpf, voidpf stream) { return static_cast<MemoryFile*>(stream)->pos; }
long ZCALLBACK memSeek(voidpf, voidpf stream, ZPOS64_T offset, int origin) {
  auto* f = static_cast<MemoryFile*>(stream);
  std::uint64_t base = 0;
  if (origin == ZLIB_FILEFUNC_SEEK_CUR)
    base = f->pos;
  else if (origin == ZLIB_FILEFUNC_SEEK_END)
    base = f->size;
  else if (origin != ZLIB_FILEFUNC_SEEK_SET)
    return -1;
  if (offset > f->size || base > f->size - offset) return -1;
  f->pos = base + offset;
  return 0;
}
int ZCALLBACK memClose(voidpf, voidpf) { return 0; }
int ZCALLBACK memError(voidpf, voidpf) { return 0; }
}  // namespace

struct ZipArchive::Impl {
  MemoryFile file;
  unzFile z = nullptr;
  std::map<std::string, unz64_file_pos> positions;
  ~Impl() {
    if (z) unzClose(z);
  }
};

ZipArchive::ZipArchive(const std::uint8_t* data, std::size_t size, const std::string& name) : impl_(std::make_unique<Impl>()), name_(name) {
  impl_->file = {data, size};
  zlib_filefunc64_def io{};
  io.zopen64_file = memOpen;
  io.zread_file = memRead;
  io.zwrite_file = memWrite;
  io.ztell64_file = memTell;
  io.zseek64_file = memSeek;
  io.zclose_file = memClose;
  io.zerror_file = memError;
  io.opaque = &impl_->file;
  impl_->z = unzOpen2_64("memory", &io);
  if (!impl_->z) throw Error(ErrorCode::Data, name + " is not a readable zip archive (truncated or corrupt)");
  unz_global_info64 info{};
  if (unzGetGlobalInfo64(impl_->z, &info) != UNZ_OK) fail("its zip directory cannot be read");
  if (info.number_entry > 1000000) fail("its zip directory lists more than a million entries");
  for (int rc = unzGoToFirstFile(impl_->z); rc == UNZ_OK; rc = unzGoToNextFile(impl_->z)) {
    unz_file_info64 fi{};
    char entry[1024];
    if (unzGetCurrentFileInfo64(impl_->z, &fi, entry, sizeof entry, nullptr, 0, nullptr, 0) != UNZ_OK) fail("a zip entry cannot be read");
    if (fi.size_filename >= sizeof entry) fail("a zip entry has an over-long name");
    unz64_file_pos pos{};
    unzGetFilePos64(impl_->z, &pos);
    // A size the entry's bytes cannot hold (deflate expands at most about 1032 times) is refused
    // before anything is allocated for it.
    if (fi.compressed_size > size || fi.uncompressed_size > 1032 * fi.compressed_size + 1024)
      fail("its entry " + printable(std::string(entry, fi.size_filename)) + " claims more data than the file holds (corrupt or truncated)");
    const std::string key(entry, fi.size_filename);
    impl_->positions[key] = pos;
    sizes_[key] = fi.uncompressed_size;
  }
}

ZipArchive::~ZipArchive() = default;

void ZipArchive::fail(const std::string& what) const { throw Error(ErrorCode::Data, name_ + ": " + what); }

std::string ZipArchive::find(const std::string& member) const {
  if (has(member)) return member;
  std::string found;
  for (const auto& [entry, size] : sizes_) {
    const auto slash = entry.rfind('/');
    if (slash != std::string::npos && entry.compare(slash + 1, std::string::npos, member) == 0) {
      if (!found.empty()) return {};
      found = entry;
    }
  }
  return found;
}

std::vector<std::uint8_t> ZipArchive::read(const std::string& entry, std::uint64_t limit) {
  const auto it = impl_->positions.find(entry);
  if (it == impl_->positions.end()) fail("it has no entry " + printable(entry));
  const auto size = sizes_.at(entry);
  if (size > limit) fail(fmt::format("its entry {} is {} bytes, more than the {} expected", printable(entry), size, limit));
  auto pos = it->second;
  if (unzGoToFilePos64(impl_->z, &pos) != UNZ_OK || unzOpenCurrentFile(impl_->z) != UNZ_OK) fail("its entry " + printable(entry) + " cannot be opened");
  std::vector<std::uint8_t> out(static_cast<std::size_t>(size));
  std::size_t got = 0;
  while (got < out.size()) {
    const auto chunk = static_cast<unsigned>(std::min<std::size_t>(out.size() - got, 1u << 30));
    const int n = unzReadCurrentFile(impl_->z, out.data() + got, chunk);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  const int closed = unzCloseCurrentFile(impl_->z);  // checks the CRC once the whole entry was read
  if (got != out.size()) fail(fmt::format("its entry {} is truncated ({} of {} bytes)", printable(entry), got, out.size()));
  if (closed == UNZ_CRCERROR) fail("its entry " + printable(entry) + " fails its CRC check (corrupt file)");
  return out;
}

}  // namespace bg
