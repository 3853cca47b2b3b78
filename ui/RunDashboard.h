#pragma once
// Live view of one tracked run: loss curves per objective, validation and test metrics (Qt Charts),
// learning rate, throughput, ETA, device and memory; an evaluation's folds as separate curves (or one
// fold at a time) with the mean ± SD of its test metrics over folds. It reads the curves the run's own process
// writes beside its log (RunTracking.h), so it works for a run started by any window, or by the CLI.
#include <QString>
#include <QWidget>

#include "workspace/RunTracking.h"

class QChart;
class QChartView;
class QComboBox;
class QLabel;

namespace bg::ui {

class RunDashboard : public QWidget {
  Q_OBJECT
 public:
  explicit RunDashboard(QWidget* parent = nullptr);
  // Shows this run (re-reading its curves from the start when it is another run).
  void setRun(const TrackedRun& run);
  void clear();
  // Reads what the run wrote since the last call and redraws.
  void poll();
  std::int64_t runId() const { return run_.id; }
  const RunMetrics& metrics() const { return metrics_; }
  // Points drawn on the loss chart (all objectives) and the names of its series.
  int lossPointCount() const;
  QStringList lossSeriesNames() const;
  QStringList validationSeriesNames() const;
  QString statusText() const;
  // An evaluation's folds: the curves of one fold (0: every fold, each its own series).
  QComboBox* foldSelector() const { return fold_; }
  // "Test over 5 folds: AUC 0.712 ± 0.041 · accuracy ..." (empty for a run without folds).
  QString summaryText() const;
  QChartView* lossView() const { return lossView_; }

 private:
  void redraw();
  TrackedRun run_;
  RunMetrics metrics_;
  std::size_t offset_ = 0;
  std::size_t drawnPoints_ = 0;
  void updateFolds();
  QChartView *lossView_, *validationView_;
  QLabel *status_, *summary_;
  QComboBox* fold_;
};

}  // namespace bg::ui
