#include "errors/Error.h"

#include <filesystem>
#include <new>
#include <system_error>

namespace bg {

std::string_view errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::Internal: return "internal error";
    case ErrorCode::Usage: return "usage error";
    case ErrorCode::Data: return "bad input data";
    case ErrorCode::NoInput: return "missing input";
    case ErrorCode::Io: return "I/O error";
    case ErrorCode::Config: return "configuration error";
    case ErrorCode::Cancelled: return "cancelled";
  }
  return "error";
}

Error::Error(ErrorCode code, std::string message) : code_(code), cause_(std::move(message)) {
  rebuild();
}

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

Error currentExceptionAsError() {
  try {
    throw;
  } catch (const Error& e) {
    return e;
  } catch (const std::filesystem::filesystem_error& e) {
    return Error(ErrorCode::Io, e.what());
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::Io, "out of memory");
  } catch (const std::system_error& e) {
    return Error(ErrorCode::Io, e.what());
  } catch (const std::exception& e) {
    return Error(ErrorCode::Internal, e.what());
  } catch (...) {
    return Error(ErrorCode::Internal, "unknown exception");
  }
}

}  // namespace bg
