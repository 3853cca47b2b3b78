#include "CliContext.h"

#include "atlas/AtlasRegistry.h"

#include <sys/resource.h>
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
#include <vector>

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
std::atomic<int> g_signal{0};  // the last SIGINT or SIGTERM received during a job
// SIGTERM (a session ending, kill, a scheduler) cancels like Ctrl-C: temporaries removed, checkpoints
// kept, exit 143 instead of 130. The second signal ends the process the usual way.
extern "C" void onInterrupt(int sig) {
  g_signal = sig;
  if (g_interrupts.fetch_add(1) >= 1) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}
// --estimate: the rate of progress after the start-up (data loading, first batch) extrapolated to
// the whole run; memory is the peak resident size so far (model, optimiser state, data, activations).
class RunEstimator {
 public:
  // True once enough has been seen to estimate.
  bool observe(const JobSnapshot& s) {
    if (s.state != JobState::Running || s.fraction <= 0) return false;
    if (firstFraction_ < 0) {
      firstFraction_ = s.fraction;
      firstSeconds_ = s.elapsedSeconds;
      return false;
    }
    lastFraction_ = s.fraction;
    lastSeconds_ = s.elapsedSeconds;
    return (lastSeconds_ - firstSeconds_ >= 3.0 && lastFraction_ > firstFraction_) || lastFraction_ >= 0.5;
  }
  nlohmann::json result(const JobSnapshot& s) const {
    double total = s.elapsedSeconds;
    if (s.state != JobState::Completed && lastFraction_ > firstFraction_)
      total = firstSeconds_ + (1.0 - firstFraction_) * (lastSeconds_ - firstSeconds_) / (lastFraction_ - firstFraction_);
    struct rusage usage {};
    ::getrusage(RUSAGE_SELF, &usage);
    return {{"estimated_seconds", total},
            {"measured_seconds", lastSeconds_},
            {"measured_fraction", std::max(0.0, lastFraction_)},
            {"peak_memory_mib", static_cast<double>(usage.ru_maxrss) / 1024.0},
            {"completed", s.state == JobState::Completed},
            {"stage", s.stage}};
  }

 private:
  double firstFraction_ = -1, firstSeconds_ = 0, lastFraction_ = -1, lastSeconds_ = 0;
};

}  // namespace

bool terminatedBySignal() { return g_signal == SIGTERM; }

// With $BRAINGRAPH_TRACK_RUN = a workspace folder (the GUI sets it when it launches a run), each job
// of this process is recorded in that workspace's runs table, so a window can follow it, cancel it
// and find it again after a restart. Tracking never fails the job: a problem is only logged.
std::vector<std::string> ownArguments() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> args;
  std::string a;
  while (std::getline(in, a, '\0')) args.push_back(a);
  return args;
}

// With $BRAINGRAPH_TRACK_RUN = a workspace folder (the GUI sets it when it launches a run), each job
// records itself in that workspace's runs table and writes its curves (loss, learning rate,
// throughput, validation) beside its log for the dashboard; at the end the last value of each curve
// becomes the run's final metrics.
class RunTracker {
 public:
  // seriesSuffix: appended to every curve's name (CliContext::setMetricSeriesSuffix), read at each point.
  RunTracker(const std::string& name, JobRunner& jobs, const std::string* seriesSuffix) : jobs_(jobs) {
    const char* dir = std::getenv("BRAINGRAPH_TRACK_RUN");
    if (!dir || !*dir) return;
    try {
      ws_ = Workspace::open(dir);
      const char* log = std::getenv("BRAINGRAPH_RUN_LOG");
      const auto args = ownArguments();
      std::string command;
      for (const auto& a : args) {
        if (!command.empty()) command.push_back(' ');
        command += a;
      }
      id_ = beginTrackedRun(*ws_, name, command, static_cast<int>(::getpid()), log ? log : "", describeCommand(args));
      if (log && *log) {
        metrics_ = std::make_unique<RunMetricsWriter>(runMetricsPath(log));
        auto* m = metrics_.get();
        jobs_.setMetricSink({[m, seriesSuffix](std::string_view s, double x, double v) {
                               if (seriesSuffix->empty())
                                 m->metric(s, x, v);
                               else
                                 m->metric(std::string(s) + *seriesSuffix, x, v);
                             },
                             [m](std::string_view k, std::string_view v) { m->note(k, v); }});
      }
    } catch (const std::exception& e) {
      spdlog::warn("run not tracked in {}: {}", dir, e.what());
      ws_.reset();
    }
  }
  ~RunTracker() {
    if (metrics_) jobs_.setMetricSink({});
    finish(JobState::Failed, static_cast<int>(ErrorCode::Internal), "the command ended without reporting");
  }
  RunTracker(const RunTracker&) = delete;
  RunTracker& operator=(const RunTracker&) = delete;
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
  void recordEffective(const nlohmann::json& effective) {
    if (!ws_) return;
    try {
      setTrackedRunEffectiveSettings(*ws_, id_, effective);
    } catch (const std::exception& e) {
      spdlog::debug("run settings not recorded: {}", e.what());
    }
  }
  // The run ends with the command, after it has written its outputs (a model file is written once
  // the training job is done): "completed" then means the files are there.
  void finish(JobState state, int exitCode, const std::string& error) {
    if (!ws_ || finished_) return;
    finished_ = true;
    try {
      auto final = metrics_ ? metrics_->finalValues() : nlohmann::json::object();
      final["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
      finishTrackedRun(*ws_, id_, state, exitCode, error, final);
    } catch (const std::exception& e) {
      spdlog::warn("run end not recorded: {}", e.what());
    }
  }

 private:
  JobRunner& jobs_;
  std::unique_ptr<Workspace> ws_;
  std::unique_ptr<RunMetricsWriter> metrics_;
  std::int64_t id_ = 0;
  std::chrono::steady_clock::time_point last_{};
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::string stage_;
  bool finished_ = false;
};

CliContext::CliContext(const GlobalOptions& options) : options_(options) {
  settingsFile_ = Settings::defaultFile();
  settings_ = Settings::load(settingsFile_);
  if (!options_.device.empty()) settings_.device = options_.device;
  if (options_.threads >= 0) settings_.computeThreads = options_.threads;
  settings_.validate();
  std::vector<std::filesystem::path> roots(options_.data.begin(), options_.data.end());
  dataPaths_ = DataPaths::resolve(roots, settings_);
}

void CliContext::recordEffectiveSettings(const nlohmann::json& resultOrCard) {
  if (tracker_) tracker_->recordEffective(effectiveRunSettings(resultOrCard));
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
  auto previousTerm = std::signal(SIGTERM, onInterrupt);
  if (!tracker_) tracker_ = std::make_unique<RunTracker>(name, jobs(), &metricSeriesSuffix_);  // one run per command, however many jobs
  RunTracker& tracker = *tracker_;
  RunEstimator estimator;
  auto job = jobs().submit(name, work);
  bool cancelRequested = false;
  while (!job->waitFor(std::chrono::milliseconds(100))) {
    if (options_.estimate && !cancelRequested && estimator.observe(job->snapshot())) {
      cancelRequested = true;
      job->requestCancel();
    }
    if (g_interrupts > 0 && !cancelRequested) {
      cancelRequested = true;
      bar.finish();
      spdlog::warn("cancelling '{}' ({}; again to kill)", name, g_signal == SIGTERM ? "terminated" : "Ctrl-C");
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
  std::signal(SIGTERM, previousTerm);
  const auto snap = job->snapshot();
  if (snap.state == JobState::Cancelled || snap.state == JobState::Failed) tracker.finish(snap.state, snap.exitCode, snap.error);
  if (options_.estimate && g_interrupts == 0) {
    if (snap.state == JobState::Failed) throw Error(static_cast<ErrorCode>(snap.exitCode), snap.error);
    std::printf("%s\n", estimator.result(snap).dump().c_str());
    std::fflush(stdout);
    throw EstimatePrinted{};
  }
  if (snap.state == JobState::Cancelled) throw CancelledError();
  if (snap.state == JobState::Failed) throw Error(static_cast<ErrorCode>(snap.exitCode), snap.error);
}

CliContext::~CliContext() = default;

void CliContext::finishRun(int exitCode, const std::string& error) {
  if (!tracker_) return;
  tracker_->finish(exitCode == 0                                        ? JobState::Completed
                   : exitCode == static_cast<int>(ErrorCode::Cancelled) ? JobState::Cancelled
                                                                        : JobState::Failed,
                   exitCode, error);
}

std::unique_ptr<AtlasRegistry> optionalAtlasRegistry(CliContext& ctx) {
  try {
    return std::make_unique<AtlasRegistry>(AtlasRegistry::load(DataPaths::manifestDir(), ctx.dataPaths()));
  } catch (const Error& e) {
    spdlog::debug("no atlas registry: {}", e.what());
    return nullptr;
  }
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
