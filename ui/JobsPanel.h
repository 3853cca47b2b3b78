#pragma once
// Every background job as a row: name, state, stage, progress, ETA, cancel.
#include <QHash>
#include <QWidget>

#include "jobs/Job.h"

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

 private:
  void onJobChanged(const bg::JobSnapshot& snap);
  JobBridge& bridge_;
  QTableWidget* table_;
  QHash<JobId, int> rows_;
};

}  // namespace bg::ui
