#pragma once
// HTTP(S) downloads through libcurl: redirects, TLS, the proxy from the environment, timeouts,
// retries with backoff, resume of a partial file, and a SHA-256 check before the file is used.
#include <cstdint>
#include <filesystem>
#include <string>

#include "io/Sha256.h"  // fileSha256, which callers of downloads check with

namespace bg {

class ProgressDelegate;

struct DownloadOptions {
  // Replaces the scheme and host of every URL ("http://127.0.0.1:8000"): a local copy of the servers.
  std::string mirror;
  int attempts = 4;                // tries per file; a dropped connection resumes where it stopped
  double firstBackoffSeconds = 1;  // doubled after each failed try
  long connectTimeoutSeconds = 20;
  long stallSeconds = 60;  // a transfer below 1 byte/s for this long is a failure
};

// What one file should be: where it comes from, how long it is and its SHA-256 (hex).
struct ExpectedFile {
  std::string url;
  std::int64_t size = -1;  // -1: not known
  std::string sha256;      // empty: not checked
};

// The URL with its scheme and host replaced by the mirror's (the path kept); the URL itself without one.
std::string mirroredUrl(const std::string& url, const std::string& mirror);
std::string hostOf(const std::string& url);

// Downloads into `dest` through DEST.part (kept between runs and resumed), checks size and SHA-256,
// then renames. A file whose checksum differs is removed and refused (ErrorCode::Data, both values
// named); a server that cannot be reached is ErrorCode::Unavailable; a missing file (HTTP 404) NoInput.
// Returns the number of bytes transferred (less than the size when a partial file was resumed).
std::int64_t downloadFile(const ExpectedFile& file, const std::filesystem::path& dest, const DownloadOptions& options, ProgressDelegate& progress);

}  // namespace bg
