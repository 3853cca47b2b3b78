#include "io/Sha256.h"

#include <openssl/evp.h>
#include <zlib.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "errors/Error.h"

namespace bg {
namespace fs = std::filesystem;

namespace {
class Digest {
 public:
  Digest() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) throw Error(ErrorCode::Internal, "SHA-256 is not available");
  }
  void add(const void* data, std::size_t size) { EVP_DigestUpdate(ctx_.get(), data, size); }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(ctx_.get(), digest, &length);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
      out += digits[digest[i] >> 4];
      out += digits[digest[i] & 15];
    }
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};
}  // namespace

std::string sha256Hex(const void* data, std::size_t size) {
  Digest d;
  d.add(data, size);
  return d.hex();
}

std::string fileSha256(const fs::path& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw Error(fs::exists(path) ? ErrorCode::Io : ErrorCode::NoInput, "cannot open " + path.string());
  Digest d;
  std::vector<unsigned char> buf(1 << 20);
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) d.add(buf.data(), n);
  if (std::ferror(f.get())) throw Error(ErrorCode::Io, "read error in " + path.string());
  return d.hex();
}

ContentDigest gzipContentSha256(const fs::path& path) {
  std::unique_ptr<gzFile_s, int (*)(gzFile)> f(gzopen(path.c_str(), "rb"), &gzclose);
  if (!f) throw Error(fs::exists(path) ? ErrorCode::Io : ErrorCode::NoInput, "cannot open " + path.string());
  Digest d;
  ContentDigest out;
  std::vector<unsigned char> buf(1 << 20);
  int n;
  while ((n = gzread(f.get(), buf.data(), static_cast<unsigned>(buf.size()))) > 0) {
    d.add(buf.data(), static_cast<std::size_t>(n));
    out.size += n;
  }
  int err = Z_OK;
  const char* message = gzerror(f.get(), &err);
  if (n < 0 || (err != Z_OK && err != Z_STREAM_END))
    throw Error(ErrorCode::Data, path.string() + ": its gzip stream is damaged (" + std::string(message ? message : "read error") + ")");
  out.sha256 = d.hex();
  return out;
}

}  // namespace bg
