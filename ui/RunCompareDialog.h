#pragma once
// Two runs side by side: where their configurations differ (command options and the configuration
// files they named) and their final metrics.
#include <QDialog>

#include "workspace/RunTracking.h"

class QTableWidget;

namespace bg::ui {

class RunCompareDialog : public QDialog {
  Q_OBJECT
 public:
  RunCompareDialog(const TrackedRun& left, const TrackedRun& right, QWidget* parent = nullptr);
  QTableWidget* configuration() const { return configuration_; }
  QTableWidget* metrics() const { return metrics_; }

 private:
  QTableWidget *configuration_, *metrics_;
};

}  // namespace bg::ui
