#include "jobs/JobRunner.h"

#include <unsupported/Eigen/CXX11/ThreadPool>

#include <spdlog/spdlog.h>

namespace bg {

// Eigen's thread pool (already a dependency) runs the jobs.
class WorkerPool : public Eigen::ThreadPool {
 public:
  using Eigen::ThreadPool::ThreadPool;
};

JobRunner::JobRunner(int workers) : workers_(std::max(1, workers)), pool_(std::make_unique<WorkerPool>(std::max(1, workers))) {}

JobRunner::~JobRunner() {
  cancelAll();
  pool_.reset();  // joins the workers after the remaining (now cancelled) tasks return
}

std::shared_ptr<Job> JobRunner::submit(std::string name, Work work) {
  auto job = std::make_shared<Job>(nextId_++, std::move(name), [this](const Job& j) { notify(j); });
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(job);
  }
  spdlog::debug("job {} '{}' queued", job->id(), job->name());
  notify(*job);
  pool_->Schedule([this, job, work = std::move(work)] { run(job, work); });
  return job;
}

void JobRunner::run(const std::shared_ptr<Job>& job, const Work& work) {
  if (job->cancelRequested()) {
    finish(*job, JobState::Cancelled, {}, static_cast<int>(ErrorCode::Cancelled));
    return;
  }
  if (!job->setState(JobState::Running)) return;
  spdlog::debug("job {} '{}' running", job->id(), job->name());
  notify(*job);
  JobContext ctx(*this, job);
  try {
    work(ctx);
    // Work that ignores a cancel request and finishes anyway has completed.
    finish(*job, JobState::Completed);
  } catch (...) {
    Error e = currentExceptionAsError();
    if (e.code() == ErrorCode::Cancelled)
      finish(*job, JobState::Cancelled, {}, e.exitCode());
    else
      finish(*job, JobState::Failed, e.what(), e.exitCode());
  }
}

void JobRunner::finish(Job& job, JobState state, std::string error, int exitCode) {
  if (state != JobState::Completed) {
    std::vector<std::filesystem::path> outputs;
    {
      std::lock_guard lock(job.mutex_);
      outputs.swap(job.outputs_);
    }
    for (const auto& p : outputs) {
      std::error_code ec;
      std::filesystem::remove_all(p, ec);
      if (ec) spdlog::warn("job '{}': could not remove partial output {}: {}", job.name(), p.string(), ec.message());
    }
  }
  if (!job.setState(state, error, exitCode)) return;
  // Whoever started the job reports a failure to the user; the log keeps the detail.
  spdlog::debug("job {} '{}' {}{}{}", job.id(), job.name(), jobStateName(state), error.empty() ? "" : ": ", error);
  notify(job);
  job.markDelivered();
}

void JobRunner::notify(const Job& job) {
  std::vector<Observer> observers;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [handle, obs] : observers_) observers.push_back(obs);
  }
  if (observers.empty()) return;
  const JobSnapshot snap = job.snapshot();
  for (const auto& obs : observers) obs(snap);
}

int JobRunner::addObserver(Observer observer) {
  std::lock_guard lock(mutex_);
  observers_[nextObserver_] = std::move(observer);
  return nextObserver_++;
}

void JobRunner::removeObserver(int handle) {
  std::lock_guard lock(mutex_);
  observers_.erase(handle);
}

std::vector<JobSnapshot> JobRunner::snapshots() const {
  std::vector<std::shared_ptr<Job>> jobs;
  {
    std::lock_guard lock(mutex_);
    jobs = jobs_;
  }
  std::vector<JobSnapshot> out;
  out.reserve(jobs.size());
  for (const auto& j : jobs) out.push_back(j->snapshot());
  return out;
}

std::shared_ptr<Job> JobRunner::find(JobId id) const {
  std::lock_guard lock(mutex_);
  for (const auto& j : jobs_)
    if (j->id() == id) return j;
  return nullptr;
}

void JobRunner::cancelAll() {
  std::vector<std::shared_ptr<Job>> jobs;
  {
    std::lock_guard lock(mutex_);
    jobs = jobs_;
  }
  for (const auto& j : jobs) j->requestCancel();
}

void JobRunner::waitAll() {
  std::vector<std::shared_ptr<Job>> jobs;
  {
    std::lock_guard lock(mutex_);
    jobs = jobs_;
  }
  for (const auto& j : jobs) j->wait();
}

}  // namespace bg
