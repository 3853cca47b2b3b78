#include "CliContext.h"

#include <atomic>
#include <cstdio>
#include <csignal>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "TerminalProgress.h"
#include "errors/Error.h"

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
