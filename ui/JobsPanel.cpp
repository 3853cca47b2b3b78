#include "JobsPanel.h"

#include <QHeaderView>
#include <QMessageBox>
#include <QProgressBar>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>

#include "JobBridge.h"

#include <spdlog/spdlog.h>

namespace bg::ui {
namespace {
enum Column { Name = 0, State, Stage, Progress, Eta, Cancel, ColumnCount };

QString formatEta(double seconds) {
  if (seconds < 0) return QStringLiteral("—");
  const long s = std::lround(seconds);
  return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}
}  // namespace

JobsPanel::JobsPanel(JobBridge& bridge, QWidget* parent) : QWidget(parent), bridge_(bridge) {
  table_ = new QTableWidget(0, ColumnCount, this);
  table_->setHorizontalHeaderLabels({tr("Job"), tr("State"), tr("Stage"), tr("Progress"), tr("ETA"), QString()});
  table_->horizontalHeader()->setSectionResizeMode(Name, QHeaderView::Stretch);
  table_->horizontalHeader()->setSectionResizeMode(Stage, QHeaderView::Stretch);
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setToolTip(tr("Background jobs: state, progress and estimated time left; click a failed job (in red) for its full message"));
  // Errors never block: they show in the row, in red, and in the status bar; the whole chained message one click away.
  connect(table_, &QTableWidget::cellClicked, this, [this](int row, int) { showFailure(row); });
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(table_);
  connect(&bridge_, &JobBridge::jobChanged, this, &JobsPanel::onJobChanged);
}

int JobsPanel::rowCount() const { return table_->rowCount(); }

QColor JobsPanel::stateColour(int row) const {
  auto* item = table_->item(row, State);
  return item ? item->foreground().color() : QColor();
}

QString JobsPanel::progressText(int row) const {
  auto* bar = qobject_cast<QProgressBar*>(table_->cellWidget(row, Progress));
  return bar ? bar->text() : QString();
}

QMessageBox* JobsPanel::showFailure(int row) {
  auto* state = table_->item(row, State);
  auto* stage = table_->item(row, Stage);
  if (!state || !stage || state->text() != QStringLiteral("failed")) return nullptr;
  auto* box = new QMessageBox(QMessageBox::Warning, tr("Job failed"), table_->item(row, Name)->text(), QMessageBox::Close, this);
  box->setObjectName(QStringLiteral("jobFailure"));
  box->setInformativeText(stage->toolTip());
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->setModal(false);
  box->show();
  return box;
}

QString JobsPanel::cellText(int row, int column) const {
  if (column == Progress) {
    auto* bar = qobject_cast<QProgressBar*>(table_->cellWidget(row, Progress));
    return bar ? QString::number(bar->value()) : QString();
  }
  auto* item = table_->item(row, column);
  return item ? item->text() : QString();
}

void JobsPanel::cancelRow(int row) {
  if (auto* b = qobject_cast<QToolButton*>(table_->cellWidget(row, Cancel))) b->click();
}

void JobsPanel::onJobChanged(const bg::JobSnapshot& snap) {
  int row;
  if (auto it = rows_.find(snap.id); it != rows_.end()) {
    row = it.value();
    if (snap.state == JobState::Failed && table_->item(row, State)->text() != QStringLiteral("failed")) {
      spdlog::error("{} failed: {}", snap.name, snap.error);
      Q_EMIT jobFailed(QString::fromStdString(snap.name), QString::fromStdString(snap.error));
    }
  } else {
    row = table_->rowCount();
    table_->insertRow(row);
    rows_.insert(snap.id, row);
    for (int c : {Name, State, Stage, Eta}) table_->setItem(row, c, new QTableWidgetItem);
    auto* bar = new QProgressBar;
    bar->setRange(0, 100);
    table_->setCellWidget(row, Progress, bar);
    auto* cancel = new QToolButton;
    cancel->setText(tr("Cancel"));
    cancel->setToolTip(tr("Cancel this job; partial output is removed"));
    const JobId id = snap.id;
    connect(cancel, &QToolButton::clicked, this, [this, id] {
      if (auto job = bridge_.runner().find(id)) job->requestCancel();
    });
    table_->setCellWidget(row, Cancel, cancel);
  }
  table_->item(row, Name)->setText(QString::fromStdString(snap.name));
  table_->item(row, State)->setText(QString::fromUtf8(jobStateName(snap.state).data()));
  table_->item(row, Stage)->setText(QString::fromStdString(snap.state == JobState::Failed ? snap.error : snap.stage));
  table_->item(row, Stage)->setToolTip(QString::fromStdString(snap.error.empty() ? snap.stage : snap.error));
  table_->item(row, Eta)->setText(formatEta(snap.etaSeconds));
  auto* bar = static_cast<QProgressBar*>(table_->cellWidget(row, Progress));
  bar->setValue(static_cast<int>(std::lround(snap.fraction * 100)));
  // A failed or cancelled job never shows as a full blue bar: its state is the bar's text, in its colour.
  const bool failed = snap.state == JobState::Failed, cancelled = snap.state == JobState::Cancelled;
  bar->setFormat(failed ? tr("failed") : cancelled ? tr("cancelled") : QStringLiteral("%p%"));
  bar->setStyleSheet(
      failed      ? QStringLiteral("QProgressBar { color: #cf222e; font-weight: bold; text-align: center; } QProgressBar::chunk { background: #ffd7d5; }")
      : cancelled ? QStringLiteral("QProgressBar { text-align: center; } QProgressBar::chunk { background: #d0d7de; }")
                  : QString());
  table_->item(row, State)->setForeground(failed ? QColor(0xcf, 0x22, 0x2e) : cancelled ? QColor(0x57, 0x60, 0x6a) : palette().color(QPalette::Text));
  if (failed) {
    QFont bold = table_->font();
    bold.setBold(true);
    table_->item(row, State)->setFont(bold);
  }
  // The state drives the buttons, as in Slicer: only live jobs can be cancelled.
  table_->cellWidget(row, Cancel)->setEnabled(snap.state == JobState::Queued || snap.state == JobState::Running);
}

}  // namespace bg::ui
