#pragma once
// Long runs (pre-training, tuning, evaluation) that outlive the window that started them: the
// braingraph-cli process records itself in the workspace's `runs` table (pid, stage, progress,
// state, log file) while it works, so any window — the one that launched it, or a new one after a
// crash — can list it, follow it and cancel it (SIGINT: the CLI stops cleanly and keeps checkpoints).
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobs/Job.h"

namespace bg {

class Workspace;

struct TrackedRun {
  std::int64_t id = 0;
  std::string name, command, stage, logPath, createdAt, updatedAt, error;
  JobState state = JobState::Running;                 // stored by its name (jobStateName)
  nlohmann::json config = nlohmann::json::object();   // describeCommand() of its command line
  nlohmann::json metrics = nlohmann::json::object();  // final value of every curve, set when it ends
  double progress = 0;
  int pid = 0, exitCode = 0;
};

std::int64_t beginTrackedRun(Workspace& ws, const std::string& name, const std::string& command, int pid, const std::string& logPath,
                             const nlohmann::json& config = nlohmann::json::object());
void updateTrackedRun(Workspace& ws, std::int64_t id, const std::string& stage, double progress);
// state: Completed, Cancelled or Failed.
void finishTrackedRun(Workspace& ws, std::int64_t id, JobState state, int exitCode, const std::string& error,
                      const nlohmann::json& finalMetrics = nlohmann::json::object());
// Newest first; only runs started by a tracked process.
std::vector<TrackedRun> listTrackedRuns(Workspace& ws);
// What a run actually used (the method, the configuration after defaults and overrides, the split),
// kept in its configuration as "effective" for comparisons.
void setTrackedRunEffectiveSettings(Workspace& ws, std::int64_t id, const nlohmann::json& effective);
// Those settings from an evaluation's result or a model card: method, architecture, adaptation,
// the training configuration as used, split, label share, ensemble, C, input, procedure.
nlohmann::json effectiveRunSettings(const nlohmann::json& resultOrCard);
// Runs still marked running whose process is gone (killed, machine rebooted) become failed; returns how many.
int reconcileTrackedRuns(Workspace& ws);
// Stopped by SIGSTOP (the dashboard's pause): any window sees it from /proc.
bool processPaused(int pid);
enum class RunSignal { Pause, Resume, Cancel };  // SIGSTOP, SIGCONT, SIGINT (a paused run is woken first)
bool signalRun(int pid, RunSignal what);
// Resident memory of a process in MiB (0 when unknown).
double processResidentMiB(int pid);

// The command line as comparable configuration: {"command": "pretrain", "options": {"--epochs": "3",
// "--resume": true, ...}, "config": <the --config file's JSON, when it names one>, "argv": [arguments
// after the program, to launch it again]}.
nlohmann::json describeCommand(const std::vector<std::string>& argv);
// Differences between two configurations as flattened keys ("options.--epochs", "config.model.hidden").
struct ConfigDifference {
  std::string key;
  nlohmann::json left, right;  // null where a side lacks the key
};
std::vector<ConfigDifference> diffConfigurations(const nlohmann::json& left, const nlohmann::json& right);
// A run's configuration as comparisons show it: what it used ("used": its effective settings) beside
// its command line, instead of the configuration file's values, once the run has recorded them.
nlohmann::json comparableRunSettings(const TrackedRun& run);

// Curves of a run (the dashboard's data): JSON lines beside its log, one per point or fact.
struct MetricPoint {
  std::string series;
  double x = 0, value = 0, seconds = 0;  // seconds since the run started
};
struct RunMetrics {
  std::vector<MetricPoint> points;
  nlohmann::json notes = nlohmann::json::object();
  std::vector<double> xs(const std::string& series) const;
  std::vector<double> values(const std::string& series) const;
  std::vector<std::string> seriesNames() const;
  nlohmann::json finalValues() const;  // summariseRunMetrics(points)
};

// The curves of a cross-validation are tagged by fold (and ensemble member): "loss/train [fold 2]",
// "validation/auc [fold 2, member 3]"; each fold's epochs start at 1. "test/..." curves hold one
// point per fold (x = the fold) and no tag.
std::string foldSeriesTag(int fold, int member = 0);  // " [fold 2]", " [fold 2, member 3]" (1-based; member 0: none)
int seriesFold(const std::string& series);            // 2 for "loss/train [fold 2, member 3]"; 0 untagged
std::string seriesWithoutFold(const std::string& series);
// A run's final metrics: the last value of each untagged curve; for each "test/" curve the mean over
// folds, with its SD as "<name> sd"; for fold-tagged curves, keyed by the untagged name, the mean
// (and "<name> sd") over folds and members of each one's last value.
nlohmann::json summariseRunMetrics(const std::vector<MetricPoint>& points);
std::string runMetricsPath(const std::string& logPath);  // run.log -> run.metrics.jsonl
// Reads the lines after `offset` bytes (a dashboard polls) and returns the new offset; a partly
// written last line is left for the next call.
std::size_t readRunMetrics(const std::string& file, std::size_t offset, RunMetrics& into);

class RunMetricsWriter {
 public:
  explicit RunMetricsWriter(std::string file);
  void metric(std::string_view series, double x, double value);
  void note(std::string_view key, std::string_view value);
  // The run's final metrics (summariseRunMetrics of what it wrote).
  nlohmann::json finalValues() const;

 private:
  void append(const nlohmann::json& line);
  std::string file_;
  mutable std::mutex mutex_;
  std::vector<MetricPoint> points_;
  double start_;
};

}  // namespace bg
