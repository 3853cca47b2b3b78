#include "errors/Error.h"

#include <filesystem>
#include <new>
#include <system_error>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace bg {

std::string_view errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::Internal:
      return "internal error";
    case ErrorCode::Usage:
      return "usage error";
    case ErrorCode::Data:
      return "bad input data";
    case ErrorCode::NoInput:
      return "missing input";
    case ErrorCode::Unavailable:
      return "server unavailable";
    case ErrorCode::Io:
      return "I/O error";
    case ErrorCode::Config:
      return "configuration error";
    case ErrorCode::Cancelled:
      return "cancelled";
  }
  return "error";
}

Error::Error(ErrorCode code, std::string message) : code_(code), cause_(std::move(message)) { rebuild(); }

Error& Error::addContext(std::string context) {
  context_.insert(context_.begin(), std::move(context));
  rebuild();
  return *this;
}

void Error::rebuild() {
  full_.clear();
  for (const auto& c : context_) {
    full_ += c;
    full_ += ": ";
  }
  full_ += cause_;
}

// LibTorch's c10::Error carries its C++ backtrace in what(): "...\nException raised from f at
// file:line (most recent call first):\nframe #0: ...". The user gets the first part; the log at debug
// level keeps everything.
std::string withoutBacktrace(const std::string& what) {
  auto cut = what.find("Exception raised from");
  if (cut == std::string::npos) cut = what.find("frame #0");
  if (cut == std::string::npos) return what;
  spdlog::debug("library error with backtrace: {}", what);
  std::string head = what.substr(0, cut);
  while (!head.empty() && (head.back() == '\n' || head.back() == ' ' || head.back() == '.')) head.pop_back();
  return head.empty() ? std::string("a library call failed (details in the log at debug level)") : head;
}

namespace {

// "[json.exception.parse_error.101] parse error at line 1, column 5: ..." -> "parse error at line 1, column 5: ..."
std::string jsonMessage(const std::string& what) {
  const auto close = what.find("] ");
  return what.rfind("[json.exception.", 0) == 0 && close != std::string::npos ? what.substr(close + 2) : what;
}
}  // namespace

Error currentExceptionAsError() {
  try {
    throw;
  } catch (const Error& e) {
    return e;
  } catch (const std::filesystem::filesystem_error& e) {
    // Not the library's "filesystem error: cannot create directories: ... [path]": the path first, then why.
    const std::string path = e.path1().empty() ? std::string() : e.path1().string();
    const auto why = e.code() ? e.code().message() : std::string(e.what());
    std::string advice;
    if (e.code() == std::errc::read_only_file_system || e.code() == std::errc::permission_denied)
      advice = "; choose a folder you can write to";
    else if (e.code() == std::errc::no_space_on_device)
      advice = "; free some space or choose another disk";
    return Error(ErrorCode::Io, (path.empty() ? std::string() : path + ": ") + why + advice);
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::Io, "out of memory");
  } catch (const std::system_error& e) {
    return Error(ErrorCode::Io, e.what());
  } catch (const nlohmann::json::parse_error& e) {
    return Error(ErrorCode::Data, "not valid JSON: " + jsonMessage(e.what()));
  } catch (const nlohmann::json::exception& e) {
    return Error(ErrorCode::Data, "unexpected content: " + jsonMessage(e.what()));
  } catch (const std::exception& e) {
    // SQLite's I/O failures (SQLiteCpp throws them as runtime_error with SQLite's own text): the
    // workspace database could not be written, a user's problem with an answer, not a bug.
    const std::string what = e.what();
    static const std::pair<const char*, const char*> kSqliteIo[] = {
        {"database or disk is full", "; free some space or choose another disk"},
        {"attempt to write a readonly database", "; the workspace is read-only: open a copy you can write to"},
        {"disk I/O error", "; check the disk"},
        {"unable to open database file", "; check that the workspace folder exists and is writable"}};
    for (const auto& [text, advice] : kSqliteIo)
      if (what.find(text) != std::string::npos) return Error(ErrorCode::Io, "the workspace database: " + what + advice);
    return Error(ErrorCode::Internal, withoutBacktrace(what));
  } catch (...) {
    return Error(ErrorCode::Internal, "unknown exception");
  }
}

}  // namespace bg
