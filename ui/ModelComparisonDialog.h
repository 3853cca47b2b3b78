#pragma once
// The model comparison of a corpus (the BrainGFM paper's table 1 on the user's data): the latest
// stored evaluation of every model with the same split — AUC, accuracy, sensitivity and
// specificity with 95% intervals, trainable parameters, training time — and a button that runs
// the whole comparison (braingraph-cli compare) as a tracked run.
#include <QDialog>
#include <QString>
#include <QStringList>

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

  QTableWidget* table() const { return table_; }
  QComboBox* corpus() const { return corpus_; }
  QComboBox* split() const { return split_; }
  QLineEdit* methods() const { return methods_; }
  QSpinBox* folds() const { return folds_; }
  QPushButton* runButton() const { return run_; }

 Q_SIGNALS:
  void runRequested(const QStringList& args);

 private:
  void fillSplits();
  void fillTable();
  QString workspace_;
  QComboBox *corpus_, *split_;
  QLineEdit* methods_;
  QSpinBox* folds_;
  QPushButton* run_;
  QTableWidget* table_;
  QLabel* summary_;
};

}  // namespace bg::ui
