#include "ModelComparisonDialog.h"

#include <algorithm>

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include <spdlog/spdlog.h>

#include "eval/ModelComparison.h"
#include "workspace/Corpus.h"
#include "workspace/Workspace.h"

namespace bg::ui {
using nlohmann::json;

namespace {
// A table cell that sorts by its number, not its text.
class NumberItem : public QTableWidgetItem {
 public:
  NumberItem(const QString& text, double value) : QTableWidgetItem(text) { setData(Qt::UserRole, value); }
  bool operator<(const QTableWidgetItem& other) const override { return data(Qt::UserRole).toDouble() < other.data(Qt::UserRole).toDouble(); }
};

QString metricText(const json& m) {
  if (!m.is_object() || !m.contains("mean") || !m.contains("ci95")) return QStringLiteral("-");
  return QStringLiteral("%1 ± %2 [%3, %4]")
      .arg(m.value("mean", 0.0), 0, 'f', 3)
      .arg(m.value("sd", 0.0), 0, 'f', 3)
      .arg(std::max(0.0, m["ci95"][0].get<double>()), 0, 'f', 3)  // bounded metrics
      .arg(std::min(1.0, m["ci95"][1].get<double>()), 0, 'f', 3);
}

std::vector<EvaluationRecord> evaluationsOf(const QString& dir) {
  try {
    auto ws = Workspace::open(dir.toStdString());
    return listEvaluations(*ws);
  } catch (const std::exception& e) {
    spdlog::warn("cannot read the evaluations of {}: {}", dir.toStdString(), e.what());
    return {};
  }
}
}  // namespace

ModelComparisonDialog::ModelComparisonDialog(const QString& workspace, QWidget* parent) : QDialog(parent), workspace_(workspace) {
  setWindowTitle(tr("Model comparison"));
  corpus_ = new QComboBox(this);
  corpus_->setToolTip(tr("The corpus whose evaluations are compared (and on which Run comparison evaluates)"));
  split_ = new QComboBox(this);
  split_->setToolTip(tr("Rows come from evaluations with this split (k-fold or leave-site-out) and every training label"));
  methods_ = new QLineEdit(this);
  QStringList defaults;
  for (const auto& m : defaultComparisonMethods()) defaults << QString::fromStdString(m);
  methods_->setText(defaults.join(QLatin1Char(',')));
  methods_->setToolTip(tr("Methods to evaluate (braingraph-cli evaluate --method); NAME+pretrained pre-trains inside each fold"));
  folds_ = new QSpinBox(this);
  folds_->setRange(2, 20);
  folds_->setValue(5);
  folds_->setToolTip(tr("Stratified k-fold: every method is evaluated on the same folds"));
  table_ = new QTableWidget(0, 7, this);
  table_->setHorizontalHeaderLabels({tr("Model"), tr("AUC"), tr("Accuracy"), tr("Sensitivity"), tr("Specificity"), tr("Trainable params"),
                                     tr("Training time")});
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSortingEnabled(true);
  table_->verticalHeader()->hide();
  table_->setToolTip(tr("The latest evaluation of each model on identical folds with every training label; click a header to sort"));
  summary_ = new QLabel(this);
  summary_->setWordWrap(true);

  auto* form = new QFormLayout;
  form->addRow(tr("Corpus:"), corpus_);
  form->addRow(tr("Split:"), split_);
  auto* run = run_ = new QPushButton(tr("Run comparison"), this);
  run->setToolTip(tr("Evaluates every listed method with the same folds in a tracked background run (see the Runs dock); "
                     "the table fills in as evaluations finish (Refresh)"));
  auto* refreshButton = new QPushButton(tr("Refresh"), this);
  refreshButton->setToolTip(tr("Re-read the workspace's evaluations (a running comparison adds rows as methods finish)"));
  auto* runRow = new QHBoxLayout;
  runRow->addWidget(methods_, 1);
  runRow->addWidget(new QLabel(tr("Folds:"), this));
  runRow->addWidget(folds_);
  runRow->addWidget(run);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  buttons->addButton(refreshButton, QDialogButtonBox::ActionRole);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(table_, 1);
  layout->addWidget(summary_);
  layout->addLayout(runRow);
  layout->addWidget(buttons);
  resize(980, 480);

  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(refreshButton, &QPushButton::clicked, this, &ModelComparisonDialog::refresh);
  connect(corpus_, &QComboBox::currentIndexChanged, this, [this] {
    fillSplits();
    fillTable();
  });
  connect(split_, &QComboBox::currentIndexChanged, this, &ModelComparisonDialog::fillTable);
  connect(run, &QPushButton::clicked, this, [this] {
    if (corpus_->currentText().isEmpty()) {
      summary_->setText(tr("The workspace has no corpus to compare on."));
      return;
    }
    Q_EMIT runRequested(comparisonArguments());
  });
  refresh();
}

QStringList ModelComparisonDialog::comparisonArguments() const {
  return {QStringLiteral("compare"), QStringLiteral("-w"),        workspace_,           QStringLiteral("--corpus"), corpus_->currentText(),
          QStringLiteral("--cv"),    QString::number(folds_->value()), QStringLiteral("--methods"), methods_->text().remove(QLatin1Char(' '))};
}

void ModelComparisonDialog::refresh() {
  const QString current = corpus_->currentText();
  QSignalBlocker block(corpus_);
  corpus_->clear();
  try {
    auto ws = Workspace::open(workspace_.toStdString());
    for (const auto& c : listCorpora(*ws)) corpus_->addItem(QString::fromStdString(c));
  } catch (const std::exception& e) {
    summary_->setText(tr("Cannot open the workspace: %1").arg(QString::fromStdString(e.what())));
  }
  if (const int i = corpus_->findText(current); i >= 0) corpus_->setCurrentIndex(i);
  fillSplits();
  fillTable();
}

void ModelComparisonDialog::fillSplits() {
  const QString current = split_->currentText();
  QSignalBlocker block(split_);
  split_->clear();
  for (const auto& s : comparisonSplits(evaluationsOf(workspace_), corpus_->currentText().toStdString())) split_->addItem(QString::fromStdString(s));
  if (const int i = split_->findText(current); i >= 0) split_->setCurrentIndex(i);
}

void ModelComparisonDialog::fillTable() {
  table_->setSortingEnabled(false);
  table_->setRowCount(0);
  const auto rows = comparisonTable(evaluationsOf(workspace_), corpus_->currentText().toStdString(), split_->currentText().toStdString());
  for (const auto& r : rows) {
    const int row = table_->rowCount();
    table_->insertRow(row);
    auto* name = new QTableWidgetItem(QString::fromStdString(r.model));
    name->setToolTip(tr("Evaluation %1, %2").arg(r.evaluationId).arg(QString::fromStdString(r.createdAt)));
    table_->setItem(row, 0, name);
    int col = 1;
    for (const char* m : {"auc", "accuracy", "sensitivity", "specificity"})
      table_->setItem(row, col++, new NumberItem(metricText(r.metrics.value(m, json())), r.metrics.value(m, json::object()).value("mean", 0.0)));
    const double params = r.trainableParameters.is_number() ? r.trainableParameters.get<double>() : -1;
    table_->setItem(row, col++, new NumberItem(params >= 0 ? QLocale().toString(static_cast<qlonglong>(params)) : QStringLiteral("-"), params));
    const double secs = r.trainingSeconds + r.pretrainingSeconds;
    table_->setItem(row, col++, new NumberItem(r.pretrainingSeconds > 0 ? tr("%1 s (%2 s pre-training)").arg(secs, 0, 'f', 0).arg(r.pretrainingSeconds, 0, 'f', 0)
                                                                        : tr("%1 s").arg(secs, 0, 'f', 0),
                                               secs));
  }
  table_->setSortingEnabled(true);
  table_->sortByColumn(1, Qt::DescendingOrder);
  summary_->setText(rows.empty() ? tr("No evaluation of this corpus yet: run the comparison below, or braingraph-cli compare.")
                                 : tr("%1 models, %2 scans, %3 folds; intervals are 95% over folds.")
                                       .arg(rows.size())
                                       .arg(rows.front().items)
                                       .arg(rows.front().folds));
}

}  // namespace bg::ui
