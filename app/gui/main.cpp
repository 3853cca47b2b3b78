// braingraph: the workbench GUI.
#include <clocale>
#include <cstring>

#include <QApplication>
#include <QCommandLineParser>
#include <QSaveFile>
#include <QTimer>

#include <spdlog/spdlog.h>

#include "MainWindow.h"
#include "MatrixPanel.h"
#include "ScanBrowser.h"
#include "VtkView.h"
#include "Workbench.h"
#include "errors/Error.h"
#include "log/Logging.h"
#include "platform/Versions.h"

int main(int argc, char** argv) {
  bg::viz::VtkView::setDefaultSurfaceFormat();
  QApplication app(argc, argv);
  // QApplication sets the locale from the environment; numbers in files are always C-locale.
  std::setlocale(LC_NUMERIC, "C");
  QApplication::setApplicationName(QStringLiteral("BrainGraph Workbench"));
  QApplication::setOrganizationName(QStringLiteral("braingraph"));
  QApplication::setApplicationVersion(QString::fromStdString(bg::braingraphVersion()));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("BrainGraph Workbench: brain graph foundation models for fMRI"));
  parser.addHelpOption();
  parser.addVersionOption();
  QCommandLineOption quiet({QStringLiteral("q"), QStringLiteral("quiet")}, QStringLiteral("Only warnings and errors"));
  QCommandLineOption verbose(QStringLiteral("verbose"), QStringLiteral("More detail"));
  QCommandLineOption screenshot(QStringLiteral("screenshot"), QStringLiteral("Save the 3D view to FILE once the brain is shown, then quit"),
                                QStringLiteral("FILE"));
  QCommandLineOption windowShot(QStringLiteral("screenshot-window"),
                                QStringLiteral("Save the whole window to FILE once the atlases are verified and the first scan is shown, then quit"),
                                QStringLiteral("FILE"));
  QCommandLineOption workspace(QStringLiteral("workspace"), QStringLiteral("Open this workspace folder"), QStringLiteral("DIR"));
  QCommandLineOption launch(QStringLiteral("launch"),
                            QStringLiteral("Launch the run a Run > Launch preset (JSON) describes, in its own process, once the workspace is open"),
                            QStringLiteral("PRESET"));
  parser.addOptions({quiet, verbose, screenshot, windowShot, workspace, launch});
  parser.process(app);

  bg::log::LogOptions logOptions;
  logOptions.verbosity = parser.isSet(quiet) ? bg::log::Verbosity::Quiet : parser.isSet(verbose) ? bg::log::Verbosity::Verbose : bg::log::Verbosity::Normal;
  bg::log::init(logOptions);

  try {
    bg::ui::Workbench workbench(bg::Settings::loadDefault());
    bg::ui::MainWindow window(workbench);
    window.restoreSession();
    if (parser.isSet(workspace)) window.openWorkspace(parser.value(workspace));
    window.show();
    if (parser.isSet(launch) && window.launchPreset(parser.value(launch)) == 0) return static_cast<int>(bg::ErrorCode::Usage);
    window.loadBrainSurface();
    if (parser.isSet(screenshot) || parser.isSet(windowShot)) {
      const bool whole = parser.isSet(windowShot);
      const QString file = parser.value(whole ? windowShot : screenshot);
      auto grab = [&window, file, whole] {
        QTimer::singleShot(300, &window, [&window, file, whole] {
          window.views()->setCurrentIndex(0);  // the 3D view
          QTimer::singleShot(300, &window, [&window, file, whole] {
            QSaveFile out(file);  // beside the target, then renamed: never half a PNG
            const QImage image = whole ? window.grab().toImage() : window.view3d()->grabFramebuffer();
            const bool ok = out.open(QIODevice::WriteOnly) && image.convertToFormat(QImage::Format_RGB32).save(&out, "PNG") && out.commit();
            if (!ok) spdlog::error("could not save screenshot {}: {}", file.toStdString(), out.errorString().toStdString());
            QApplication::exit(ok ? 0 : static_cast<int>(bg::ErrorCode::Io));
          });
        });
      };
      // With a workspace, its first scan's connectome on the brain (not an empty brain).
      auto showScan = [&window, grab] {
        if (!window.workspace()) return grab();
        QObject::connect(window.matrixPanel(), &bg::ui::MatrixPanel::matrixShown, &window, grab, Qt::SingleShotConnection);
        if (!window.scanBrowser()->selectFirstScan()) grab();
      };
      QObject::connect(&window, &bg::ui::MainWindow::brainSurfaceShown, &window, [&window, &workbench, showScan, whole] {
        if (!whole || !workbench.hasAtlases()) return showScan();
        // The whole window: the workspace panel's atlases verified, not "not verified".
        QObject::connect(&window, &bg::ui::MainWindow::atlasesVerified, &window, showScan, Qt::SingleShotConnection);
        window.verifyAtlases();
      });
    }
    const int rc = QApplication::exec();
    workbench.jobs().cancelAll();
    return rc;
  } catch (...) {
    const bg::Error e = bg::currentExceptionAsError();
    spdlog::error("{}", e.what());
    return e.exitCode();
  }
}
