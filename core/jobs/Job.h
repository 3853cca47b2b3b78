#pragma once
// A long task as a state machine (queued, running, cancelling, cancelled,
// completed, failed) with progress, ETA and cooperative cancellation.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "jobs/Progress.h"

namespace bg {

enum class JobState { Queued, Running, Cancelling, Cancelled, Completed, Failed };
std::string_view jobStateName(JobState s);
// The state a name stands for (as jobStateName writes it, e.g. in a workspace's runs table).
std::optional<JobState> jobStateFromName(std::string_view name);
inline bool isFinished(JobState s) { return s == JobState::Cancelled || s == JobState::Completed || s == JobState::Failed; }

using JobId = std::uint64_t;

struct JobSnapshot {
  JobId id = 0;
  std::string name;
  JobState state = JobState::Queued;
  std::string stage;
  double fraction = 0.0;
  double elapsedSeconds = 0.0;
  double etaSeconds = -1.0;  // < 0: unknown
  std::string error;         // full chained message when failed
  int exitCode = 0;          // bg::ErrorCode value when failed or cancelled
};

class JobRunner;

class Job {
 public:
  Job(JobId id, std::string name, std::function<void(const Job&)> onChange = {});
  JobId id() const { return id_; }
  const std::string& name() const { return name_; }
  JobSnapshot snapshot() const;
  JobState state() const;
  // Queued: cancelled at once. Running: moves to cancelling; the work stops at its next check.
  void requestCancel();
  bool cancelRequested() const;
  // Returns once the job has finished and every observer has seen its final state.
  JobState wait() const;
  bool waitFor(std::chrono::milliseconds timeout) const;

 private:
  friend class JobRunner;
  friend class JobContext;
  using Clock = std::chrono::steady_clock;
  bool setState(JobState s, std::string error = {}, int exitCode = 0);  // false if already finished
  bool setProgress(std::string_view stage, double fraction);            // true if worth notifying
  // Releases wait(): called once observers have seen the final state.
  void markDelivered();

  const JobId id_;
  const std::string name_;
  const std::function<void(const Job&)> onChange_;
  mutable std::mutex mutex_;
  mutable std::condition_variable finished_;
  JobState state_ = JobState::Queued;
  bool cancelRequested_ = false;
  bool delivered_ = false;
  std::string stage_;
  double fraction_ = 0.0;
  std::string error_;
  int exitCode_ = 0;
  Clock::time_point started_{};
  Clock::time_point ended_{};
  Clock::time_point lastNotified_{};
  std::vector<std::filesystem::path> outputs_;
};

// What the work function of a job receives.
class JobContext final : public ProgressDelegate {
 public:
  JobContext(JobRunner& runner, std::shared_ptr<Job> job) : runner_(runner), job_(std::move(job)) {}
  bool update(std::string_view stage, double fraction) override;
  bool cancelRequested() const override { return job_->cancelRequested(); }
  void metric(std::string_view series, double x, double value) override;
  void note(std::string_view key, std::string_view value) override;
  // A file or folder this job writes: removed again unless the job completes.
  void registerOutput(const std::filesystem::path& path);
  const Job& job() const { return *job_; }

 private:
  JobRunner& runner_;
  std::shared_ptr<Job> job_;
};

}  // namespace bg
