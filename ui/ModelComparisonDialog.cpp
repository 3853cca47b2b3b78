#include "ModelComparisonDialog.h"

#include <algorithm>

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QIcon>
#include <QLabel>
#include <QLegend>
#include <QLineEdit>
#include <QLineSeries>
#include <QLocale>
#include <QLogValueAxis>
#include <QPainter>
#include <QPen>
#include <QPixmap>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QValueAxis>
#include <QVBoxLayout>

#include <spdlog/spdlog.h>

#include "errors/Error.h"
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
// Empties a chart for redrawing: its series and its axes.
void clearChart(QChart* chart) {
  chart->removeAllSeries();
  for (auto* axis : chart->axes()) {
    chart->removeAxis(axis);
    delete axis;
  }
}
}  // namespace

ModelComparisonDialog::ModelComparisonDialog(const QString& workspace, QWidget* parent) : QDialog(parent), workspace_(workspace) {
  setWindowTitle(tr("Model comparison"));
  corpus_ = new QComboBox(this);
  corpus_->setToolTip(tr("The corpus whose evaluations are compared (and on which Run comparison evaluates)"));
  split_ = new QComboBox(this);
  split_->setToolTip(tr("Rows come from evaluations with this split (k-fold or leave-site-out)"));
  labels_ = new QComboBox(this);
  labels_->setToolTip(
      tr("The label regime compared: evaluations that learned from this share of each fold's training labels "
         "(evaluate --regimes; every method draws the same labelled scans)"));
  methods_ = new QLineEdit(this);
  QStringList defaults;
  for (const auto& m : defaultComparisonMethods()) defaults << QString::fromStdString(m);
  methods_->setText(defaults.join(QLatin1Char(',')));
  methods_->setToolTip(tr("Methods to evaluate (braingraph-cli evaluate --method); NAME+pretrained pre-trains inside each fold"));
  folds_ = new QSpinBox(this);
  folds_->setRange(2, 20);
  folds_->setValue(5);
  folds_->setToolTip(tr("Stratified k-fold: every method is evaluated on the same folds"));
  reference_ = new QComboBox(this);
  reference_->setToolTip(
      tr("Every other model is tested against this one: the paired DeLong test on the out-of-fold predictions "
         "pooled over the folds and matched by scan"));
  table_ = new QTableWidget(0, 10, this);
  table_->setHorizontalHeaderLabels({tr("Model"), tr("AUC"), tr("Accuracy"), tr("Sensitivity"), tr("Specificity"), tr("Params"), tr("Time"), tr("Pooled AUC"),
                                     tr("Δ AUC [95% CI]"), tr("p")});
  const QStringList headerTips = {tr("The method (and prompt; pre-trained in folds where it says so)"),
                                  tr("Mean ± SD over folds [95% interval]"),
                                  tr("Mean over folds (the interval in the cell's tooltip)"),
                                  tr("Mean over folds (the interval in the cell's tooltip)"),
                                  tr("Mean over folds (the interval in the cell's tooltip)"),
                                  tr("Trainable parameters"),
                                  tr("Training time, and pre-training inside the folds"),
                                  tr("AUC of the out-of-fold predictions pooled over the folds"),
                                  tr("Pooled AUC minus the reference's on the same scans, with its 95% interval (paired DeLong)"),
                                  tr("Two-sided p of the paired DeLong test against the reference; Holm-adjusted in brackets")};
  for (int c = 0; c < headerTips.size(); ++c) table_->horizontalHeaderItem(c)->setToolTip(headerTips[c]);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSortingEnabled(true);
  table_->verticalHeader()->hide();
  table_->setToolTip(tr("The latest evaluation of each model on identical folds in the chosen label regime; click a header to sort"));
  summary_ = new QLabel(this);
  summary_->setWordWrap(true);
  roc_ = new QChartView(new QChart, this);
  roc_->setRenderHint(QPainter::Antialiasing);
  roc_->setMinimumWidth(300);
  roc_->setToolTip(tr("ROC curves of the out-of-fold predictions pooled over the folds (the curves the paired test compares)"));
  regimes_ = new QChartView(new QChart, this);
  regimes_->setRenderHint(QPainter::Antialiasing);
  regimes_->setToolTip(
      tr("AUC (mean over folds) against the share of each fold's training labels, for every model evaluated in "
         "two or more label regimes on this split (evaluate --regimes; the BrainGFM paper's figure 2)"));

  auto* form = new QFormLayout;
  form->addRow(tr("Corpus:"), corpus_);
  form->addRow(tr("Split:"), split_);
  form->addRow(tr("Labels:"), labels_);
  form->addRow(tr("Tested against:"), reference_);
  auto* run = run_ = new QPushButton(tr("Run comparison"), this);
  run->setToolTip(
      tr("Evaluates every listed method with the same folds in a tracked background run (see the Runs dock); "
         "the table fills in as evaluations finish (Refresh)"));
  auto* refreshButton = new QPushButton(tr("Refresh"), this);
  refreshButton->setToolTip(tr("Re-read the workspace's evaluations (a running comparison adds rows as methods finish)"));
  auto* runRow = new QHBoxLayout;
  runRow->addWidget(methods_, 1);
  runRow->addWidget(new QLabel(tr("Folds:"), this));
  runRow->addWidget(folds_);
  runRow->addWidget(run);
  export_ = new QPushButton(tr("Export…"), this);
  export_->setToolTip(tr("Write the table, the paired tests (Markdown, CSV, JSON) and every model's out-of-fold predictions and ROC curves (CSV)"));
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  buttons->addButton(refreshButton, QDialogButtonBox::ActionRole);
  buttons->addButton(export_, QDialogButtonBox::ActionRole);
  buttons->button(QDialogButtonBox::Close)->setToolTip(tr("Close this window (running comparisons go on in the Runs dock)"));
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  auto* split = new QSplitter(this);
  split->addWidget(table_);
  auto* charts = new QTabWidget(this);
  charts->addTab(roc_, tr("ROC"));
  charts->addTab(regimes_, tr("Label regimes"));
  charts->setToolTip(tr("The pooled ROC curves of the shown regime, or every model's AUC by label regime"));
  split->addWidget(charts);
  split->setStretchFactor(0, 1);
  split->setStretchFactor(1, 0);
  split->setSizes({1000, 360});
  layout->addWidget(split, 1);
  layout->addWidget(summary_);
  layout->addLayout(runRow);
  layout->addWidget(buttons);
  resize(1560, 600);

  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(refreshButton, &QPushButton::clicked, this, &ModelComparisonDialog::refresh);
  connect(corpus_, &QComboBox::currentIndexChanged, this, [this] {
    fillSplits();
    fillTable();
  });
  connect(split_, &QComboBox::currentIndexChanged, this, [this] {
    fillLabels();
    fillTable();
  });
  connect(labels_, &QComboBox::currentIndexChanged, this, &ModelComparisonDialog::fillTable);
  connect(reference_, &QComboBox::currentIndexChanged, this, &ModelComparisonDialog::fillTable);
  connect(run, &QPushButton::clicked, this, [this] {
    if (corpus_->currentText().isEmpty()) {
      summary_->setText(tr("The workspace has no corpus to compare on."));
      return;
    }
    Q_EMIT runRequested(comparisonArguments());
  });
  connect(export_, &QPushButton::clicked, this, [this] {
    const QString prefix = QFileDialog::getSaveFileName(this, tr("Export the comparison (file name prefix)"),
                                                        QStringLiteral("%1/comparison-%2").arg(workspace_, corpus_->currentText()));
    if (prefix.isEmpty()) return;
    const auto files = exportTo(prefix);
    if (!files.isEmpty()) summary_->setText(tr("Wrote %1 files: %2").arg(files.size()).arg(files.join(QStringLiteral(", "))));
  });
  refresh();
}

QChart* ModelComparisonDialog::rocChart() const { return roc_->chart(); }
QChart* ModelComparisonDialog::regimeChart() const { return regimes_->chart(); }

void ModelComparisonDialog::fillRegimeChart() {
  auto* chart = regimes_->chart();
  clearChart(chart);
  auto* x = new QLogValueAxis;
  x->setTitleText(tr("training labels (%)"));
  x->setBase(10);
  x->setLabelFormat(QStringLiteral("%g"));
  x->setRange(0.5, 100);
  auto* y = new QValueAxis;
  y->setTitleText(tr("AUC"));
  y->setRange(0.4, 1);
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  int drawn = 0;
  for (const auto& [model, curve] : labelRegimeCurves(evaluationsOf(workspace_), corpus_->currentText().toStdString(), split_->currentText().toStdString())) {
    auto* s = new QLineSeries;
    for (const auto& p : curve)
      if (p.labelFraction > 0) s->append(100 * p.labelFraction, p.auc);  // zero-shot has no place on a log axis
    if (s->count() < 2) {
      delete s;
      continue;
    }
    s->setName(QString::fromStdString(model));
    s->setObjectName(QString::fromStdString(model));
    s->setPointsVisible(true);
    chart->addSeries(s);
    s->attachAxis(x);
    s->attachAxis(y);
    ++drawn;
  }
  chart->setTitle(drawn == 0 ? tr("No model evaluated in several label regimes on this split") : tr("AUC by label regime"));
  chart->legend()->setVisible(drawn > 0);
  chart->legend()->setAlignment(Qt::AlignBottom);
}

void ModelComparisonDialog::fillRocChart(const std::vector<std::pair<std::string, json>>& outOfFold) {
  auto* chart = roc_->chart();
  clearChart(chart);
  auto* x = new QValueAxis;
  x->setTitleText(tr("1 − specificity"));
  x->setRange(0, 1);
  auto* y = new QValueAxis;
  y->setTitleText(tr("sensitivity"));
  y->setRange(0, 1);
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  auto add = [&](QLineSeries* s) {
    chart->addSeries(s);
    s->attachAxis(x);
    s->attachAxis(y);
  };
  for (const auto& [model, predictions] : outOfFold) {
    QList<QPointF> points;
    try {
      for (const auto& point : outOfFoldRocCurve(predictions)) points.append(QPointF(point.falsePositiveRate, point.truePositiveRate));
    } catch (const std::exception& e) {
      spdlog::warn("no ROC curve for {}: {}", model, e.what());
      continue;
    }
    if (points.isEmpty()) continue;
    auto* s = new QLineSeries;
    s->setName(QString::fromStdString(model));
    s->setObjectName(QString::fromStdString(model));
    s->replace(points);
    add(s);
  }
  auto* chance = new QLineSeries;
  chance->setName(tr("chance"));
  chance->setObjectName(QStringLiteral("chance"));
  chance->append(0, 0);
  chance->append(1, 1);
  chance->setPen(QPen(Qt::gray, 1, Qt::DashLine));
  add(chance);
  chart->setTitle(outOfFold.empty() ? tr("ROC: no stored predictions") : tr("ROC (pooled out-of-fold)"));
  chart->legend()->hide();  // the table's model names carry the colours
}

QStringList ModelComparisonDialog::exportTo(const QString& prefix) {
  QStringList out;
  try {
    auto ws = Workspace::open(workspace_.toStdString());
    const auto rows = comparisonTable(listEvaluations(*ws), corpus_->currentText().toStdString(), split_->currentText().toStdString(), labelFraction());
    if (rows.empty()) throw Error(ErrorCode::NoInput, "no evaluation of this corpus and split to export");
    const auto paired = storedPairedComparison(*ws, rows, reference_->currentText().toStdString());
    for (const auto& f : writeComparisonFiles(prefix.toStdString(), rows, paired.rows, paired.outOfFold)) out << QString::fromStdString(f);
  } catch (const std::exception& e) {
    summary_->setText(tr("Export failed: %1").arg(QString::fromStdString(e.what())));
    spdlog::error("exporting the comparison to {}: {}", prefix.toStdString(), e.what());
    return {};
  }
  return out;
}

QStringList ModelComparisonDialog::comparisonArguments() const {
  return {QStringLiteral("compare"),        QStringLiteral("-w"),        workspace_,
          QStringLiteral("--corpus"),       corpus_->currentText(),      QStringLiteral("--cv"),
          QString::number(folds_->value()), QStringLiteral("--methods"), methods_->text().remove(QLatin1Char(' '))};
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
  fillLabels();
}

void ModelComparisonDialog::fillLabels() {
  const double current = labelFraction();
  QSignalBlocker block(labels_);
  labels_->clear();
  for (double f : comparisonLabelFractions(evaluationsOf(workspace_), corpus_->currentText().toStdString(), split_->currentText().toStdString()))
    labels_->addItem(f > 0 ? tr("%1% of the training labels").arg(100 * f, 0, 'g', 4) : tr("zero-shot (no labels)"), f);
  const int i = labels_->findData(current);
  labels_->setCurrentIndex(i >= 0 ? i : 0);  // 100% where evaluated: it is listed first
}

double ModelComparisonDialog::labelFraction() const { return labels_->count() > 0 ? labels_->currentData().toDouble() : 1.0; }

void ModelComparisonDialog::fillTable() {
  table_->setSortingEnabled(false);
  table_->setRowCount(0);
  const auto rows = comparisonTable(evaluationsOf(workspace_), corpus_->currentText().toStdString(), split_->currentText().toStdString(), labelFraction());
  {  // the reference choices follow the rows; keep the user's choice while it is there
    const QString current = reference_->currentText();
    QSignalBlocker block(reference_);
    reference_->clear();
    for (const auto& r : rows) reference_->addItem(QString::fromStdString(r.model));
    const int i = reference_->findText(current.isEmpty() ? QString::fromStdString(defaultComparisonReference(rows)) : current);
    reference_->setCurrentIndex(i >= 0 ? i : reference_->findText(QString::fromStdString(defaultComparisonReference(rows))));
  }
  StoredPairedComparison paired;
  QString pairedError;
  if (!rows.empty()) {
    try {
      auto ws = Workspace::open(workspace_.toStdString());
      paired = storedPairedComparison(*ws, rows, reference_->currentText().toStdString());
    } catch (const std::exception& e) {
      pairedError = QString::fromStdString(e.what());
    }
  }
  for (const auto& r : rows) {
    const int row = table_->rowCount();
    table_->insertRow(row);
    auto* name = new QTableWidgetItem(QString::fromStdString(r.model));
    name->setToolTip(tr("Evaluation %1, %2").arg(r.evaluationId).arg(QString::fromStdString(r.createdAt)));
    table_->setItem(row, 0, name);
    int col = 1;
    // AUC with its interval; the other metrics as means (their intervals in the tooltip) to leave room for the tests.
    for (const char* m : {"auc", "accuracy", "sensitivity", "specificity"}) {
      const auto& metric = r.metrics.value(m, json::object());
      const QString full = metricText(metric);
      auto* item = new NumberItem(col == 1 || !metric.contains("mean") ? full : QString::number(metric.value("mean", 0.0), 'f', 3), metric.value("mean", 0.0));
      item->setToolTip(tr("mean ± SD over folds [95% interval]: %1").arg(full));
      table_->setItem(row, col++, item);
    }
    const double params = r.trainableParameters.is_number() ? r.trainableParameters.get<double>() : -1;
    table_->setItem(row, col++, new NumberItem(params >= 0 ? QLocale().toString(static_cast<qlonglong>(params)) : QStringLiteral("-"), params));
    const double secs = r.trainingSeconds + r.pretrainingSeconds;
    auto* time = new NumberItem(tr("%1 s").arg(secs, 0, 'f', 0), secs);
    time->setToolTip(r.pretrainingSeconds > 0
                         ? tr("%1 s training, %2 s pre-training inside the folds").arg(r.trainingSeconds, 0, 'f', 0).arg(r.pretrainingSeconds, 0, 'f', 0)
                         : tr("%1 s training").arg(r.trainingSeconds, 0, 'f', 0));
    table_->setItem(row, col++, time);
    const bool stored = std::find(paired.missing.begin(), paired.missing.end(), r.model) == paired.missing.end();
    const auto test = std::find_if(paired.rows.begin(), paired.rows.end(), [&](const PairedComparisonRow& p) { return p.model == r.model; });
    if (r.model == reference_->currentText().toStdString() && stored && pairedError.isEmpty()) {
      const double auc = paired.rows.empty() ? -1 : paired.rows.front().test.aucB;
      table_->setItem(row, col++, new NumberItem(auc >= 0 ? QString::number(auc, 'f', 3) : QStringLiteral("-"), auc));
      table_->setItem(row, col++, new NumberItem(tr("reference"), 0));
      table_->setItem(row, col++, new NumberItem(QStringLiteral("-"), 2));
    } else if (test != paired.rows.end()) {
      const auto& t = test->test;
      const double half = 1.959964 * t.se;
      table_->setItem(row, col++, new NumberItem(QString::number(t.aucA, 'f', 3), t.aucA));
      auto* diff = new NumberItem(
          QStringLiteral("%1 [%2, %3]").arg(t.difference, 0, 'f', 3).arg(t.difference - half, 0, 'f', 3).arg(t.difference + half, 0, 'f', 3), t.difference);
      diff->setToolTip(tr("%1 − %2, pooled over %3 scans; positive: better than the reference")
                           .arg(QString::fromStdString(r.model), QString::fromStdString(test->reference))
                           .arg(t.positives + t.negatives));
      table_->setItem(row, col++, diff);
      // With several models tested against one reference, Holm's adjustment is what to read.
      auto* p = new NumberItem(
          paired.rows.size() > 1 ? tr("%1 (Holm %2)").arg(QString::number(t.p, 'g', 3), QString::number(test->pHolm, 'g', 3)) : QString::number(t.p, 'g', 3),
          t.p);
      p->setToolTip(tr("Two-sided paired DeLong test; Holm-adjusted over the %n model(s) tested against the reference: %1%2", nullptr,
                       static_cast<int>(paired.rows.size()))
                        .arg(QString::number(test->pHolm, 'g', 3))
                        .arg(test->pHolm < 0.05 ? tr(" (significant at the 5% level)") : QString()));
      table_->setItem(row, col++, p);
    } else {
      const QString why = !pairedError.isEmpty() ? pairedError
                          : !stored              ? tr("This evaluation stored no out-of-fold predictions (recorded by an older version): evaluate it again")
                                                 : tr("The reference has no stored out-of-fold predictions");
      for (int k = 0; k < 3; ++k) {
        auto* item = new NumberItem(QStringLiteral("-"), k == 2 ? 2.0 : -1.0);
        item->setToolTip(why);
        table_->setItem(row, col++, item);
      }
    }
  }
  table_->setSortingEnabled(true);
  table_->sortByColumn(1, Qt::DescendingOrder);
  fillRocChart(paired.outOfFold);
  fillRegimeChart();
  // The chart has no legend (model names are long): each model's row carries its curve's colour.
  for (int row = 0; row < table_->rowCount(); ++row) {
    auto* name = table_->item(row, 0);
    name->setIcon(QIcon());
    for (auto* series : roc_->chart()->series())
      if (series->objectName() == name->text())
        if (auto* line = qobject_cast<QLineSeries*>(series)) {
          QPixmap swatch(12, 12);
          swatch.fill(line->color());
          name->setIcon(QIcon(swatch));
        }
  }
  summary_->setText(rows.empty() ? tr("No evaluation of this corpus yet: run the comparison below, or braingraph-cli compare.")
                                 : tr("%1 models, %2 scans, %3 folds; intervals are 95% over folds. Pooled AUC, Δ and p: the paired DeLong "
                                      "test against %4 on the out-of-fold predictions pooled over the folds (two-sided; Holm-adjusted in brackets).%5")
                                       .arg(rows.size())
                                       .arg(rows.front().items)
                                       .arg(rows.front().folds)
                                       .arg(reference_->currentText())
                                       .arg(paired.missing.empty() ? QString()
                                                                   : tr(" %n model(s) without stored predictions: evaluate again to test them.", nullptr,
                                                                        static_cast<int>(paired.missing.size()))));
}

}  // namespace bg::ui
