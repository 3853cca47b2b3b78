#include "MainWindow.h"

#include <QAction>
#include <QApplication>
#include <QDockWidget>
#include <QLabel>
#include <QMenuBar>
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
#include "LogPanel.h"
#include "VtkView.h"
#include "Workbench.h"
#include "WorkspacePanel.h"
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
  setCentralWidget(view_);

  workspacePanel_ = new WorkspacePanel(workbench_, this);
  jobsPanel_ = new JobsPanel(*bridge_, this);
  logPanel_ = new LogPanel(this);
  buildMenus();
  addPanel(workspacePanel_, tr("Workspace"), Qt::LeftDockWidgetArea);
  addPanel(jobsPanel_, tr("Jobs"), Qt::BottomDockWidgetArea);
  addPanel(logPanel_, tr("Log"), Qt::BottomDockWidgetArea);

  engine_ = new EngineInfo(this);
  auto* deviceLabel = new QLabel(tr("Device: %1").arg(engine_->deviceDescription()));
  deviceLabel->setToolTip(tr("Where models run (reported by braingraph-cli, which does the model work)"));
  statusBar()->addPermanentWidget(deviceLabel);
  connect(engine_, &EngineInfo::finished, deviceLabel,
          [this, deviceLabel] { deviceLabel->setText(tr("Device: %1").arg(engine_->deviceDescription())); });
  engine_->query();
  statusBar()->showMessage(tr("Data: %1").arg(QString::fromStdString(workbench_.dataPaths().describe())));
  spdlog::info("BrainGraph Workbench started; data path {}", workbench_.dataPaths().describe());
}

MainWindow::~MainWindow() = default;

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

  auto* help = menuBar()->addMenu(tr("&Help"));
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
    const auto atlases = registry.parcellations();
    auto results = std::make_shared<std::vector<AtlasVerification>>();
    for (std::size_t i = 0; i < atlases.size(); ++i) {
      const double n = static_cast<double>(atlases.size());
      ProgressRange range(job, static_cast<double>(i) / n, static_cast<double>(i + 1) / n);
      results->push_back(registry.verify(atlases[i]->id, range));
    }
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

void MainWindow::showAbout() {
  AboutDialog dialog(engine_->torchVersion(), engine_->deviceDescription(), this);
  dialog.exec();
}

}  // namespace bg::ui
