#include "RunCompareDialog.h"

#include <set>

#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace bg::ui {
using nlohmann::json;

namespace {
QString cell(const json& v) {
  if (v.is_null()) return QStringLiteral("—");
  if (v.is_string()) return QString::fromStdString(v.get<std::string>());
  if (v.is_number_float()) return QString::number(v.get<double>(), 'g', 5);
  return QString::fromStdString(v.dump());
}

QTableWidget* makeTable(const QString& left, const QString& right, QWidget* parent) {
  auto* t = new QTableWidget(0, 3, parent);
  t->setHorizontalHeaderLabels({QObject::tr("Setting"), left, right});
  t->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  t->setEditTriggers(QAbstractItemView::NoEditTriggers);
  t->verticalHeader()->hide();
  return t;
}

void addRow(QTableWidget* t, const QString& key, const json& l, const json& r) {
  const int row = t->rowCount();
  t->insertRow(row);
  t->setItem(row, 0, new QTableWidgetItem(key));
  t->setItem(row, 1, new QTableWidgetItem(cell(l)));
  t->setItem(row, 2, new QTableWidgetItem(cell(r)));
}
}  // namespace

RunCompareDialog::RunCompareDialog(const TrackedRun& left, const TrackedRun& right, QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Compare runs %1 and %2").arg(left.id).arg(right.id));
  setAttribute(Qt::WA_DeleteOnClose);
  const QString l = tr("Run %1 (%2)").arg(left.id).arg(QString::fromStdString(left.name));
  const QString r = tr("Run %1 (%2)").arg(right.id).arg(QString::fromStdString(right.name));
  configuration_ = makeTable(l, r, this);
  configuration_->setToolTip(
      tr("Only the settings that differ: \"used\" is what each run actually used (its configuration after defaults and "
         "command-line overrides), \"options\" its command line"));
  for (const auto& d : diffConfigurations(comparableRunSettings(left), comparableRunSettings(right)))
    addRow(configuration_, QString::fromStdString(d.key), d.left, d.right);
  metrics_ = makeTable(l, r, this);
  metrics_->setToolTip(
      tr("An evaluation's metrics are the mean ± SD over its folds (test: each fold's test scans; validation and loss: each "
         "fold's last epoch); a training run's are the last value of each curve"));
  std::set<std::string> keys;
  for (const auto& [k, v] : left.metrics.items()) keys.insert(k);
  for (const auto& [k, v] : right.metrics.items()) keys.insert(k);
  // "test/auc" and "test/auc sd" make one row: mean ± SD.
  auto value = [](const json& metrics, const std::string& k) -> json {
    if (!metrics.contains(k)) return json();
    if (const auto sd = k + " sd"; metrics.contains(sd) && metrics[k].is_number() && metrics[sd].is_number())
      return QStringLiteral("%1 ± %2").arg(metrics[k].get<double>(), 0, 'f', 3).arg(metrics[sd].get<double>(), 0, 'f', 3).toStdString();
    return metrics[k];
  };
  for (const auto& k : keys)
    if (k.size() < 3 || k.compare(k.size() - 3, 3, " sd") != 0) addRow(metrics_, QString::fromStdString(k), value(left.metrics, k), value(right.metrics, k));
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  buttons->button(QDialogButtonBox::Close)->setToolTip(tr("Close the comparison"));
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(new QLabel(tr("<b>Settings</b> (differences; \"used\": what each run actually used)"), this));
  layout->addWidget(configuration_, 1);
  layout->addWidget(new QLabel(tr("<b>Metrics</b> (evaluations: mean ± SD over folds)"), this));
  layout->addWidget(metrics_, 1);
  layout->addWidget(buttons);
  resize(760, 560);
}

}  // namespace bg::ui
