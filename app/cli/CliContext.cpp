#include "CliContext.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <cstdio>
#include <csignal>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "TerminalProgress.h"
#include "errors/Error.h"
#include "workspace/RunTracking.h"
#include "workspace/Workspace.h"

namespace bg::cli {
namespace {
std::atomic<int> g_interrupts{0};
extern "C" void onInterrupt(int) {
  // The second Ctrl-C ends the process the usual way.
  if (g_interrupts.fetch_add(1) >= 1) {
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
  }
}
// With $BRAINGRAPH_TRACK_RUN = a workspace folder (the GUI sets it when it launches a run), each job
// of this process is recorded in that workspace's runs table, so a window can follow it, cancel it
// and find it again after a restart. Tracking never fails the job: a problem is only logged.
class RunTracker {
 public:
  explicit RunTracker(const std::string& name) {
    const char* dir = std::getenv("BRAINGRAPH_TRACK_RUN");
    if (!dir || !*dir) return;
    try {
      ws_ = Workspace::open(dir);
      const char* log = std::getenv("BRAINGRAPH_RUN_LOG");
      id_ = beginTrackedRun(*ws_, name, commandLine(), static_cast<int>(::getpid()), log ? log : "");
    } catch (const std::exception& e) {
      spdlog::warn("run not tracked in {}: {}", dir, e.what());
      ws_.reset();
    }
  }
  void update(const JobSnapshot& s) {
    if (!ws_ || s.state != JobState::Running) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(500) && s.stage == stage_) return;
    last_ = now;
    stage_ = s.stage;
    try {
      updateTrackedRun(*ws_, id_, s.stage, s.fraction);
    } catch (const std::exception& e) {
      spdlog::debug("run progress not recorded: {}", e.what());
    }
  }
  void finish(const JobSnapshot& s) {
    if (!ws_) return;
    const char* state = s.state == JobState::Completed ? "completed" : s.state == JobState::Cancelled ? "cancelled" : "failed";
    try {
      finishTrackedRun(*ws_, id_, state, s.exitCode, s.error);
    } catch (const std::exception& e) {
      spdlog::warn("run end not recorded: {}", e.what());
    }
  }

 private:
  static std::string commandLine() {
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (auto& c : all)
      if (c == '\0') c = ' ';
    while (!all.empty() && all.back() == ' ') all.pop_back();
    return all;
  }
  std::unique_ptr<Workspace> ws_;
  std::int64_t id_ = 0;
  std::chrono::steady_clock::time_point last_{};
  std::string stage_;
};

}  // namespace

CliContext::CliContext(const GlobalOptions& options) : options_(options) {
  settingsFile_ = Settings::defaultFile();
  settings_ = Settings::load(settingsFile_);
  if (!options_.device.empty()) settings_.device = options_.device;
  if (options_.threads >= 0) settings_.computeThreads = options_.threads;
  settings_.validate();
  std::vector<std::filesystem::path> roots(options_.data.begin(), options_.data.end());
  dataPaths_ = DataPaths::resolve(roots, settings_);
}

JobRunner& CliContext::jobs() {
  if (!jobs_) jobs_ = std::make_unique<JobRunner>(settings_.jobWorkers);
  return *jobs_;
}

void CliContext::runJob(const std::string& name, const JobRunner::Work& work) {
  TerminalProgress bar(!options_.quiet && !options_.noProgress && !options_.progressJson);
  std::string lastReported;
  g_interrupts = 0;
  auto previous = std::signal(SIGINT, onInterrupt);
  RunTracker tracker(name);
  auto job = jobs().submit(name, work);
  bool cancelRequested = false;
  while (!job->waitFor(std::chrono::milliseconds(100))) {
    if (g_interrupts > 0 && !cancelRequested) {
      cancelRequested = true;
      bar.finish();
      spdlog::warn("cancelling '{}' (Ctrl-C again to kill)", name);
      job->requestCancel();
    }
    const auto snap = job->snapshot();
    bar.draw(snap);
    tracker.update(snap);
    if (options_.progressJson && snap.state == JobState::Running) {
      const auto line = nlohmann::json{{"job", name}, {"stage", snap.stage}, {"progress", snap.fraction}}.dump();
      if (line != lastReported) {
        std::fprintf(stderr, "%s\n", line.c_str());
        std::fflush(stderr);
        lastReported = line;
      }
    }
  }
  bar.finish();
  std::signal(SIGINT, previous);
  const auto snap = job->snapshot();
  tracker.finish(snap);
  if (snap.state == JobState::Cancelled) throw CancelledError();
  if (snap.state == JobState::Failed) throw Error(static_cast<ErrorCode>(snap.exitCode), snap.error);
}

std::filesystem::path workspaceDir(CliContext& ctx, const std::string& given) {
  if (!given.empty()) return given;
  if (!ctx.settings().workspace.empty()) return ctx.settings().workspace;
  throw Error(ErrorCode::Usage, "no workspace: give --workspace DIR (or set one: braingraph-cli settings set workspace DIR)");
}

void addWorkspaceOption(CLI::App* cmd, std::string& target) {
  cmd->add_option("--workspace,-w", target, "Workspace folder (default: the settings' workspace)");
}

}  // namespace bg::cli
