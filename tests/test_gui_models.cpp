// The GUI's models without widgets (issue 38, item 5): what the Runs panel may do with a run, what
// the diagnosis wizard checks before it runs and the Launch form's rules, decided by Qt-free core functions that these tests call
// with no display. test_gui keeps the end-to-end checks through the windows.
#include <QTest>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "errors/Error.h"
#include "eval/DiagnosisChecks.h"
#include "eval/LaunchRequest.h"
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
    const auto card = [](const json& j) { return ModelCard::fromJson(j, "test card"); };
    const auto timeSeriesModel = card({{"kind", "braingfm-downstream"}, {"atlas", "cc200"}, {"nodes", 200}, {"preprocessing", {{"clean", false}}}});
    QVERIFY(scanProblemForModel(timeSeriesModel, {false, 200, 0.0}, {}).empty());
    const auto columns = scanProblemForModel(timeSeriesModel, {false, 116, 2.0}, {});
    QVERIFY2(columns.find("116 ROI columns but this model expects 200 (cc200)") != std::string::npos, columns.c_str());
    // A model that band-passes (its stored preprocessing, or none stored: the defaults) needs the TR of a time-series file.
    json bandPassing = timeSeriesModel.stored;
    bandPassing["preprocessing"] = {{"clean", true}, {"band_pass", {0.01, 0.1, 2}}};
    QVERIFY(scanProblemForModel(card(bandPassing), {false, 200, 0.0}, {}).find("repetition time") != std::string::npos);
    QVERIFY(scanProblemForModel(card(bandPassing), {false, 200, 2.0}, {}).empty());
    bandPassing["preprocessing"] = {{"clean", true}, {"band_pass", nullptr}};  // cleaned without a band-pass: no TR needed
    QVERIFY(scanProblemForModel(card(bandPassing), {false, 200, 0.0}, {}).empty());
    bandPassing.erase("preprocessing");
    QVERIFY(scanProblemForModel(card(bandPassing), {false, 200, 0.0}, {}).find("repetition time") != std::string::npos);
    // A volume needs an atlas the workbench can apply; the list unknown, nothing is refused.
    QVERIFY(scanProblemForModel(timeSeriesModel, {true, 0, 0.0}, {"schaefer100", "aal116"}).find("cannot apply to a BOLD volume") != std::string::npos);
    QVERIFY(scanProblemForModel(timeSeriesModel, {true, 0, 0.0}, {"cc200"}).empty());
    QVERIFY(scanProblemForModel(timeSeriesModel, {true, 0, 0.0}, {}).empty());
    // A multi-atlas model reads a volume through every atlas: one time-series file is not enough.
    const auto ensemble = card({{"kind", "atlas-ensemble"},
                                {"atlases", {"cc200", "ho"}},
                                {"members", {{{"kind", "baseline-logreg"}, {"atlas", "cc200"}}, {{"kind", "baseline-logreg"}, {"atlas", "ho"}}}}});
    const auto oneFile = scanProblemForModel(ensemble, {false, 200, 2.0}, {});
    QVERIFY2(oneFile.find("through cc200 and ho") != std::string::npos && oneFile.find("use Predict") != std::string::npos, oneFile.c_str());
    QVERIFY(scanProblemForModel(ensemble, {true, 0, 0.0}, {"cc200", "ho"}).empty());
    QVERIFY(scanProblemForModel(ensemble, {true, 0, 0.0}, {"cc200"}).find("reads the ho parcellation") != std::string::npos);
    // So does one fused model over both atlases (a graph-model file whose card lists them), whose own
    // "atlas" and "nodes" are its first atlas's only.
    const auto fused = card({{"kind", "braingfm-downstream"},
                             {"architecture", "atlas-fusion"},
                             {"atlases", {"cc200", "ho"}},
                             {"atlas_nodes", {200, 111}},
                             {"members", {{{"atlas", "cc200"}}, {{"atlas", "ho"}}}},
                             {"atlas", "cc200"},
                             {"nodes", 200}});
    QCOMPARE(fused.inputs.at(1).nodes, 111);
    QVERIFY(fused.combination == AtlasCombination::Fused && !fused.baseline && ensemble.baseline);
    // A card whose atlases and members disagree is refused where it is read, naming it.
    try {
      card({{"kind", "atlas-ensemble"}, {"atlases", {"cc200", "ho"}}, {"members", {{{"atlas", "ho"}}, {{"atlas", "cc200"}}}}});
      QFAIL("a card whose members are in another order than its atlases was accepted");
    } catch (const bg::Error& e) {
      QVERIFY2(std::string(e.what()).find("test card: member 1 reads ho, but the card lists cc200") != std::string::npos, e.what());
    }
    try {
      card({{"kind", "baseline-logreg"}, {"atlas", "cc200"}, {"classes", "control"}});
      QFAIL("a card whose classes are not a list was accepted");
    } catch (const bg::Error& e) {
      QVERIFY2(std::string(e.what()).find("'classes'") != std::string::npos, e.what());
    }
    QVERIFY(scanProblemForModel(fused, {false, 200, 2.0}, {}).find("through cc200 and ho") != std::string::npos);
    QVERIFY(scanProblemForModel(fused, {true, 0, 0.0}, {"cc200", "ho"}).empty());
    QVERIFY(scanProblemForModel(fused, {true, 0, 0.0}, {"cc200"}).find("reads the ho parcellation") != std::string::npos);
  }

  // The Launch form's rules without widgets: which fields a run uses, what is wrong, the command line.
  void launchFormRulesWithoutWidgets() {
    auto has = [](const std::vector<std::string>& list, const std::string& text) {
      for (const auto& s : list)
        if (s.find(text) != std::string::npos) return true;
      return false;
    };
    auto follows = [](const std::vector<std::string>& args, const std::string& option, const std::string& value) {
      const auto it = std::find(args.begin(), args.end(), option);
      return it != args.end() && it + 1 != args.end() && *(it + 1) == value;
    };
    LaunchRequest r;
    r.workspace = "/ws";
    r.corpus = "asd";
    r.corpusAtlases = {"cc200"};
    r.kind = "train";
    r.method = "logreg";
    auto f = launchFields(r);
    QVERIFY(f.regularisation && !f.ensemble && !f.atlasFusion && !f.folds && !f.pretrained && f.method && !f.foundationModel);
    QVERIFY(has(launchProblems(r), "Choose the model file to write"));
    r.output = " /m/logreg.json ";
    r.regularisation = "0.01, 0.1";
    r.epochs = 30;  // a baseline has no epochs: left out
    {
      std::string all;
      for (const auto& problem : launchProblems(r)) all += problem + " ";
      QVERIFY2(all.empty(), all.c_str());
    }
    auto args = launchArguments(r);
    QVERIFY(follows(args, "--c", "0.01,0.1") && follows(args, "--out", "/m/logreg.json") && follows(args, "-w", "/ws"));
    QVERIFY(std::find(args.begin(), args.end(), "--epochs") == args.end());
    r.regularisation = "x";
    QVERIFY(!launchProblems(r).empty());

    // Two atlases: a graph model may be one model over both; the SVM reads one parcellation.
    r.corpusAtlases = {"cc200", "ho"};
    r.regularisation.clear();
    r.method = "scratch";
    r.kind = "evaluate";
    r.atlasFusion = "embedding";
    r.labels = "100, 10";
    r.folds = 5;
    f = launchFields(r);
    QVERIFY(f.atlasFusion && f.ensemble && f.folds && f.labels && !f.crossAtlasViews && !f.regularisation);
    args = launchArguments(r);
    QVERIFY(follows(args, "--atlas-fusion", "embedding") && follows(args, "--regimes", "1,0.1") && follows(args, "--cv", "5") &&
            follows(args, "--epochs", "30"));
    r.input = "tangent";
    QVERIFY(has(launchProblems(r), "fitted per atlas"));
    r.input.clear();
    r.method = "svm";
    QVERIFY(has(launchProblems(r), "svm reads one parcellation"));
    r.method = "prompt";
    r.pretrainInFolds = "paper";
    QVERIFY(launchFields(r).crossAtlasViews && launchFields(r).pretrained);
    r.crossAtlasViews = true;
    args = launchArguments(r);
    QVERIFY(std::find(args.begin(), args.end(), "--cross-atlas-views") != args.end() &&
            std::find(args.begin(), args.end(), "--pretrain-in-folds") != args.end());
    QVERIFY(std::find(args.begin(), args.end(), "--pretrain-config") == args.end());  // "paper": the defaults
    r.leaveSiteOut = true;
    args = launchArguments(r);
    QVERIFY(!launchFields(r).folds && std::find(args.begin(), args.end(), "--cv") == args.end() &&
            std::find(args.begin(), args.end(), "--leave-site-out") != args.end());

    // Labels, folds, the device, site adaptation.
    r.leaveSiteOut = false;
    r.labels = "10, abc";
    QVERIFY(has(launchProblems(r), "'abc' is not a percentage"));
    r.labels = "0";
    QVERIFY(has(launchProblems(r), "zero-shot"));
    QCOMPARE(launchLabelFractions(" 25% "), std::vector<double>{0.25});
    r.labels.clear();
    r.folds = 1;
    QVERIFY(has(launchProblems(r), "at least 2 folds"));
    r.folds = 0;
    r.device = "unavailable";
    QVERIFY(has(launchProblems(r), "no CUDA device"));
    r.device = "auto";
    r.method = "scratch";
    r.input = "fc-site";
    r.corpusAtlases = {"cc200"};
    QVERIFY(launchFields(r).adaptNewSites && !launchFields(r).adaptScans);
    r.adaptNewSites = true;
    r.adaptScans = 3;
    QVERIFY(has(launchProblems(r), "at least 5 of its scans"));
    r.adaptScans = 8;
    r.adaptLabelled = true;
    r.adaptSharePercent = 100;
    QVERIFY(has(launchProblems(r), "one class"));
    r.adaptSharePercent = 25;
    QVERIFY(follows(launchArguments(r), "--adapt-share", "0.25") && follows(launchArguments(r), "--adapt-scans", "8"));

    // Other configurations need a main one; a missing pre-trained file is named.
    r.alsoConfigs = {"/c/b.json"};
    QVERIFY(has(launchProblems(r), "needs a Configuration file"));
    r.config = "/c/a.json";
    args = launchArguments(r);
    QCOMPARE(std::count(args.begin(), args.end(), std::string("--config")), 2L);
    r.method = "finetune";
    r.pretrained = "/nonexistent/pre.pt";
    QVERIFY(has(launchProblems(r), "/nonexistent/pre.pt does not exist"));

    // Pre-training: the zoo's models read one atlas; meta-training needs two tasks.
    LaunchRequest pre;
    pre.kind = "pretrain";
    pre.corpus = "both";
    pre.corpusAtlases = {"cc200", "ho"};
    pre.output = "p.pt";
    pre.foundationModel = "brainmass";
    QVERIFY(has(launchProblems(pre), "brainmass has no atlas token"));
    QVERIFY(follows(launchArguments(pre), "--model", "brainmass") && !launchFields(pre).crossAtlasViews && !launchFields(pre).method);
    LaunchRequest meta;
    meta.kind = "meta-train";
    meta.workspace = "/ws";
    meta.tasks = {"asd"};
    meta.output = "meta.pt";
    meta.firstOrder = true;
    QVERIFY(has(launchProblems(meta), "at least two tasks"));
    meta.tasks.push_back("adhd");
    const auto metaArgs = launchArguments(meta);
    QVERIFY(metaArgs.front() == "meta-train" && std::count(metaArgs.begin(), metaArgs.end(), std::string("--corpus")) == 2 &&
            std::find(metaArgs.begin(), metaArgs.end(), "--first-order") != metaArgs.end());
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
