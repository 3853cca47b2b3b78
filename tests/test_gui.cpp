// The workbench window under Xvfb: the 3D view really renders, panels react to jobs.
#include <QAction>
#include <QCompleter>
#include <QPlainTextEdit>
#include <QStatusBar>
#include <QCryptographicHash>
#include <QFile>
#include <QMessageBox>
#include <QApplication>
#include <QFileInfo>
#include <QLabel>
#include <QSignalSpy>
#include <QTest>
#include <QTreeWidget>

#include <thread>

#include "AboutDialog.h"
#include "EngineInfo.h"
#include "BrainScene.h"
#include "JobsPanel.h"
#include "LogPanel.h"
#include "MainWindow.h"
#include "VtkView.h"
#include "Workbench.h"
#include "WorkspacePanel.h"
#include "ConnectomeActors.h"
#include "ConnectomePanel.h"
#include "CliRunner.h"
#include "ExplanationView.h"
#include "MatrixPanel.h"
#include "DeriveDialog.h"
#include "DiagnosisWizard.h"
#include "ReportsDialog.h"
#include "RunsPanel.h"
#include "LaunchRunDialog.h"
#include "ModelComparisonDialog.h"
#include "ReleaseModelDialog.h"
#include "AdaptSiteDialog.h"
#include "GetDataDialog.h"
#include <QDialogButtonBox>
#include <QPushButton>
#include "settings/UserDirs.h"
#include <filesystem>
#include "RunCompareDialog.h"
#include "RunDashboard.h"
#include "CorpusDialog.h"
#include "eval/ModelComparison.h"
#include "eval/Evaluation.h"
#include "eval/Results.h"
#include "workspace/ContentHash.h"
#include <cmath>
#include <csignal>
#include <fstream>
#include <set>
#include <QChart>
#include <QLineSeries>
#include <QPushButton>
#include <QLineEdit>
#include <QSpinBox>
#include <QComboBox>
#include "platform/Process.h"
#include "workspace/RunTracking.h"
#include <QTableWidget>
#include "io/TimeSeriesFile.h"
#include <SQLiteCpp/SQLiteCpp.h>

#include "report/Diagnosis.h"
#include "SliceViewer.h"
#include "atlas/LabelMap.h"
#include "io/NiftiImage.h"
#include "eval/BaselineModel.h"
#include "io/AtomicFile.h"
#include "MatrixView.h"
#include "ScanBrowser.h"
#include "TestSupport.h"
#include "log/Logging.h"
#include "workspace/Corpus.h"
#include "workspace/Derivation.h"
#include "workspace/Importers.h"
#include "workspace/Workspace.h"

#include <QAbstractButton>
#include <QAbstractSpinBox>
#include <QComboBox>
#include <QSlider>
#include <QListWidget>
#include <QDoubleSpinBox>
#include <vtkRenderer.h>
#include <QLineEdit>
#include <QSettings>
#include <QTabWidget>
#include <QCheckBox>
#include <QProcess>
#include <QWizard>
#include <QPointer>
#include <QTextBrowser>
#include <QMimeData>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QUrl>

using namespace bg;

class TestGui : public QObject {
  Q_OBJECT
  std::unique_ptr<ui::Workbench> workbench_;
  std::unique_ptr<ui::MainWindow> window_;
  // Left by workspaceBrowserAndMatrixViews for the wizard test.
  std::filesystem::path fixtureDir_;
  QString modelFile_, scanFile_;
  double expectedProbability_ = -1;

 private Q_SLOTS:
  void initTestCase() {
    log::init({});
    workbench_ = std::make_unique<ui::Workbench>(Settings{});
    QVERIFY2(workbench_->hasAtlases(), workbench_->atlasError().c_str());
    window_ = std::make_unique<ui::MainWindow>(*workbench_);
    window_->resize(1280, 800);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
  }

  void brainSurfaceRenders() {
    QSignalSpy shown(window_.get(), &ui::MainWindow::brainSurfaceShown);
    window_->loadBrainSurface();
    QVERIFY(shown.wait(30000));
    QVERIFY(window_->hasBrainSurface());
    QTest::qWait(100);
    const QImage image = window_->view3d()->grabFramebuffer().convertToFormat(QImage::Format_RGB32);
    QVERIFY(!image.isNull());
    QVERIFY(image.width() > 300 && image.height() > 200);
    image.save(QStringLiteral(BRAINGRAPH_TEST_SCRATCH "/../screenshot_main_3d.png"));
    window_->grab().save(QStringLiteral(BRAINGRAPH_TEST_SCRATCH "/../screenshot_main_window.png"));

    double bg[3];
    viz::BrainScene::backgroundColor(bg);
    const QColor background = QColor::fromRgbF(static_cast<float>(bg[0]), static_cast<float>(bg[1]), static_cast<float>(bg[2]));
    long differing = 0, corners = 0;
    for (int y = 0; y < image.height(); ++y) {
      for (int x = 0; x < image.width(); ++x) {
        const QColor c = QColor::fromRgb(image.pixel(x, y));
        const int d = std::abs(c.red() - background.red()) + std::abs(c.green() - background.green()) + std::abs(c.blue() - background.blue());
        if (d > 30) ++differing;
      }
    }
    // Corners show the background: the view is not a uniform or garbage image.
    for (const QPoint p : {QPoint(2, 2), QPoint(image.width() - 3, 2), QPoint(2, image.height() - 3)}) {
      const QColor c = QColor::fromRgb(image.pixel(p));
      if (std::abs(c.red() - background.red()) + std::abs(c.green() - background.green()) + std::abs(c.blue() - background.blue()) <= 6) ++corners;
    }
    const double share = static_cast<double>(differing) / (image.width() * image.height());
    qInfo("brain covers %.1f%% of the 3D view", share * 100);
    QCOMPARE(corners, 3L);
    QVERIFY2(share > 0.15 && share < 0.9, qPrintable(QString::number(share)));
  }

  void cameraPresetChangesTheImage() {
    const QImage left = window_->view3d()->grabFramebuffer();
    QAction* top = nullptr;
    for (auto* a : window_->findChildren<QAction*>())
      if (a->text() == QStringLiteral("&Top")) top = a;
    QVERIFY(top);
    top->trigger();
    const QImage topImage = window_->view3d()->grabFramebuffer();
    QVERIFY(left != topImage);
  }

  void mouseDragRotates() {
    auto* view = window_->view3d();
    const QImage before = view->grabFramebuffer();
    const QPoint c = view->rect().center();
    QTest::mousePress(view, Qt::LeftButton, {}, c);
    for (int i = 1; i <= 10; ++i) {
      QMouseEvent move(QEvent::MouseMove, QPointF(c + QPoint(i * 15, 0)), view->mapToGlobal(QPointF(c + QPoint(i * 15, 0))), Qt::NoButton, Qt::LeftButton,
                       Qt::NoModifier);
      QApplication::sendEvent(view, &move);
    }
    QTest::mouseRelease(view, Qt::LeftButton, {}, c + QPoint(150, 0));
    const QImage after = view->grabFramebuffer();
    QVERIFY(before != after);
  }

  void aboutShowsVersions() {
    auto* engine = window_->engineInfo();
    QTRY_VERIFY_WITH_TIMEOUT(engine->ready(), 30000);
    QVERIFY2(engine->error().isEmpty(), qPrintable(engine->error()));
    const QString text = ui::AboutDialog::versionText(engine->torchVersion(), engine->deviceDescription());
    QVERIFY2(text.contains(QStringLiteral("Qt 6.")), qPrintable(text));
    QVERIFY(text.contains(QStringLiteral("VTK 9.1")));
    QVERIFY(text.contains(QStringLiteral("ITK 5.2")));
    QVERIFY(text.contains(QStringLiteral("LibTorch 1.13")));
    QVERIFY(text.contains(QStringLiteral("Compute device: CPU")));
  }

  // Help › Get Data…: one row per atlas with its files, size and licence (read before the download),
  // the user data folder by default, and the files of the checked atlases only.
  void getDataDialogShowsLicencesBeforeDownloading() {
    ui::GetDataDialog dialog(window_.get());
    auto* table = dialog.table();
    QCOMPARE(table->rowCount(), 11);  // the eight parcellations, the MNI152 template, ABIDE I in CC200 and in HO
    for (int r = 0; r < table->rowCount(); ++r) {
      QVERIFY2(!table->item(r, 3)->text().isEmpty(), qPrintable(table->item(r, 0)->text()));
      QVERIFY(table->item(r, 1)->text().toInt() >= 3);
      const bool abide = table->item(r, 0)->text().startsWith(QStringLiteral("abide1-"));
      QCOMPARE(table->item(r, 0)->checkState(), abide ? Qt::Unchecked : Qt::Checked);  // the example data only on purpose
      if (abide) {
        QCOMPARE(table->item(r, 1)->text().toInt(), 739 + 2);
        QVERIFY(table->item(r, 3)->text().contains(QStringLiteral("non-commercial research use")));
      }
    }
    QCOMPARE(dialog.folder(), QString::fromStdString(userFetchedDataDir().string()));
    QCOMPARE(dialog.chosenFiles().size(), std::size_t{47});  // every file of the released atlas folders
    for (int r = 0; r < table->rowCount(); ++r)
      if (table->item(r, 0)->text() != QStringLiteral("shen268")) table->item(r, 0)->setCheckState(Qt::Unchecked);
    const auto files = dialog.chosenFiles();
    QCOMPARE(files.size(), std::size_t{4});
    for (const auto& f : files) QCOMPARE(f.owner, std::string("shen268"));
    for (int r = 0; r < table->rowCount(); ++r) table->item(r, 0)->setCheckState(Qt::Unchecked);
    auto* box = dialog.findChild<QDialogButtonBox*>();
    int acceptButtons = 0;
    for (auto* b : box->buttons())
      if (box->buttonRole(b) == QDialogButtonBox::AcceptRole) {
        ++acceptButtons;
        QVERIFY(!b->isEnabled());
      }
    QCOMPARE(acceptButtons, 1);  // nothing chosen, nothing to download
    dialog.resize(900, 520);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QTest::qWait(100);
    QVERIFY2(table->rowHeight(0) > table->fontMetrics().height() * 3 / 2, "a long licence is wrapped, not cut");  // aal116's
    dialog.grab().save(QString::fromStdString((bgtest::scratchDir("get-data") / "get-data.png").string()));
  }

  // After Get Data the workbench reads the data path again: a user data folder created by the fetch
  // joins it, and the workspace panel shows the new path (no restart).
  void dataPathIsReloadedAfterAFetch() {
    const auto fetched = userFetchedDataDir();
    const bool existed = std::filesystem::exists(fetched);
    std::filesystem::remove_all(fetched);
    workbench_->reloadDataPaths();
    QVERIFY(workbench_->dataPaths().describe().find(fetched.string()) == std::string::npos);
    std::filesystem::create_directories(fetched);
    workbench_->reloadDataPaths();
    window_->workspacePanel()->refreshData();
    QVERIFY2(workbench_->dataPaths().describe().find(fetched.string()) != std::string::npos, workbench_->dataPaths().describe().c_str());
    QVERIFY(workbench_->hasAtlases());
    const auto items = window_->workspacePanel()->tree()->findItems(QStringLiteral("Data path"), Qt::MatchExactly);
    QCOMPARE(items.size(), 1);
    QVERIFY(items[0]->text(2).contains(QString::fromStdString(fetched.string())));
    if (!existed) std::filesystem::remove_all(fetched);
    workbench_->reloadDataPaths();
    window_->workspacePanel()->refreshData();
  }

  void verifyAtlasesFillsWorkspace() {
    QSignalSpy done(window_.get(), &ui::MainWindow::atlasesVerified);
    window_->verifyAtlases();
    QVERIFY(done.wait(60000));
    auto* tree = window_->workspacePanel()->tree();
    const auto items = tree->findItems(QStringLiteral("gordon333"), Qt::MatchRecursive);
    QCOMPARE(items.size(), 1);
    QCOMPARE(items[0]->text(1), QStringLiteral("333"));
    QCOMPARE(items[0]->text(2), QStringLiteral("verified"));
  }

  void jobsPanelCancelsAJob() {
    auto* panel = window_->jobsPanel();
    const int before = panel->rowCount();
    auto job = workbench_->jobs().submit("long test job", [](JobContext& ctx) {
      for (int i = 0; i < 2000; ++i) {
        ctx.update("waiting", i / 2000.0);
        ctx.throwIfCancelled();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
    QTRY_COMPARE_WITH_TIMEOUT(panel->rowCount(), before + 1, 5000);
    const int row = before;
    QTRY_COMPARE_WITH_TIMEOUT(panel->cellText(row, 1), QStringLiteral("running"), 5000);
    panel->cancelRow(row);
    QCOMPARE(job->wait(), JobState::Cancelled);
    QTRY_COMPARE_WITH_TIMEOUT(panel->cellText(row, 1), QStringLiteral("cancelled"), 5000);
  }

  // A failed job is red, says "failed" (not a full blue bar), puts its message in the status bar and
  // opens it with one click.
  void jobsPanelShowsFailures() {
    auto* panel = window_->jobsPanel();
    const int row = panel->rowCount();
    auto job = workbench_->jobs().submit("failing test job", [](JobContext& ctx) {
      ctx.update("working", 1.0);
      throw Error(ErrorCode::Data, "the test input is corrupt");
    });
    QCOMPARE(job->wait(), JobState::Failed);
    QTRY_COMPARE_WITH_TIMEOUT(panel->cellText(row, 1), QStringLiteral("failed"), 5000);
    QCOMPARE(panel->stateColour(row), QColor(0xcf, 0x22, 0x2e));
    QCOMPARE(panel->progressText(row), QStringLiteral("failed"));
    panel->grab().save(QStringLiteral("screenshot_jobs_failed.png"));
    QVERIFY2(window_->statusBar()->currentMessage().contains(QStringLiteral("the test input is corrupt")), qPrintable(window_->statusBar()->currentMessage()));
    auto* box = panel->showFailure(row);
    QVERIFY(box);
    QVERIFY(box->informativeText().contains(QStringLiteral("the test input is corrupt")));
    box->close();
    QVERIFY(!panel->showFailure(0) || panel->cellText(0, 1) == QStringLiteral("failed"));  // other rows open nothing
  }

  void logPanelShowsMessages() {
    spdlog::warn("a message for the log panel");
    QTRY_VERIFY_WITH_TIMEOUT(window_->logPanel()->text().contains(QStringLiteral("a message for the log panel")), 5000);
  }

  void workspaceBrowserAndMatrixViews() {
    const auto pheno = bgtest::dataRoot() / "data/abide1-cc200/Phenotypic_V1_0b_preprocessed1.csv";
    if (!std::filesystem::exists(pheno)) QSKIP("ABIDE data not in the data path");
    const auto dir = bgtest::scratchDir("gui-workspace");
    nlohmann::json manifest;
    {
      auto ws = Workspace::create(dir);
      NullProgress p;
      importAbide(*ws, pheno, bgtest::dataRoot() / "data/abide1-cc200/rois_cc200", p);
      DeriveRequest req;
      req.options.cleaning.bandpass = false;
      deriveConnectomes(*ws, workbench_->atlases(), req, p);
      CorpusSpec spec;
      spec.name = "asd";
      spec.classes = {"control", "autism"};
      spec.split.folds = 5;
      manifest = buildCorpusManifest(*ws, spec);
      saveCorpus(*ws, manifest);
    }
    QVERIFY(!window_->openWorkspace(QString::fromStdString((dir / "no-such-folder").string())));
    QVERIFY(window_->openWorkspace(QString::fromStdString(dir.string())));
    QCOMPARE(QSettings().value(QStringLiteral("session/workspace")).toString(), QString::fromStdString(dir.string()));
    auto* browser = window_->scanBrowser();
    QCOMPARE(browser->visibleRows(), 739);
    browser->filter()->setText(QStringLiteral("NYU"));
    QCOMPARE(browser->visibleRows(), 175);  // NYU's scans (the filter searches every column)
    browser->filter()->clear();

    // Selecting a scan shows its FC, exactly as stored, with ROI values under the mouse.
    auto* panel = window_->matrixPanel();
    QSignalSpy shown(panel, &ui::MatrixPanel::matrixShown);
    const auto scanId = manifest["items"][0]["scan_id"].get<std::int64_t>();
    QVERIFY(browser->selectScan(scanId));
    QVERIFY(shown.count() == 1 || shown.wait(5000));
    QCOMPARE(window_->views()->currentWidget(), static_cast<QWidget*>(panel));
    auto ws = Workspace::open(dir);
    const auto fc = ws->arrays().read(manifest["items"][0]["fc_array"].get<std::string>());
    auto* view = panel->view();
    QVERIFY(view->matrix().isApprox(fc, 1e-12));
    QTest::qWait(50);
    const auto cell = view->cellAt(view->cellCentre(3, 5));
    QVERIFY(cell.has_value());
    QCOMPARE(cell->row, 3);
    QCOMPARE(cell->column, 5);
    QCOMPARE(cell->value, fc(3, 5));
    const QImage image = view->grab().toImage().convertToFormat(QImage::Format_RGB32);
    image.save(QStringLiteral(BRAINGRAPH_TEST_SCRATCH "/../screenshot_matrix.png"));
    long red = 0, blue = 0;
    for (int y = 0; y < image.height(); ++y)
      for (int x = 0; x < image.width(); ++x) {
        const QColor c = QColor::fromRgb(image.pixel(x, y));
        red += c.red() > c.blue() + 60;
        blue += c.blue() > c.red() + 60;
      }
    QVERIFY2(red > 2000 && blue > 200, qPrintable(QString("red %1 blue %2").arg(red).arg(blue)));
    // Each sign in its colour, cell by cell: r = 1 on the diagonal red, the most negative r blue.
    Eigen::Index negRow = 0, negCol = 0;
    fc.minCoeff(&negRow, &negCol);
    QVERIFY(fc(negRow, negCol) < -0.3);
    const QColor diagonal = QColor::fromRgb(image.pixel(view->cellCentre(7, 7)));
    const QColor negative = QColor::fromRgb(image.pixel(view->cellCentre(static_cast<int>(negRow), static_cast<int>(negCol))));
    QVERIFY2(diagonal.red() > diagonal.blue() + 100, qPrintable(diagonal.name()));
    QVERIFY2(negative.blue() > negative.red() + 60, qPrintable(negative.name()));

    // The same scan as a 3D connectome on the brain: CC200 nodes from the ABIDE label volume.
    auto* connectome = window_->connectomePanel();
    QCOMPARE(viz::ConnectomeStyle{}.topCount, 200);  // the default: readable on any atlas
    connectome->edgeCount()->setValue(995);          // a previous run may have left another value in the settings
    QCOMPARE(connectome->actors().shownNodes(), 200);
    QCOMPARE(connectome->actors().shownEdges(), 995);
    connectome->edgeCount()->setValue(199);
    QCOMPARE(connectome->actors().shownEdges(), 199);
    QCOMPARE(QSettings().value(QStringLiteral("view/top_edges")).toInt(), 199);  // restored at the next start
    // The legend names the networks drawn (CC200's derived Yeo-7 networks) and both edge signs.
    {
      const auto& legend = connectome->actors().legendEntries();
      QVERIFY(std::find(legend.begin(), legend.end(), std::string("Default")) != legend.end());
      QVERIFY(std::find(legend.begin(), legend.end(), std::string("positive edge (r > 0)")) != legend.end());
    }
    // A weight threshold instead: exactly the pairs with |r| above it.
    connectome->weightThreshold()->setValue(0.6);
    int above = 0;
    for (Eigen::Index i = 0; i < fc.rows(); ++i)
      for (Eigen::Index j = i + 1; j < fc.cols(); ++j) above += std::abs(fc(i, j)) > 0.6;
    QCOMPARE(connectome->actors().shownEdges(), above);
    connectome->weightThreshold()->setValue(0.0);
    QCOMPARE(connectome->actors().shownEdges(), 199);
    window_->views()->setCurrentIndex(0);
    QTest::qWait(200);
    const QImage scene = window_->view3d()->grabFramebuffer().convertToFormat(QImage::Format_RGB32);
    scene.save(QStringLiteral(BRAINGRAPH_TEST_SCRATCH "/../screenshot_connectome_3d.png"));
    // The scene proper: not the legend (top right) nor the orientation cube (bottom left).
    const auto inScene = [](const QImage& image, int x, int y) { return x < image.width() * 0.79 && !(x < image.width() * 0.17 && y > image.height() * 0.77); };
    // Edges: red pixels that disappear when no edge passes the threshold (the Default network's red
    // nodes stay, so they do not count).
    const auto redPixels = [&inScene](const QImage& image) {
      long red = 0;
      for (int y = 0; y < image.height(); ++y)
        for (int x = 0; x < image.width(); ++x) {
          if (!inScene(image, x, y)) continue;
          const QColor c = QColor::fromRgb(image.pixel(x, y));
          red += c.red() > 150 && c.green() < 110 && c.blue() < 110;
        }
      return red;
    };
    connectome->weightThreshold()->setValue(0.999);
    QCOMPARE(connectome->actors().shownEdges(), 0);
    QTest::qWait(100);
    const long redWithoutEdges = redPixels(window_->view3d()->grabFramebuffer().convertToFormat(QImage::Format_RGB32));
    connectome->weightThreshold()->setValue(0.0);
    QTest::qWait(100);
    const long edgeRed = redPixels(scene) - redWithoutEdges;
    QVERIFY2(edgeRed > 300, qPrintable(QString::number(edgeRed)));
    // Nodes are drawn (sphere imposters) in their networks' Yeo colours: green (DorsAttn) and purple
    // (Vis, SalVentAttn), which neither the red and blue edges nor the grey brain have.
    long nodeColoured = 0;
    for (int y = 0; y < scene.height(); ++y)
      for (int x = 0; x < scene.width(); ++x) {
        if (!inScene(scene, x, y)) continue;
        const QColor c = QColor::fromRgb(scene.pixel(x, y));
        nodeColoured += c.hsvSaturation() > 90 && ((c.hsvHue() >= 90 && c.hsvHue() <= 160) || (c.hsvHue() >= 260 && c.hsvHue() <= 310));
      }
    QVERIFY2(nodeColoured > 300, qPrintable(QString::number(nodeColoured)));
    // The orientation cube in the lower left corner: its coloured faces (red L/R, green A/P, blue S/I).
    {
      long cube = 0;
      for (int y = static_cast<int>(scene.height() * 0.8); y < scene.height(); ++y)
        for (int x = 0; x < static_cast<int>(scene.width() * 0.15); ++x) cube += QColor::fromRgb(scene.pixel(x, y)).hsvSaturation() > 100;
      QVERIFY2(cube > 50, qPrintable(QString("orientation cube pixels %1").arg(cube)));
    }
    // Clicking on a node names it: node 100's projection, clicked with the mouse.
    const auto& pos = *connectome->placement()->positions[100];
    auto* renderer = window_->view3d()->renderer();
    renderer->SetWorldPoint(pos[0], pos[1], pos[2], 1.0);
    renderer->WorldToDisplay();
    double d[3];
    renderer->GetDisplayPoint(d);
    const double dpr = window_->view3d()->devicePixelRatioF();
    QSignalSpy picked(connectome, &ui::ConnectomePanel::nodePicked);
    QTest::mouseClick(window_->view3d(), Qt::LeftButton, {}, QPoint(static_cast<int>(d[0] / dpr), window_->view3d()->height() - static_cast<int>(d[1] / dpr)));
    QCOMPARE(picked.count(), 1);
    const int node = picked.at(0).at(0).toInt();
    renderer->SetWorldPoint((*connectome->placement()->positions[static_cast<std::size_t>(node)])[0],
                            (*connectome->placement()->positions[static_cast<std::size_t>(node)])[1],
                            (*connectome->placement()->positions[static_cast<std::size_t>(node)])[2], 1.0);
    renderer->WorldToDisplay();
    double e[3];
    renderer->GetDisplayPoint(e);
    QVERIFY(std::hypot(e[0] - d[0], e[1] - d[1]) < 2.0 * dpr + 1.0);  // the nearest node to the click, which is node 100 or one in front of it
    QCOMPARE(connectome->pickedName(), QString::fromStdString(connectome->placement()->names[static_cast<std::size_t>(node)]));
    // CC200 regions carry readable names: the AAL region(s) they overlap most, then their label.
    QVERIFY2(!connectome->pickedName().startsWith(QStringLiteral("CC200")), qPrintable(connectome->pickedName()));
    QVERIFY2(connectome->pickedName().endsWith(QStringLiteral("(#%1)").arg(node + 1)), qPrintable(connectome->pickedName()));
    // PNG export at a chosen resolution, larger than the window, from another tab (File › Export 3D View).
    window_->views()->setCurrentIndex(1);
    const QImage large = window_->export3dImage(QSize(1920, 1080));
    QCOMPARE(window_->views()->currentIndex(), 1);  // the user stays where they were
    QCOMPARE(large.size(), QSize(1920, 1080));
    long largeRed = 0;
    for (int y = 0; y < large.height(); y += 2)
      for (int x = 0; x < large.width(); x += 2) {
        const QColor c = QColor::fromRgb(large.pixel(x, y));
        largeRed += c.red() > 150 && c.green() < 110 && c.blue() < 110;
      }
    QVERIFY2(largeRed > 100, qPrintable(QString::number(largeRed)));
    QCOMPARE(window_->view3d()->size(), scene.size() / window_->view3d()->devicePixelRatioF());  // the view is back to its size
    window_->views()->setCurrentIndex(1);

    // The scan's matrix: rows grouped by network (CC200's derived Yeo-7 networks), one band each.
    {
      const auto rows = view->rowNetworks();
      QCOMPARE(static_cast<Eigen::Index>(rows.size()), fc.rows());
      std::set<std::string> finished;
      for (std::size_t r = 0; r < rows.size(); ++r) {
        QVERIFY2(!finished.count(rows[r]), rows[r].c_str());  // a network never comes back once left
        if (r + 1 < rows.size() && rows[r + 1] != rows[r]) finished.insert(rows[r]);
      }
      QCOMPARE(finished.size(), std::size_t(7));  // eight networks, seven boundaries
    }

    // Group difference autism vs control: Welch's t on Fisher-z FC per edge, against a computation here.
    const int index = panel->source()->findText(QStringLiteral("asd: autism vs control, Welch t per edge (FDR)"));
    QVERIFY(index > 0);
    shown.clear();
    panel->source()->setCurrentIndex(index);
    QVERIFY(shown.wait(60000));
    QVERIFY(view->showsSignificance());
    std::vector<Eigen::MatrixXd> groups[2];
    for (const auto& item : manifest["items"]) groups[item["class_index"].get<int>()].push_back(ws->arrays().read(item["fc_array"].get<std::string>()));
    for (const auto& [i, j] : std::vector<std::pair<int, int>>{{3, 5}, {0, 199}, {17, 120}}) {
      double mean[2] = {0, 0}, var[2] = {0, 0};
      for (int g = 0; g < 2; ++g) {
        const double n = static_cast<double>(groups[g].size());
        for (const auto& m : groups[g]) mean[g] += std::atanh(m(i, j)) / n;
        for (const auto& m : groups[g]) var[g] += std::pow(std::atanh(m(i, j)) - mean[g], 2) / (n - 1);
        var[g] /= n;
      }
      const double t = (mean[1] - mean[0]) / std::sqrt(var[0] + var[1]);
      QVERIFY2(std::abs(view->matrix()(i, j) - t) < 1e-6, qPrintable(QString("%1 vs %2").arg(view->matrix()(i, j)).arg(t)));
    }
    view->grab().save(QStringLiteral(BRAINGRAPH_TEST_SCRATCH "/../screenshot_matrix_difference.png"));
    // Hovering a cell reads it out, with p and the FDR-corrected q, below the matrix (not hidden by a help tooltip).
    QTest::mouseMove(view, view->cellCentre(3, 5));
    QTRY_VERIFY_WITH_TIMEOUT(panel->hoverReadout()->text().contains(QStringLiteral("FDR q")), 5000);
    QVERIFY(panel->hoverReadout()->text().contains(QStringLiteral("p = ")));
    QCOMPARE(view->describeAt(view->cellCentre(3, 5)), panel->hoverReadout()->text());

    // Predict the selected scan with a trained model through braingraph-cli, and explain it.
    NullProgress quiet;
    const auto card = trainBaselineModel(*ws, manifest, {0.01}, 0, quiet);
    const auto modelFile = dir / "logreg.json";
    writeTextAtomically(modelFile, card.dump());
    const QString scanFile = browser->currentScanPath();
    QVERIFY(scanFile.endsWith(QStringLiteral(".1D.gz")));
    QSignalSpy predicted(window_.get(), &ui::MainWindow::predictionShown);
    window_->predictScan(QString::fromStdString(modelFile.string()), scanFile);
    QVERIFY(predicted.wait(60000));
    auto* explanation = window_->explanationView();
    QCOMPARE(window_->views()->currentWidget(), static_cast<QWidget*>(explanation));
    const double expectedP = predictBaseline(card, fc, {}).probability;
    QVERIFY(std::abs(explanation->prediction()["probability"].get<double>() - expectedP) < 1e-6);
    fixtureDir_ = dir;
    modelFile_ = QString::fromStdString(modelFile.string());
    scanFile_ = scanFile;
    expectedProbability_ = expectedP;
    QCOMPARE(explanation->topRois()->count(), 10);
    // CC200 ROIs take the Schaefer200 network most of their voxels fall in (7 networks + subcortical).
    QCOMPARE(explanation->networkBars()->bars(), 8);
    double networkSum = 0;
    for (const auto& [name, v] : explanation->prediction()["explanation"]["networks"].items()) networkSum += v["saliency"].get<double>();
    QVERIFY(std::abs(networkSum - 1.0) < 1e-9);
    QVERIFY(explanation->summary()->text().contains(QStringLiteral("p(autism)")));
    explanation->grab().save(QStringLiteral(BRAINGRAPH_TEST_SCRATCH "/../screenshot_explanation.png"));

    // A braingraph-cli job (pre-training) reports progress to the jobs panel and is cancelled from it:
    // the process gets Ctrl-C, stops cleanly and keeps its checkpoint.
    {
      auto* panel = window_->jobsPanel();
      const int row = panel->rowCount();
      const auto out = dir / "pretrain.pt";
      auto job = workbench_->jobs().submit("pre-train (test)", [&dir, out](JobContext& ctx) {
        ui::runCli(ctx, {QStringLiteral("--threads=1"), QStringLiteral("pretrain"), QStringLiteral("-w"), QString::fromStdString(dir.string()),
                         QStringLiteral("--corpus"), QStringLiteral("asd"), QStringLiteral("--epochs"), QStringLiteral("50"), QStringLiteral("--out"),
                         QString::fromStdString(out.string())});
      });
      QTRY_COMPARE_WITH_TIMEOUT(panel->rowCount(), row + 1, 5000);
      QTRY_VERIFY_WITH_TIMEOUT(panel->cellText(row, 2).startsWith(QStringLiteral("epoch 1/50")), 60000);  // the CLI's own stage text
      QVERIFY(panel->cellText(row, 3).toInt() >= 0);
      panel->cancelRow(row);
      QCOMPARE(job->wait(), JobState::Cancelled);
      QTRY_COMPARE_WITH_TIMEOUT(panel->cellText(row, 1), QStringLiteral("cancelled"), 5000);
      QVERIFY(std::filesystem::exists(std::filesystem::path(out.string() + ".ckpt")));  // resumable with --resume
      QVERIFY(!std::filesystem::exists(out));
    }

    // Importing a BOLD file (File > Import Files, or a drop on the browser) runs a job; the browser refreshes.
    const auto bold = bgtest::dataRoot() / "data/nifti-samples/0040071_COBRE_3mm_functional_segment.nii.gz";
    QSignalSpy changed(window_.get(), &ui::MainWindow::workspaceChanged);
    window_->importPaths({QString::fromStdString(bold.string())});
    QVERIFY(changed.wait(30000));
    QCOMPARE(browser->visibleRows(), 740);
    browser->filter()->setText(QStringLiteral("bold"));
    QCOMPARE(browser->visibleRows(), 1);
    browser->filter()->clear();
    // Dropping a file on the browser imports it the same way (drag enter accepted, then the drop).
    {
      const auto dropped = bgtest::dataRoot() / "data/nifti-samples/example4d.nii.gz";
      QMimeData mime;
      mime.setUrls({QUrl::fromLocalFile(QString::fromStdString(dropped.string()))});
      QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
      QCoreApplication::sendEvent(browser, &enter);
      QVERIFY(enter.isAccepted());
      QSignalSpy droppedIn(window_.get(), &ui::MainWindow::workspaceChanged);
      QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
      QCoreApplication::sendEvent(browser, &drop);
      QVERIFY(drop.isAccepted());
      QVERIFY(droppedIn.wait(30000));
      QCOMPARE(browser->visibleRows(), 741);
    }
  }

  // Issue 8: the wizard driven end to end (scan -> model -> QC -> run -> result -> sign-off -> PDF),
  // then a QC failure that blocks until overridden with a reason.
  void diagnosisWizardEndToEnd() {
    if (modelFile_.isEmpty()) QSKIP("needs the workspace fixture");
    auto* wizard = window_->openDiagnosisWizard();
    QVERIFY(QTest::qWaitForWindowExposed(wizard));
    QCOMPARE(wizard->currentId(), int(ui::DiagnosisWizard::ScanPage));
    wizard->setScan(scanFile_);
    QVERIFY(wizard->currentPage()->isComplete());
    // A workspace scan brings its acquisition site (ABIDE's SITE_ID, its file name's prefix up to case and underscores: PITT for Pitt_..., MAX_MUN for
    // MaxMun_a_...).
    QVERIFY(!wizard->site().isEmpty());
    QVERIFY2(QFileInfo(scanFile_).fileName().remove(QLatin1Char('_')).startsWith(QString(wizard->site()).remove(QLatin1Char('_')), Qt::CaseInsensitive),
             qPrintable(wizard->site()));
    wizard->setPatientId(QStringLiteral("sub-GUI01"));
    wizard->next();
    QCOMPARE(wizard->currentId(), int(ui::DiagnosisWizard::ModelPage));
    QVERIFY(!wizard->currentPage()->isComplete());  // no model chosen yet
    // A disabled Next says why, on the page.
    const auto reasonOf = [](QWizard* w) {
      auto* label = w->currentPage()->findChild<QLabel*>(QStringLiteral("blockerReason"));
      return label && label->isVisible() ? label->text() : QString();
    };
    QVERIFY2(reasonOf(wizard).contains(QStringLiteral("model")), qPrintable(reasonOf(wizard)));
    wizard->setModel(modelFile_);
    QTRY_VERIFY_WITH_TIMEOUT(wizard->currentPage()->isComplete(), 30000);  // the card is read by the CLI
    QVERIFY(reasonOf(wizard).isEmpty());
    QSignalSpy qcDone(wizard, &ui::DiagnosisWizard::qcFinished);
    wizard->next();
    QCOMPARE(wizard->currentId(), int(ui::DiagnosisWizard::QcPage));
    QVERIFY(qcDone.wait(60000));
    QVERIFY2(!wizard->qcResult().contains("error"), wizard->qcResult().dump().c_str());
    const auto ts = readRoiTimeSeries(scanFile_.toStdString());
    QCOMPARE(wizard->qcResult()["items"][0]["value"].get<double>(), static_cast<double>(ts.series.rows()));
    QVERIFY(!wizard->qcBlocked());
    QVERIFY(wizard->currentPage()->isComplete());
    wizard->grab().save(QStringLiteral(BRAINGRAPH_TEST_SCRATCH "/../screenshot_wizard_qc.png"));
    QSignalSpy ran(wizard, &ui::DiagnosisWizard::runFinished);
    wizard->next();
    QVERIFY(ran.wait(60000));
    QVERIFY(ran.at(0).at(0).toBool());
    QVERIFY(wizard->currentPage()->isComplete());
    const auto& record = wizard->record();
    QVERIFY(std::abs(record["result"]["probability"].get<double>() - expectedProbability_) < 1e-6);
    QCOMPARE(record["patient"]["id"].get<std::string>(), std::string("sub-GUI01"));
    // The main window's Explanation tab shows this result too.
    QVERIFY(window_->explanationView()->prediction().value("label", nlohmann::json()) == record["result"]["label"]);
    QVERIFY(window_->explanationView()->prediction().value("probability", nlohmann::json()) == record["result"]["probability"]);
    wizard->next();
    QCOMPARE(wizard->currentId(), int(ui::DiagnosisWizard::ResultPage));
    // The glass brain on the result page is drawn, not blank.
    const QImage result = wizard->grab().toImage();
    result.save(QStringLiteral(BRAINGRAPH_TEST_SCRATCH "/../screenshot_wizard_result.png"));
    int coloured = 0;
    for (int y = 0; y < result.height(); y += 2)
      for (int x = 0; x < result.width(); x += 2) coloured += result.pixelColor(x, y).hsvSaturation() > 100;
    QVERIFY2(coloured > 100, qPrintable(QString::number(coloured)));
    wizard->next();
    QCOMPARE(wizard->currentId(), int(ui::DiagnosisWizard::SignOffPage));
    QVERIFY(!wizard->currentPage()->isComplete());  // no clinician yet
    QVERIFY2(reasonOf(wizard).contains(QStringLiteral("clinician")), qPrintable(reasonOf(wizard)));
    // The sign-off page can go back to the result, and forward again.
    QVERIFY(wizard->button(QWizard::BackButton)->isVisible() && wizard->button(QWizard::BackButton)->isEnabled());
    wizard->back();
    QCOMPARE(wizard->currentId(), int(ui::DiagnosisWizard::ResultPage));
    wizard->next();
    QCOMPARE(wizard->currentId(), int(ui::DiagnosisWizard::SignOffPage));
    const auto pdf = fixtureDir_ / "wizard-report.pdf";
    wizard->setSignOff(QStringLiteral("Dr. Gui Tester"), QStringLiteral("No further action."), QString::fromStdString(pdf.string()));
    QVERIFY(wizard->currentPage()->isComplete());
    const auto reportId = record["report_id"].get<std::string>();
    QSignalSpy written(wizard, &ui::DiagnosisWizard::reportWritten);
    // Finish offers to open the PDF (ticked by default); here nothing is launched, the request is caught.
    QVERIFY(wizard->openPdfCheck()->isChecked());
    QObject::disconnect(wizard, &ui::DiagnosisWizard::openPdfRequested, nullptr, nullptr);
    QSignalSpy openPdf(wizard, &ui::DiagnosisWizard::openPdfRequested);
    QPointer<ui::DiagnosisWizard> finished(wizard);
    wizard->button(QWizard::FinishButton)->click();
    QCOMPARE(written.count(), 1);
    QCOMPARE(openPdf.count(), 1);
    QCOMPARE(openPdf.at(0).at(0).toString(), QString::fromStdString(pdf.string()));
    QVERIFY(std::filesystem::exists(pdf));
    QProcess text;
    text.start(QStringLiteral("pdftotext"), {QString::fromStdString(pdf.string()), QStringLiteral("-")});
    QVERIFY(text.waitForFinished(30000));
    const QString body = QString::fromUtf8(text.readAllStandardOutput());
    QVERIFY(body.contains(QStringLiteral("sub-GUI01")));
    QVERIFY(body.contains(QStringLiteral("Dr. Gui Tester")));
    QVERIFY(body.contains(QString::fromStdString(reportId)));
    {
      auto ws = Workspace::open(fixtureDir_);
      const auto stored = loadReportRecord(*ws, reportId);
      QVERIFY(stored.has_value());
      QCOMPARE((*stored)["signoff"]["clinician"].get<std::string>(), std::string("Dr. Gui Tester"));
    }

    // File > Reports lists it and regenerates the same PDF from the stored record.
    {
      auto* reports = window_->showReports();
      QVERIFY(reports);
      QVERIFY(reports->table()->rowCount() >= 1);
      QCOMPARE(reports->table()->item(0, 0)->text(), QString::fromStdString(reportId));
      QCOMPARE(reports->table()->item(0, 6)->text(), QStringLiteral("Dr. Gui Tester"));
      QCOMPARE(reports->table()->item(0, 2)->text(), QFileInfo(modelFile_).fileName());  // the model column
      const auto again = fixtureDir_ / "wizard-report-again.pdf";
      QVERIFY(reports->regenerateSelected(QString::fromStdString(again.string())));
      QProcess againText;
      againText.start(QStringLiteral("pdftotext"), {QString::fromStdString(again.string()), QStringLiteral("-")});
      QVERIFY(againText.waitForFinished(30000));
      QCOMPARE(QString::fromUtf8(againText.readAllStandardOutput()), body);
      reports->close();
    }
    // A second report for the same patient with the other result: File › Reports marks the patient.
    {
      auto ws = Workspace::open(fixtureDir_);
      auto other = *loadReportRecord(*ws, reportId);
      other["report_id"] = reportId + "-B";
      other["result"]["label"] =
          other["result"]["label"] == other["result"]["positive_class"] ? other["result"]["negative_class"] : other["result"]["positive_class"];
      saveReportRecord(*ws, other);
      auto* reports = window_->showReports();
      int marked = 0;
      for (int r = 0; r < reports->table()->rowCount(); ++r)
        if (reports->table()->item(r, 1)->data(Qt::UserRole).toBool()) {
          ++marked;
          QVERIFY(reports->table()->item(r, 1)->toolTip().contains(QStringLiteral("disagree")));
        }
      QCOMPARE(marked, 2);
      reports->close();
      SQLite::Statement drop(ws->db(), "DELETE FROM reports WHERE id = ?");
      drop.bind(1, reportId + "-B");
      drop.exec();
    }

    // A scan the model cannot take: Harvard-Oxford series (111 columns) for a CC200 model; the model
    // page says so and Next stays disabled.
    {
      const auto hoDir = bgtest::dataRoot() / "data/abide1-ho/rois_ho";
      const auto hoFile = hoDir / (QFileInfo(scanFile_).fileName().replace(QStringLiteral("_rois_cc200"), QStringLiteral("_rois_ho")).toStdString());
      if (std::filesystem::exists(hoFile)) {
        auto* mismatch = window_->openDiagnosisWizard();
        mismatch->setScan(QString::fromStdString(hoFile.string()));
        mismatch->next();
        mismatch->setModel(modelFile_);
        QTRY_VERIFY_WITH_TIMEOUT(reasonOf(mismatch).contains(QStringLiteral("111 ROI columns")), 30000);
        QVERIFY(!mismatch->button(QWizard::NextButton)->isEnabled());
        mismatch->close();
      }
    }

    // A multi-atlas model (one regression per atlas) with one atlas's time-series file: the model page
    // asks for the BOLD volume, which is parcellated with each atlas in one pass; with the volume, the
    // wizard runs through to the mean of the two members' calibrated probabilities. The members'
    // weights are zero, so each member's probability is its intercept's sigmoid, computed here.
    {
      const auto member = [](const char* atlas, int nodes, double intercept) {
        const auto edges = static_cast<std::size_t>(nodes) * static_cast<std::size_t>(nodes - 1) / 2;
        return nlohmann::json{{"kind", "baseline-logreg"},
                              {"format", 1},
                              {"c", 1.0},
                              {"method", "logreg"},
                              {"classes", {"control", "autism"}},
                              {"positive_class", "autism"},
                              {"atlas", atlas},
                              {"nodes", nodes},
                              {"preprocessing", {{"clean", false}}},
                              {"temperature", 1.0},
                              {"calibration_bias", 0.0},
                              {"calibration", "temperature"},
                              {"mean", std::vector<double>(edges, 0.0)},
                              {"scale", std::vector<double>(edges, 1.0)},
                              {"weights", std::vector<double>(edges, 0.0)},
                              {"intercept", intercept}};
      };
      const nlohmann::json ensemble = {{"kind", "atlas-ensemble"},
                                       {"format", 1},
                                       {"atlases", {"cc200", "ho"}},
                                       {"atlas", "cc200"},
                                       {"members", {member("cc200", 200, 0.8), member("ho", 111, -0.4)}},
                                       {"classes", {"control", "autism"}},
                                       {"positive_class", "autism"},
                                       {"label_field", "diagnosis"},
                                       {"corpus", {{"name", "two-atlas fixture"}, {"items", 2}}}};
      const auto twoAtlases = fixtureDir_ / "two-atlases.json";
      writeTextAtomically(twoAtlases, ensemble.dump());
      auto* multi = window_->openDiagnosisWizard();
      multi->setScan(scanFile_);
      multi->next();
      multi->setModel(QString::fromStdString(twoAtlases.string()));
      QTRY_VERIFY_WITH_TIMEOUT(!multi->busy(), 30000);
      QVERIFY2(reasonOf(multi).contains(QStringLiteral("reads each scan through cc200 and ho")), qPrintable(reasonOf(multi)));
      QVERIFY2(reasonOf(multi).contains(QStringLiteral("BOLD volume")) && reasonOf(multi).contains(QStringLiteral("Predict")), qPrintable(reasonOf(multi)));
      QVERIFY(!multi->button(QWizard::NextButton)->isEnabled());
      QVERIFY2(multi->modelCardText().contains(QStringLiteral("Atlases: cc200 + ho (200 + 111 ROIs)")), qPrintable(multi->modelCardText()));
      multi->close();

      const auto boldFile = fixtureDir_ / "sub-twoatlas_bold.nii.gz";  // on the 3 mm grid C-PAC used for both atlases
      {
        QProcess make;
        make.start(QStringLiteral(BRAINGRAPH_MAKE_BOLD), {QString::fromStdString((bgtest::dataRoot() / "data/abide1-cc200/atlas/CC200.nii.gz").string()),
                                                          QString::fromStdString(boldFile.string()), QStringLiteral("40"), QStringLiteral("2.0")});
        QVERIFY(make.waitForFinished(60000) && make.exitCode() == 0);
      }
      auto* bold = window_->openDiagnosisWizard();
      bold->setScan(QString::fromStdString(boldFile.string()));
      bold->next();
      bold->setModel(QString::fromStdString(twoAtlases.string()));
      QTRY_VERIFY_WITH_TIMEOUT(!bold->busy(), 30000);
      QVERIFY2(reasonOf(bold).isEmpty(), qPrintable(reasonOf(bold)));
      QSignalSpy boldQc(bold, &ui::DiagnosisWizard::qcFinished);
      bold->next();
      QVERIFY(boldQc.wait(120000));
      if (bold->qcBlocked()) bold->setQcOverride(true, QStringLiteral("a short test segment"));
      QSignalSpy boldRan(bold, &ui::DiagnosisWizard::runFinished);
      bold->next();
      QVERIFY(boldRan.wait(120000));
      QVERIFY2(boldRan.at(0).at(0).toBool(), bold->record().dump().substr(0, 400).c_str());
      const auto& twoRecord = bold->record();
      const auto sigmoid = [](double z) { return 1.0 / (1.0 + std::exp(-z)); };
      QVERIFY2(std::abs(twoRecord["result"]["probability"].get<double>() - (sigmoid(0.8) + sigmoid(-0.4)) / 2) < 1e-9, twoRecord["result"].dump().c_str());
      QCOMPARE(twoRecord["methods"]["atlas"].get<std::string>(), std::string("cc200 + ho"));
      QCOMPARE(twoRecord["methods"]["rois"]["ho"].get<int>(), 111);
      // Zero weights carry no saliency: no region is drawn as if it had driven the result.
      QVERIFY2(twoRecord["explanation"]["top_rois"].empty(), twoRecord["explanation"]["top_rois"].dump().c_str());
      bold->next();
      QCOMPARE(bold->currentId(), int(ui::DiagnosisWizard::ResultPage));
      bold->grab().save(QStringLiteral(BRAINGRAPH_TEST_SCRATCH "/../screenshot_wizard_two_atlases.png"));
      bold->close();
    }

    // A QC fail blocks the wizard until it is overridden with a reason.
    const auto strict = fixtureDir_ / "strict-qc.json";
    writeTextAtomically(strict, R"({"volumes_pass": 5000, "volumes_warn": 4000})");
    auto* second = window_->openDiagnosisWizard();
    second->setQcThresholdsFile(QString::fromStdString(strict.string()));
    second->setScan(scanFile_);
    second->next();
    second->setModel(modelFile_);
    QTRY_VERIFY_WITH_TIMEOUT(!second->busy(), 30000);
    QSignalSpy secondQc(second, &ui::DiagnosisWizard::qcFinished);
    second->next();
    QVERIFY(secondQc.wait(60000));
    QVERIFY(second->qcBlocked());
    QVERIFY(!second->currentPage()->isComplete());
    QVERIFY(!second->button(QWizard::NextButton)->isEnabled());
    second->button(QWizard::NextButton)->click();
    QCOMPARE(second->currentId(), int(ui::DiagnosisWizard::QcPage));  // still blocked
    second->setQcOverride(true, QString());
    QVERIFY(!second->currentPage()->isComplete());  // a reason is required
    second->setQcOverride(true, QStringLiteral("protocol reviewed"));
    QVERIFY(second->currentPage()->isComplete());
    QVERIFY(second->button(QWizard::NextButton)->isEnabled());
    second->close();
    if (finished) finished->close();  // Finish already closed (and deleted) it
  }

  // Tools › Derive asks which scans, atlases and settings; by default it keeps the workspace's own
  // settings, so nothing already derived is computed again.
  void deriveDialogKeepsTheWorkspaceSettings() {
    if (fixtureDir_.empty()) QSKIP("needs the workspace fixture");
    auto* browser = window_->scanBrowser();
    browser->filter()->setText(QStringLiteral("NYU"));
    QVERIFY(browser->selectFirstScan());
    auto* dialog = window_->openDeriveDialog();
    QVERIFY(dialog);
    std::vector<ParameterSet> sets;
    int before = 0;
    {
      auto ws = Workspace::open(fixtureDir_);
      sets = derivationParameterSets(*ws);
      before = ws->db().execAndGet("SELECT COUNT(*) FROM derivatives").getInt();
    }
    QCOMPARE(sets.size(), std::size_t(1));
    QVERIFY2(dialog->settings()->currentText().contains(QStringLiteral("As %1 existing").arg(sets[0].derivatives)),
             qPrintable(dialog->settings()->currentText()));
    QVERIFY(dialog->settings()->currentText().contains(QStringLiteral("no band-pass")));  // the fixture's own choice, shown
    QCOMPARE(dialog->scope()->count(), 3);                                                // the selected scan, the 175 NYU scans shown, all 741
    QVERIFY(dialog->scope()->itemText(1).contains(QStringLiteral("175")));
    const auto request = dialog->request();
    QCOMPARE(request.scanIds, browser->selectedScanIds());
    QCOMPARE(pipelineParamsJson(request.options), sets[0].json);
    dialog->scope()->setCurrentIndex(1);
    QCOMPARE(dialog->request().scanIds.size(), std::size_t(175));
    QVERIFY(dialog->summary()->text().contains(QStringLiteral("already derived with these settings are kept")));
    QSignalSpy changed(window_.get(), &ui::MainWindow::workspaceChanged);
    dialog->accept();  // runs derive() with the dialog's request
    QVERIFY(changed.wait(120000));
    {
      auto ws = Workspace::open(fixtureDir_);
      QCOMPARE(ws->db().execAndGet("SELECT COUNT(*) FROM derivatives").getInt(), before);  // nothing new, nothing redone
      QCOMPARE(derivationParameterSets(*ws).size(), std::size_t(1));
    }
    browser->filter()->clear();
  }

  // An evaluation's curves per fold: a fold selector shows one fold's, every fold's are separate series
  // starting at epoch 1, and the test metrics are summed up as mean ± SD (computed here by hand).
  void dashboardSeparatesFolds() {
    const auto dir = bgtest::scratchDir("gui-folds");
    const auto log = dir / "run.log";
    {
      std::ofstream out(runMetricsPath(log.string()));
      for (int f = 1; f <= 2; ++f)
        for (int e = 1; e <= 3; ++e) {
          out << nlohmann::json{{"s", "loss/train" + foldSeriesTag(f)}, {"x", e}, {"y", 1.0 / (e + f)}, {"t", e}}.dump() << "\n";
          out << nlohmann::json{{"s", "validation/auc" + foldSeriesTag(f)}, {"x", e}, {"y", 0.5 + 0.1 * e}, {"t", e}}.dump() << "\n";
        }
      out << nlohmann::json{{"s", "test/auc"}, {"x", 1}, {"y", 0.6}, {"t", 7}}.dump() << "\n";
      out << nlohmann::json{{"s", "test/auc"}, {"x", 2}, {"y", 0.8}, {"t", 8}}.dump() << "\n";
    }
    ui::RunDashboard dash;
    TrackedRun run;
    run.id = 1;
    run.state = JobState::Completed;
    run.logPath = log.string();
    dash.setRun(run);
    QCOMPARE(dash.foldSelector()->count(), 3);  // all, fold 1, fold 2
    QCOMPARE(dash.lossSeriesNames(), (QStringList{QStringLiteral("loss/train [fold 1]"), QStringLiteral("loss/train [fold 2]")}));
    QCOMPARE(dash.lossPointCount(), 6);
    dash.foldSelector()->setCurrentIndex(2);
    QCOMPARE(dash.lossSeriesNames(), QStringList{QStringLiteral("loss/train [fold 2]")});
    QCOMPARE(dash.validationSeriesNames(), QStringList{QStringLiteral("validation/auc [fold 2]")});  // the per-fold test points left out
    QCOMPARE(dash.summaryText(), QStringLiteral("Test over 2 folds: AUC %1 ± %2").arg(0.7, 0, 'f', 3).arg(std::sqrt(0.02), 0, 'f', 3));
    dash.resize(900, 420);
    dash.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dash));
    dash.grab().save(QStringLiteral(BRAINGRAPH_TEST_SCRATCH "/../screenshot_dashboard_folds.png"));
  }

  // The Launch form shows the rows the chosen run and method use, folds the advanced ones, and fits a
  // 1280x800 screen; the last launch's values come back in the next form.
  void launchFormShowsWhatTheRunUses() {
    if (fixtureDir_.empty()) QSKIP("needs the workspace fixture");
    const QString dir = QString::fromStdString(fixtureDir_.string());
    std::filesystem::remove(fixtureDir_ / "launch-last.json");
    ui::LaunchRunDialog form(dir);
    form.kind()->setCurrentText(QStringLiteral("evaluate"));
    form.method()->setCurrentText(QStringLiteral("prompt"));
    form.show();
    QVERIFY(QTest::qWaitForWindowExposed(&form));
    QVERIFY2(form.sizeHint().height() <= 760, qPrintable(QString::number(form.sizeHint().height())));
    QVERIFY(form.showsRow(form.pretrained()) && form.showsRow(form.pretrainInFolds()) && form.showsRow(form.labels()));
    QVERIFY(!form.showsRow(form.regularisation()));                                  // prompt has no C
    QVERIFY(!form.showsRow(form.calibration()) && !form.showsRow(form.ensemble()));  // folded
    form.grab().save(QStringLiteral(BRAINGRAPH_TEST_SCRATCH "/../screenshot_launch_form.png"));
    form.advancedOptions()->setChecked(true);
    QVERIFY(form.showsRow(form.calibration()) && form.showsRow(form.ensemble()));
    form.method()->setCurrentText(QStringLiteral("logreg"));
    QVERIFY(form.showsRow(form.regularisation()) && !form.showsRow(form.ensemble()) && !form.showsRow(form.pretrained()));
    form.kind()->setCurrentText(QStringLiteral("train"));
    QVERIFY(!form.showsRow(form.folds()) && !form.showsRow(form.labels()));  // train has no folds
    form.advancedOptions()->setChecked(false);
    // Values kept: what was launched is where the next form starts.
    QVERIFY(form.savePreset(dir + QStringLiteral("/launch-last.json")));
    ui::LaunchRunDialog next(dir);
    QCOMPARE(next.kind()->currentText(), QStringLiteral("pretrain"));  // a form of its own starts from the defaults
    next.restoreLastLaunch();                                          // Run › Launch starts from the last launch
    QCOMPARE(next.kind()->currentText(), QStringLiteral("train"));
    QCOMPARE(next.method()->currentText(), QStringLiteral("logreg"));
    std::filesystem::remove(fixtureDir_ / "launch-last.json");
  }

  // File › New Workspace and File › New Corpus: what workspace init and corpus create do, with their checks.
  void newWorkspaceAndCorpusFromTheGui() {
    if (fixtureDir_.empty()) QSKIP("needs the workspace fixture");
    const auto fresh = bgtest::scratchDir("gui-new-workspace") / "ws";
    QVERIFY(window_->newWorkspace(QString::fromStdString(fresh.string())));
    QVERIFY(std::filesystem::exists(fresh / "workspace.sqlite"));
    QVERIFY(window_->windowTitle().contains(QString::fromStdString(fresh.string())));
    QVERIFY(!window_->newWorkspace(QString::fromStdString(fresh.string())));  // one is there already
    QVERIFY(window_->statusBar()->currentMessage().contains(QStringLiteral("already exists")));
    QVERIFY(window_->openWorkspace(QString::fromStdString(fixtureDir_.string())));

    auto* dialog = window_->showNewCorpus();
    QVERIFY(dialog);
    dialog->name()->setText(QStringLiteral("asd"));
    dialog->revalidate();
    QVERIFY2(dialog->preview().contains(QStringLiteral("already")) && !dialog->createButton()->isEnabled(), qPrintable(dialog->preview()));
    dialog->name()->setText(QStringLiteral("gui-nyu"));
    dialog->classes()->setText(QStringLiteral("control, autism"));
    dialog->filters()->setPlainText(QStringLiteral("site~NYU"));
    dialog->revalidate();
    QVERIFY2(dialog->preview().contains(QStringLiteral("site~NYU")) && !dialog->createButton()->isEnabled(), qPrintable(dialog->preview()));
    dialog->filters()->setPlainText(QStringLiteral("site=NYU"));
    dialog->folds()->setValue(3);
    dialog->revalidate();
    QVERIFY2(dialog->createButton()->isEnabled(), qPrintable(dialog->preview()));
    // The preview counts what the CLI's corpus create would select: the NYU scans with either class.
    int control = 0, autism = 0;
    {
      auto ws = Workspace::open(fixtureDir_);
      SQLite::Statement q(ws->db(),
                          "SELECT p.value, COUNT(DISTINCT s.id) FROM scans s JOIN sessions se ON se.id = s.session_id "
                          "JOIN phenotypes p ON p.subject_id = se.subject_id AND p.name = 'diagnosis' "
                          "JOIN phenotypes site ON site.subject_id = se.subject_id AND site.name = 'site' AND site.value = 'NYU' "
                          "WHERE EXISTS (SELECT 1 FROM derivatives d WHERE d.scan_id = s.id) GROUP BY p.value");
      while (q.executeStep()) (q.getColumn(0).getString() == "control" ? control : autism) = q.getColumn(1).getInt();
    }
    QVERIFY(control > 0 && autism > 0);
    QCOMPARE(dialog->preview(), QStringLiteral("%1 scans: control %2, autism %3 · 3 folds").arg(control + autism).arg(control).arg(autism));
    dialog->grab().save(QStringLiteral(BRAINGRAPH_TEST_SCRATCH "/../screenshot_new_corpus.png"));
    QSignalSpy created(dialog, &ui::CorpusDialog::created);
    QVERIFY(dialog->create());
    QCOMPARE(created.count(), 1);
    {
      auto ws = Workspace::open(fixtureDir_);
      const auto manifest = loadCorpus(*ws, "gui-nyu");
      QCOMPARE(manifest["items"].size(), static_cast<std::size_t>(control + autism));
      QCOMPARE(manifest["split"]["folds"].size(), std::size_t{3});
      QVERIFY(manifest["classes"] == (nlohmann::json{"control", "autism"}));
      deleteCorpus(*ws, "gui-nyu");
    }
    dialog->close();
  }

  // A run in its own process outlives the window that launched it; a new window finds it, follows
  // it and cancels it (the CLI stops cleanly and keeps its checkpoint).
  void detachedRunSurvivesTheWindow() {
    if (fixtureDir_.empty()) QSKIP("needs the workspace fixture");
    const QString dir = QString::fromStdString(fixtureDir_.string());
    const auto out = fixtureDir_ / "detached.pt";
    // A small encoder, so its progress moves within seconds, and more epochs than the test waits for, so
    // it is still running when cancelled.
    const auto tiny = fixtureDir_ / "detached-tiny.json";
    std::ofstream(tiny) << R"({"model": {"hidden": 16, "heads": 2, "attention_layers": 1, "gnn_layers": 1, "ffn": 32}, "batch_size": 16})";
    qint64 pid = 0;
    {
      ui::RunsPanel first;
      first.setWorkspace(dir);
      pid = first.launch({QStringLiteral("--threads=1"), QStringLiteral("pretrain"), QStringLiteral("-w"), dir, QStringLiteral("--corpus"),
                          QStringLiteral("asd"), QStringLiteral("--config"), QString::fromStdString(tiny.string()), QStringLiteral("--epochs"),
                          QStringLiteral("5000"), QStringLiteral("--out"), QString::fromStdString(out.string())});
      QVERIFY(pid > 0);
      QTRY_COMPARE_WITH_TIMEOUT(first.stateOf(pid), QStringLiteral("running"), 60000);
    }  // the window that launched it is gone
    QTest::qWait(1500);
    QVERIFY(processExists(static_cast<long>(pid)));
    ui::RunsPanel second;
    second.setWorkspace(dir);
    QCOMPARE(second.stateOf(pid), QStringLiteral("running"));
    QTRY_VERIFY_WITH_TIMEOUT(second.progressOf(pid) > 0, 120000);
    const double seen = second.progressOf(pid);
    QTRY_VERIFY_WITH_TIMEOUT(second.progressOf(pid) > seen, 120000);  // it is still moving
    second.cancel(pid);
    QTRY_COMPARE_WITH_TIMEOUT(second.stateOf(pid), QStringLiteral("cancelled"), 120000);
    QVERIFY(std::filesystem::exists(std::filesystem::path(out.string() + ".ckpt")));
    QVERIFY(!std::filesystem::exists(out));
    // The main window's own Runs dock shows the same run.
    window_->runsPanel()->refresh();
    QCOMPARE(window_->runsPanel()->stateOf(pid), QStringLiteral("cancelled"));
    // A corpus over two atlases: the form names them; BrainGFM pre-training offers cross-atlas views,
    // the zoo's pre-training and the classifying runs say why they cannot use it.
    {
      auto ws = Workspace::open(dir.toStdString());
      auto two = loadCorpus(*ws, "asd");
      two["name"] = "asd-two-atlases";
      two["atlases"] = {"cc200", "ho"};
      saveCorpus(*ws, two);
      ui::LaunchRunDialog multi(dir);
      multi.kind()->setCurrentText(QStringLiteral("pretrain"));
      multi.corpus()->setCurrentText(QStringLiteral("asd-two-atlases"));
      QCOMPARE(multi.corpusAtlases()->text(), QStringLiteral("cc200, ho"));
      QVERIFY(multi.crossAtlasViews()->isEnabled());
      multi.crossAtlasViews()->setChecked(true);
      multi.output()->setText(dir + QStringLiteral("/two.pt"));
      QVERIFY2(multi.problems().isEmpty(), qPrintable(multi.problems().join('\n')));
      QVERIFY(multi.arguments().contains(QStringLiteral("--cross-atlas-views")));
      QCOMPARE(multi.preset().value("cross_atlas_views", false), true);
      multi.resize(760, 900);
      multi.grab().save(QStringLiteral(BRAINGRAPH_TEST_SCRATCH "/../screenshot_launch_multi_atlas.png"));
      multi.foundationModel()->setCurrentText(QStringLiteral("brainmass"));
      QVERIFY(!multi.crossAtlasViews()->isEnabled() && !multi.arguments().contains(QStringLiteral("--cross-atlas-views")));
      QVERIFY2(multi.problems().join(' ').contains(QStringLiteral("no atlas token")), qPrintable(multi.problems().join('\n')));
      QVERIFY(!multi.atlasFusion()->isEnabled());  // pre-training has no head to combine
      multi.kind()->setCurrentText(QStringLiteral("train"));
      QVERIFY2(!multi.problems().join(' ').contains(QStringLiteral("several atlases")), qPrintable(multi.problems().join('\n')));  // one model per atlas
      // A graph model over both atlases: one model per atlas by default, or one fused model.
      multi.method()->setCurrentText(QStringLiteral("scratch"));
      QVERIFY(multi.atlasFusion()->isEnabled());
      QVERIFY(!multi.arguments().contains(QStringLiteral("--atlas-fusion")));
      multi.atlasFusion()->setCurrentIndex(multi.atlasFusion()->findData(QStringLiteral("embedding")));
      const auto fusedArgs = multi.arguments();
      QVERIFY2(fusedArgs.indexOf(QStringLiteral("--atlas-fusion")) >= 0 &&
                   fusedArgs.value(fusedArgs.indexOf(QStringLiteral("--atlas-fusion")) + 1) == QStringLiteral("embedding"),
               qPrintable(fusedArgs.join(' ')));
      QCOMPARE(multi.preset().value("atlas_fusion", std::string()), std::string("embedding"));
      multi.grab().save(QStringLiteral(BRAINGRAPH_TEST_SCRATCH "/../screenshot_launch_fused.png"));
      multi.input()->setCurrentIndex(multi.input()->findData(QStringLiteral("tangent")));
      QVERIFY2(multi.problems().join(' ').contains(QStringLiteral("fitted per atlas")), qPrintable(multi.problems().join('\n')));
      multi.input()->setCurrentIndex(0);
      multi.method()->setCurrentText(QStringLiteral("logreg"));
      QVERIFY(!multi.atlasFusion()->isEnabled() && !multi.arguments().contains(QStringLiteral("--atlas-fusion")));  // a regression per atlas
      multi.kind()->setCurrentText(QStringLiteral("meta-train"));
      QVERIFY2(multi.problems().join(' ').contains(QStringLiteral("holds several atlases (cc200, ho)")), qPrintable(multi.problems().join('\n')));
      multi.kind()->setCurrentText(QStringLiteral("train"));
      multi.corpus()->setCurrentText(QStringLiteral("asd"));
      QCOMPARE(multi.corpusAtlases()->text(), QStringLiteral("cc200"));
      QVERIFY(!multi.problems().join(' ').contains(QStringLiteral("several atlases")));
      multi.kind()->setCurrentText(QStringLiteral("pretrain"));
      multi.foundationModel()->setCurrentText(QStringLiteral("braingfm"));
      QVERIFY(!multi.crossAtlasViews()->isEnabled());  // one atlas: no pair to give
      ws->db().exec("DELETE FROM corpora WHERE name = 'asd-two-atlases'");
    }
    // Run > Launch: validation, the arguments it stands for, presets, and a run that completes.
    auto* form = window_->showLaunchRun();
    QVERIFY(form);
    form->kind()->setCurrentText(QStringLiteral("train"));
    form->corpus()->setCurrentText(QStringLiteral("asd"));
    form->method()->setCurrentText(QStringLiteral("prompt"));
    form->output()->clear();
    QVERIFY(form->problems().join(' ').contains(QStringLiteral("Output")));
    QVERIFY(form->problems().join(' ').contains(QStringLiteral("Pre-trained")));
    // Platt calibration goes to the CLI (for the logistic-regression baseline too); not for pre-training.
    form->method()->setCurrentText(QStringLiteral("scratch"));
    form->calibration()->setCurrentIndex(form->calibration()->findData(QStringLiteral("platt")));
    {
      const auto args = form->arguments();
      const auto at = args.indexOf(QStringLiteral("--calibration"));
      QVERIFY(at > 0 && at + 1 < args.size() && args[at + 1] == QStringLiteral("platt"));
    }
    form->calibration()->setCurrentIndex(form->calibration()->findData(QStringLiteral("auto")));
    {
      const auto args = form->arguments();
      const auto at = args.indexOf(QStringLiteral("--calibration"));
      QVERIFY(at > 0 && at + 1 < args.size() && args[at + 1] == QStringLiteral("auto"));
    }
    // A name for comparisons goes with evaluate only.
    form->name()->setText(QStringLiteral("scratch, Platt"));
    QVERIFY(!form->arguments().contains(QStringLiteral("--name")));  // train
    form->kind()->setCurrentText(QStringLiteral("evaluate"));
    {
      const auto args = form->arguments();
      const auto at = args.indexOf(QStringLiteral("--name"));
      QVERIFY(at > 0 && at + 1 < args.size() && args[at + 1] == QStringLiteral("scratch, Platt"));
      QCOMPARE(form->preset()["name"].get<std::string>(), std::string("scratch, Platt"));
    }
    form->name()->clear();
    form->kind()->setCurrentText(QStringLiteral("train"));
    form->calibration()->setCurrentIndex(form->calibration()->findData(QStringLiteral("platt")));
    form->kind()->setCurrentText(QStringLiteral("pretrain"));
    QVERIFY(!form->calibration()->isEnabled() && !form->arguments().contains(QStringLiteral("--calibration")));
    form->kind()->setCurrentText(QStringLiteral("train"));
    // Tangent-space input goes to the CLI for a model trained from scratch; adapting a pre-trained
    // encoder with it is flagged, and the logistic-regression baseline does not take it.
    form->method()->setCurrentText(QStringLiteral("scratch"));
    form->input()->setCurrentIndex(form->input()->findData(QStringLiteral("tangent-z")));
    {
      const auto args = form->arguments();
      const auto at = args.indexOf(QStringLiteral("--input"));
      QVERIFY(at > 0 && at + 1 < args.size() && args[at + 1] == QStringLiteral("tangent-z"));
      QVERIFY(!form->problems().join(' ').contains(QStringLiteral("from scratch")));
    }
    form->ensemble()->setValue(3);
    {
      const auto args = form->arguments();
      const auto at = args.indexOf(QStringLiteral("--ensemble"));
      QVERIFY(at > 0 && at + 1 < args.size() && args[at + 1] == QStringLiteral("3"));
    }
    // Cross-fitted by default (the file learns from every label); unchecked, members share one split.
    QVERIFY(form->ensembleFolds()->isEnabled() && form->ensembleFolds()->isChecked());
    auto validationArgument = [&] {
      const auto args = form->arguments();
      const auto at = args.indexOf(QStringLiteral("--ensemble-validation"));
      return at > 0 && at + 1 < args.size() ? args[at + 1] : QString();
    };
    QCOMPARE(validationArgument(), QStringLiteral("folds"));
    QCOMPARE(form->preset().value("ensemble_folds", false), true);
    form->ensembleFolds()->setChecked(false);
    QCOMPARE(validationArgument(), QStringLiteral("shared"));
    QCOMPARE(form->preset().value("ensemble_folds", true), false);
    form->ensemble()->setValue(1);  // one member has no folds to share out
    QVERIFY(!form->ensembleFolds()->isEnabled() && !form->arguments().contains(QStringLiteral("--ensemble-validation")));
    form->ensembleFolds()->setChecked(true);
    form->ensemble()->setValue(0);  // the configuration's 5 members, cross-fitted
    QVERIFY(!form->arguments().contains(QStringLiteral("--ensemble")));
    QVERIFY(form->ensembleFolds()->isEnabled());
    // logreg's C, or a grid to choose from inside each training part; other methods have none.
    QVERIFY(!form->regularisation()->isEnabled());
    form->kind()->setCurrentText(QStringLiteral("evaluate"));  // needs no Output, so the form's only problem can be C
    form->method()->setCurrentText(QStringLiteral("logreg"));
    form->input()->setCurrentIndex(0);
    QVERIFY(form->regularisation()->isEnabled());
    form->regularisation()->setText(QStringLiteral("0.1, 0.001,0.01"));
    {
      const auto args = form->arguments();
      const auto at = args.indexOf(QStringLiteral("--c"));
      QVERIFY(at > 0 && at + 1 < args.size() && args[at + 1] == QStringLiteral("0.1,0.001,0.01"));
      QCOMPARE(form->preset()["c"].get<std::string>(), std::string("0.1, 0.001,0.01"));
      QVERIFY2(form->problems().isEmpty(), qPrintable(form->problems().join(' ')));
    }
    form->regularisation()->setText(QStringLiteral("0.01,-1"));
    QVERIFY(form->problems().join(' ').contains(QStringLiteral("'-1'")));
    QVERIFY(!form->launchButton()->isEnabled());
    form->regularisation()->clear();
    QVERIFY(!form->arguments().contains(QStringLiteral("--c")));
    QVERIFY(form->launchButton()->isEnabled());
    // The other baselines: the tangent-space regression takes only its own features per site, the SVM
    // calibrates itself, and train writes logreg alone.
    const auto valueAfter = [](const QStringList& args, const char* flag) {
      const auto at = args.indexOf(QString::fromLatin1(flag));
      return at >= 0 && at + 1 < args.size() ? args[at + 1] : QString();
    };
    form->method()->setCurrentText(QStringLiteral("logreg-tangent"));
    QCOMPARE(form->method()->currentText(), QStringLiteral("logreg-tangent"));
    form->input()->setCurrentIndex(form->input()->findData(QStringLiteral("fc-site")));
    QVERIFY2(form->problems().join(' ').contains(QStringLiteral("tangent-space")), qPrintable(form->problems().join(' ')));
    form->input()->setCurrentIndex(form->input()->findData(QStringLiteral("tangent-site")));
    QVERIFY2(form->problems().isEmpty(), qPrintable(form->problems().join(' ')));
    QCOMPARE(valueAfter(form->arguments(), "--method"), QStringLiteral("logreg-tangent"));
    QCOMPARE(valueAfter(form->arguments(), "--input"), QStringLiteral("tangent-site"));
    QVERIFY(form->regularisation()->isEnabled() && !form->ensemble()->isEnabled() && !form->alsoConfigs()->isEnabled());
    form->input()->setCurrentIndex(0);
    form->method()->setCurrentText(QStringLiteral("svm"));
    form->calibration()->setCurrentIndex(form->calibration()->findData(QStringLiteral("platt")));
    QVERIFY(!form->calibration()->isEnabled() && !form->arguments().contains(QStringLiteral("--calibration")));
    form->calibration()->setCurrentIndex(0);
    form->kind()->setCurrentText(QStringLiteral("train"));
    QVERIFY(form->problems().join(' ').contains(QStringLiteral("evaluated only")));
    form->method()->setCurrentText(QStringLiteral("logreg-tangent"));  // a model file of its own
    QVERIFY(!form->problems().join(' ').contains(QStringLiteral("evaluated only")));
    QVERIFY(!form->input()->isEnabled());  // trained with pooled standardisation
    form->method()->setCurrentText(QStringLiteral("svm"));
    form->kind()->setCurrentText(QStringLiteral("evaluate"));
    // The split: k folds, or each site left out once instead.
    form->folds()->setValue(5);
    QCOMPARE(valueAfter(form->arguments(), "--cv"), QStringLiteral("5"));
    form->leaveSiteOut()->setChecked(true);
    QVERIFY(!form->folds()->isEnabled());
    QVERIFY(form->arguments().contains(QStringLiteral("--leave-site-out")) && !form->arguments().contains(QStringLiteral("--cv")));
    // Label regimes in percent: several become --regimes, one --label-fraction; zero-shot and bad entries are named.
    form->labels()->setText(QStringLiteral("100, 10,1%"));
    QCOMPARE(valueAfter(form->arguments(), "--regimes"), QStringLiteral("1,0.1,0.01"));
    QVERIFY(!form->arguments().contains(QStringLiteral("--label-fraction")));
    {
      const auto args = form->arguments();
      ui::LaunchRunDialog other(dir);  // the split and the regimes travel in presets
      other.applyPreset(form->preset());
      QCOMPARE(other.arguments(), args);
    }
    form->labels()->setText(QStringLiteral("25"));
    QCOMPARE(valueAfter(form->arguments(), "--label-fraction"), QStringLiteral("0.25"));
    QVERIFY(!form->arguments().contains(QStringLiteral("--regimes")));
    form->labels()->setText(QStringLiteral("10, 0"));
    QVERIFY(form->problems().join(' ').contains(QStringLiteral("zero-shot")));
    QVERIFY(!form->launchButton()->isEnabled());
    form->labels()->setText(QStringLiteral("10, x"));
    QVERIFY(form->problems().join(' ').contains(QStringLiteral("'x'")));
    form->labels()->setText(QStringLiteral("100"));
    QVERIFY(!form->arguments().contains(QStringLiteral("--label-fraction")) && form->problems().isEmpty());
    form->kind()->setCurrentText(QStringLiteral("train"));  // both are evaluate's
    QVERIFY(!form->arguments().contains(QStringLiteral("--leave-site-out")) && !form->labels()->isEnabled());
    form->kind()->setCurrentText(QStringLiteral("evaluate"));
    form->labels()->clear();
    form->leaveSiteOut()->setChecked(false);
    form->folds()->setValue(0);
    form->method()->setCurrentText(QStringLiteral("logreg"));
    // Further configurations to choose among: each becomes another --config after the Configuration's own
    // (which, ticked again, is not repeated); none for logreg; a choice needs a Configuration file.
    QVERIFY(!form->alsoConfigs()->isEnabled());  // logreg
    form->method()->setCurrentText(QStringLiteral("scratch"));
    QVERIFY(form->alsoConfigs()->isEnabled());
    const auto alsoItem = [&](const QString& name) {
      const auto found = form->alsoConfigs()->findItems(name, Qt::MatchExactly);
      return found.isEmpty() ? nullptr : found.front();
    };
    QVERIFY(alsoItem(QStringLiteral("abide-tuning-small.json")) && alsoItem(QStringLiteral("abide-tuning-roi.json")));
    QVERIFY(!alsoItem(QStringLiteral("abide-pretrain.json")));  // pre-training configurations are no candidates
    form->config()->setCurrentText(QStringLiteral("abide-tuning-roi.json"));
    alsoItem(QStringLiteral("abide-tuning-small.json"))->setCheckState(Qt::Checked);
    alsoItem(QStringLiteral("abide-tuning-roi.json"))->setCheckState(Qt::Checked);
    {
      const auto args = form->arguments();
      QStringList configs;
      for (int i = 0; i + 1 < args.size(); ++i)
        if (args[i] == QStringLiteral("--config")) configs << QFileInfo(args[i + 1]).fileName();
      QCOMPARE(configs, (QStringList{"abide-tuning-roi.json", "abide-tuning-small.json"}));
      QVERIFY2(form->problems().isEmpty(), qPrintable(form->problems().join(' ')));
      ui::LaunchRunDialog other(dir);  // the candidates travel in presets
      other.applyPreset(form->preset());
      QCOMPARE(other.arguments(), args);
    }
    form->config()->setCurrentIndex(0);  // paper defaults: nothing to compare the candidates with
    QVERIFY(form->problems().join(' ').contains(QStringLiteral("needs a Configuration file")));
    QVERIFY(!form->launchButton()->isEnabled());
    for (int i = 0; i < form->alsoConfigs()->count(); ++i) form->alsoConfigs()->item(i)->setCheckState(Qt::Unchecked);
    QVERIFY(form->launchButton()->isEnabled());
    form->kind()->setCurrentText(QStringLiteral("train"));
    form->method()->setCurrentText(QStringLiteral("scratch"));
    form->input()->setCurrentIndex(form->input()->findData(QStringLiteral("tangent-z")));
    form->method()->setCurrentText(QStringLiteral("finetune"));
    QVERIFY(form->problems().join(' ').contains(QStringLiteral("from scratch")));
    QVERIFY(!form->pretrainInFolds()->isEnabled());  // train: no folds to pre-train in
    // Evaluate can pre-train the encoder inside each fold, on the input it is tuned on.
    form->kind()->setCurrentText(QStringLiteral("evaluate"));
    QVERIFY(form->pretrainInFolds()->isEnabled());
    QVERIFY(form->problems().join(' ').contains(QStringLiteral("pre-train in each fold")));  // finetune needs an encoder
    const int abidePretrain = form->pretrainInFolds()->findText(QStringLiteral("in each fold, abide-pretrain.json"));
    QVERIFY(abidePretrain > 0);
    form->pretrainInFolds()->setCurrentIndex(abidePretrain);
    QVERIFY2(form->problems().isEmpty(), qPrintable(form->problems().join(' ')));
    {
      const auto args = form->arguments();
      QVERIFY(args.contains(QStringLiteral("--pretrain-in-folds")));
      const auto at = args.indexOf(QStringLiteral("--pretrain-config"));
      QVERIFY(at > 0 && at + 1 < args.size() && args[at + 1].endsWith(QStringLiteral("/abide-pretrain.json")));
      QVERIFY(QFileInfo::exists(args[at + 1]));
      QCOMPARE(args[args.indexOf(QStringLiteral("--input")) + 1], QStringLiteral("tangent-z"));
      ui::LaunchRunDialog other(dir);  // the choice travels in presets
      other.applyPreset(form->preset());
      QCOMPARE(other.arguments(), args);
    }
    form->pretrainInFolds()->setCurrentIndex(form->pretrainInFolds()->findData(QStringLiteral("paper")));
    QVERIFY(form->arguments().contains(QStringLiteral("--pretrain-in-folds")) && !form->arguments().contains(QStringLiteral("--pretrain-config")));
    form->pretrained()->setText(QCoreApplication::applicationFilePath());  // a file that exists
    QVERIFY(form->problems().join(' ').contains(QStringLiteral("not both")));
    form->pretrained()->clear();
    form->pretrainInFolds()->setCurrentIndex(0);
    // Pre-training BrainGFM learns the chosen input (still tangent-z); BrainMass and LCM read Pearson FC.
    form->kind()->setCurrentText(QStringLiteral("pretrain"));
    form->foundationModel()->setCurrentText(QStringLiteral("braingfm"));
    QVERIFY(form->input()->isEnabled());
    QCOMPARE(form->arguments()[form->arguments().indexOf(QStringLiteral("--input")) + 1], QStringLiteral("tangent-z"));
    form->foundationModel()->setCurrentText(QStringLiteral("brainmass"));
    QVERIFY(!form->input()->isEnabled() && !form->arguments().contains(QStringLiteral("--input")));
    form->foundationModel()->setCurrentText(QStringLiteral("braingfm"));
    form->kind()->setCurrentText(QStringLiteral("train"));
    QVERIFY(!form->arguments().contains(QStringLiteral("--pretrain-in-folds")));
    form->method()->setCurrentText(QStringLiteral("logreg"));
    QVERIFY(!form->input()->isEnabled() && !form->arguments().contains(QStringLiteral("--input")));
    // Evaluating the baseline, its one input choice is per-site standardisation.
    form->kind()->setCurrentText(QStringLiteral("evaluate"));
    QVERIFY(form->input()->isEnabled());
    QVERIFY(form->problems().join(' ').contains(QStringLiteral("per site")));  // still tangent-z
    form->input()->setCurrentIndex(form->input()->findData(QStringLiteral("fc-site")));
    QVERIFY2(form->problems().isEmpty(), qPrintable(form->problems().join(' ')));
    QCOMPARE(form->arguments()[form->arguments().indexOf(QStringLiteral("--input")) + 1], QStringLiteral("fc-site"));
    // A per-site input in an evaluation may adapt to sites the training folds lack; the choice travels in presets.
    QVERIFY(form->adaptNewSites()->isEnabled());
    form->adaptNewSites()->setChecked(true);
    QVERIFY(form->arguments().contains(QStringLiteral("--adapt-new-sites")));
    // ... from only K of each site's scans (at least 5).
    QVERIFY(form->adaptScans()->isEnabled() && !form->arguments().contains(QStringLiteral("--adapt-scans")));
    form->adaptScans()->setValue(3);
    QVERIFY(form->problems().join(' ').contains(QStringLiteral("at least 5")));
    form->adaptScans()->setValue(10);
    QVERIFY2(form->problems().isEmpty(), qPrintable(form->problems().join(' ')));
    QCOMPARE(form->arguments()[form->arguments().indexOf(QStringLiteral("--adapt-scans")) + 1], QStringLiteral("10"));
    // ... from batches of a chosen mix, weighted by their labels or not; one class cannot be weighted.
    QVERIFY(form->adaptShare()->isEnabled() && !form->arguments().contains(QStringLiteral("--adapt-share")));
    form->adaptShare()->setValue(100);
    form->adaptLabelled()->setChecked(true);
    QVERIFY(form->problems().join(' ').contains(QStringLiteral("one class")));
    form->adaptShare()->setValue(80);
    QVERIFY2(form->problems().isEmpty(), qPrintable(form->problems().join(' ')));
    QCOMPARE(form->arguments()[form->arguments().indexOf(QStringLiteral("--adapt-share")) + 1], QStringLiteral("0.8"));
    QVERIFY(form->arguments().contains(QStringLiteral("--adapt-labelled")));
    {
      ui::LaunchRunDialog other(dir);
      other.applyPreset(form->preset());
      QCOMPARE(other.arguments(), form->arguments());
    }
    form->input()->setCurrentIndex(form->input()->findData(QStringLiteral("fc")));
    QVERIFY(!form->adaptNewSites()->isEnabled() && !form->arguments().contains(QStringLiteral("--adapt-new-sites")));
    QVERIFY(!form->adaptScans()->isEnabled() && !form->arguments().contains(QStringLiteral("--adapt-scans")));
    QVERIFY(!form->arguments().contains(QStringLiteral("--adapt-share")) && !form->arguments().contains(QStringLiteral("--adapt-labelled")));
    form->input()->setCurrentIndex(form->input()->findData(QStringLiteral("fc-site")));
    form->kind()->setCurrentText(QStringLiteral("train"));
    QVERIFY(!form->adaptNewSites()->isEnabled() && !form->arguments().contains(QStringLiteral("--adapt-new-sites")));
    form->adaptNewSites()->setChecked(false);
    form->adaptShare()->setValue(-1);
    form->adaptLabelled()->setChecked(false);
    QVERIFY(!form->input()->isEnabled() && !form->arguments().contains(QStringLiteral("--input")));
    form->input()->setCurrentIndex(0);
    form->calibration()->setCurrentIndex(0);
    const auto model = fixtureDir_ / "launched-logreg.json";
    form->output()->setText(QString::fromStdString(model.string()));
    QVERIFY2(form->problems().isEmpty(), qPrintable(form->problems().join(' ')));
    form->threads()->setValue(1);
    const QStringList expected{QStringLiteral("--threads"),
                               QStringLiteral("1"),
                               QStringLiteral("train"),
                               QStringLiteral("-w"),
                               dir,
                               QStringLiteral("--corpus"),
                               QStringLiteral("asd"),
                               QStringLiteral("--method"),
                               QStringLiteral("logreg"),
                               QStringLiteral("--out"),
                               QString::fromStdString(model.string())};
    QCOMPARE(form->arguments(), expected);
    const QString presetFile = QString::fromStdString((fixtureDir_ / "preset.json").string());
    QVERIFY(form->savePreset(presetFile));
    {
      ui::LaunchRunDialog other(dir);
      QVERIFY(other.loadPreset(presetFile));
      QCOMPARE(other.arguments(), expected);
    }
    QSignalSpy requested(form, &ui::LaunchRunDialog::launchRequested);
    const int before = window_->runsPanel()->rowCount();
    for (auto* b : form->findChildren<QPushButton*>())
      if (b->text() == QStringLiteral("Launch")) b->click();
    QCOMPARE(requested.count(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(window_->runsPanel()->rowCount(), before + 1, 30000);  // the process registers itself
    QTRY_COMPARE_WITH_TIMEOUT(window_->runsPanel()->table()->item(0, 2)->text(), QStringLiteral("completed"), 120000);
    QVERIFY(std::filesystem::exists(model));
  }

  // The training studio: a tiny pre-training launched from the form, followed on the dashboard's loss
  // chart, paused, resumed, cancelled (checkpoint kept), resumed from its checkpoint and completed;
  // two runs compared; a model released with its evaluation and offered by the wizard.
  void trainingStudio() {
    if (fixtureDir_.empty()) QSKIP("needs the workspace fixture");
    const QString dir = QString::fromStdString(fixtureDir_.string());
    {
      auto ws = Workspace::open(fixtureDir_);
      CorpusSpec spec;
      spec.name = "studio";
      spec.classes = {"control", "autism"};
      spec.filters = {CorpusFilter::parse("site=CMU")};
      spec.split.folds = 3;
      saveCorpus(*ws, buildCorpusManifest(*ws, spec));
    }
    auto* panel = window_->runsPanel();
    auto* form = window_->showLaunchRun();
    QVERIFY(form);
    form->kind()->setCurrentText(QStringLiteral("pretrain"));
    form->corpus()->setCurrentText(QStringLiteral("studio"));
    form->config()->setCurrentText(QStringLiteral("demo-pretrain.json"));
    form->epochs()->setValue(60);
    form->threads()->setValue(1);
    const auto out = fixtureDir_ / "studio.pt";
    form->output()->setText(QString::fromStdString(out.string()));
    QVERIFY2(form->problems().isEmpty(), qPrintable(form->problems().join(' ')));
    // Devices: CPU with its cores; CUDA only when LibTorch sees one.
    QVERIFY(form->device()->findData(QStringLiteral("cpu")) >= 0);
    QVERIFY(form->device()->itemText(form->device()->findData(QStringLiteral("cpu"))).contains(QStringLiteral("cores")));
    // The estimate runs the first seconds of this very run: a time and a memory figure, nothing written.
    QSignalSpy estimated(form, &ui::LaunchRunDialog::estimated);
    form->estimateButton()->click();
    QVERIFY(estimated.wait(120000));
    const QString estimate = estimated.at(0).at(0).toString();
    QVERIFY2(estimate.startsWith(QStringLiteral("Estimate: ")) && estimate.contains(QStringLiteral("GiB")), qPrintable(estimate));
    QVERIFY(!std::filesystem::exists(out));
    QVERIFY(!std::filesystem::exists(std::filesystem::path(out.string() + ".ckpt")));
    // Meta-training in the form: two tasks needed.
    form->kind()->setCurrentText(QStringLiteral("meta-train"));
    QVERIFY(form->problems().join(' ').contains(QStringLiteral("two tasks")));
    form->setTasks({QStringLiteral("asd"), QStringLiteral("studio")});
    QVERIFY2(form->problems().isEmpty(), qPrintable(form->problems().join(' ')));
    QVERIFY(form->arguments().join(' ').contains(QStringLiteral("meta-train -w ") + dir + QStringLiteral(" --corpus asd --corpus studio")));
    QVERIFY(form->arguments().contains(QStringLiteral("--meta-epochs")));
    form->kind()->setCurrentText(QStringLiteral("pretrain"));

    const int before = panel->rowCount();
    // Each training step takes at least 150 ms (60 epochs of one batch: 9 s or more), so the run is
    // still going when it is paused, resumed and cancelled below, however fast the machine.
    qputenv("BRAINGRAPH_TEST_STEP_DELAY_MS", "150");
    for (auto* b : form->findChildren<QPushButton*>())
      if (b->text() == QStringLiteral("Launch")) b->click();
    const auto refreshed = [panel] {
      panel->refresh();
      return true;
    };
    QTRY_VERIFY_WITH_TIMEOUT(refreshed() && panel->rowCount() == before + 1, 30000);
    const qint64 pid = panel->table()->item(0, 5)->text().toLongLong();
    panel->select(pid);
    auto* dash = panel->dashboard();
    QTRY_VERIFY_WITH_TIMEOUT(refreshed() && dash->lossPointCount() >= 3, 60000);
    // The chart shows what the run wrote: read the file independently; in "sum" mode total = gcl + gmae.
    {
      RunMetrics file;
      auto ws = Workspace::open(fixtureDir_);
      std::string log;
      for (const auto& r : listTrackedRuns(*ws))
        if (r.pid == pid) log = r.logPath;
      readRunMetrics(runMetricsPath(log), 0, file);
      const auto total = file.values("loss/total"), gcl = file.values("loss/gcl"), gmae = file.values("loss/gmae");
      QVERIFY(total.size() >= 1 && total.size() == gcl.size() && total.size() == gmae.size());
      for (std::size_t i = 0; i < total.size(); ++i) QVERIFY(std::abs(total[i] - (gcl[i] + gmae[i])) < 1e-9 * std::max(1.0, total[i]));
      const auto shown = dash->metrics().values("loss/total");
      QVERIFY(shown.size() <= total.size());
      for (std::size_t i = 0; i < shown.size(); ++i) QCOMPARE(shown[i], total[i]);
      QVERIFY(dash->lossSeriesNames().contains(QStringLiteral("loss/gcl")));
      QVERIFY(file.notes.value("device", std::string()).find("CPU") != std::string::npos);
    }
    QVERIFY(dash->statusText().contains(QStringLiteral("graphs/s")));
    QVERIFY(dash->statusText().contains(QStringLiteral("MiB")));
    // Pause: the process sleeps and its progress stands still; resume: it moves again.
    panel->pause(pid);
    QTRY_COMPARE_WITH_TIMEOUT(panel->stateOf(pid), QStringLiteral("paused"), 10000);
    const double frozen = panel->progressOf(pid);
    QTest::qWait(1500);
    panel->refresh();
    QCOMPARE(panel->progressOf(pid), frozen);
    QCOMPARE(panel->resume(pid), pid);
    QTRY_VERIFY_WITH_TIMEOUT(refreshed() && panel->stateOf(pid) == QStringLiteral("running") && panel->progressOf(pid) > frozen, 60000);
    // Cancel keeps the checkpoint; Resume continues from it in a new process, to completion.
    panel->cancel(pid);
    QTRY_VERIFY_WITH_TIMEOUT(refreshed() && panel->stateOf(pid) == QStringLiteral("cancelled"), 60000);
    QVERIFY(std::filesystem::exists(std::filesystem::path(out.string() + ".ckpt")));
    QVERIFY(!std::filesystem::exists(out));
    const qint64 again = panel->resume(pid);
    QVERIFY(again > 0 && again != pid);
    QTRY_VERIFY_WITH_TIMEOUT(refreshed() && panel->stateOf(again) == QStringLiteral("completed"), 120000);
    QVERIFY(std::filesystem::exists(out));
    QCOMPARE(panel->progressOf(again), 1.0);
    qunsetenv("BRAINGRAPH_TEST_STEP_DELAY_MS");
    {
      auto ws = Workspace::open(fixtureDir_);
      TrackedRun first, second;
      for (const auto& r : listTrackedRuns(*ws)) {
        if (r.pid == pid) first = r;
        if (r.pid == again) second = r;
      }
      QVERIFY(second.command.find("--resume") != std::string::npos);
      // The completed run's stage says it is done (not its last epoch's message, "epoch 59/60"); the
      // stopped one keeps where it stopped.
      QCOMPARE(second.stage, std::string("done"));
      QVERIFY2(!first.stage.empty() && first.stage != "done", first.stage.c_str());
      // It went on where the first stopped: its first loss point is past the first run's last epoch.
      RunMetrics a, b;
      readRunMetrics(runMetricsPath(first.logPath), 0, a);
      readRunMetrics(runMetricsPath(second.logPath), 0, b);
      QVERIFY(!a.xs("loss/total").empty() && !b.xs("loss/total").empty());
      QVERIFY(b.xs("loss/total").front() > std::floor(a.xs("loss/total").back()) - 1e-9);
      QCOMPARE(b.xs("loss/total").back(), 60.0);
      QVERIFY(second.metrics.contains("loss/total") && second.metrics.contains("seconds"));
      // Compare: the configurations differ in --resume only; final metrics side by side.
      auto* compare = qobject_cast<ui::RunCompareDialog*>(panel->compare(first.id, second.id));
      QVERIFY(compare);
      QCOMPARE(compare->configuration()->rowCount(), 1);
      QCOMPARE(compare->configuration()->item(0, 0)->text(), QStringLiteral("options.--resume"));
      bool totalRow = false;
      for (int r = 0; r < compare->metrics()->rowCount(); ++r)
        if (compare->metrics()->item(r, 0)->text() == QStringLiteral("loss/total")) {
          totalRow = true;
          const double expected = second.metrics["loss/total"].get<double>();  // shown with 5 significant digits
          QVERIFY(std::abs(compare->metrics()->item(r, 2)->text().toDouble() - expected) <= 1e-4 * std::abs(expected));
        }
      QVERIFY(totalRow);
      compare->close();
    }
    {
      ui::RunsPanel big;
      big.resize(1100, 700);
      big.setWorkspace(dir);
      big.show();
      QVERIFY(QTest::qWaitForWindowExposed(&big));
      big.select(again);
      QTRY_VERIFY_WITH_TIMEOUT(big.dashboard()->lossPointCount() >= 3, 10000);
      QTest::qWait(200);
      big.grab().save(QStringLiteral(BRAINGRAPH_TEST_SCRATCH "/../screenshot_training_studio.png"));
    }
  }

  // Run › Compare Models: the comparison launched from the dialog runs as a tracked run, every model
  // with the same folds; the table then shows each model's stored evaluation.
  void modelComparison() {
    if (fixtureDir_.empty()) QSKIP("needs the workspace fixture");
    auto* panel = window_->runsPanel();
    auto* dialog = window_->showModelComparison();
    QVERIFY(dialog);
    dialog->corpus()->setCurrentText(QStringLiteral("asd"));
    dialog->methods()->setText(QStringLiteral("logreg, gcn"));
    dialog->folds()->setValue(3);
    // The test launches the request itself below and waits for that run; the window's own launch
    // would run a second comparison whose evaluations land during later tests.
    QVERIFY(QObject::disconnect(dialog, &ui::ModelComparisonDialog::runRequested, window_.get(), nullptr));
    QSignalSpy requested(dialog, &ui::ModelComparisonDialog::runRequested);
    dialog->runButton()->click();
    QCOMPARE(requested.count(), 1);
    const auto args = requested.at(0).at(0).toStringList();
    QVERIFY2(args.contains(QStringLiteral("logreg,gcn")) && args.contains(QStringLiteral("compare")), qPrintable(args.join(' ')));
    // What the window does with the request, with a small graph model (one epoch, one member) to keep the test short.
    const auto small = fixtureDir_ / "compare-small.json";
    std::ofstream(small) << R"({"default": {"ensemble": 1, "epochs": 1, "batch_size": 32, "model": {"hidden": 16, "heads": 2, "layers": 1, "ffn": 32}}})";
    const qint64 pid = panel->launch(args + QStringList{QStringLiteral("--config"), QString::fromStdString(small.string())});
    QVERIFY(pid > 0);
    QTRY_VERIFY_WITH_TIMEOUT((panel->refresh(), panel->stateOf(pid) == QStringLiteral("completed")), 300000);
    dialog->refresh();
    dialog->split()->setCurrentText(QStringLiteral("kfold/3-folds/seed-0"));
    QCOMPARE(dialog->split()->currentText(), QStringLiteral("kfold/3-folds/seed-0"));
    QCOMPARE(dialog->table()->rowCount(), 2);
    // Each row shows its own stored evaluation's numbers.
    std::map<std::string, double> stored;
    {
      auto ws = Workspace::open(fixtureDir_);
      for (const auto& e : listEvaluations(*ws))
        if (e.corpus == "asd" && e.result["split"].value("kind", "") == "kfold" && e.result["split"].value("folds", 0) == 3)
          stored[e.result.value("method", "")] = e.result["metrics"]["auc"]["mean"].get<double>();
    }
    QVERIFY(stored.count("logreg") && stored.count("gcn"));
    for (int r = 0; r < 2; ++r) {
      const auto name = dialog->table()->item(r, 0)->text().toStdString();
      QVERIFY2(stored.count(name), name.c_str());
      QVERIFY(dialog->table()->item(r, 1)->text().startsWith(QString::number(stored[name], 'f', 3)));
      QVERIFY(dialog->table()->item(r, 5)->text() != QStringLiteral("-"));  // parameters
    }
    // Sorted by AUC, best first.
    QVERIFY(dialog->table()->item(0, 1)->data(Qt::UserRole).toDouble() >= dialog->table()->item(1, 1)->data(Qt::UserRole).toDouble());
    // The paired DeLong test against logistic regression (the default reference), from the
    // evaluations' stored out-of-fold predictions.
    QCOMPARE(dialog->reference()->currentText(), QStringLiteral("logreg"));
    const auto rowOf = [&](const QString& model) {
      for (int r = 0; r < dialog->table()->rowCount(); ++r)
        if (dialog->table()->item(r, 0)->text() == model) return r;
      return -1;
    };
    PairedAucTest expected;
    {
      auto ws = Workspace::open(fixtureDir_);
      const auto rows = comparisonTable(listEvaluations(*ws), "asd", "kfold/3-folds/seed-0");
      const auto paired = storedPairedComparison(*ws, rows, "logreg");
      QVERIFY(paired.missing.empty());
      QCOMPARE(paired.rows.size(), std::size_t(1));
      expected = paired.rows[0].test;
    }
    QCOMPARE(dialog->table()->item(rowOf(QStringLiteral("logreg")), 8)->text(), QStringLiteral("reference"));
    const int gcnRow = rowOf(QStringLiteral("gcn"));
    QCOMPARE(dialog->table()->item(gcnRow, 7)->text(), QString::number(expected.aucA, 'f', 3));
    QVERIFY(dialog->table()->item(gcnRow, 8)->text().startsWith(QString::number(expected.difference, 'f', 3)));
    QCOMPARE(dialog->table()->item(gcnRow, 9)->text(), QString::number(expected.p, 'g', 3));
    // The ROC curves beside the table: each model's pooled curve (its area is the pooled AUC) and chance.
    QCOMPARE(dialog->rocChart()->series().size(), 3);
    bool drawn = false;
    for (auto* series : dialog->rocChart()->series())
      if (series->objectName() == QStringLiteral("gcn")) {
        const auto points = qobject_cast<QLineSeries*>(series)->points();
        double area = 0;
        for (qsizetype k = 1; k < points.size(); ++k) area += (points[k].x() - points[k - 1].x()) * (points[k].y() + points[k - 1].y()) / 2;
        QVERIFY2(std::fabs(area - expected.aucA) < 1e-9, qPrintable(QString::number(area)));
        drawn = true;
      }
    QVERIFY(drawn);
    QVERIFY(!dialog->table()->item(rowOf(QStringLiteral("gcn")), 0)->icon().isNull());  // the curve's colour beside the name
    // Against gcn instead: the same test seen from the other side.
    dialog->reference()->setCurrentText(QStringLiteral("gcn"));
    QCOMPARE(dialog->table()->item(rowOf(QStringLiteral("gcn")), 8)->text(), QStringLiteral("reference"));
    const int logregRow = rowOf(QStringLiteral("logreg"));
    QVERIFY(dialog->table()->item(logregRow, 8)->text().startsWith(QString::number(-expected.difference, 'f', 3)));
    QCOMPARE(dialog->table()->item(logregRow, 9)->text(), QString::number(expected.p, 'g', 3));
    // Export… writes what compare --out writes: the table, the tests and the predictions.
    const QString prefix = QString::fromStdString((fixtureDir_ / "gui-comparison").string());
    const auto files = dialog->exportTo(prefix);
    QCOMPARE(files.size(), 8);
    {
      std::ifstream pairedFile((prefix + "-paired.json").toStdString());
      const auto exported = nlohmann::json::parse(pairedFile);
      QCOMPARE(exported.size(), std::size_t(1));
      QCOMPARE(exported[0]["model"].get<std::string>(), std::string("logreg"));  // tested against gcn now
      QVERIFY(std::fabs(exported[0]["p"].get<double>() - expected.p) < 1e-12);
      std::ifstream csv((prefix + "-predictions.csv").toStdString());
      int lines = 0;
      for (std::string l; std::getline(csv, l);) ++lines;
      QCOMPARE(lines, 1 + 2 * expected.positives + 2 * expected.negatives);
    }
    // A folder that cannot be made (a file stands in its way): a clear failure, no crash.
    QVERIFY(dialog->exportTo(QString::fromStdString((fixtureDir_ / "workspace.sqlite" / "comparison").string())).isEmpty());
    // A label regime on the same folds: listed under Labels after 100%, and the table then shows that
    // regime's evaluation alone.
    {  // what evaluate --cv 3 --label-fraction 0.5 stores
      auto ws = Workspace::open(fixtureDir_);
      EvaluateRequest half;
      half.split = "kfold";
      half.folds = 3;
      half.labelFraction = 0.5;
      NullProgress quiet;
      auto result = evaluateBaseline(*ws, loadCorpus(*ws, "asd"), half, quiet);
      const auto predictions = result["predictions"];
      result.erase("predictions");
      recordEvaluation(*ws, "asd", {{"method", "logreg"}, {"label_fraction", 0.5}}, result, predictions);
    }
    dialog->refresh();
    dialog->split()->setCurrentText(QStringLiteral("kfold/3-folds/seed-0"));
    QCOMPARE(dialog->labels()->count(), 2);
    QCOMPARE(dialog->labels()->itemData(0).toDouble(), 1.0);
    QCOMPARE(dialog->table()->rowCount(), 2);  // 100% still shows both models
    dialog->labels()->setCurrentIndex(1);
    QCOMPARE(dialog->labels()->currentData().toDouble(), 0.5);
    QCOMPARE(dialog->table()->rowCount(), 1);
    {
      auto ws = Workspace::open(fixtureDir_);
      double halfAuc = -1;
      for (const auto& e : listEvaluations(*ws))
        if (e.corpus == "asd" && e.result.value("label_fraction", 1.0) == 0.5 && e.result["split"].value("folds", 0) == 3)
          halfAuc = e.result["metrics"]["auc"]["mean"].get<double>();
      QVERIFY(dialog->table()->item(0, 1)->text().startsWith(QString::number(halfAuc, 'f', 3)));
      // The label-regime chart: logreg's stored AUCs at 50% and 100%; gcn, evaluated in one regime, has no curve.
      double fullAuc = -1;
      for (const auto& e : listEvaluations(*ws))
        if (e.corpus == "asd" && e.result.value("method", "") == "logreg" && e.result.value("label_fraction", 1.0) == 1.0 &&
            e.result["split"].value("folds", 0) == 3 && e.result["split"].value("kind", "") == "kfold")
          fullAuc = e.result["metrics"]["auc"]["mean"].get<double>();
      QCOMPARE(dialog->regimeChart()->series().size(), 1);
      auto* curve = qobject_cast<QLineSeries*>(dialog->regimeChart()->series().front());
      QVERIFY(curve && curve->objectName() == QStringLiteral("logreg"));
      QCOMPARE(curve->points(), (QList<QPointF>{QPointF(50, halfAuc), QPointF(100, fullAuc)}));
    }
    dialog->labels()->setCurrentIndex(0);
    dialog->close();
  }

  // A model trained and evaluated from the Runs dock is released with its evaluation in the card,
  // and the diagnosis wizard offers it.
  void releaseModelForTheWizard() {
    if (fixtureDir_.empty()) QSKIP("needs the workspace fixture");
    const QString dir = QString::fromStdString(fixtureDir_.string());
    auto* panel = window_->runsPanel();
    const auto model = fixtureDir_ / "studio-logreg.json";
    const qint64 train = panel->launch({QStringLiteral("train"), QStringLiteral("-w"), dir, QStringLiteral("--corpus"), QStringLiteral("asd"),
                                        QStringLiteral("--method"), QStringLiteral("logreg"), QStringLiteral("--out"), QString::fromStdString(model.string())});
    const qint64 evaluate = panel->launch({QStringLiteral("evaluate"), QStringLiteral("-w"), dir, QStringLiteral("--corpus"), QStringLiteral("asd"),
                                           QStringLiteral("--method"), QStringLiteral("logreg"), QStringLiteral("--cv"), QStringLiteral("3")});
    const auto refreshed = [panel] {
      panel->refresh();
      return true;
    };
    QTRY_VERIFY_WITH_TIMEOUT(refreshed() && panel->stateOf(train) == QStringLiteral("completed") && panel->stateOf(evaluate) == QStringLiteral("completed"),
                             240000);
    // The evaluation's per-fold test AUC is a curve of its run.
    std::int64_t evaluationId = 0;
    double meanAuc = 0;
    {
      auto ws = Workspace::open(fixtureDir_);
      const auto evaluations = listEvaluations(*ws);
      QVERIFY(!evaluations.empty());
      evaluationId = evaluations.back().id;
      meanAuc = evaluations.back().result["metrics"]["auc"]["mean"].get<double>();
      TrackedRun trainRun, evaluateRun;
      for (const auto& r : listTrackedRuns(*ws)) {
        if (r.pid == evaluate) evaluateRun = r;
        if (r.pid == train) trainRun = r;
      }
      // Its final test AUC is the mean over the folds (what the evaluation reports), not the last fold's.
      QVERIFY(evaluateRun.metrics.contains("test/auc"));
      QVERIFY2(std::abs(evaluateRun.metrics["test/auc"].get<double>() - meanAuc) < 1e-9, evaluateRun.metrics.dump().c_str());
      // Both recorded what they used: compare shows it (the split only the evaluation has), not the command's defaults.
      QCOMPARE(evaluateRun.config["effective"]["method"].get<std::string>(), std::string("logreg"));
      QCOMPARE(evaluateRun.config["effective"]["split"]["folds"].get<int>(), 3);
      auto* compare = qobject_cast<ui::RunCompareDialog*>(panel->compare(trainRun.id, evaluateRun.id));
      QVERIFY(compare);
      QStringList keys;
      for (int r = 0; r < compare->configuration()->rowCount(); ++r) keys << compare->configuration()->item(r, 0)->text();
      QVERIFY2(keys.contains(QStringLiteral("used.split.folds")) && !keys.contains(QStringLiteral("used.method")), qPrintable(keys.join(',')));
      QString shownAuc;
      for (int r = 0; r < compare->metrics()->rowCount(); ++r)
        if (compare->metrics()->item(r, 0)->text() == QStringLiteral("test/auc")) shownAuc = compare->metrics()->item(r, 2)->text();
      QVERIFY2(shownAuc.startsWith(QString::number(meanAuc, 'f', 3) + QStringLiteral(" ± ")), qPrintable(shownAuc));
      compare->close();
      // The dashboard sums the folds up the same way, from the curves the run wrote.
      ui::RunDashboard dash;
      dash.setRun(evaluateRun);
      QVERIFY2(dash.summaryText().startsWith(QStringLiteral("Test over 3 folds: AUC %1 ± ").arg(meanAuc, 0, 'f', 3)), qPrintable(dash.summaryText()));
    }
    panel->select(train);
    auto* dialog = qobject_cast<ui::ReleaseModelDialog*>(panel->showRelease(panel->runIdOf(train)));
    QVERIFY(dialog);
    QPointer<ui::ReleaseModelDialog> guard(dialog);
    QCOMPARE(dialog->evaluation()->currentData().toLongLong(), static_cast<qlonglong>(evaluationId));
    dialog->name()->setText(QStringLiteral("ASD screen v1"));
    const QString released = dialog->output()->text();
    QSignalSpy done(dialog, &ui::ReleaseModelDialog::released);
    dialog->release();
    QVERIFY2(done.wait(60000), qPrintable(guard ? guard->message() + QStringLiteral(" / ") + guard->arguments().join(' ') : QStringLiteral("closed")));
    std::ifstream in(released.toStdString());
    const auto card = nlohmann::json::parse(in);
    QCOMPARE(card["release"]["name"].get<std::string>(), std::string("ASD screen v1"));
    QCOMPARE(card["evaluation"]["evaluation_run"].get<std::int64_t>(), evaluationId);
    QCOMPARE(card["evaluation"]["metrics"]["auc"]["mean"].get<double>(), meanAuc);
    QCOMPARE(card["release"]["source_hash"].get<std::string>(), hashFile(model));
    // The wizard lists it (from the workspace's models table) under the task.
    auto* wizard = window_->openDiagnosisWizard();
    QVERIFY(wizard);
    QPointer<ui::DiagnosisWizard> w(wizard);
    bool offered = false;
    for (auto* combo : wizard->findChildren<QComboBox*>())
      for (int i = 0; i < combo->count(); ++i) offered = offered || combo->itemData(i).toString() == released;
    if (!offered)  // models are listed per task: look under every task
      for (auto* combo : wizard->findChildren<QComboBox*>())
        for (int t = 0; t < combo->count() && !offered; ++t) {
          combo->setCurrentIndex(t);
          for (auto* m : wizard->findChildren<QComboBox*>())
            for (int i = 0; i < m->count(); ++i) offered = offered || m->itemData(i).toString() == released;
        }
    QVERIFY(offered);
    // Released models come first, named by their release with the cross-validated AUC; unreleased ones
    // say so. The released model is the default.
    {
      auto* models = wizard->modelCombo();
      QCOMPARE(models->itemData(0).toString(), released);
      QVERIFY2(models->itemText(0).startsWith(QStringLiteral("ASD screen v1 — released, cross-validated AUC %1").arg(meanAuc, 0, 'f', 3)),
               qPrintable(models->itemText(0)));
      for (int i = 1; i < models->count(); ++i)
        if (!models->itemText(i).contains(QStringLiteral("— released"))) QVERIFY(models->itemText(i).contains(QStringLiteral("not released")));
    }
    for (auto* m : wizard->findChildren<QComboBox*>()) {
      const int i = m->findData(released);
      if (i >= 0) m->setCurrentIndex(i);
    }
    // Its card, read through the CLI, names the release and quotes the evaluation.
    const auto cardShows = [&wizard](const QString& what) {
      for (auto* b : wizard->findChildren<QTextBrowser*>())
        if (b->toPlainText().contains(what)) return true;
      return false;
    };
    QTRY_VERIFY_WITH_TIMEOUT(cardShows(QStringLiteral("Release: ASD screen v1")), 30000);
    QVERIFY(cardShows(QStringLiteral("Cross-validated: AUC %1").arg(meanAuc, 0, 'f', 3)));
    if (w) w->close();
  }

  // Killing the GUI process does not end a run it launched; a new window re-attaches to it.
  // A per-site harmonised model is adapted to a site it was not trained on from the Runs dock: the
  // adapted copy standardises that site's scans with their own statistics.
  void adaptModelToANewSite() {
    if (fixtureDir_.empty()) QSKIP("needs the workspace fixture");
    const QString dir = QString::fromStdString(fixtureDir_.string());
    const auto config = fixtureDir_ / "tiny-site.json";
    std::ofstream(config)
        << R"({"model": {"hidden": 16, "heads": 2, "attention_layers": 1, "gnn_layers": 1, "ffn": 32}, "ensemble": 1, "epochs": 2, "input": "fc-site"})";
    const auto model = fixtureDir_ / "studio-site.pt";
    auto* panel = window_->runsPanel();
    const qint64 train = panel->launch({QStringLiteral("--threads=1"), QStringLiteral("train"), QStringLiteral("-w"), dir, QStringLiteral("--corpus"),
                                        QStringLiteral("studio"), QStringLiteral("--method"), QStringLiteral("scratch"), QStringLiteral("--config"),
                                        QString::fromStdString(config.string()), QStringLiteral("--out"), QString::fromStdString(model.string())});
    const auto refreshed = [panel] {
      panel->refresh();
      return true;
    };
    QTRY_VERIFY_WITH_TIMEOUT(refreshed() && panel->stateOf(train) == QStringLiteral("completed"), 240000);
    panel->select(train);
    auto* button = [&]() -> QPushButton* {
      for (auto* b : panel->findChildren<QPushButton*>())
        if (b->text() == QStringLiteral("Adapt to Site…")) return b;
      return nullptr;
    }();
    QVERIFY(button && button->isEnabled());
    auto* dialog = qobject_cast<ui::AdaptSiteDialog*>(panel->showAdaptSite(panel->runIdOf(train)));
    QVERIFY(dialog);
    QPointer<ui::AdaptSiteDialog> guard(dialog);
    QVERIFY(dialog->problem().contains(QStringLiteral("Name the site")));
    dialog->site()->setText(QStringLiteral("NYU"));
    QVERIFY(dialog->output()->text().endsWith(QStringLiteral("studio-site-NYU.pt")));
    std::vector<QString> nyu;
    for (const auto& e : std::filesystem::directory_iterator(bgtest::dataRoot() / "data/abide1-cc200/rois_cc200"))
      if (e.path().filename().string().rfind("NYU_", 0) == 0) nyu.push_back(QString::fromStdString(e.path().string()));
    std::sort(nyu.begin(), nyu.end());
    dialog->addScans({nyu[1], nyu[2], nyu[3]});
    QVERIFY(dialog->problem().contains(QStringLiteral("at least 5")));
    dialog->addScans({nyu[3], nyu[4], nyu[5], nyu[6]});  // a file already listed is listed once
    QCOMPARE(dialog->scans().size(), 6);
    QVERIFY2(dialog->problem().isEmpty(), qPrintable(dialog->problem()));
    QVERIFY2(dialog->message().contains(QStringLiteral("fewer than 20")), qPrintable(dialog->message()));  // a caution, not a refusal
    const QString adapted = dialog->output()->text();
    QSignalSpy done(dialog, &ui::AdaptSiteDialog::adapted);
    dialog->adapt();
    QVERIFY2(done.wait(120000), qPrintable(guard ? guard->message() + QStringLiteral(" / ") + guard->arguments().join(' ') : QStringLiteral("closed")));
    // The adapted card (read through the CLI) has NYU's statistics from the six scans; a seventh NYU scan uses them.
    auto cli = [](const QStringList& args) {
      QProcess p;
      p.start(ui::EngineInfo::cliPath(), QStringList{QStringLiteral("--quiet")} + args);
      p.waitForFinished(120000);
      return nlohmann::json::parse(p.readAllStandardOutput().toStdString());
    };
    const auto card = cli({QStringLiteral("model"), adapted});
    QCOMPARE(card["input_transform"]["site_standardisation"]["sites"]["NYU"].get<int>(), 6);
    QCOMPARE(card["input_transform"]["site_standardisation"]["sites"]["CMU"].get<int>(), 27);
    QVERIFY(card["input_transform"]["site_standardisation"]["adapted_sites"] == nlohmann::json::array({"NYU"}));
    const auto row = cli({QStringLiteral("predict"), QStringLiteral("--model"), adapted, QStringLiteral("--json"), QStringLiteral("--site"),
                          QStringLiteral("NYU"), QStringLiteral("--in"), nyu[0]});
    QVERIFY(row["site_statistics"]["own"].get<bool>() && row["site_statistics"]["adapted"].get<bool>());
    QVERIFY(std::filesystem::exists(model));  // the trained model stays
    // Diagnoses known: the model's class names (read through the CLI) label the mark buttons; every scan must be
    // marked, two of each class, and the adapted card records the batch's classes.
    {
      ui::AdaptSiteDialog labelled(QString::fromStdString(model.string()));
      QTRY_VERIFY_WITH_TIMEOUT(labelled.diagnosesKnown()->isEnabled(), 60000);
      const QStringList classes = labelled.classes();
      QCOMPARE(classes.size(), 2);
      labelled.site()->setText(QStringLiteral("NYU"));
      labelled.output()->setText(QString::fromStdString((fixtureDir_ / "studio-site-NYU-labelled.pt").string()));
      labelled.addScans({nyu[1], nyu[2], nyu[3], nyu[4], nyu[5], nyu[6]});
      labelled.diagnosesKnown()->setChecked(true);
      QVERIFY2(labelled.problem().contains(QStringLiteral("6 unmarked")), qPrintable(labelled.problem()));
      QVERIFY(!labelled.arguments().isEmpty());
      labelled.selectScans({nyu[1], nyu[2], nyu[3], nyu[4], nyu[5]});
      labelled.markScans(1);
      labelled.selectScans({nyu[6]});
      labelled.markScans(0);
      QVERIFY2(labelled.problem().contains(QStringLiteral("at least 2 scans of each class")), qPrintable(labelled.problem()));
      labelled.selectScans({nyu[5]});
      labelled.markScans(0);
      QVERIFY2(labelled.problem().isEmpty(), qPrintable(labelled.problem()));
      const QStringList expected = {classes[1], classes[1], classes[1], classes[1], classes[0], classes[0]};
      QCOMPARE(labelled.labels(), expected);
      const QStringList args = labelled.arguments();
      QCOMPARE(args.mid(args.size() - 7), QStringList{QStringLiteral("--labels")} + expected);
      QCOMPARE(labelled.scans().first(), nyu[1]);  // the list shows the class, the command gets the file
      QSignalSpy labelledDone(&labelled, &ui::AdaptSiteDialog::adapted);
      labelled.adapt();
      QVERIFY2(labelledDone.wait(120000), qPrintable(labelled.message()));
      const auto weightedCard = cli({QStringLiteral("model"), labelled.result()});
      const auto& record = weightedCard["site_adaptations"].back();
      QVERIFY(record["labelled"].get<bool>());
      QVERIFY(record["class_counts"] == nlohmann::json::array({2, 4}));
      labelled.diagnosesKnown()->setChecked(false);  // unchecked, the labels stay out of the command
      QVERIFY(!labelled.arguments().contains(QStringLiteral("--labels")));
    }
    // A model that is not standardised per site: the CLI's reason shows in the dialog, nothing is written.
    const auto logreg = fixtureDir_ / "studio-logreg.json";
    if (std::filesystem::exists(logreg)) {
      ui::AdaptSiteDialog other(QString::fromStdString(logreg.string()));
      other.site()->setText(QStringLiteral("NYU"));
      other.addScans({nyu[1], nyu[2], nyu[3], nyu[4], nyu[5]});
      QSignalSpy failed(&other, &ui::AdaptSiteDialog::adapted);
      other.adapt();
      QTRY_VERIFY_WITH_TIMEOUT(other.message().contains(QStringLiteral("not standardised per site")), 60000);
      QCOMPARE(failed.count(), 0);
      QVERIFY(!QFileInfo::exists(other.output()->text()));
    }
  }

  void runOutlivesAKilledGui() {
    if (fixtureDir_.empty()) QSKIP("needs the workspace fixture");
    const QString dir = QString::fromStdString(fixtureDir_.string());
    const auto out = fixtureDir_ / "orphan.pt";
    const QString preset = QString::fromStdString((fixtureDir_ / "orphan-preset.json").string());
    {
      std::ofstream p(preset.toStdString());
      p << nlohmann::json{{"kind", "pretrain"}, {"corpus", "studio"}, {"config", "demo-pretrain.json"}, {"epochs", 2000},
                          {"threads", 1},       {"device", "cpu"},    {"output", out.string()}}
               .dump();
    }
    std::set<int> known;
    {
      auto ws = Workspace::open(fixtureDir_);
      for (const auto& r : listTrackedRuns(*ws)) known.insert(r.pid);
    }
    QProcess gui;
    gui.setProcessChannelMode(QProcess::ForwardedChannels);
    gui.start(QStringLiteral(BRAINGRAPH_GUI_PATH), {QStringLiteral("--quiet"), QStringLiteral("--workspace"), dir, QStringLiteral("--launch"), preset});
    QVERIFY(gui.waitForStarted(10000));
    TrackedRun run;
    const auto launched = [&] {
      auto ws = Workspace::open(fixtureDir_);
      for (const auto& r : listTrackedRuns(*ws))
        if (!known.count(r.pid) && r.state == JobState::Running && r.progress > 0) run = r;
      return run.id != 0;
    };
    QTRY_VERIFY_WITH_TIMEOUT(launched(), 90000);
    QVERIFY(run.command.find("orphan.pt") != std::string::npos);
    ::kill(static_cast<pid_t>(gui.processId()), SIGKILL);
    QVERIFY(gui.waitForFinished(10000));
    QCOMPARE(gui.exitStatus(), QProcess::CrashExit);
    QTest::qWait(1000);
    QVERIFY(processExists(run.pid));
    ui::RunsPanel fresh;
    fresh.setWorkspace(dir);
    QCOMPARE(fresh.stateOf(run.pid), QStringLiteral("running"));
    const double seen = fresh.progressOf(run.pid);
    QTRY_VERIFY_WITH_TIMEOUT((fresh.refresh(), fresh.progressOf(run.pid) > seen), 60000);
    fresh.select(run.pid);
    QTRY_VERIFY_WITH_TIMEOUT((fresh.refresh(), fresh.dashboard()->lossPointCount() >= 3), 60000);
    fresh.cancel(run.pid);
    QTRY_VERIFY_WITH_TIMEOUT((fresh.refresh(), fresh.stateOf(run.pid) == QStringLiteral("cancelled")), 60000);
  }

  // Help > User Guide shows the guide with its screenshots (resolved relative to the guide).
  // File > Import Pre-trained Model: the public code's fixture imported as a job, its card shown, and
  // the imported file reproduces the public code's own outputs (model check-reference --model).
  void importPublishedCheckpoint() {
    const auto fixture = std::filesystem::path(BRAINGRAPH_TEST_DATA) / "fixtures" / "braingfm-public";
    if (!std::filesystem::exists(fixture / "classifier_state.pt")) QFAIL("the braingfm-public fixture is missing from the data path");
    const auto out = bgtest::scratchDir("gui-import") / "imported.pt";
    QSignalSpy spy(window_.get(), &ui::MainWindow::pretrainedModelImported);
    window_->importPretrainedModel(QString::fromStdString((fixture / "classifier_state.pt").string()), QString::fromStdString(out.string()));
    QVERIFY(spy.wait(120000));
    QCOMPARE(spy.first().first().toString(), QString::fromStdString(out.string()));
    auto* box = window_->findChild<QMessageBox*>(QStringLiteral("importedModelCard"));
    QVERIFY(box);
    QVERIFY(box->isVisible());
    const auto card = nlohmann::json::parse(window_->lastImportedCard().toStdString());
    const auto sha = QString::fromStdString(card["source"]["sha256"].get<std::string>());
    QFile f(QString::fromStdString((fixture / "classifier_state.pt").string()));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(sha, QString::fromLatin1(QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256).toHex()));
    QVERIFY2(box->text().contains(sha) && box->text().contains(QStringLiteral("from the checkpoint (2 classes)")), qPrintable(box->text()));
    QVERIFY(box->text().contains(QStringLiteral("CC BY-NC-SA 4.0")));
    QTest::qWait(200);
    box->grab().save(QStringLiteral("screenshot_import_card.png"));  // for docs/images
    box->close();
    QProcess p;
    p.start(ui::EngineInfo::cliPath(), {QStringLiteral("--quiet"), QStringLiteral("model"), QStringLiteral("check-reference"),
                                        QString::fromStdString(fixture.string()), QStringLiteral("--model"), QString::fromStdString(out.string())});
    QVERIFY(p.waitForFinished(120000));
    QCOMPARE(p.exitCode(), 0);
    const auto check = nlohmann::json::parse(p.readAllStandardOutput().toStdString());
    QVERIFY(check["logits_compared"].get<bool>());
    QVERIFY2(check["max_abs"].get<double>() <= 1e-4, check.dump().c_str());
    // The Launch form offers the workspace's model files (an import saved there) as Pre-trained.
    const auto wsDir = bgtest::scratchDir("gui-import-ws");
    std::filesystem::create_directories(wsDir / "models");
    std::filesystem::copy_file(out, wsDir / "models" / "braingfm-public.pt");
    ui::LaunchRunDialog form(QString::fromStdString(wsDir.string()));
    auto* completer = form.pretrained()->completer();
    QVERIFY(completer);
    QCOMPARE(completer->model()->rowCount(), 1);
    QCOMPARE(completer->model()->index(0, 0).data().toString(), QString::fromStdString((wsDir / "models" / "braingfm-public.pt").string()));
  }

  void userGuideOpensWithImages() {
    QTextBrowser* browser = window_->showUserGuide();
    QVERIFY(browser);
    const QString text = browser->toPlainText();
    for (const char* heading : {"Getting started", "Your own data", "diagnosis wizard", "training guide", "Command-line reference", "Troubleshooting"})
      QVERIFY2(text.contains(QString::fromLatin1(heading), Qt::CaseInsensitive), heading);
    const QVariant image = browser->loadResource(QTextDocument::ImageResource, QUrl(QStringLiteral("images/wizard-result.png")));
    QVERIFY(image.isValid());
    QVERIFY(!qvariant_cast<QImage>(image).isNull() || !image.toByteArray().isEmpty());
    browser->window()->close();
  }

  void sliceViewerWithAtlasOverlay() {
    const auto file = bgtest::dataRoot() / "data/nifti-samples/0040071_COBRE_3mm_functional_segment.nii.gz";
    if (!std::filesystem::exists(file)) QSKIP("COBRE sample not in the data path");
    auto* viewer = window_->sliceViewer();
    window_->views()->setCurrentWidget(viewer);
    QSignalSpy loaded(viewer, &ui::SliceViewer::loaded);
    viewer->setAtlas(QStringLiteral("schaefer100"));
    viewer->load(QString::fromStdString(file.string()));
    QVERIFY(loaded.wait(30000));
    QVERIFY(viewer->labels() != nullptr);
    const auto volume = readNiftiVolume(file);
    QCOMPARE(viewer->volume()->header.dim[3], std::int64_t(5));
    // The overlay is the atlas resampled onto the scan grid: compare with an independent mapping.
    const auto expected = AtlasResampler(workbench_->atlases()).map("schaefer100", ScanGrid::of(volume.header));
    QVERIFY(viewer->labels()->roiOfVoxel == expected.roiOfVoxel);
    // Find a voxel in an ROI; clicking it moves the crosshair there and hover names the ROI.
    std::array<std::int64_t, 3> voxel{-1, -1, -1};
    const auto& d = volume.header.dim;
    for (std::int64_t i = 0; i < volume.header.voxelsPerVolume() && voxel[0] < 0; ++i)
      if (expected.roiOfVoxel[static_cast<std::size_t>(i)] >= 0 && i % d[0] > 20 && (i / d[0]) % d[1] > 20 && i / (d[0] * d[1]) == d[2] / 2)
        voxel = {i % d[0], (i / d[0]) % d[1], i / (d[0] * d[1])};
    QVERIFY(voxel[0] >= 0);
    viewer->setCursor({voxel[0], voxel[1], 0});
    auto* axial = viewer->pane(0);
    QTest::qWait(50);
    auto target = voxel;
    target[2] = viewer->cursor()[2];
    QTest::mouseClick(axial, Qt::LeftButton, {}, axial->positionOf({voxel[0], voxel[1], target[2]}));
    QCOMPARE(viewer->cursor()[0], voxel[0]);
    QCOMPARE(viewer->cursor()[1], voxel[1]);
    viewer->setCursor(voxel);
    const int roi = expected.roiOfVoxel[static_cast<std::size_t>((voxel[2] * d[1] + voxel[1]) * d[0] + voxel[0])];
    QVERIFY(viewer->describe(voxel).startsWith(QString::fromStdString(expected.rois[static_cast<std::size_t>(roi)].name)));
    // The value follows the time slider.
    viewer->timeSlider()->setValue(3);
    QCOMPARE(viewer->frame(), 3);
    QVERIFY(viewer->describe(voxel).endsWith(QString::number(volume.at(voxel[0], voxel[1], voxel[2], 3), 'g', 5)));
    const QImage shot = viewer->grab().toImage().convertToFormat(QImage::Format_RGB32);
    shot.save(QStringLiteral(BRAINGRAPH_TEST_SCRATCH "/../screenshot_slices.png"));
    // Overlay-coloured and grey (anatomy) pixels.
    auto colouredAndGrey = [](const QImage& image) {
      std::pair<long, long> n{0, 0};
      for (int y = 0; y < image.height(); ++y)
        for (int x = 0; x < image.width(); ++x) {
          const QColor c = QColor::fromRgb(image.pixel(x, y));
          const int spread = std::max({c.red(), c.green(), c.blue()}) - std::min({c.red(), c.green(), c.blue()});
          n.first += spread > 40;
          n.second += spread < 8 && c.red() > 60;
        }
      return n;
    };
    const auto [coloured, grey] = colouredAndGrey(shot);
    QVERIFY2(coloured > 3000 && grey > 3000, qPrintable(QString("coloured %1 grey %2").arg(coloured).arg(grey)));
    // The 3D pane: the three planes meet at the crosshair; moving it (or turning the view) redraws.
    auto* cube = viewer->cube();
    const QImage before = cube->grab().toImage().convertToFormat(QImage::Format_RGB32);
    before.save(QStringLiteral(BRAINGRAPH_TEST_SCRATCH "/../screenshot_slices_3d.png"));
    const auto [cubeColoured, cubeGrey] = colouredAndGrey(before);
    QVERIFY2(cubeColoured > 300 && cubeGrey > 300, qPrintable(QString("coloured %1 grey %2").arg(cubeColoured).arg(cubeGrey)));
    auto moved = voxel;
    moved[2] = std::max<std::int64_t>(1, voxel[2] - 6);
    viewer->setCursor(moved);
    QVERIFY(cube->grab().toImage().convertToFormat(QImage::Format_RGB32) != before);
    viewer->setCursor(voxel);
    QVERIFY(cube->grab().toImage().convertToFormat(QImage::Format_RGB32) == before);  // a pure function of the state
    QTest::mousePress(cube, Qt::LeftButton, {}, QPoint(20, 20));
    QTest::mouseMove(cube, QPoint(60, 20));
    QTest::mouseRelease(cube, Qt::LeftButton, {}, QPoint(60, 20));
    QVERIFY(cube->azimuth() != -35.0);
  }

  // Slices are neurological by default (the patient's left on the left), radiological on request, and
  // say so: a bright region in the left hemisphere sits on the side labelled L, whatever the voxel
  // order of the file (RAS or LAS).
  void sliceOrientationIsLabelled() {
    auto* viewer = window_->sliceViewer();
    window_->views()->setCurrentWidget(viewer);
    viewer->setAtlas(QString());
    QImage cubes[2];  // the 3D slice cube of each file, at the same world crosshair and size
    viewer->cube()->setFixedSize(400, 300);
    for (const bool las : {false, true}) {
      NiftiHeader h;
      h.ndim = 3;
      h.dim = {40, 48, 40, 1};
      h.pixdim = {4, 4, 4, 1};
      h.sformCode = 1;
      h.voxelToWorld = Eigen::Matrix4d::Identity();
      h.voxelToWorld(0, 0) = las ? -4 : 4;
      h.voxelToWorld(0, 3) = las ? 78 : -78;
      h.voxelToWorld(1, 1) = 4;
      h.voxelToWorld(1, 3) = -110;
      h.voxelToWorld(2, 2) = 4;
      h.voxelToWorld(2, 3) = -70;
      std::vector<float> data(40 * 48 * 40, 100.0f);
      std::array<std::int64_t, 3> centre{};
      for (std::int64_t k = 0; k < 40; ++k)
        for (std::int64_t j = 0; j < 48; ++j)
          for (std::int64_t i = 0; i < 40; ++i) {
            const Eigen::Vector4d w = h.voxelToWorld * Eigen::Vector4d(double(i), double(j), double(k), 1);
            if (w(0) > -54 && w(0) < -34 && std::abs(w(1) + 20) < 10 && std::abs(w(2) - 10) < 10) {
              data[static_cast<std::size_t>((k * 48 + j) * 40 + i)] = 1000.0f;  // the left-hemisphere region
              centre = {i, j, k};
            }
          }
      const auto file = bgtest::scratchDir("gui-orientation") / (las ? "las.nii.gz" : "ras.nii.gz");
      writeNiftiFloat(file, h, data.data());
      QSignalSpy loaded(viewer, &ui::SliceViewer::loaded);
      viewer->load(QString::fromStdString(file.string()));
      QVERIFY(loaded.wait(30000));
      QVERIFY(centre[0] >= 0);
      viewer->setCursor({las ? 30 : 9, 22, 20});  // MNI (-42, -22, 10) in both grids, inside the region
      cubes[las ? 1 : 0] = viewer->cube()->grab().toImage().convertToFormat(QImage::Format_RGB32);
      for (const bool radiological : {false, true}) {
        viewer->setRadiological(radiological);
        QCOMPARE(workbench_->settings().radiological(), radiological);  // a setting, shared with the reports
        for (int plane : {0, 1}) {                                      // axial and coronal show left-right
          auto* pane = viewer->pane(plane);
          const QImage image = pane->grab().toImage().convertToFormat(QImage::Format_RGB32);
          double sumX = 0;
          long bright = 0;
          for (int y = 0; y < image.height(); ++y)
            for (int x = 0; x < image.width(); ++x) {
              const QColor c = QColor::fromRgb(image.pixel(x, y));
              if (c.red() > 240 && c.green() > 240 && c.blue() > 240) sumX += x, ++bright;
            }
          QVERIFY2(bright > 20, qPrintable(QString::number(bright)));
          const bool onLeft = sumX / static_cast<double>(bright) < image.width() / 2.0;
          const auto labels = pane->edgeLabels();
          QCOMPARE(labels[0], radiological ? QStringLiteral("R") : QStringLiteral("L"));
          QCOMPARE(labels[1], radiological ? QStringLiteral("L") : QStringLiteral("R"));
          QCOMPARE(onLeft, labels[0] == QStringLiteral("L"));
          QCOMPARE(labels[2], plane == 0 ? QStringLiteral("A") : QStringLiteral("S"));
          if (!las && plane == 0)
            image.save(QString(BRAINGRAPH_TEST_SCRATCH "/../screenshot_slices_%1.png").arg(radiological ? "radiological" : "neurological"));
        }
      }
      viewer->setRadiological(false);
    }
    viewer->cube()->setMinimumSize(160, 120);
    viewer->cube()->setMaximumSize(QWIDGETSIZE_MAX, QWIDGETSIZE_MAX);
    // The cube shows world orientation, not voxel order: the RAS and the LAS file look the same.
    QCOMPARE(cubes[0].size(), cubes[1].size());
    double difference = 0;
    for (int y = 0; y < cubes[0].height(); ++y)
      for (int x = 0; x < cubes[0].width(); ++x) difference += std::abs(qGray(cubes[0].pixel(x, y)) - qGray(cubes[1].pixel(x, y)));
    difference /= static_cast<double>(cubes[0].width() * cubes[0].height());
    QVERIFY2(difference < 0.25, qPrintable(QString::number(difference)));  // 0 here; 2.5 in voxel order
    long bright = 0;
    for (int y = 0; y < cubes[0].height(); ++y)
      for (int x = 0; x < cubes[0].width(); ++x) bright += qGray(cubes[0].pixel(x, y)) > 240;
    QVERIFY2(bright >= 5, qPrintable(QString::number(bright)));  // the region is in the picture (10 px on a 1280x800 window)
  }

  void everyControlHasATooltip() {
    int checked = 0;
    QStringList missing;
    for (auto* w : window_->findChildren<QWidget*>()) {
      const bool control = qobject_cast<QAbstractButton*>(w) || qobject_cast<QComboBox*>(w) || qobject_cast<QAbstractSlider*>(w) ||
                           qobject_cast<QLineEdit*>(w) || qobject_cast<QAbstractSpinBox*>(w);
      if (!control || qobject_cast<QAbstractButton*>(w) && w->parent() && w->parent()->inherits("QDockWidget")) continue;
      if (w->parent() && (w->parent()->inherits("QAbstractScrollArea") || w->parent()->inherits("QTabBar") || w->inherits("QScrollBar"))) continue;
      ++checked;
      // Qt's own parts: a line edit's clear button, a spin box's editor, the menu bar's overflow button.
      if (w->inherits("QLineEditIconButton") || w->objectName().startsWith(QStringLiteral("qt_"))) continue;
      if (w->toolTip().isEmpty())
        missing << QString::fromUtf8(w->metaObject()->className()) + " in " + QString::fromUtf8(w->parent()->metaObject()->className()) + ":" +
                       w->accessibleName() + w->objectName();
      if (w->focusPolicy() == Qt::NoFocus) missing << QStringLiteral("not focusable: ") + w->metaObject()->className();
    }
    QVERIFY(checked > 5);
    QVERIFY2(missing.isEmpty(), qPrintable(missing.join(", ")));
  }

  void cleanupTestCase() {
    window_.reset();
    workbench_.reset();
  }
};

int main(int argc, char** argv) {
  viz::VtkView::setDefaultSurfaceFormat();
  QApplication app(argc, argv);
  TestGui t;
  return QTest::qExec(&t, argc, argv);
}
#include "test_gui.moc"
