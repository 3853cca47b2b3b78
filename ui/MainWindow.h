#pragma once
// The workbench window: 3D view in the centre, workspace, jobs and log docks.
#include <memory>

#include <QImage>
#include <QMainWindow>

#include "workspace/Derivation.h"

#include "atlas/AtlasRegistry.h"

class QDockWidget;
class QTabWidget;

class QTextBrowser;

namespace bg {
class Workspace;
}

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
class ScanBrowser;
class MatrixPanel;
class ConnectomePanel;
class ExplanationView;
class SliceViewer;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(Workbench& workbench, QWidget* parent = nullptr);
  ~MainWindow() override;

  viz::VtkView* view3d() const { return view_; }
  bool hasBrainSurface() const;
  JobsPanel* jobsPanel() const { return jobsPanel_; }
  class RunsPanel* runsPanel() const {
    return runsPanel_;
  }
  LogPanel* logPanel() const { return logPanel_; }
  WorkspacePanel* workspacePanel() const { return workspacePanel_; }
  EngineInfo* engineInfo() const { return engine_; }
  ScanBrowser* scanBrowser() const { return scanBrowser_; }
  MatrixPanel* matrixPanel() const { return matrixPanel_; }
  ConnectomePanel* connectomePanel() const { return connectomePanel_; }
  ExplanationView* explanationView() const { return explanationView_; }
  SliceViewer* sliceViewer() const { return sliceViewer_; }
  // Runs a trained model on a scan file in a braingraph-cli job and shows the explanation.
  void predictScan(const QString& modelFile, const QString& scanFile);
  QTabWidget* views() const { return views_; }
  // File › Export 3D View: the 3D view at this size, whichever tab is showing.
  QImage export3dImage(const QSize& size);
  Workspace* workspace() const { return workspace_.get(); }
  // Opens a workspace folder (errors are shown, not thrown); true on success. Remembered for the next start.
  bool openWorkspace(const QString& dir);
  // File › New Workspace: creates a workspace in `dir` (an empty or new folder) and opens it; false
  // (the reason in the status bar and the log) when it cannot.
  bool newWorkspace(const QString& dir);
  // File › New Corpus: the corpus editor on the open workspace (non-modal); null without a workspace.
  class CorpusDialog* showNewCorpus();
  // Window layout and view settings from the last session (QSettings).
  void restoreSession();
  // Imports into the open workspace in a job (folders as BIDS datasets, files as BOLD NIfTI or ROI
  // time series in `atlas`), then refreshes the browser. Also what dropping files on the window does.
  void importPaths(const QStringList& paths, const QString& atlas = QStringLiteral("cc200"));
  // Tools › Derive: asks which scans, atlases and settings (non-modal; OK runs derive()); null without a workspace.
  class DeriveDialog* openDeriveDialog();
  // Derives what the request names in a job, then refreshes the browser.
  void derive(const DeriveRequest& request);
  // Opens the diagnosis wizard (non-modal) on the open workspace with the selected scan; returns it.
  class DiagnosisWizard* openDiagnosisWizard();
  // Help > User Guide: the installed (or the source tree's) docs/user-guide.md in a browser window.
  QTextBrowser* showUserGuide();
  // File > Reports: the workspace's stored reports, regenerated on request; null without a workspace.
  class ReportsDialog* showReports();
  // Run > Launch: the form whose Launch starts a detached run in the Runs dock; null without a workspace.
  class LaunchRunDialog* showLaunchRun();
  // Run › Compare Models: the comparison table of the workspace's corpora, and a button that runs it.
  class ModelComparisonDialog* showModelComparison();
  // File > Import Pre-trained Model: a published BrainGFM state dict (`state`) imported in a
  // braingraph-cli job (model import) to `out`; on success the card is shown (and returned by
  // lastImportedCard()) and pretrainedModelImported() is emitted.
  void importPretrainedModel(const QString& state, const QString& out, const QString& atlasToken = {});
  QString lastImportedCard() const { return lastImportedCard_; }
  // Launches the run a preset describes (the form's JSON) into the Runs dock; returns its pid (0: an
  // error, logged with the form's own messages).
  qint64 launchPreset(const QString& presetFile);

 public Q_SLOTS:
  void loadBrainSurface();
  void verifyAtlases();
  void showAbout();
  void showGetData();  // Help › Get Data…: the atlases from their official sources, as a job

 Q_SIGNALS:
  void brainSurfaceShown();
  void workspaceOpened(const QString& dir);
  void workspaceChanged();  // after an import or derivation finished
  void predictionShown();
  void atlasesVerified();
  void pretrainedModelImported(const QString& file);

 protected:
  void closeEvent(QCloseEvent* e) override;
  // Files dropped on the scan browser or the views are imported (QMainWindow keeps drops on itself
  // for its dock widgets, so the children take them).
  bool eventFilter(QObject* watched, QEvent* e) override;

 private:
  void buildMenus();
  void chooseWorkspace();
  void chooseNewWorkspace();
  void predictSelectedScan();
  void refreshWorkspace();
  QDockWidget* addPanel(QWidget* panel, const QString& title, Qt::DockWidgetArea area);

  Workbench& workbench_;
  JobBridge* bridge_;
  viz::VtkView* view_;
  std::unique_ptr<viz::BrainScene> scene_;
  JobsPanel* jobsPanel_;
  class RunsPanel* runsPanel_;
  LogPanel* logPanel_;
  WorkspacePanel* workspacePanel_;
  QMenu* viewMenu_ = nullptr;
  EngineInfo* engine_;
  QTabWidget* views_;
  ScanBrowser* scanBrowser_;
  MatrixPanel* matrixPanel_;
  ConnectomePanel* connectomePanel_;
  ExplanationView* explanationView_;
  SliceViewer* sliceViewer_;
  std::unique_ptr<Workspace> workspace_;
  QString lastImportedCard_;
};

}  // namespace bg::ui
