#pragma once
// Every background job as a row: name, state, stage, progress, ETA, cancel.
#include <QColor>
#include <QHash>
#include <QWidget>

#include "jobs/Job.h"

class QMessageBox;
class QTableWidget;

namespace bg::ui {

class JobBridge;

class JobsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit JobsPanel(JobBridge& bridge, QWidget* parent = nullptr);
  int rowCount() const;
  // Text of a cell, for tests and accessibility: column 0 name, 1 state, 2 stage, 4 ETA.
  QString cellText(int row, int column) const;
  // Presses the row's cancel button.
  void cancelRow(int row);
  // The colour a row's state is drawn in (red for failed), and its progress bar's text.
  QColor stateColour(int row) const;
  QString progressText(int row) const;
  // What a click on a failed row opens: its whole message (null for other rows).
  QMessageBox* showFailure(int row);

 Q_SIGNALS:
  // A job failed: its name and whole message (the main window puts it in the status bar).
  void jobFailed(const QString& name, const QString& message);

 private:
  void onJobChanged(const bg::JobSnapshot& snap);
  JobBridge& bridge_;
  QTableWidget* table_;
  QHash<JobId, int> rows_;
};

}  // namespace bg::ui
