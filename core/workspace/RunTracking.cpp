#include "workspace/RunTracking.h"

#include <cerrno>
#include <csignal>

#include <SQLiteCpp/SQLiteCpp.h>

#include "workspace/Workspace.h"

namespace bg {

std::int64_t beginTrackedRun(Workspace& ws, const std::string& name, const std::string& command, int pid, const std::string& logPath) {
  SQLite::Statement s(ws.db(),
                      "INSERT INTO runs (kind, config_json, state, pid, stage, progress, command, log_path) VALUES (?, '{}', 'running', ?, '', 0, ?, ?)");
  s.bind(1, name);
  s.bind(2, pid);
  s.bind(3, command);
  s.bind(4, logPath);
  s.exec();
  return ws.db().getLastInsertRowid();
}

void updateTrackedRun(Workspace& ws, std::int64_t id, const std::string& stage, double progress) {
  SQLite::Statement s(ws.db(), "UPDATE runs SET stage = ?, progress = ?, updated_at = datetime('now') WHERE id = ?");
  s.bind(1, stage);
  s.bind(2, progress);
  s.bind(3, id);
  s.exec();
}

void finishTrackedRun(Workspace& ws, std::int64_t id, const std::string& state, int exitCode, const std::string& error) {
  SQLite::Statement s(ws.db(), "UPDATE runs SET state = ?, exit_code = ?, log = ?, updated_at = datetime('now') WHERE id = ?");
  s.bind(1, state);
  s.bind(2, exitCode);
  s.bind(3, error);
  s.bind(4, id);
  s.exec();
}

std::vector<TrackedRun> listTrackedRuns(Workspace& ws) {
  SQLite::Statement q(ws.db(),
                      "SELECT id, kind, command, state, stage, log_path, created_at, updated_at, log, progress, pid, COALESCE(exit_code, 0) "
                      "FROM runs WHERE pid IS NOT NULL ORDER BY id DESC");
  std::vector<TrackedRun> out;
  while (q.executeStep()) {
    TrackedRun r;
    r.id = q.getColumn(0).getInt64();
    r.name = q.getColumn(1).getString();
    r.command = q.getColumn(2).getString();
    r.state = q.getColumn(3).getString();
    r.stage = q.getColumn(4).getString();
    r.logPath = q.getColumn(5).getString();
    r.createdAt = q.getColumn(6).getString();
    r.updatedAt = q.getColumn(7).getString();
    r.error = q.getColumn(8).getString();
    r.progress = q.getColumn(9).getDouble();
    r.pid = q.getColumn(10).getInt();
    r.exitCode = q.getColumn(11).getInt();
    out.push_back(r);
  }
  return out;
}

bool processAlive(int pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

int reconcileTrackedRuns(Workspace& ws) {
  int n = 0;
  for (const auto& r : listTrackedRuns(ws))
    if (r.state == "running" && !processAlive(r.pid)) {
      finishTrackedRun(ws, r.id, "failed", 0, "the process ended without reporting (killed, or the machine restarted)");
      ++n;
    }
  return n;
}

}  // namespace bg
