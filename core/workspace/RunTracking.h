#pragma once
// Long runs (pre-training, tuning, evaluation) that outlive the window that started them: the
// braingraph-cli process records itself in the workspace's `runs` table (pid, stage, progress,
// state, log file) while it works, so any window — the one that launched it, or a new one after a
// crash — can list it, follow it and cancel it (SIGINT: the CLI stops cleanly and keeps checkpoints).
#include <cstdint>
#include <string>
#include <vector>

namespace bg {

class Workspace;

struct TrackedRun {
  std::int64_t id = 0;
  std::string name, command, state, stage, logPath, createdAt, updatedAt, error;
  double progress = 0;
  int pid = 0, exitCode = 0;
};

std::int64_t beginTrackedRun(Workspace& ws, const std::string& name, const std::string& command, int pid, const std::string& logPath);
void updateTrackedRun(Workspace& ws, std::int64_t id, const std::string& stage, double progress);
// state: completed | cancelled | failed.
void finishTrackedRun(Workspace& ws, std::int64_t id, const std::string& state, int exitCode, const std::string& error);
// Newest first; only runs started by a tracked process.
std::vector<TrackedRun> listTrackedRuns(Workspace& ws);
// Runs still marked running whose process is gone (killed, machine rebooted) become failed; returns how many.
int reconcileTrackedRuns(Workspace& ws);
bool processAlive(int pid);

}  // namespace bg
