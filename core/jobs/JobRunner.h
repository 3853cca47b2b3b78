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

  explicit JobRunner(int workers = 2);
  ~JobRunner();  // cancels what is left and waits for the workers
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  std::shared_ptr<Job> submit(std::string name, Work work);
  int addObserver(Observer observer);
  void removeObserver(int handle);
  std::vector<JobSnapshot> snapshots() const;
  std::shared_ptr<Job> find(JobId id) const;
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
};

}  // namespace bg
