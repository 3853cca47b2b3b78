#include "log/Logging.h"

#include <cstdlib>
#include <mutex>

#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "settings/UserDirs.h"

namespace bg::log {
namespace {
std::mutex g_mutex;
std::filesystem::path g_logFile;
// Sinks added at run time (the GUI's log panel) live in a thread-safe distributor,
// so adding or removing one never races with a worker that is logging.
auto g_extraSinks = std::make_shared<spdlog::sinks::dist_sink_mt>();
}  // namespace

spdlog::level::level_enum levelFor(Verbosity v) {
  switch (v) {
    case Verbosity::Quiet:
      return spdlog::level::warn;
    case Verbosity::Normal:
      return spdlog::level::info;
    case Verbosity::Verbose:
      return spdlog::level::debug;
    case Verbosity::Trace:
      return spdlog::level::trace;
  }
  return spdlog::level::info;
}

void init(const LogOptions& options) {
  std::lock_guard lock(g_mutex);
  std::vector<spdlog::sink_ptr> sinks;
  const auto level = levelFor(options.verbosity);
  if (options.console) {
    auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    console->set_level(level);
    console->set_pattern("%^%l%$: %v");
    sinks.push_back(console);
  }
  g_logFile.clear();
  const char* noFile = std::getenv("BRAINGRAPH_NO_LOG_FILE");
  if (!(noFile && std::string(noFile) == "1")) {
    std::filesystem::path file = options.file.empty() ? userDataDir() / "logs" / "braingraph.log" : options.file;
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    try {
      auto rotating = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(file.string(), 5 * 1024 * 1024, 3);
      // The file keeps debug detail even when the console is quiet.
      rotating->set_level(spdlog::level::debug);
      rotating->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] [t%t] %v");
      sinks.push_back(rotating);
      g_logFile = file;
    } catch (const spdlog::spdlog_ex&) {
      // A read-only home must not stop the program; the console still works.
    }
  }
  sinks.push_back(g_extraSinks);
  auto logger = std::make_shared<spdlog::logger>("braingraph", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void addSink(std::shared_ptr<spdlog::sinks::sink> sink) { g_extraSinks->add_sink(std::move(sink)); }

void removeSink(const std::shared_ptr<spdlog::sinks::sink>& sink) { g_extraSinks->remove_sink(sink); }

std::filesystem::path logFilePath() {
  std::lock_guard lock(g_mutex);
  return g_logFile;
}

}  // namespace bg::log
