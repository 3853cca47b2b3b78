#pragma once
// The model comparison of a corpus (the BrainGFM paper's table 1 on the user's data): the latest
// stored evaluation of every model with the same split — AUC, accuracy, sensitivity and
// specificity with 95% intervals, trainable parameters, training time, and each model's paired DeLong
// test against a reference model on the stored out-of-fold predictions — and a button that runs the
// whole comparison (braingraph-cli compare) as a tracked run.
#include <QDialog>
#include <QString>
#include <QStringList>

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

class QChart;
class QChartView;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace bg::ui {

class ModelComparisonDialog : public QDialog {
  Q_OBJECT
 public:
  explicit ModelComparisonDialog(const QString& workspace, QWidget* parent = nullptr);
  // Re-reads the workspace's evaluations.
  void refresh();
  // The braingraph-cli arguments of "Run comparison".
  QStringList comparisonArguments() const;
  // Export…: the shown comparison as PREFIX.md/.csv/.json, its paired tests as PREFIX-paired.* and the
  // out-of-fold predictions as PREFIX-predictions.csv (what compare --out writes); the files written,
  // empty with the reason in the summary line on failure.
  QStringList exportTo(const QString& prefix);

  QTableWidget* table() const { return table_; }
  // Each model's ROC curve from its pooled out-of-fold predictions, and the chance diagonal.
  QChart* rocChart() const;
  // Each model's AUC (mean over folds) against its share of training labels, for models evaluated in
  // two or more label regimes on the split (evaluate --regimes; the paper's figure 2).
  QChart* regimeChart() const;
  QComboBox* corpus() const { return corpus_; }
  QComboBox* split() const { return split_; }
  // The label regime compared: the label fractions evaluated on that split (100% first).
  QComboBox* labels() const { return labels_; }
  // The model the others are tested against (paired DeLong test on pooled out-of-fold predictions).
  QComboBox* reference() const { return reference_; }
  QLineEdit* methods() const { return methods_; }
  QSpinBox* folds() const { return folds_; }
  QPushButton* runButton() const { return run_; }
  QPushButton* exportButton() const { return export_; }

 Q_SIGNALS:
  void runRequested(const QStringList& args);

 private:
  void fillSplits();
  void fillLabels();
  double labelFraction() const;  // the chosen regime; 1 when none is listed
  void fillTable();
  void fillRocChart(const std::vector<std::pair<std::string, nlohmann::json>>& outOfFold);
  void fillRegimeChart();
  QString workspace_;
  QComboBox *corpus_, *split_, *labels_, *reference_;
  QLineEdit* methods_;
  QSpinBox* folds_;
  QPushButton *run_, *export_;
  QTableWidget* table_;
  QChartView *roc_, *regimes_;
  QLabel* summary_;
};

}  // namespace bg::ui
