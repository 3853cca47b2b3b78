#pragma once
// spdlog set-up shared by the CLI and the GUI: a console sink on stderr and a
// rotating file in the user data directory; the GUI adds its own sink.
#include <filesystem>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace bg::log {

enum class Verbosity { Quiet, Normal, Verbose, Trace };

struct LogOptions {
  Verbosity verbosity = Verbosity::Normal;
  bool console = true;
  // Empty: <user data dir>/logs/braingraph.log. Set BRAINGRAPH_NO_LOG_FILE=1 to disable.
  std::filesystem::path file;
};

// Installs the default "braingraph" logger. Safe to call again (replaces it).
void init(const LogOptions& options);

// Adds a sink to the default logger (e.g. the GUI's log panel).
void addSink(std::shared_ptr<spdlog::sinks::sink> sink);
void removeSink(const std::shared_ptr<spdlog::sinks::sink>& sink);

spdlog::level::level_enum levelFor(Verbosity v);

// Where the rotating log file goes; empty when file logging is off.
std::filesystem::path logFilePath();

}  // namespace bg::log
