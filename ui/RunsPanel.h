#pragma once
// Runs that live in their own braingraph-cli processes: launched detached (setsid, output to a log
// file in the workspace) so closing or crashing the window never ends them; every window lists the
// workspace's tracked runs (RunTracking.h), follows the selected one on a live dashboard, pauses,
// resumes (a paused process, or a cancelled pre-training from its checkpoint) and cancels them
// (SIGINT: the CLI stops cleanly and keeps its checkpoint), compares two runs and releases a trained
// model. A new window re-attaches by reading the table.
#include <vector>

#include <QString>
#include <QStringList>
#include <QWidget>

#include "workspace/RunTracking.h"

class QTableWidget;
class QPushButton;
class QTimer;

namespace bg::ui {

class RunDashboard;

class RunsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit RunsPanel(QWidget* parent = nullptr);
  void setWorkspace(const QString& dir);
  // Starts `braingraph-cli ARGS` detached and tracked; returns its pid (0 on failure, with a message).
  qint64 launch(const QStringList& args);
  void cancel(qint64 pid);
  void pause(qint64 pid);
  // A paused run continues; a cancelled or failed pre-training starts again from its checkpoint
  // (returns the new process's pid, else the same pid or 0).
  qint64 resume(qint64 pid);
  void refresh();
  int rowCount() const;
  QString stateOf(qint64 pid) const;
  double progressOf(qint64 pid) const;
  std::int64_t runIdOf(qint64 pid) const;
  void select(qint64 pid);
  // The compare dialog for two runs (by run id); the release dialog for a completed train run.
  QWidget* compare(std::int64_t left, std::int64_t right);
  QWidget* showRelease(std::int64_t runId);
  QWidget* showAdaptSite(std::int64_t runId);
  QTableWidget* table() const { return table_; }
  RunDashboard* dashboard() const { return dashboard_; }

 private:
  int rowOf(qint64 pid) const;
  const TrackedRun* runAt(int row) const;
  const TrackedRun* runById(std::int64_t id) const;
  void updateButtons();
  QString workspace_;
  std::vector<TrackedRun> runs_;
  QTableWidget* table_;
  RunDashboard* dashboard_;
  QPushButton *pause_, *resume_, *cancel_, *compare_, *release_, *adaptSite_;
  QTimer* timer_;
};

}  // namespace bg::ui
