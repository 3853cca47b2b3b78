#include "MainWindow.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QMimeData>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QLineEdit>
#include <QSettings>
#include <QTabWidget>
#include <QTableView>
#include <QDesktopServices>
#include <QDockWidget>
#include <QLabel>
#include <QMenuBar>
#include <QSaveFile>
#include <QMessageBox>
#include <QPointer>
#include <QStatusBar>

#include <vtkPolyData.h>
#include <vtkSmartPointer.h>

#include <spdlog/spdlog.h>

#include "AboutDialog.h"
#include "EngineInfo.h"
#include "BrainScene.h"
#include "BrainSurface.h"
#include "JobBridge.h"
#include "JobsPanel.h"
#include "CliRunner.h"
#include "ConnectomePanel.h"
#include <QTextBrowser>
#include <QDialog>
#include <QDir>
#include <QVBoxLayout>
#include "CorpusDialog.h"
#include "DeriveDialog.h"
#include "GetDataDialog.h"
#include "atlas/AtlasCheck.h"
#include "DiagnosisWizard.h"
#include "ReportsDialog.h"
#include "RunsPanel.h"
#include "LaunchRunDialog.h"
#include "ModelComparisonDialog.h"
#include "ExplanationView.h"
#include "SliceViewer.h"
#include "MatrixPanel.h"
#include "MatrixView.h"
#include "ScanBrowser.h"
#include "LogPanel.h"
#include "VtkView.h"
#include "Workbench.h"
#include "WorkspacePanel.h"
#include "errors/Error.h"
#include "workspace/Derivation.h"
#include "workspace/Importers.h"
#include "workspace/Workspace.h"
#include "io/NiftiImage.h"

namespace bg::ui {

MainWindow::MainWindow(Workbench& workbench, QWidget* parent) : QMainWindow(parent), workbench_(workbench) {
  setWindowTitle(tr("BrainGraph Workbench"));
  setObjectName(QStringLiteral("MainWindow"));
  resize(1280, 800);

  bridge_ = new JobBridge(workbench_.jobs(), this);
  view_ = new viz::VtkView(this);
  view_->setToolTip(tr("3D view: drag to rotate, wheel to zoom, Shift+drag to pan"));
  view_->setAccessibleName(tr("3D brain view"));
  scene_ = std::make_unique<viz::BrainScene>(view_->renderer());
  matrixPanel_ = new MatrixPanel(workbench_, this);
  views_ = new QTabWidget(this);
  views_->setObjectName(QStringLiteral("Views"));
  connectomePanel_ = new ConnectomePanel(workbench_, view_, this);
  views_->addTab(connectomePanel_, tr("3D"));
  views_->addTab(matrixPanel_, tr("Matrix"));
  sliceViewer_ = new SliceViewer(workbench_, this);
  views_->addTab(sliceViewer_, tr("Slices"));
  views_->setTabToolTip(2, tr("Orthogonal slices of the selected BOLD scan with an atlas overlay"));
  explanationView_ = new ExplanationView(this);
  views_->addTab(explanationView_, tr("Explanation"));
  views_->setTabToolTip(3, tr("A prediction for the selected scan and which networks and ROIs contributed most to it"));
  views_->setTabToolTip(0, tr("MNI brain and connectome in 3D (Ctrl+1..4: camera presets)"));
  views_->setTabToolTip(1, tr("Connectivity matrices: a scan's, a group's mean, or a group difference"));
  setCentralWidget(views_);
  connect(matrixPanel_, &MatrixPanel::matrixShown, this,
          [this] { connectomePanel_->showConnectome(matrixPanel_->view()->matrix(), matrixPanel_->currentAtlas(), matrixPanel_->currentTitle()); });
  scanBrowser_ = new ScanBrowser(this);
  for (QWidget* target : std::initializer_list<QWidget*>{scanBrowser_, scanBrowser_->table()->viewport(), views_}) {
    target->setAcceptDrops(true);
    target->installEventFilter(this);
  }
  connect(scanBrowser_, &ScanBrowser::scanSelected, this, [this](qint64 id) {
    const QString path = scanBrowser_->currentScanPath();
    if (path.endsWith(QStringLiteral(".nii")) || path.endsWith(QStringLiteral(".nii.gz"))) sliceViewer_->load(path);
    matrixPanel_->showScan(id);
    views_->setCurrentWidget(matrixPanel_);
  });

  workspacePanel_ = new WorkspacePanel(workbench_, this);
  jobsPanel_ = new JobsPanel(*bridge_, this);
  connect(jobsPanel_, &JobsPanel::jobFailed, this, [this](const QString& name, const QString& message) {
    statusBar()->showMessage(tr("%1 failed: %2 (click it in the Jobs panel for the whole message)").arg(name, message), 30000);
  });
  logPanel_ = new LogPanel(this);
  buildMenus();
  addPanel(scanBrowser_, tr("Scans"), Qt::LeftDockWidgetArea);
  addPanel(workspacePanel_, tr("Workspace"), Qt::LeftDockWidgetArea);
  auto* jobsDock = addPanel(jobsPanel_, tr("Jobs"), Qt::BottomDockWidgetArea);
  runsPanel_ = new RunsPanel(this);
  // Runs share the Jobs dock's place (tabs): the run dashboard needs height the views should keep.
  tabifyDockWidget(jobsDock, addPanel(runsPanel_, tr("Runs"), Qt::BottomDockWidgetArea));
  jobsDock->raise();
  addPanel(logPanel_, tr("Log"), Qt::BottomDockWidgetArea);

  engine_ = new EngineInfo(this);
  auto* deviceLabel = new QLabel(tr("Device: %1").arg(engine_->deviceDescription()));
  deviceLabel->setToolTip(tr("Where models run (reported by braingraph-cli, which does the model work)"));
  statusBar()->addPermanentWidget(deviceLabel);
  connect(engine_, &EngineInfo::finished, deviceLabel, [this, deviceLabel] { deviceLabel->setText(tr("Device: %1").arg(engine_->deviceDescription())); });
  engine_->query();
  statusBar()->showMessage(tr("Data: %1").arg(QString::fromStdString(workbench_.dataPaths().describe())));
  spdlog::info("BrainGraph Workbench started; data path {}", workbench_.dataPaths().describe());
}

MainWindow::~MainWindow() = default;

bool MainWindow::openWorkspace(const QString& dir) {
  try {
    auto ws = Workspace::open(dir.toStdString());
    scanBrowser_->setWorkspace(nullptr);
    matrixPanel_->setWorkspace(nullptr);
    workspace_ = std::move(ws);
    scanBrowser_->setWorkspace(workspace_.get());
    matrixPanel_->setWorkspace(workspace_.get());
    runsPanel_->setWorkspace(dir);
    setWindowTitle(tr("BrainGraph Workbench — %1").arg(dir));
    QSettings().setValue(QStringLiteral("session/workspace"), dir);
    statusBar()->showMessage(tr("Workspace %1 opened").arg(dir), 5000);
    spdlog::info("workspace {} opened", dir.toStdString());
    Q_EMIT workspaceOpened(dir);
    return true;
  } catch (...) {
    const Error e = currentExceptionAsError();
    spdlog::error("{}", e.what());
    // Not modal: the log and the status bar keep the details; the window stays usable.
    statusBar()->showMessage(tr("Could not open %1 (see the log)").arg(dir), 10000);
    return false;
  }
}

bool MainWindow::newWorkspace(const QString& dir) {
  try {
    Workspace::create(dir.toStdString());
    spdlog::info("workspace {} created", dir.toStdString());
  } catch (...) {
    const Error e = currentExceptionAsError();
    spdlog::error("{}", e.what());
    statusBar()->showMessage(tr("Could not create a workspace in %1: %2").arg(dir, QString::fromStdString(e.what())), 10000);
    return false;
  }
  return openWorkspace(dir);
}

void MainWindow::chooseNewWorkspace() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("New Workspace: choose an empty folder"), QDir::homePath());
  if (!dir.isEmpty()) newWorkspace(dir);
}

CorpusDialog* MainWindow::showNewCorpus() {
  if (!workspace_) {
    statusBar()->showMessage(tr("Open a workspace first"), 8000);
    return nullptr;
  }
  auto* dialog = new CorpusDialog(QString::fromStdString(workspace_->dir().string()), this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &CorpusDialog::created, this, [this](const QString& name) {
    statusBar()->showMessage(tr("Corpus %1 created: Run › Launch trains and evaluates on it").arg(name), 8000);
    refreshWorkspace();
  });
  dialog->show();
  return dialog;
}

void MainWindow::chooseWorkspace() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Open Workspace"), QSettings().value(QStringLiteral("session/workspace")).toString());
  if (!dir.isEmpty()) openWorkspace(dir);
}

void MainWindow::refreshWorkspace() {
  if (!workspace_) return;
  scanBrowser_->setWorkspace(workspace_.get());
  matrixPanel_->setWorkspace(workspace_.get());
  Q_EMIT workspaceChanged();
}

void MainWindow::importPaths(const QStringList& paths, const QString& atlas) {
  if (!workspace_) {
    statusBar()->showMessage(tr("Open or create a workspace before importing"), 8000);
    return;
  }
  const auto dir = workspace_->dir();
  QPointer<MainWindow> self(this);
  workbench_.jobs().submit("import " + std::to_string(paths.size()) + " item(s)", [self, dir, paths, atlas](JobContext& job) {
    auto ws = Workspace::open(dir);  // its own connection: the GUI's stays usable meanwhile
    std::vector<std::filesystem::path> files;
    ImportSummary total;
    for (int i = 0; i < paths.size(); ++i) {
      const std::filesystem::path p = paths[i].toStdString();
      if (std::filesystem::is_directory(p)) {
        ProgressRange range(job, static_cast<double>(i) / paths.size(), static_cast<double>(i + 1) / paths.size());
        const auto s = importBids(*ws, p, range);
        total.imported += s.imported;
        total.alreadyPresent += s.alreadyPresent;
        total.problems.insert(total.problems.end(), s.problems.begin(), s.problems.end());
      } else {
        files.push_back(p);
      }
    }
    if (!files.empty()) {
      const auto s = importFiles(*ws, files, "imported", "", atlas.toStdString(), job);
      total.imported += s.imported;
      total.alreadyPresent += s.alreadyPresent;
      total.problems.insert(total.problems.end(), s.problems.begin(), s.problems.end());
    }
    for (const auto& problem : total.problems) spdlog::error("{}", problem);
    spdlog::info("imported {} scan(s), {} already present, {} problem(s)", total.imported, total.alreadyPresent, total.problems.size());
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [self] {
          if (self) self->refreshWorkspace();
        },
        Qt::QueuedConnection);
    if (!total.problems.empty())
      throw Error(ErrorCode::Data, std::to_string(total.problems.size()) + " item(s) could not be imported: " + total.problems.front());
  });
}

DeriveDialog* MainWindow::openDeriveDialog() {
  if (!workspace_ || !workbench_.hasAtlases()) {
    statusBar()->showMessage(tr("Open a workspace first"), 8000);
    return nullptr;
  }
  auto* dialog = new DeriveDialog(*workspace_, workbench_.atlases(), scanBrowser_->selectedScanIds(), scanBrowser_->shownScanIds(), this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &QDialog::accepted, this, [this, dialog] { derive(dialog->request()); });
  dialog->show();
  return dialog;
}

void MainWindow::derive(const DeriveRequest& request) {
  if (!workspace_ || !workbench_.hasAtlases()) return;
  const auto dir = workspace_->dir();
  const auto& registry = workbench_.atlases();
  QPointer<MainWindow> self(this);
  workbench_.jobs().submit("derive connectomes", [self, dir, &registry, request](JobContext& job) {
    auto ws = Workspace::open(dir);
    const auto summary = deriveConnectomes(*ws, registry, request, job);
    spdlog::info("derived {} connectome(s), {} up to date, {} failed, {} left to another running derivation", summary.computed, summary.upToDate,
                 summary.failed, summary.claimedElsewhere);
    for (const auto& f : summary.failures) spdlog::error("{}", f);
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [self] {
          if (self) self->refreshWorkspace();
        },
        Qt::QueuedConnection);
    if (summary.failed > 0) throw Error(ErrorCode::Data, std::to_string(summary.failed) + " scan(s) failed: " + summary.failures.front());
  });
}

bool MainWindow::eventFilter(QObject* watched, QEvent* e) {
  if (e->type() == QEvent::DragEnter) {
    auto* enter = static_cast<QDragEnterEvent*>(e);
    if (enter->mimeData()->hasUrls()) {
      enter->acceptProposedAction();
      return true;
    }
  } else if (e->type() == QEvent::Drop) {
    auto* drop = static_cast<QDropEvent*>(e);
    QStringList paths;
    for (const auto& url : drop->mimeData()->urls())
      if (url.isLocalFile()) paths << url.toLocalFile();
    if (!paths.isEmpty()) importPaths(paths);
    drop->acceptProposedAction();
    return true;
  }
  return QMainWindow::eventFilter(watched, e);
}

void MainWindow::predictSelectedScan() {
  const QString scan = scanBrowser_->currentScanPath();
  if (scan.isEmpty()) {
    statusBar()->showMessage(tr("Select a scan first"), 5000);
    return;
  }
  QSettings settings;
  const QString model =
      QFileDialog::getOpenFileName(this, tr("Model"), settings.value(QStringLiteral("session/model")).toString(), tr("Models (*.pt *.json);;All files (*)"));
  if (model.isEmpty()) return;
  settings.setValue(QStringLiteral("session/model"), model);
  predictScan(model, scan);
}

void MainWindow::predictScan(const QString& modelFile, const QString& scanFile) {
  QPointer<MainWindow> self(this);
  workbench_.jobs().submit("predict " + QFileInfo(scanFile).fileName().toStdString(), [self, modelFile, scanFile](JobContext& job) {
    const auto out = runCli(job, {QStringLiteral("predict"), QStringLiteral("--model"), modelFile, QStringLiteral("--in"), scanFile, QStringLiteral("--json"),
                                  QStringLiteral("--explain")});
    const auto row = nlohmann::json::parse(out.toStdString().substr(0, out.toStdString().find('\n')));
    if (row.contains("error")) throw Error(ErrorCode::Data, row["error"].get<std::string>());
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [self, row] {
          if (!self) return;
          self->explanationView_->setPrediction(row);
          std::vector<double> scores;
          if (row.contains("explanation") && row["explanation"].contains("roi_saliency"))
            scores = row["explanation"]["roi_saliency"].get<std::vector<double>>();
          std::vector<double> attention;
          if (row.contains("explanation") && row["explanation"].contains("roi_attention"))
            attention = row["explanation"]["roi_attention"].get<std::vector<double>>();
          self->connectomePanel_->setNodeAttention(attention);
          self->connectomePanel_->setNodeScores(scores);
          self->views_->setCurrentWidget(self->explanationView_);
          Q_EMIT self->predictionShown();
        },
        Qt::QueuedConnection);
  });
}

void MainWindow::importPretrainedModel(const QString& state, const QString& out, const QString& atlasToken) {
  QPointer<MainWindow> self(this);
  workbench_.jobs().submit("import " + QFileInfo(state).fileName().toStdString(), [self, state, out, atlasToken](JobContext& job) {
    QStringList args = {
        QStringLiteral("model"), QStringLiteral("import"), QStringLiteral("--format"), QStringLiteral("braingfm-public"), state, QStringLiteral("--out"), out};
    if (!atlasToken.isEmpty()) args << QStringLiteral("--atlas-token") << atlasToken;
    const auto text = runCli(job, args);
    const auto card = nlohmann::json::parse(text.toStdString());
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [self, out, card] {
          if (!self) return;
          self->lastImportedCard_ = QString::fromStdString(card.dump(2));
          const auto& c = card["inferred"];
          const QString summary =
              tr("<p><b>%1</b> imported as <b>%2</b>.</p>"
                 "<p>Architecture: the public BrainGFM code's (graph prompt, mixture-of-experts transformer and GCN); hidden %3, "
                 "%4 attention layers in the block that reaches the output (of %5), %6 expert(s), up to %7 nodes; %8 parameters.</p>"
                 "<p>Source: %9 state dict, SHA-256 <tt>%10</tt>; %11 of its %12 tensors used, the rest listed in the card.</p>"
                 "<p>Classifier head: %13. Tokens by default: atlas <tt>%14</tt>, disease <tt>%15</tt> (a corpus's own atlas and disorder "
                 "replace them when the checkpoint has them).</p><p>Licence: %16.</p><p>Verification: %17.</p>")
                  .arg(QString::fromStdString(card["source"]["file_name"].get<std::string>()), QFileInfo(out).fileName())
                  .arg(c["hidden"].get<int>())
                  .arg(c["attention_layers"].get<int>())
                  .arg(c["blocks"].get<int>())
                  .arg(c["experts"].get<int>())
                  .arg(c["max_nodes"].get<int>())
                  .arg(card["parameters"].get<long long>())
                  .arg(QString::fromStdString(card["source"]["kind"].get<std::string>()), QString::fromStdString(card["source"]["sha256"].get<std::string>()))
                  .arg(card["imported_tensors"].get<int>())
                  .arg(card["source"]["tensors"].get<int>())
                  .arg(card["head"]["from_checkpoint"].get<bool>() ? tr("from the checkpoint (%1 classes)").arg(card["head"]["classes"].get<int>())
                                                                   : tr("none in the checkpoint (a task's head is trained when you adapt it)"))
                  .arg(QString::fromStdString(card["atlas_token"].get<std::string>()), QString::fromStdString(card["disease_token"].get<std::string>()),
                       QString::fromStdString(card["licence"].get<std::string>()), QString::fromStdString(card["verification"].get<std::string>()));
          auto* box = new QMessageBox(QMessageBox::Information, tr("Imported pre-trained model"), summary, QMessageBox::Ok, self);
          box->setObjectName(QStringLiteral("importedModelCard"));
          box->setDetailedText(self->lastImportedCard_);
          box->setAttribute(Qt::WA_DeleteOnClose);
          box->setModal(false);
          box->show();
          self->statusBar()->showMessage(tr("Imported %1: use it as the Pre-trained file in Run › Launch").arg(out), 10000);
          Q_EMIT self->pretrainedModelImported(out);
        },
        Qt::QueuedConnection);
  });
}

QTextBrowser* MainWindow::showUserGuide() {
  // Installed beside the binaries (share/doc/braingraph), else the source tree's docs/.
  QString dir = QCoreApplication::applicationDirPath() + QStringLiteral("/../" BRAINGRAPH_DOC_INSTALL_DIR);
  if (!QFileInfo::exists(dir + QStringLiteral("/user-guide.md"))) dir = QStringLiteral(BRAINGRAPH_DOC_SOURCE_DIR);
  const QString file = QDir(dir).absoluteFilePath(QStringLiteral("user-guide.md"));
  if (!QFileInfo::exists(file)) {
    QMessageBox::warning(this, tr("User Guide"), tr("The user guide is not installed (looked for %1).").arg(file));
    return nullptr;
  }
  auto* dialog = new QDialog(this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->setWindowTitle(tr("BrainGraph Workbench — User Guide"));
  auto* browser = new QTextBrowser(dialog);
  browser->setOpenExternalLinks(true);
  browser->setSearchPaths({QDir(dir).absolutePath()});
  browser->setSource(QUrl::fromLocalFile(file), QTextDocument::MarkdownResource);
  browser->setToolTip(tr("The user guide; links to the other documents open here"));
  auto* layout = new QVBoxLayout(dialog);
  layout->addWidget(browser);
  dialog->resize(900, 760);
  dialog->show();
  return browser;
}

namespace {
// The MNI brain mask the report figures outline, when the atlases are there.
std::optional<std::filesystem::path> brainMaskOf(const Workbench& workbench) {
  try {
    if (workbench.hasAtlases() && workbench.atlases().contains("mni152"))
      return workbench.atlases().resolve(workbench.atlases().get("mni152").files.at("brain_mask_2mm"));
  } catch (const std::exception& e) {
    spdlog::warn("no MNI brain mask for report figures ({})", e.what());
  }
  return std::nullopt;
}
}  // namespace

LaunchRunDialog* MainWindow::showLaunchRun() {
  if (!workspace_) {
    statusBar()->showMessage(tr("Open a workspace first"), 5000);
    return nullptr;
  }
  auto* dialog = new LaunchRunDialog(QString::fromStdString(workspace_->dir().string()), this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->restoreLastLaunch();
  connect(dialog, &LaunchRunDialog::launchRequested, this, [this](const QStringList& args) {
    if (runsPanel_->launch(args) > 0) statusBar()->showMessage(tr("Run started: see the Runs dock"), 5000);
  });
  dialog->show();
  return dialog;
}

ModelComparisonDialog* MainWindow::showModelComparison() {
  if (!workspace_) {
    statusBar()->showMessage(tr("Open a workspace first"), 5000);
    return nullptr;
  }
  auto* dialog = new ModelComparisonDialog(QString::fromStdString(workspace_->dir().string()), this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &ModelComparisonDialog::runRequested, this, [this](const QStringList& args) {
    if (runsPanel_->launch(args) > 0) statusBar()->showMessage(tr("Comparison started: see the Runs dock"), 5000);
  });
  dialog->show();
  return dialog;
}

qint64 MainWindow::launchPreset(const QString& presetFile) {
  if (!workspace_) {
    spdlog::error("--launch needs a workspace (--workspace DIR)");
    return 0;
  }
  LaunchRunDialog form(QString::fromStdString(workspace_->dir().string()), this);
  if (!form.loadPreset(presetFile)) {
    spdlog::error("{} is not a launch preset", presetFile.toStdString());
    return 0;
  }
  if (!form.problems().isEmpty()) {
    spdlog::error("cannot launch {}: {}", presetFile.toStdString(), form.problems().join(QStringLiteral(" ")).toStdString());
    return 0;
  }
  const qint64 pid = runsPanel_->launch(form.arguments());
  if (pid > 0) runsPanel_->refresh();
  return pid;
}

ReportsDialog* MainWindow::showReports() {
  if (!workspace_) {
    statusBar()->showMessage(tr("Open a workspace first"), 5000);
    return nullptr;
  }
  auto* dialog = new ReportsDialog(QString::fromStdString(workspace_->dir().string()), brainMaskOf(workbench_), this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->show();
  return dialog;
}

QImage MainWindow::export3dImage(const QSize& size) {
  // The 3D view draws only while its tab is shown: show it for this frame, then go back.
  QWidget* before = views_->currentWidget();
  if (before != connectomePanel_) {
    views_->setCurrentWidget(connectomePanel_);
    QCoreApplication::processEvents();
  }
  QImage image = connectomePanel_->renderImage(size);
  if (before != connectomePanel_) views_->setCurrentWidget(before);
  return image;
}

DiagnosisWizard* MainWindow::openDiagnosisWizard() {
  const auto mask = brainMaskOf(workbench_);
  const QString dir = workspace_ ? QString::fromStdString(workspace_->dir().string()) : QString();
  auto* wizard = new DiagnosisWizard(workbench_.jobs(), dir, mask, this);
  wizard->setAttribute(Qt::WA_DeleteOnClose);
  const QString scan = scanBrowser_->currentScanPath();
  if (!scan.isEmpty()) wizard->setScan(scan);
  if (workbench_.hasAtlases()) {
    QStringList ids;
    for (const auto* m : workbench_.atlases().parcellations()) ids << QString::fromStdString(m->id);
    wizard->setRegisteredAtlases(ids);
  }
  connect(wizard, &DiagnosisWizard::reportWritten, this, [this](const QString& pdf) { statusBar()->showMessage(tr("Report written: %1").arg(pdf), 10000); });
  connect(wizard, &DiagnosisWizard::openPdfRequested, this, [](const QString& pdf) { QDesktopServices::openUrl(QUrl::fromLocalFile(pdf)); });
  // The Explanation tab shows the wizard's result, as it shows a prediction's.
  connect(wizard, &DiagnosisWizard::runFinished, this, [this, wizard](bool ok) {
    const auto& record = wizard->record();
    if (!ok || !record.is_object() || !record.contains("result")) return;
    auto row = record["result"];
    row["explanation"] = record.value("explanation", nlohmann::json::object());
    for (const auto& input : record.value("inputs", nlohmann::json::array())) {
      const auto role = input.value("role", std::string());
      if (role == "scan" || role == "model") row[role == "scan" ? "file" : "model"] = input.value("name", std::string());
    }
    explanationView_->setPrediction(row);
  });
  wizard->show();
  return wizard;
}

void MainWindow::restoreSession() {
  QSettings settings;
  restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
  restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
  views_->setCurrentIndex(settings.value(QStringLiteral("window/view"), 0).toInt());
  const QString last = settings.value(QStringLiteral("session/workspace")).toString();
  if (!last.isEmpty() && QFileInfo::exists(last + QStringLiteral("/workspace.sqlite"))) openWorkspace(last);
}

void MainWindow::closeEvent(QCloseEvent* e) {
  QSettings settings;
  settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
  settings.setValue(QStringLiteral("window/state"), saveState());
  settings.setValue(QStringLiteral("window/view"), views_->currentIndex());
  QMainWindow::closeEvent(e);
}

bool MainWindow::hasBrainSurface() const { return scene_->hasBrainSurface(); }

QDockWidget* MainWindow::addPanel(QWidget* panel, const QString& title, Qt::DockWidgetArea area) {
  auto* dock = new QDockWidget(title, this);
  dock->setObjectName(title + QStringLiteral("Dock"));
  dock->setWidget(panel);
  addDockWidget(area, dock);
  viewMenu_->addAction(dock->toggleViewAction());
  return dock;
}

void MainWindow::buildMenus() {
  auto* file = menuBar()->addMenu(tr("&File"));
  auto* create = file->addAction(tr("&New Workspace…"), this, &MainWindow::chooseNewWorkspace);
  create->setShortcut(QKeySequence::New);
  create->setToolTip(tr("Create a workspace in an empty folder and open it (as braingraph-cli workspace init)"));
  auto* open = file->addAction(tr("&Open Workspace…"), this, &MainWindow::chooseWorkspace);
  open->setShortcut(QKeySequence::Open);
  open->setToolTip(tr("Open a workspace folder (made by File › New Workspace or braingraph-cli workspace init)"));
  auto* importFilesAction = file->addAction(tr("&Import Files…"), this, [this] {
    const QStringList files =
        QFileDialog::getOpenFileNames(this, tr("Import scans"), QString(), tr("Scans (*.nii *.nii.gz *.1D *.1D.gz *.csv *.tsv *.npy);;All files (*)"));
    if (!files.isEmpty()) importPaths(files);
  });
  importFilesAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
  importFilesAction->setToolTip(tr("BOLD NIfTI files, or ROI time series (columns in CC200 order); or drop files on the window"));
  file->addAction(tr("Import &BIDS Folder…"), this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Import a BIDS dataset or fMRIPrep derivatives"));
    if (!dir.isEmpty()) importPaths({dir});
  });
  file->addAction(tr("New &Corpus…"), this, [this] { showNewCorpus(); })
      ->setToolTip(tr("Select derived scans, label them and split them into a corpus to train and evaluate on (as braingraph-cli corpus create)"));
  file->addAction(tr("Import &Pre-trained Model…"), this,
                  [this] {
                    const QString state = QFileDialog::getOpenFileName(this, tr("Published BrainGFM checkpoint"), QString(),
                                                                       tr("PyTorch state dicts (*.pt *.pth *.bin);;All files (*)"));
                    if (state.isEmpty()) return;
                    const QString dir = workspace_ ? QString::fromStdString((workspace_->dir() / "models").string()) : QFileInfo(state).absolutePath();
                    QDir().mkpath(dir);
                    const QString out = QFileDialog::getSaveFileName(
                        this, tr("Save the imported model as"), QDir(dir).filePath(QFileInfo(state).completeBaseName() + QStringLiteral("-braingfm-public.pt")),
                        tr("Model files (*.pt)"));
                    if (!out.isEmpty()) importPretrainedModel(state, out);
                  })
      ->setToolTip(tr("A checkpoint saved by the public BrainGFM code (torch.save of its state_dict), read without running anything from it, "
                      "as a model to adapt with Run › Launch (Pre-trained)"));
  file->addAction(tr("&Reports…"), this, [this] { showReports(); })
      ->setToolTip(tr("Diagnosis reports stored in the workspace; regenerate any PDF from its record"));
  file->addAction(tr("&Export 3D View as PNG…"), this, [this] {
    bool ok = false;
    const QString size =
        QInputDialog::getText(this, tr("Export 3D view"), tr("Size in pixels (width x height):"), QLineEdit::Normal, QStringLiteral("1920x1080"), &ok);
    if (!ok) return;
    const auto parts = size.toLower().split('x');
    const int w = parts.value(0).trimmed().toInt(), h = parts.value(1).trimmed().toInt();
    if (w < 16 || h < 16 || w > 8192 || h > 8192) {
      statusBar()->showMessage(tr("Give a size like 1920x1080 (16 to 8192 pixels a side)"), 8000);
      return;
    }
    const QString png = QFileDialog::getSaveFileName(this, tr("Export 3D view"), QStringLiteral("connectome.png"), tr("PNG images (*.png)"));
    if (png.isEmpty()) return;
    // QSaveFile writes beside the target and renames: a full disk keeps the file that was there.
    QSaveFile out(png);
    if (!out.open(QIODevice::WriteOnly) || !export3dImage(QSize(w, h)).save(&out, "PNG") || !out.commit()) {
      const QString why = out.errorString().isEmpty() ? tr("the image could not be encoded") : out.errorString();
      spdlog::error("could not write {}: {}", png.toStdString(), why.toStdString());
      QMessageBox::warning(this, tr("Export 3D view"), tr("Could not write %1: %2. Nothing was changed.").arg(png, why));
      return;
    }
    statusBar()->showMessage(tr("Wrote %1 (%2 x %3)").arg(png).arg(w).arg(h), 8000);
  });
  file->addSeparator();
  auto* quit = file->addAction(tr("&Quit"), qApp, &QApplication::closeAllWindows);
  quit->setShortcut(QKeySequence::Quit);

  viewMenu_ = menuBar()->addMenu(tr("&View"));
  auto* cameras = viewMenu_->addMenu(tr("&Camera"));
  const std::pair<QString, viz::CameraPreset> presets[] = {{tr("&Left"), viz::CameraPreset::Left},
                                                           {tr("&Right"), viz::CameraPreset::Right},
                                                           {tr("&Top"), viz::CameraPreset::Top},
                                                           {tr("&Front"), viz::CameraPreset::Front}};
  int key = Qt::Key_1;
  for (const auto& [name, preset] : presets) {
    auto* a = cameras->addAction(name, this, [this, p = preset] {
      scene_->setCamera(p);
      view_->requestRender();
    });
    a->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(key++)));
  }
  viewMenu_->addSeparator();

  auto* tools = menuBar()->addMenu(tr("&Tools"));
  tools->addAction(tr("&Verify Atlases"), this, &MainWindow::verifyAtlases)
      ->setToolTip(tr("Read every atlas volume and check its ROI count (same as 'braingraph-cli atlas list')"));
  tools->addAction(tr("Reload &Brain Surface"), this, &MainWindow::loadBrainSurface);
  auto* derive = tools->addAction(tr("&Derive Connectomes…"), this, [this] { openDeriveDialog(); });
  derive->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
  derive->setToolTip(tr("Clean, parcellate and correlate scans: choose which scans, atlases and settings (by default the workspace's own)"));
  auto* predict = tools->addAction(tr("&Predict Selected Scan…"), this, &MainWindow::predictSelectedScan);
  predict->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_P));
  predict->setToolTip(tr("Run a trained model (braingraph-cli train --out) on the selected scan and explain the prediction"));

  auto* diagnose = tools->addAction(tr("Diagnosis &Wizard…"), this, [this] { openDiagnosisWizard(); });
  diagnose->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D));
  diagnose->setToolTip(tr("From a patient's scan to a quality-controlled, explained and signed PDF report"));

  auto* runs = menuBar()->addMenu(tr("&Run"));
  runs->addAction(tr("&Launch…"), this, [this] { showLaunchRun(); })
      ->setToolTip(tr("Pre-train, train, meta-train or evaluate in a process of its own, followed in the Runs dock"));
  runs->addAction(tr("Compare &Models…"), this, [this] { showModelComparison(); })
      ->setToolTip(tr("Every model (baselines, BrainGFM, BrainMass, LCM) on one corpus with the same folds: AUC, accuracy, "
                      "sensitivity, specificity, parameters, training time"));

  auto* help = menuBar()->addMenu(tr("&Help"));
  auto* guide = help->addAction(tr("&User Guide"), this, [this] { showUserGuide(); });
  guide->setShortcut(QKeySequence::HelpContents);
  guide->setToolTip(tr("Getting started, your own data, the diagnosis wizard, training, the CLI and troubleshooting"));
  help->addAction(tr("Get &Data…"), this, [this] { showGetData(); })
      ->setToolTip(tr("Download the atlases and the MNI152 template from their official sources, verified (same as 'braingraph-cli data fetch atlases')"));
  help->addAction(tr("&About BrainGraph Workbench"), this, &MainWindow::showAbout);
  help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
}

void MainWindow::loadBrainSurface() {
  if (!workbench_.hasAtlases()) return;
  const auto& registry = workbench_.atlases();
  QPointer<MainWindow> self(this);
  workbench_.jobs().submit("load MNI152 brain surface", [self, &registry](JobContext& job) {
    job.update("reading brain mask", 0.1);
    const auto& tpl = registry.get("mni152");
    const auto maskFile = registry.resolve(tpl.files.at("brain_mask_2mm"));
    const auto mask = readNiftiVolume(maskFile);
    job.throwIfCancelled();
    job.update("marching cubes and smoothing", 0.4);
    vtkSmartPointer<vtkPolyData> surface = viz::buildBrainSurface(mask);
    job.update("done", 1.0);
    // Hand the finished geometry to the GUI thread; rendering happens only there.
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [self, surface] {
          if (!self) return;
          self->scene_->setBrainSurface(surface);
          self->view_->requestRender();
          spdlog::info("brain surface: {} triangles", surface->GetNumberOfPolys());
          Q_EMIT self->brainSurfaceShown();
        },
        Qt::QueuedConnection);
  });
}

void MainWindow::verifyAtlases() {
  if (!workbench_.hasAtlases()) return;
  const auto& registry = workbench_.atlases();
  QPointer<MainWindow> self(this);
  workbench_.jobs().submit("verify atlases", [self, &registry](JobContext& job) {
    // A missing atlas is a failed row of the result, not a failed job.
    auto results = std::make_shared<std::vector<AtlasVerification>>(verifyAllAtlases(registry, job));
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [self, results] {
          if (!self) return;
          self->workspacePanel_->showVerification(*results);
          Q_EMIT self->atlasesVerified();
        },
        Qt::QueuedConnection);
  });
}

void MainWindow::showGetData() {
  std::unique_ptr<GetDataDialog> dialog;
  try {
    dialog = std::make_unique<GetDataDialog>(this);
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Get Data"), QString::fromStdString(e.what()));
    return;
  }
  if (dialog->exec() != QDialog::Accepted) return;
  const auto files = dialog->chosenFiles();
  const std::filesystem::path to = dialog->folder().toStdString();
  DownloadOptions options;
  options.mirror = dialog->mirror().toStdString();
  QPointer<MainWindow> self(this);
  workbench_.jobs().submit("fetch data", [self, files, to, options](JobContext& job) {
    const auto report = fetchDataFiles(files, to, options, job);
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [self, report, to] {
          if (!self) return;
          QString text = tr("Fetched %1 file(s) (%2 MB) into %3; %4 were there already and verified.")
                             .arg(report.fetched)
                             .arg(static_cast<double>(report.bytes) / 1e6, 0, 'f', 1)
                             .arg(QString::fromStdString(to.string()))
                             .arg(report.present);
          for (const auto& k : report.kept) text += QStringLiteral("\n") + tr("Kept: %1").arg(QString::fromStdString(k));
          for (const auto& m : report.manual) text += QStringLiteral("\n") + tr("Not fetched: %1").arg(QString::fromStdString(m));
          for (const auto& d : report.differs) text += QStringLiteral("\n") + tr("Differs from the project's copy (kept): %1").arg(QString::fromStdString(d));
          // The user data folder may be new: the data path and the atlases are read again and verified.
          self->workbench_.reloadDataPaths();
          self->workspacePanel_->refreshData();
          self->statusBar()->showMessage(tr("Data: %1").arg(QString::fromStdString(self->workbench_.dataPaths().describe())));
          self->verifyAtlases();
          text += QStringLiteral("\n\n") + tr("The workbench now reads the data path %1; the atlases are being verified (Workspace panel).")
                                               .arg(QString::fromStdString(self->workbench_.dataPaths().describe()));
          auto* box = new QMessageBox(QMessageBox::Information, tr("Get Data"), text, QMessageBox::Ok, self);
          box->setAttribute(Qt::WA_DeleteOnClose);
          box->open();
        },
        Qt::QueuedConnection);
  });
}

void MainWindow::showAbout() {
  AboutDialog dialog(engine_->torchVersion(), engine_->deviceDescription(), this);
  dialog.exec();
}

}  // namespace bg::ui
