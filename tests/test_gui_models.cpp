// The GUI's models without widgets (issue 38, item 5): what the Runs panel may do with a run, and what
// the diagnosis wizard checks before it runs, decided by Qt-free core functions that these tests call
// with no display. test_gui keeps the end-to-end checks through the windows.
#include <QTest>

#include <nlohmann/json.hpp>

#include "eval/DiagnosisChecks.h"
#include "workspace/RunActions.h"

using namespace bg;
using nlohmann::json;

class TestGuiModels : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  // What the Runs panel and `runs` may do with a run follows from its state, its command and its
  // method, without a display (issue 38, item 5).
  void runActionsFollowStateCommandAndMethod() {
    TrackedRun train;
    train.state = JobState::Completed;
    train.config = {{"command", "train"}, {"options", {{"--method", "scratch"}, {"--out", "/models/m.pt"}}}};
    auto a = runActions(train, false);
    QCOMPARE(a.state, std::string("completed"));
    QVERIFY(a.release && a.adaptSite && !a.pause && !a.resume && !a.cancel && !a.relaunch);
    train.config["options"]["--method"] = "logreg-tangent";  // a baseline's file never standardises per site
    QVERIFY(runActions(train, false).release && !runActions(train, false).adaptSite);
    train.config["options"].erase("--out");
    QVERIFY(!runActions(train, false).release);
    train.state = JobState::Failed;
    train.config["options"]["--out"] = "/models/m.pt";
    QVERIFY(!runActions(train, false).release);

    TrackedRun pre;
    pre.state = JobState::Running;
    pre.config = {{"command", "pretrain"}, {"argv", {"pretrain", "--out", "p.pt"}}};
    a = runActions(pre, false);
    QCOMPARE(a.state, std::string("running"));
    QVERIFY(a.pause && a.cancel && !a.resume && !a.relaunch && !a.release);
    a = runActions(pre, true);
    QCOMPARE(a.state, std::string("paused"));
    QVERIFY(!a.pause && a.resume && a.cancel && !a.relaunch);
    pre.state = JobState::Cancelled;
    a = runActions(pre, true);  // an ended run is not paused, whatever its old pid says
    QCOMPARE(a.state, std::string("cancelled"));
    QVERIFY(a.relaunch && !a.resume && !a.cancel && !a.pause);
    pre.state = JobState::Completed;
    QVERIFY(!runActions(pre, false).relaunch);
    pre.state = JobState::Failed;
    pre.config.erase("argv");  // without its command line nothing can start it again
    QVERIFY(!runActions(pre, false).relaunch);
  }

  // A scan the model cannot read is named with what to choose instead; one it can read passes.
  void scanChecksFollowTheModelCard() {
    const json timeSeriesModel = {{"kind", "braingfm-downstream"}, {"atlas", "cc200"}, {"nodes", 200}, {"preprocessing", {{"clean", false}}}};
    QVERIFY(scanProblemForModel(timeSeriesModel, {false, 200, 0.0}, {}).empty());
    const auto columns = scanProblemForModel(timeSeriesModel, {false, 116, 2.0}, {});
    QVERIFY2(columns.find("116 ROI columns but this model expects 200 (cc200)") != std::string::npos, columns.c_str());
    // A model that band-passes (its stored preprocessing, or none stored: the defaults) needs the TR of a time-series file.
    json bandPassing = timeSeriesModel;
    bandPassing["preprocessing"] = {{"clean", true}, {"band_pass", {0.01, 0.1}}};
    QVERIFY(scanProblemForModel(bandPassing, {false, 200, 0.0}, {}).find("repetition time") != std::string::npos);
    QVERIFY(scanProblemForModel(bandPassing, {false, 200, 2.0}, {}).empty());
    bandPassing.erase("preprocessing");
    QVERIFY(scanProblemForModel(bandPassing, {false, 200, 0.0}, {}).find("repetition time") != std::string::npos);
    // A volume needs an atlas the workbench can apply; the list unknown, nothing is refused.
    QVERIFY(scanProblemForModel(timeSeriesModel, {true, 0, 0.0}, {"schaefer100", "aal116"}).find("cannot apply to a BOLD volume") != std::string::npos);
    QVERIFY(scanProblemForModel(timeSeriesModel, {true, 0, 0.0}, {"cc200"}).empty());
    QVERIFY(scanProblemForModel(timeSeriesModel, {true, 0, 0.0}, {}).empty());
    // A multi-atlas model reads a volume through every atlas: one time-series file is not enough.
    const json ensemble = {{"kind", "atlas-ensemble"}, {"atlases", {"cc200", "ho"}}};
    const auto oneFile = scanProblemForModel(ensemble, {false, 200, 2.0}, {});
    QVERIFY2(oneFile.find("through cc200 and ho") != std::string::npos && oneFile.find("use Predict") != std::string::npos, oneFile.c_str());
    QVERIFY(scanProblemForModel(ensemble, {true, 0, 0.0}, {"cc200", "ho"}).empty());
    QVERIFY(scanProblemForModel(ensemble, {true, 0, 0.0}, {"cc200"}).find("reads the ho parcellation") != std::string::npos);
  }

  void qualityControlBlocksFailuresAndBlockedGaps() {
    QVERIFY(!qualityControlBlocks(json()));
    QVERIFY(!qualityControlBlocks({{"overall", "pass"}}));
    QVERIFY(!qualityControlBlocks({{"overall", "warn"}}));
    QVERIFY(qualityControlBlocks({{"overall", "fail"}}));
    QVERIFY(qualityControlBlocks({{"overall", "incomplete"}, {"incomplete", "block"}}));
    QVERIFY(!qualityControlBlocks({{"overall", "incomplete"}, {"incomplete", "warn"}}));
  }
};

QTEST_GUILESS_MAIN(TestGuiModels)
#include "test_gui_models.moc"
