#include "RunsPanel.h"

#include <csignal>

#include <QDateTime>
#include <QDir>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QProcess>
#include <QProcessEnvironment>
#include <QPushButton>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <spdlog/spdlog.h>

#include "EngineInfo.h"
#include "workspace/RunTracking.h"
#include "workspace/Workspace.h"

namespace bg::ui {

namespace {
enum Column { Id, Name, State, Stage, Progress, Pid, Started, Log, Columns };
}

RunsPanel::RunsPanel(QWidget* parent) : QWidget(parent) {
  table_ = new QTableWidget(0, Columns, this);
  table_->setHorizontalHeaderLabels({tr("Run"), tr("Task"), tr("State"), tr("Stage"), tr("Progress"), tr("PID"), tr("Started"), tr("Log")});
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setToolTip(tr("Runs in their own processes: they go on when this window closes, and any window shows them"));
  cancel_ = new QPushButton(tr("Cancel Run"), this);
  cancel_->setToolTip(tr("Ask the selected run to stop (it keeps its checkpoint)"));
  connect(cancel_, &QPushButton::clicked, this, [this] {
    const int row = table_->currentRow();
    if (row >= 0) cancel(table_->item(row, Pid)->text().toLongLong());
  });
  auto* buttons = new QHBoxLayout;
  buttons->addStretch(1);
  buttons->addWidget(cancel_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(table_);
  layout->addLayout(buttons);
  timer_ = new QTimer(this);
  timer_->setInterval(1000);
  connect(timer_, &QTimer::timeout, this, &RunsPanel::refresh);
  timer_->start();
}

void RunsPanel::setWorkspace(const QString& dir) {
  workspace_ = dir;
  refresh();
}

qint64 RunsPanel::launch(const QStringList& args) {
  if (workspace_.isEmpty()) return 0;
  QDir(workspace_).mkpath(QStringLiteral("runs"));
  const QString log = workspace_ + QStringLiteral("/runs/") + QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss-zzz")) +
                      QStringLiteral(".log");
  QProcess p;
  p.setProgram(EngineInfo::cliPath());
  p.setArguments(QStringList{QStringLiteral("--no-progress")} + args);
  auto env = QProcessEnvironment::systemEnvironment();
  env.insert(QStringLiteral("BRAINGRAPH_TRACK_RUN"), workspace_);
  env.insert(QStringLiteral("BRAINGRAPH_RUN_LOG"), log);
  p.setProcessEnvironment(env);
  p.setStandardOutputFile(log);
  p.setStandardErrorFile(log, QIODevice::Append);
  p.setStandardInputFile(QProcess::nullDevice());
  qint64 pid = 0;
  if (!p.startDetached(&pid)) {
    spdlog::error("cannot start {}: {}", EngineInfo::cliPath().toStdString(), p.errorString().toStdString());
    return 0;
  }
  spdlog::info("run started: pid {}, log {}", pid, log.toStdString());
  return pid;
}

void RunsPanel::cancel(qint64 pid) {
  if (pid > 0 && processAlive(static_cast<int>(pid))) ::kill(static_cast<pid_t>(pid), SIGINT);
}

void RunsPanel::refresh() {
  if (workspace_.isEmpty()) return;
  std::vector<TrackedRun> runs;
  try {
    auto ws = Workspace::open(workspace_.toStdString());
    reconcileTrackedRuns(*ws);
    runs = listTrackedRuns(*ws);
  } catch (const std::exception& e) {
    spdlog::debug("runs: {}", e.what());
    return;
  }
  table_->setRowCount(static_cast<int>(runs.size()));
  for (int r = 0; r < static_cast<int>(runs.size()); ++r) {
    const auto& run = runs[static_cast<std::size_t>(r)];
    const QStringList cells{QString::number(run.id),
                            QString::fromStdString(run.name),
                            QString::fromStdString(run.state),
                            QString::fromStdString(run.state == "failed" && !run.error.empty() ? run.error : run.stage),
                            QString::number(100.0 * run.progress, 'f', 1) + QStringLiteral(" %"),
                            QString::number(run.pid),
                            QString::fromStdString(run.createdAt),
                            QString::fromStdString(run.logPath)};
    for (int c = 0; c < Columns; ++c) {
      auto* item = table_->item(r, c);
      if (!item) table_->setItem(r, c, item = new QTableWidgetItem);
      item->setText(cells[c]);
      if (c == Name) item->setToolTip(QString::fromStdString(run.command));
    }
    table_->item(r, Progress)->setData(Qt::UserRole, run.progress);
  }
  cancel_->setEnabled(!runs.empty());
}

int RunsPanel::rowCount() const { return table_->rowCount(); }

int RunsPanel::rowOf(qint64 pid) const {
  for (int r = 0; r < table_->rowCount(); ++r)
    if (table_->item(r, Pid)->text().toLongLong() == pid) return r;
  return -1;
}

QString RunsPanel::stateOf(qint64 pid) const {
  const int r = rowOf(pid);
  return r < 0 ? QString() : table_->item(r, State)->text();
}

double RunsPanel::progressOf(qint64 pid) const {
  const int r = rowOf(pid);
  return r < 0 ? -1.0 : table_->item(r, Progress)->data(Qt::UserRole).toDouble();
}

}  // namespace bg::ui
