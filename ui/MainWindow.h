#pragma once
// The workbench window: 3D view in the centre, workspace, jobs and log docks.
#include <memory>

#include <QMainWindow>

#include "atlas/AtlasRegistry.h"

class QDockWidget;

namespace bg::viz {
class VtkView;
class BrainScene;
}  // namespace bg::viz

namespace bg::ui {

class Workbench;
class JobBridge;
class JobsPanel;
class LogPanel;
class WorkspacePanel;
class EngineInfo;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(Workbench& workbench, QWidget* parent = nullptr);
  ~MainWindow() override;

  viz::VtkView* view3d() const { return view_; }
  bool hasBrainSurface() const;
  JobsPanel* jobsPanel() const { return jobsPanel_; }
  LogPanel* logPanel() const { return logPanel_; }
  WorkspacePanel* workspacePanel() const { return workspacePanel_; }
  EngineInfo* engineInfo() const { return engine_; }

 public Q_SLOTS:
  void loadBrainSurface();
  void verifyAtlases();
  void showAbout();

 Q_SIGNALS:
  void brainSurfaceShown();
  void atlasesVerified();

 private:
  void buildMenus();
  QDockWidget* addPanel(QWidget* panel, const QString& title, Qt::DockWidgetArea area);

  Workbench& workbench_;
  JobBridge* bridge_;
  viz::VtkView* view_;
  std::unique_ptr<viz::BrainScene> scene_;
  JobsPanel* jobsPanel_;
  LogPanel* logPanel_;
  WorkspacePanel* workspacePanel_;
  QMenu* viewMenu_ = nullptr;
  EngineInfo* engine_;
};

}  // namespace bg::ui
