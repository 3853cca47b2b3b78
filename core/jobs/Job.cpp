#include "jobs/Job.h"

#include <algorithm>

#include "jobs/JobRunner.h"

namespace bg {

std::string_view jobStateName(JobState s) {
  switch (s) {
    case JobState::Queued:
      return "queued";
    case JobState::Running:
      return "running";
    case JobState::Cancelling:
      return "cancelling";
    case JobState::Cancelled:
      return "cancelled";
    case JobState::Completed:
      return "completed";
    case JobState::Failed:
      return "failed";
  }
  return "unknown";
}

std::optional<JobState> jobStateFromName(std::string_view name) {
  for (auto s : {JobState::Queued, JobState::Running, JobState::Cancelling, JobState::Cancelled, JobState::Completed, JobState::Failed})
    if (jobStateName(s) == name) return s;
  return std::nullopt;
}

Job::Job(JobId id, std::string name, std::function<void(const Job&)> onChange) : id_(id), name_(std::move(name)), onChange_(std::move(onChange)) {}

JobSnapshot Job::snapshot() const {
  std::lock_guard lock(mutex_);
  JobSnapshot s;
  s.id = id_;
  s.name = name_;
  s.state = state_;
  s.stage = stage_;
  s.fraction = fraction_;
  s.error = error_;
  s.exitCode = exitCode_;
  if (state_ != JobState::Queued && started_ != Clock::time_point{}) {
    const auto end = isFinished(state_) ? ended_ : Clock::now();
    s.elapsedSeconds = std::chrono::duration<double>(end - started_).count();
    // A linear estimate, only once it means something.
    if (!isFinished(state_) && fraction_ > 0.01 && s.elapsedSeconds > 0.2) s.etaSeconds = s.elapsedSeconds * (1.0 - fraction_) / fraction_;
    if (state_ == JobState::Completed) s.etaSeconds = 0.0;
  }
  return s;
}

JobState Job::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

bool Job::cancelRequested() const {
  std::lock_guard lock(mutex_);
  return cancelRequested_;
}

void Job::requestCancel() {
  JobState before;
  {
    std::lock_guard lock(mutex_);
    if (isFinished(state_) || cancelRequested_) return;
    cancelRequested_ = true;
    before = state_;
    if (state_ == JobState::Running) state_ = JobState::Cancelling;
  }
  // A queued job never starts; its worker slot finds it finished and skips it.
  const bool cancelledNow = before == JobState::Queued && setState(JobState::Cancelled, {}, static_cast<int>(ErrorCode::Cancelled));
  if (onChange_) onChange_(*this);
  if (cancelledNow) markDelivered();
}

void Job::markDelivered() {
  {
    std::lock_guard lock(mutex_);
    delivered_ = true;
  }
  finished_.notify_all();
}

JobState Job::wait() const {
  std::unique_lock lock(mutex_);
  finished_.wait(lock, [&] { return delivered_; });
  return state_;
}

bool Job::waitFor(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return finished_.wait_for(lock, timeout, [&] { return delivered_; });
}

bool Job::setState(JobState s, std::string error, int exitCode) {
  {
    std::lock_guard lock(mutex_);
    if (isFinished(state_)) return false;
    if (s == JobState::Running) {
      started_ = Clock::now();
      if (cancelRequested_) s = JobState::Cancelling;
    }
    if (isFinished(s)) {
      ended_ = Clock::now();
      if (started_ == Clock::time_point{}) started_ = ended_;
      if (s == JobState::Completed) fraction_ = 1.0;
    }
    state_ = s;
    error_ = std::move(error);
    exitCode_ = exitCode;
  }
  return true;
}

bool Job::setProgress(std::string_view stage, double fraction) {
  std::lock_guard lock(mutex_);
  const bool stageChanged = stage != stage_;
  stage_ = std::string(stage);
  fraction_ = std::clamp(fraction, 0.0, 1.0);
  const auto now = Clock::now();
  // Progress is throttled to ~20 updates a second; stage changes always pass.
  if (stageChanged || now - lastNotified_ > std::chrono::milliseconds(50)) {
    lastNotified_ = now;
    return true;
  }
  return false;
}

bool JobContext::update(std::string_view stage, double fraction) {
  if (job_->setProgress(stage, fraction)) runner_.notify(*job_);
  return job_->cancelRequested();
}

void JobContext::metric(std::string_view series, double x, double value) {
  if (runner_.metricSink_.metric) runner_.metricSink_.metric(series, x, value);
}

void JobContext::note(std::string_view key, std::string_view value) {
  if (runner_.metricSink_.note) runner_.metricSink_.note(key, value);
}

void JobContext::registerOutput(const std::filesystem::path& path) {
  std::lock_guard lock(job_->mutex_);
  job_->outputs_.push_back(path);
}

}  // namespace bg
