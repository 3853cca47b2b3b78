#pragma once
// The wall clock as records store it (UTC, ISO 8601).
#include <chrono>
#include <ctime>
#include <string>

namespace bg {

// The current UTC time in strftime's `format`.
inline std::string utcNow(const char* format) {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

// "2026-12-07T17:45:00Z"
inline std::string nowIso8601() { return utcNow("%Y-%m-%dT%H:%M:%SZ"); }

}  // namespace bg
