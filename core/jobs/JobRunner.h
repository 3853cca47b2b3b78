#pragma once
// Runs jobs on a fixed pool of worker threads and tells observers about every
// state change and (throttled) progress update. Observers are called on worker
// threads: the GUI forwards them to its own thread and never touches widgets here.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "jobs/Job.h"

namespace bg {

class WorkerPool;

class JobRunner {
 public:
  using Work = std::function<void(JobContext&)>;
  using Observer = std::function<void(const JobSnapshot&)>;
  // Receives what jobs report beyond progress (curves and facts for a run dashboard), on the worker thread.
  struct MetricSink {
    std::function<void(std::string_view series, double x, double value)> metric;
    std::function<void(std::string_view key, std::string_view value)> note;
  };

  explicit JobRunner(int workers = 2);
  ~JobRunner();  // cancels what is left and waits for the workers
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  std::shared_ptr<Job> submit(std::string name, Work work);
  int addObserver(Observer observer);
  void removeObserver(int handle);
  std::vector<JobSnapshot> snapshots() const;
  std::shared_ptr<Job> find(JobId id) const;
  // Set before submitting.
  void setMetricSink(MetricSink sink) { metricSink_ = std::move(sink); }
  void cancelAll();
  void waitAll();
  int workers() const { return workers_; }

 private:
  friend class JobContext;
  friend class Job;
  void run(const std::shared_ptr<Job>& job, const Work& work);
  void notify(const Job& job);
  void finish(Job& job, JobState state, std::string error = {}, int exitCode = 0);

  int workers_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<Job>> jobs_;
  std::map<int, Observer> observers_;
  int nextObserver_ = 1;
  std::atomic<JobId> nextId_{1};
  std::unique_ptr<WorkerPool> pool_;
  MetricSink metricSink_;
};

}  // namespace bg
