// Golden results: `evaluate` and `train` → `predict` for each method family (classical baselines,
// BrainGFM from scratch and prompted from a pre-trained file, the zoo's graph models, BrainMass,
// LCM, the public BrainGFM architecture) on a small synthetic ABIDE release, compared number by
// number with tests/golden/evaluate-train.json: the metrics, every out-of-fold prediction and the
// probabilities of the trained models. A redesign that keeps every behaviour keeps these numbers
// (same seed, one compute thread). After a change that is meant to alter results, regenerate the
// file with BRAINGRAPH_GOLDEN_UPDATE=1 and say why in the commit.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <QTest>
#include <nlohmann/json.hpp>

#include "TestSupport.h"
#include "support/SyntheticAbide.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

QString q(const fs::path& p) { return QString::fromStdString(p.string()); }

// Numbers agree to 1e-5 (absolute, or relative for large values): the same code on another CPU may
// round a reduction differently, a changed behaviour moves them by far more. Three runs amplify that
// rounding: measured between the AVX2 machine that recorded the file and an AVX-512 AMD EPYC (the
// same commit on both), BrainMass's out-of-fold scores moved by up to 4.7e-4, BrainGFM fine-tuned
// from a pre-training by 1.8e-5 and BrainNetTF by 6.2e-6. They are held to about four times that.
double toleranceOf(const std::string& path) {
  if (path.rfind(".evaluate.brainmass.", 0) == 0) return 2e-3;
  if (path.rfind(".evaluate.finetune-half-labels.", 0) == 0) return 1e-4;
  if (path.rfind(".evaluate.brainnettf.", 0) == 0) return 3e-5;
  return 1e-5;
}

void compare(const json& golden, const json& actual, const std::string& path, std::vector<std::string>& errors) {
  if (errors.size() >= 12) return;
  if (golden.is_number() && actual.is_number()) {
    const double g = golden.get<double>(), a = actual.get<double>();
    if (std::fabs(g - a) > toleranceOf(path) * std::max(1.0, std::fabs(g))) errors.push_back(path + ": golden " + golden.dump() + ", now " + actual.dump());
    return;
  }
  if (golden.type() != actual.type()) {
    errors.push_back(path + ": golden " + golden.dump().substr(0, 80) + ", now " + actual.dump().substr(0, 80));
    return;
  }
  if (golden.is_object()) {
    for (const auto& [k, v] : golden.items())
      if (!actual.contains(k))
        errors.push_back(path + "." + k + ": missing now");
      else
        compare(v, actual.at(k), path + "." + k, errors);
    for (const auto& [k, v] : actual.items())
      if (!golden.contains(k)) errors.push_back(path + "." + k + ": new (" + v.dump().substr(0, 60) + ")");
  } else if (golden.is_array()) {
    if (golden.size() != actual.size()) {
      errors.push_back(path + ": " + std::to_string(golden.size()) + " golden entries, " + std::to_string(actual.size()) + " now");
      return;
    }
    for (std::size_t i = 0; i < golden.size(); ++i) compare(golden[i], actual[i], path + "[" + std::to_string(i) + "]", errors);
  } else if (golden != actual) {
    errors.push_back(path + ": golden " + golden.dump() + ", now " + actual.dump());
  }
}

// PREFIX-predictions.csv as [fold, subject, label, margin, probability] rows.
json outOfFold(const fs::path& csv) {
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);  // label_fraction,fold,scan_id,subject,site,label,class,margin,probability
  json rows = json::array();
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream s(line);
    for (std::string c; std::getline(s, c, ',');) cells.push_back(c);
    if (cells.size() < 9) continue;
    rows.push_back({std::stoi(cells[1]), cells[3], std::stoi(cells[5]), cells[7].empty() ? json(nullptr) : json(std::stod(cells[7])), std::stod(cells[8])});
  }
  return rows;
}

}  // namespace

class TestGolden : public QObject {
  Q_OBJECT
  fs::path dir_, ws_, braingfm_, zoo_, public_, pretrained_;
  bgtest::SyntheticAbide abide_;
  json results_ = json::object();

  bgtest::CliResult mustRun(const QStringList& args) {
    const auto r = bgtest::runCliQuietly(args);
    if (r.exitCode != 0) qWarning("%s", qPrintable(args.join(' ') + "\n" + r.err + r.out));
    return r;
  }

  // One evaluate run: its metrics, trainable parameters and out-of-fold predictions.
  void evaluate(const std::string& name, QStringList args) {
    const auto prefix = dir_ / ("eval-" + name);
    args = QStringList{"evaluate", "-w", q(ws_), "--corpus", "golden", "--cv", "3", "--seed", "5", "--json", "--out", q(prefix)} + args;
    const auto r = mustRun(args);
    QVERIFY2(r.exitCode == 0, qPrintable(QString::fromStdString(name) + ": " + r.err));
    const auto o = json::parse(r.out.toStdString());
    results_["evaluate"][name] = {{"metrics", o.at("metrics")},
                                  {"trainable_parameters", o.value("trainable_parameters", json(nullptr))},
                                  {"adaptation", o.value("adaptation", json(nullptr))},
                                  {"out_of_fold", outOfFold(prefix.string() + "-predictions.csv")}};
  }

  // train → model file → predict on the first six scans: their probabilities.
  void trainAndPredict(const std::string& name, QStringList args) {
    const auto model = dir_ / ("model-" + name + (name.find("logreg") == 0 ? ".json" : ".pt"));
    auto r = mustRun(QStringList{"train", "-w", q(ws_), "--corpus", "golden", "--seed", "5", "--out", q(model)} + args);
    QVERIFY2(r.exitCode == 0, qPrintable(QString::fromStdString(name) + ": " + r.err));
    QStringList predict = {"predict", "--model", q(model), "--json", "--in"};
    for (std::size_t k = 0; k < 6; ++k) predict << q(abide_.files[k * 5]);
    r = mustRun(predict);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    json probabilities = json::array();
    std::stringstream lines(r.out.toStdString());
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) probabilities.push_back(json::parse(line).at("probability"));
    results_["train"][name] = probabilities;
  }

 private Q_SLOTS:
  void initTestCase() {
    dir_ = bgtest::scratchDir("golden");
    ws_ = dir_ / "ws";
    abide_ = bgtest::writeSyntheticAbide(dir_ / "abide");
    QVERIFY(mustRun({"workspace", "init", "-w", q(ws_)}).exitCode == 0);
    QVERIFY(mustRun({"import", "abide", "-w", q(ws_), "--pheno", q(abide_.phenotypes), "--timeseries", q(abide_.timeseries)}).exitCode == 0);
    QVERIFY(mustRun({"derive", "-w", q(ws_), "--no-bandpass"}).exitCode == 0);
    QVERIFY(mustRun({"corpus", "create", "-w", q(ws_), "--name", "golden", "--class", "control", "--class", "autism", "--folds", "3"}).exitCode == 0);
    braingfm_ = dir_ / "braingfm.json";
    std::ofstream(braingfm_) << R"({"model": {"hidden": 16, "heads": 2, "attention_layers": 1, "gnn_layers": 1, "ffn": 32},
                                  "ensemble": 1, "epochs": 2, "batch_size": 16, "learning_rate": 0.003})";
    zoo_ = dir_ / "zoo.json";
    std::ofstream(zoo_)
        << R"({"model": {"hidden": 16, "heads": 2, "layers": 1, "ffn": 32, "representation": 16}, "ensemble": 1, "epochs": 2, "batch_size": 16})";
    public_ = dir_ / "public.json";
    std::ofstream(public_) << R"({"model": {"feature_width": 256, "hidden": 16, "ffn": 32, "heads": 2, "attention_layers": 1, "blocks": 1, "max_nodes": 256,
                                            "text_dimension": 16}, "ensemble": 1, "epochs": 2, "batch_size": 16})";
    const auto pretrainConfig = dir_ / "pretrain.json";
    std::ofstream(pretrainConfig) << R"({"model": {"hidden": 16, "heads": 2, "attention_layers": 1, "gnn_layers": 1, "ffn": 32},
                                       "epochs": 1, "batch_size": 16, "learning_rate": 0.003})";
    pretrained_ = dir_ / "pre.pt";
    QVERIFY(mustRun({"pretrain", "-w", q(ws_), "--corpus", "golden", "--config", q(pretrainConfig), "--out", q(pretrained_)}).exitCode == 0);
  }

  void baselines() {
    evaluate("logreg", {"--method", "logreg"});
    evaluate("svm", {"--method", "svm"});
    evaluate("logreg-tangent", {"--method", "logreg-tangent"});
    evaluate("logreg-leave-site-out", {"--method", "logreg", "--leave-site-out"});
    // Beside the golden numbers, what the synthetic classes must give: the regression separates them.
    QVERIFY2(results_["evaluate"]["logreg"]["metrics"]["auc"]["mean"].get<double>() > 0.9, results_["evaluate"]["logreg"]["metrics"].dump().c_str());
    trainAndPredict("logreg", {"--method", "logreg"});
    for (std::size_t k = 0; k < 6; ++k)  // scans 0, 5, 10, ...: autism (the positive class) at even subject numbers
      QCOMPARE(results_["train"]["logreg"][k].get<double>() > 0.5, (k * 5) % 2 == 0);
    trainAndPredict("logreg-tangent", {"--method", "logreg-tangent"});
  }

  void braingfm() {
    evaluate("scratch", {"--method", "scratch", "--config", q(braingfm_)});
    evaluate("prompt", {"--method", "prompt", "--pretrained", q(pretrained_), "--config", q(braingfm_)});
    evaluate("finetune-half-labels", {"--method", "finetune", "--pretrained", q(pretrained_), "--config", q(braingfm_), "--label-fraction", "0.5"});
    trainAndPredict("scratch", {"--method", "scratch", "--config", q(braingfm_)});
  }

  void zoo() {
    for (const char* method : {"gcn", "brainmass", "lcm", "brainnettf"}) evaluate(method, {"--method", method, "--config", q(zoo_)});
    trainAndPredict("gcn", {"--method", "gcn", "--config", q(zoo_)});
  }

  void publicArchitecture() { evaluate("braingfm-public", {"--method", "braingfm-public", "--config", q(public_)}); }

  void matchesTheGoldenFile() {
    const fs::path golden = fs::path(BRAINGRAPH_TEST_SOURCE) / "golden" / "evaluate-train.json";
    if (const char* update = std::getenv("BRAINGRAPH_GOLDEN_UPDATE"); update && std::string(update) == "1") {
      std::ofstream(golden) << results_.dump(1) << '\n';
      QSKIP("golden file written: tests/golden/evaluate-train.json");
    }
    std::ifstream in(golden);
    QVERIFY2(in, qPrintable("missing " + q(golden)));
    std::vector<std::string> errors;
    compare(json::parse(in), results_, "", errors);
    std::string all;
    for (const auto& e : errors) all += "\n  " + e;
    QVERIFY2(errors.empty(), qPrintable(QString::fromStdString("results differ from the golden file:" + all)));
  }
};

QTEST_GUILESS_MAIN(TestGolden)
#include "test_golden.moc"
