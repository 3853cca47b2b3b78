#pragma once
// One exception type for the whole project: a root cause plus the chain of
// "while ..." contexts it passed through, and the exit code the CLI returns.
#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace bg {

// Values follow BSD sysexits.h so scripts can tell bad input from a bug.
enum class ErrorCode : int {
  Internal = 70,     // EX_SOFTWARE: a bug or an unexpected library failure
  Usage = 64,        // EX_USAGE: bad command line or parameters
  Data = 65,         // EX_DATAERR: input exists but is wrong (corrupt, mismatched, NaN...)
  NoInput = 66,      // EX_NOINPUT: a file or record that does not exist
  Unavailable = 69,  // EX_UNAVAILABLE: a server could not be reached or refused the request
  Io = 74,           // EX_IOERR: reading or writing failed (disk full, permissions)
  Config = 78,       // EX_CONFIG: settings or manifests are wrong
  Cancelled = 130    // like a shell after SIGINT
};

std::string_view errorCodeName(ErrorCode code);

// A library's message without the C++ backtrace LibTorch appends ("Exception raised from …
// frame #0 …"); the whole text goes to the log at debug level.
std::string withoutBacktrace(const std::string& what);

class Error : public std::exception {
 public:
  Error(ErrorCode code, std::string message);

  ErrorCode code() const noexcept { return code_; }
  int exitCode() const noexcept { return static_cast<int>(code_); }
  // The innermost cause, without context.
  const std::string& cause() const noexcept { return cause_; }
  // Outermost context first.
  const std::vector<std::string>& context() const noexcept { return context_; }
  // "while A: while B: cause"
  const char* what() const noexcept override { return full_.c_str(); }

  // Adds an outer context ("while loading sub-01_bold.nii.gz").
  Error& addContext(std::string context);

 private:
  void rebuild();
  ErrorCode code_;
  std::string cause_;
  std::vector<std::string> context_;
  std::string full_;
};

class CancelledError : public Error {
 public:
  CancelledError() : Error(ErrorCode::Cancelled, "cancelled") {}
};

// Converts any exception in flight into a bg::Error (keeping bg::Error as is).
Error currentExceptionAsError();

// Runs f(); an exception leaving it gains `context` as its outermost "while ..." entry.
template <class F>
auto withContext(std::string context, F&& f) -> std::invoke_result_t<F> {
  try {
    return std::forward<F>(f)();
  } catch (...) {
    Error e = currentExceptionAsError();
    if (e.code() == ErrorCode::Cancelled) throw;  // as it was (a CancelledError stays one), without context
    e.addContext(std::move(context));
    throw e;
  }
}

}  // namespace bg
