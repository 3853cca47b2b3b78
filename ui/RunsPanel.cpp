#include "RunsPanel.h"

#include <QDateTime>
#include <QDir>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QProcess>
#include <QProcessEnvironment>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <spdlog/spdlog.h>

#include "EngineInfo.h"
#include "AdaptSiteDialog.h"
#include "ReleaseModelDialog.h"
#include "RunCompareDialog.h"
#include "RunDashboard.h"
#include "workspace/RunActions.h"
#include "workspace/Workspace.h"

namespace bg::ui {

namespace {
enum Column { Id, Name, State, Stage, Progress, Pid, Started, Log, Columns };

QString option(const TrackedRun& run, const char* key) { return QString::fromStdString(runOption(run, key)); }

RunActions actionsOf(const TrackedRun& run) { return runActions(run, run.state == JobState::Running && processPaused(run.pid)); }
}  // namespace

RunsPanel::RunsPanel(QWidget* parent) : QWidget(parent) {
  table_ = new QTableWidget(0, Columns, this);
  table_->setHorizontalHeaderLabels({tr("Run"), tr("Task"), tr("State"), tr("Stage"), tr("Progress"), tr("PID"), tr("Started"), tr("Log")});
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setToolTip(tr("Runs in their own processes: they go on when this window closes, and any window shows them. Select two to compare."));
  dashboard_ = new RunDashboard(this);
  auto button = [this](const QString& text, const QString& tip) {
    auto* b = new QPushButton(text, this);
    b->setToolTip(tip);
    return b;
  };
  pause_ = button(tr("Pause"), tr("Stop the selected run where it is (its process sleeps; Resume continues it)"));
  resume_ = button(tr("Resume"), tr("Continue a paused run, or start a cancelled pre-training again from its checkpoint"));
  cancel_ = button(tr("Cancel Run"), tr("Ask the selected run to stop (it keeps its checkpoint)"));
  compare_ = button(tr("Compare…"), tr("Two selected runs side by side: configuration differences and final metrics"));
  release_ = button(tr("Release…"), tr("Release the selected train run's model with a model card from a stored evaluation"));
  adaptSite_ = button(tr("Adapt to Site…"), tr("Give the selected train run's model (input standardised per site: fc-site, tangent-site) "
                                               "a new acquisition site's statistics from a few unlabelled scans of that site"));
  const auto selectedPid = [this] {
    const auto* run = runAt(table_->currentRow());
    return run ? static_cast<qint64>(run->pid) : qint64(0);
  };
  connect(pause_, &QPushButton::clicked, this, [this, selectedPid] { pause(selectedPid()); });
  connect(resume_, &QPushButton::clicked, this, [this, selectedPid] { resume(selectedPid()); });
  connect(cancel_, &QPushButton::clicked, this, [this, selectedPid] { cancel(selectedPid()); });
  connect(compare_, &QPushButton::clicked, this, [this] {
    QList<int> rows;
    for (const auto& r : table_->selectionModel()->selectedRows()) rows << r.row();
    if (rows.size() == 2) compare(runAt(rows[0])->id, runAt(rows[1])->id);
  });
  connect(release_, &QPushButton::clicked, this, [this] {
    if (const auto* run = runAt(table_->currentRow())) showRelease(run->id);
  });
  connect(adaptSite_, &QPushButton::clicked, this, [this] {
    if (const auto* run = runAt(table_->currentRow())) showAdaptSite(run->id);
  });
  connect(table_, &QTableWidget::itemSelectionChanged, this, [this] {
    if (const auto* run = runAt(table_->currentRow())) {
      dashboard_->setRun(*run);
      dashboard_->show();
    }
    updateButtons();
  });
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(compare_);
  buttons->addWidget(release_);
  buttons->addWidget(adaptSite_);
  buttons->addStretch(1);
  buttons->addWidget(pause_);
  buttons->addWidget(resume_);
  buttons->addWidget(cancel_);
  auto* top = new QWidget(this);
  auto* topLayout = new QVBoxLayout(top);
  topLayout->setContentsMargins(0, 0, 0, 0);
  topLayout->addWidget(table_);
  topLayout->addLayout(buttons);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(top);
  split->addWidget(dashboard_);
  split->setStretchFactor(1, 2);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(split);
  dashboard_->hide();  // until a run is selected
  timer_ = new QTimer(this);
  timer_->setInterval(1000);
  connect(timer_, &QTimer::timeout, this, &RunsPanel::refresh);
  timer_->start();
  updateButtons();
}

void RunsPanel::setWorkspace(const QString& dir) {
  workspace_ = dir;
  dashboard_->clear();
  dashboard_->hide();
  refresh();
}

qint64 RunsPanel::launch(const QStringList& args) {
  if (workspace_.isEmpty()) return 0;
  QDir(workspace_).mkpath(QStringLiteral("runs"));
  const QString log =
      workspace_ + QStringLiteral("/runs/") + QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss-zzz")) + QStringLiteral(".log");
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
  if (pid > 0) signalRun(static_cast<int>(pid), RunSignal::Cancel);
  refresh();
}

void RunsPanel::pause(qint64 pid) {
  if (pid > 0) signalRun(static_cast<int>(pid), RunSignal::Pause);
  refresh();
}

qint64 RunsPanel::resume(qint64 pid) {
  const int row = rowOf(pid);
  const TrackedRun* run = runAt(row);
  if (!run) return 0;
  if (run->state == JobState::Running) {
    signalRun(run->pid, RunSignal::Resume);
    refresh();
    return pid;
  }
  // A stopped pre-training continues from its last epoch's checkpoint in a new process.
  if (run->config.value("command", std::string()) != "pretrain" || !run->config.contains("argv")) {
    spdlog::warn("run {} cannot be resumed: only pre-training keeps a checkpoint to continue from", run->id);
    return 0;
  }
  QStringList args;
  for (const auto& a : run->config["argv"]) {
    const QString s = QString::fromStdString(a.get<std::string>());
    if (s != QLatin1String("--no-progress")) args << s;
  }
  if (!args.contains(QStringLiteral("--resume"))) args << QStringLiteral("--resume");
  const qint64 started = launch(args);
  refresh();
  return started;
}

const TrackedRun* RunsPanel::runAt(int row) const {
  if (row < 0 || row >= table_->rowCount()) return nullptr;
  return runById(table_->item(row, Id)->text().toLongLong());
}

const TrackedRun* RunsPanel::runById(std::int64_t id) const {
  for (const auto& r : runs_)
    if (r.id == id) return &r;
  return nullptr;
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
  runs_ = std::move(runs);
  const QSignalBlocker block(table_);  // rows are rewritten in place; the selection stays
  table_->setRowCount(static_cast<int>(runs_.size()));
  for (int r = 0; r < static_cast<int>(runs_.size()); ++r) {
    const auto& run = runs_[static_cast<std::size_t>(r)];
    const QStringList cells{QString::number(run.id),
                            QString::fromStdString(run.name),
                            QString::fromStdString(actionsOf(run).state),
                            QString::fromStdString(run.state == JobState::Failed && !run.error.empty() ? run.error : run.stage),
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
  if (const auto* shown = runById(dashboard_->runId())) dashboard_->setRun(*shown);
  updateButtons();
}

void RunsPanel::updateButtons() {
  const auto* run = runAt(table_->currentRow());
  const RunActions can = run ? actionsOf(*run) : RunActions{};
  pause_->setEnabled(can.pause);
  resume_->setEnabled(can.resume || can.relaunch);
  cancel_->setEnabled(can.cancel);
  compare_->setEnabled(table_->selectionModel()->selectedRows().size() == 2);
  release_->setEnabled(can.release);
  adaptSite_->setEnabled(can.adaptSite);  // the model's card says whether it standardises per site: the CLI tells if not
}

QWidget* RunsPanel::compare(std::int64_t left, std::int64_t right) {
  const auto *a = runById(left), *b = runById(right);
  if (!a || !b) return nullptr;
  auto* dialog = new RunCompareDialog(*a, *b, this);
  dialog->show();
  return dialog;
}

QWidget* RunsPanel::showRelease(std::int64_t runId) {
  const auto* run = runById(runId);
  if (!run) return nullptr;
  auto* dialog = new ReleaseModelDialog(workspace_, option(*run, "--out"), option(*run, "--corpus"), option(*run, "--method"), this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->show();
  return dialog;
}

QWidget* RunsPanel::showAdaptSite(std::int64_t runId) {
  const auto* run = runById(runId);
  if (!run) return nullptr;
  auto* dialog = new AdaptSiteDialog(option(*run, "--out"), this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->show();
  return dialog;
}

int RunsPanel::rowCount() const { return table_->rowCount(); }

int RunsPanel::rowOf(qint64 pid) const {
  for (int r = 0; r < table_->rowCount(); ++r)
    if (table_->item(r, Pid)->text().toLongLong() == pid) return r;
  return -1;
}

void RunsPanel::select(qint64 pid) {
  const int r = rowOf(pid);
  if (r >= 0) table_->selectRow(r);
}

QString RunsPanel::stateOf(qint64 pid) const {
  const int r = rowOf(pid);
  return r < 0 ? QString() : table_->item(r, State)->text();
}

double RunsPanel::progressOf(qint64 pid) const {
  const int r = rowOf(pid);
  return r < 0 ? -1.0 : table_->item(r, Progress)->data(Qt::UserRole).toDouble();
}

std::int64_t RunsPanel::runIdOf(qint64 pid) const {
  const int r = rowOf(pid);
  return r < 0 ? 0 : table_->item(r, Id)->text().toLongLong();
}

}  // namespace bg::ui
