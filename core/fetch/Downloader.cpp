#include "fetch/Downloader.h"

#include <curl/curl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "errors/Error.h"
#include "io/Sha256.h"
#include "jobs/Progress.h"

namespace bg {
namespace fs = std::filesystem;

namespace {
void initialiseCurl() {
  static const bool ready = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)ready;
}

struct Transfer {
  CURL* curl = nullptr;
  std::FILE* out = nullptr;
  std::int64_t offset = 0;  // bytes already in the partial file
  std::int64_t total = -1;
  std::int64_t received = 0;
  ProgressDelegate* progress = nullptr;
  bool started = false, cancelled = false, restarted = false;
  int writeErrno = 0;
};

std::size_t onData(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (!t->started) {
    t->started = true;
    long status = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    if (t->offset > 0 && status == 200) {  // the server ignored the range: start the file again
      if (std::fflush(t->out) != 0 || ftruncate(fileno(t->out), 0) != 0 || std::fseek(t->out, 0, SEEK_SET) != 0) {
        t->writeErrno = errno;
        return 0;
      }
      t->offset = 0;
      t->restarted = true;
    }
  }
  const std::size_t bytes = size * count;
  if (std::fwrite(data, 1, bytes, t->out) != bytes) {
    t->writeErrno = errno;
    return 0;
  }
  t->received += static_cast<std::int64_t>(bytes);
  return bytes;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  const double fraction = t->total > 0 ? static_cast<double>(t->offset + t->received) / static_cast<double>(t->total) : 0.0;
  if (t->progress->update("downloading", std::min(1.0, fraction)) || t->progress->cancelRequested()) {
    t->cancelled = true;
    return 1;
  }
  return 0;
}

bool transient(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

bool unreachable(CURLcode code) {
  return code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_PROXY || code == CURLE_SSL_CONNECT_ERROR;
}

void sleepUnlessCancelled(double seconds, ProgressDelegate& progress) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    progress.throwIfCancelled();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::int64_t sizeOr0(const fs::path& p) {
  std::error_code ec;
  const auto n = fs::file_size(p, ec);
  return ec ? 0 : static_cast<std::int64_t>(n);
}
}  // namespace

std::string hostOf(const std::string& url) {
  const auto scheme = url.find("://");
  const auto start = scheme == std::string::npos ? 0 : scheme + 3;
  return url.substr(start, url.find('/', start) - start);
}

std::string mirroredUrl(const std::string& url, const std::string& mirror) {
  if (mirror.empty()) return url;
  const auto scheme = url.find("://");
  const auto path = scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
  std::string base = mirror;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + (path == std::string::npos ? std::string("/") : url.substr(path));
}

std::int64_t downloadFile(const ExpectedFile& file, const fs::path& dest, const DownloadOptions& options, ProgressDelegate& progress) {
  initialiseCurl();
  const std::string url = mirroredUrl(file.url, options.mirror);
  const fs::path part = dest.string() + ".part";
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  if (ec) throw Error(ErrorCode::Io, dest.parent_path().string() + ": " + ec.message() + "; choose a folder you can write to");
  std::int64_t transferred = 0;
  std::string lastProblem;
  bool reached = false;
  for (int attempt = 1;; ++attempt) {
    std::int64_t offset = sizeOr0(part);
    if (file.size >= 0 && offset > file.size) {  // not a prefix of the expected file
      fs::remove(part, ec);
      offset = 0;
    }
    if (file.size >= 0 && offset == file.size) break;  // a complete partial file: only the check is left
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(part.c_str(), "ab"), &std::fclose);
    if (!out) throw Error(ErrorCode::Io, part.string() + ": " + std::strerror(errno) + "; choose a folder you can write to");
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), &curl_easy_cleanup);
    if (!curl) throw Error(ErrorCode::Internal, "libcurl could not start a transfer");
    Transfer t;
    t.curl = curl.get();
    t.out = out.get();
    t.offset = offset;
    t.total = file.size;
    t.progress = &progress;
    char message[CURL_ERROR_SIZE] = {0};
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, message);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &onData);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &onProgress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options.connectTimeoutSeconds);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options.stallSeconds);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "BrainGraph-Workbench (libcurl)");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (offset > 0) curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(offset));
    const CURLcode code = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    const bool flushed = std::fflush(out.get()) == 0 && fsync(fileno(out.get())) == 0;
    transferred += t.received;
    if (t.cancelled) throw CancelledError();  // the partial file stays: the next fetch resumes it
    if (t.writeErrno || !flushed)
      throw Error(ErrorCode::Io, part.string() + ": " + std::strerror(t.writeErrno ? t.writeErrno : errno) + " (is the disk full?)");
    if (code == CURLE_OK) {
      if (offset > 0 && !t.restarted) spdlog::debug("{}: resumed at byte {}", url, offset);
      break;
    }
    if (status > 0) reached = true;
    if (code == CURLE_HTTP_RETURNED_ERROR && status == 416 && offset > 0) break;  // nothing left to send: check what we have
    if (code == CURLE_HTTP_RETURNED_ERROR && (status == 404 || status == 410)) {
      out.reset();
      if (sizeOr0(part) == 0) fs::remove(part, ec);
      throw Error(ErrorCode::NoInput, url + ": not on the server (HTTP " + std::to_string(status) + ")");
    }
    const bool retry = transient(code) || (code == CURLE_HTTP_RETURNED_ERROR && (status >= 500 || status == 429 || status == 408));
    lastProblem = message[0] ? message : curl_easy_strerror(code);
    if (!retry || attempt >= options.attempts) {
      out.reset();
      if (sizeOr0(part) == 0) fs::remove(part, ec);
      if (unreachable(code) && !reached) throw Error(ErrorCode::Unavailable, "cannot reach " + hostOf(url) + ": " + lastProblem);
      if (code == CURLE_HTTP_RETURNED_ERROR) throw Error(ErrorCode::Unavailable, url + ": the server refused it (HTTP " + std::to_string(status) + ")");
      throw Error(ErrorCode::Unavailable, url + ": the transfer failed after " + std::to_string(attempt) + " tries (" + lastProblem +
                                              "); run the command again to resume from byte " + std::to_string(sizeOr0(part)));
    }
    const double wait = options.firstBackoffSeconds * static_cast<double>(1 << (attempt - 1));
    spdlog::warn("{}: {} (try {} of {}); trying again in {:g} s", url, lastProblem, attempt, options.attempts, wait);
    sleepUnlessCancelled(wait, progress);
  }
  const auto got = sizeOr0(part);
  if (file.size >= 0 && got != file.size) {
    fs::remove(part, ec);
    throw Error(ErrorCode::Data,
                url + ": the server sent " + std::to_string(got) + " bytes, the manifest expects " + std::to_string(file.size) + "; the file was removed");
  }
  if (!file.sha256.empty()) {
    const auto found = fileSha256(part);
    if (found != file.sha256) {
      fs::remove(part, ec);
      throw Error(ErrorCode::Data,
                  url + ": SHA-256 " + found + " differs from the manifest's " + file.sha256 + " (a changed or damaged file); the file was removed");
    }
  }
  fs::rename(part, dest, ec);
  if (ec) throw Error(ErrorCode::Io, dest.string() + ": " + ec.message());
  return transferred;
}

}  // namespace bg
