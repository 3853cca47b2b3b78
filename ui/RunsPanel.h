#pragma once
// Runs that live in their own braingraph-cli processes: launched detached (setsid, output to a log
// file in the workspace) so closing or crashing the window never ends them; every window lists the
// workspace's tracked runs (RunTracking.h), follows their stage and progress, and cancels them with
// SIGINT (the CLI stops cleanly and keeps its checkpoint). A new window re-attaches by reading them.
#include <QString>
#include <QStringList>
#include <QWidget>

class QTableWidget;
class QPushButton;
class QTimer;

namespace bg::ui {

class RunsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit RunsPanel(QWidget* parent = nullptr);
  void setWorkspace(const QString& dir);
  // Starts `braingraph-cli ARGS` detached and tracked; returns its pid (0 on failure, with a message).
  qint64 launch(const QStringList& args);
  void cancel(qint64 pid);
  void refresh();
  int rowCount() const;
  QString stateOf(qint64 pid) const;
  double progressOf(qint64 pid) const;
  QTableWidget* table() const { return table_; }

 private:
  int rowOf(qint64 pid) const;
  QString workspace_;
  QTableWidget* table_;
  QPushButton* cancel_;
  QTimer* timer_;
};

}  // namespace bg::ui
