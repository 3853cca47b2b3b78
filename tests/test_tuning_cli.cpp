// The CLI contract of issue 6: train, evaluate (--json, exports, stored results), meta-train,
// zero-shot, and predict's JSON lines, including a bad input among good ones. The workspace is a small
// synthetic ABIDE release shaped like the real one (a large NYU, UCLA_1, children under 10 at five
// sites, none at CMU), so every command runs with its real code in minutes; realAbideEndToEnd keeps
// one end-to-end check on the real ABIDE scans.
#include <QTest>
#include <QProcess>

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <unistd.h>
#include <iterator>
#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "TestSupport.h"
#include "support/SyntheticAbide.h"

namespace {
QJsonObject parseObject(const QString& text) { return QJsonDocument::fromJson(text.toUtf8()).object(); }
QString str(const std::filesystem::path& p) { return QString::fromStdString(p.string()); }

// PREFIX-predictions.csv: label_fraction,fold,scan_id,subject,site,label,class,margin,probability.
struct OutOfFold {
  int fold = 0, label = 0;
  qint64 scan = 0;
  QString margin;
  double probability = 0;
  QString site;
};
std::vector<OutOfFold> readPredictions(const QString& file) {
  std::ifstream in(file.toStdString());
  std::string line;
  std::getline(in, line);
  std::vector<OutOfFold> rows;
  while (std::getline(in, line)) {
    const auto c = QString::fromStdString(line).split(',');
    if (c.size() != 9) return {};
    rows.push_back({c[1].toInt(), c[5].toInt(), c[2].toLongLong(), c[7], c[8].toDouble(), c[4]});
  }
  return rows;
}
// AUC by counting pairs (ties count half): an independent check of the reported fold AUCs.
double pairAuc(const std::vector<OutOfFold>& rows, int fold) {
  double wins = 0, pairs = 0;
  for (const auto& a : rows)
    for (const auto& b : rows)
      if (a.fold == fold && b.fold == fold && a.label == 1 && b.label == 0) {
        wins += a.probability > b.probability ? 1.0 : a.probability == b.probability ? 0.5 : 0.0;
        pairs += 1;
      }
  return wins / pairs;
}

// NYU carries the single-site corpora (asd, eyes), UCLA_1 the sex corpus; the children under 10 (the
// kids corpus) come from five sites, two of them with fewer than 5 scans and one (UM_1) with exactly 5.
bgtest::SyntheticAbideSpec shapedLikeAbide() {
  bgtest::SyntheticAbideSpec spec;
  spec.shapedSites = {{"NYU", 48, 16}, {"UCLA_1", 24, 0}, {"KKI", 12, 8}, {"CMU", 8, 0}, {"SDSU", 6, 3}, {"OHSU", 6, 4}, {"UM_1", 8, 5}};
  spec.classEffect = 0.2;  // a signal a small model finds, not one every model scores perfectly
  spec.seed = 23;
  return spec;
}
constexpr int kNyuScans = 48;
constexpr int kKids = 16 + 8 + 3 + 4 + 5;
}  // namespace

class TestTuningCli : public QObject {
  Q_OBJECT
  std::filesystem::path dir_, ws_, series_, phenotypes_;
  QString tiny_, tinyPre_, pretrained_;  // tuning and pre-training configurations (each refuses the other's keys)

  bgtest::CliResult run(const QStringList& args) { return bgtest::runCliQuietly(args); }
  void mustRun(const QStringList& args) {
    const auto r = run(args);
    QVERIFY2(r.exitCode == 0, qPrintable(args.join(' ') + "\n" + r.err + r.out));
  }
  QString nyuFile(int k) const {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(series_))
      if (e.path().filename().string().rfind("NYU_", 0) == 0) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return str(files.at(static_cast<std::size_t>(k)));
  }

 private Q_SLOTS:
  void initTestCase() {
    dir_ = bgtest::scratchDir("tuning-cli");
    ws_ = dir_ / "ws";
    const auto abide = bgtest::writeSyntheticAbide(dir_ / "abide", shapedLikeAbide());
    series_ = abide.timeseries;
    phenotypes_ = abide.phenotypes;
    const QString w = str(ws_);
    mustRun({"workspace", "init", "-w", w});
    mustRun({"import", "abide", "-w", w, "--pheno", str(abide.phenotypes), "--timeseries", str(series_)});
    mustRun({"derive", "-w", w, "--no-bandpass"});
    mustRun({"corpus", "create", "-w", w, "--name", "asd", "--class", "control", "--class", "autism", "--where", "site=NYU", "--folds", "3"});
    mustRun({"corpus", "create", "-w", w, "--name", "sex", "--label", "sex", "--class", "male", "--class", "female", "--where", "site=UCLA_1", "--folds", "3"});
    mustRun({"corpus", "create", "-w", w, "--name", "eyes", "--label", "EYE_STATUS_AT_SCAN", "--class", "1", "--class", "2", "--where", "site=NYU", "--folds",
             "3"});
    tiny_ = str(dir_ / "tiny.json");
    std::ofstream(tiny_.toStdString()) << R"({"model": {"hidden": 16, "heads": 2, "attention_layers": 1, "gnn_layers": 1, "ffn": 32},
                                            "ensemble": 1, "epochs": 2, "batch_size": 32, "learning_rate": 0.003})";
    tinyPre_ = str(dir_ / "tiny-pre.json");
    std::ofstream(tinyPre_.toStdString()) << R"({"model": {"hidden": 16, "heads": 2, "attention_layers": 1, "gnn_layers": 1, "ffn": 32},
                                               "epochs": 2, "batch_size": 32, "learning_rate": 0.003})";
    pretrained_ = str(dir_ / "pre.pt");
    mustRun({"pretrain", "-w", w, "--corpus", "asd", "--config", tinyPre_, "--epochs", "1", "--out", pretrained_});
  }

  void logregModelFitsItsTrainingData() {
    const QString model = str(dir_ / "logreg.json");
    mustRun({"train", "-w", str(ws_), "--corpus", "asd", "--method", "logreg", "--out", model});
    QStringList args = {"predict", "--model", model, "--json", "--in"};
    for (int k = 0; k < 30; ++k) args << nyuFile(k);
    const auto r = run(args);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto lines = r.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 30);
    for (const auto& line : lines) {
      const auto o = parseObject(line);
      for (const char* key : {"file", "label", "probability", "top_rois"}) QVERIFY2(o.contains(key), key);
      const double p = o["probability"].toDouble();
      QVERIFY(p > 0 && p < 1);
      QCOMPARE(o["label"].toString(), p >= 0.5 ? QString("autism") : QString("control"));
      QCOMPARE(o["top_rois"].toArray().size(), 10);
    }
    // The same scan twice: the same answer.
    const auto again = run({"predict", "--model", model, "--json", "--in", nyuFile(0)});
    QCOMPARE(parseObject(again.out)["probability"].toDouble(), parseObject(lines[0])["probability"].toDouble());
  }

  // The one end-to-end check on real scans: ABIDE's NYU site (its 175 time-series files; the rest of
  // the phenotype table has no file) through import, derive, evaluate, train, predict and diagnose with
  // the Fisher-z regression. Its features carry NYU's autism signal (0.77 cross-validated AUC measured;
  // features that lost the subject score near 0.5), and the model file, refitted on every scan, scores
  // the scans it learned from well above chance.
  void realAbideEndToEnd() {
    const auto series = bgtest::dataRoot() / "data/abide1-cc200/rois_cc200";
    const auto phenotypes = bgtest::dataRoot() / "data/abide1-cc200/Phenotypic_V1_0b_preprocessed1.csv";
    if (!std::filesystem::exists(series) || !std::filesystem::exists(phenotypes)) QSKIP("ABIDE time series not in the data path");
    std::vector<std::filesystem::path> nyu;
    for (const auto& entry : std::filesystem::directory_iterator(series))
      if (entry.path().filename().string().rfind("NYU_", 0) == 0) nyu.push_back(entry.path());
    std::sort(nyu.begin(), nyu.end());
    const auto nyuDir = dir_ / "real-nyu";
    std::filesystem::create_directories(nyuDir);
    for (const auto& f : nyu) std::filesystem::create_symlink(f, nyuDir / f.filename());
    const QString w = str(dir_ / "real-ws");
    mustRun({"workspace", "init", "-w", w});
    const auto imported = run({"import", "abide", "-w", w, "--pheno", str(phenotypes), "--timeseries", str(nyuDir)});
    QVERIFY2(imported.exitCode == 0 && imported.out.contains("imported 175 scan(s)"), qPrintable(imported.out + imported.err));
    mustRun({"derive", "-w", w, "--no-bandpass"});
    mustRun({"corpus", "create", "-w", w, "--name", "nyu", "--class", "control", "--class", "autism", "--folds", "3"});
    const QString prefix = str(dir_ / "real-logreg");
    const auto e = run({"evaluate", "-w", w, "--corpus", "nyu", "--method", "logreg", "--cv", "3", "--json", "--out", prefix});
    QVERIFY2(e.exitCode == 0, qPrintable(e.err));
    const auto auc = parseObject(e.out)["metrics"].toObject()["auc"].toObject();
    const auto rows = readPredictions(prefix + "-predictions.csv");
    QCOMPARE(static_cast<int>(rows.size()), 175);
    for (int f = 1; f <= 3; ++f) QVERIFY(std::abs(pairAuc(rows, f) - auc["folds"].toArray()[f - 1].toDouble()) < 1e-9);
    QVERIFY2(auc["mean"].toDouble() > 0.68, qPrintable(QString::number(auc["mean"].toDouble())));

    const QString model = str(dir_ / "real-logreg.json");
    mustRun({"train", "-w", w, "--corpus", "nyu", "--method", "logreg", "--out", model});
    std::map<QString, int> diagnosis;  // NYU's phenotypes: DX_GROUP 1 autism, 2 control
    {
      std::ifstream pheno(phenotypes);
      std::string line;
      std::getline(pheno, line);
      const auto header = QString::fromStdString(line).split(',');
      const auto idColumn = header.indexOf("FILE_ID"), dxColumn = header.indexOf("DX_GROUP");
      while (std::getline(pheno, line)) {
        const auto c = QString::fromStdString(line).split(',');
        if (c.size() > std::max(idColumn, dxColumn)) diagnosis[c[idColumn]] = c[dxColumn].toInt() == 1 ? 1 : 0;
      }
    }
    QStringList args = {"predict", "--model", model, "--json", "--in"};
    for (std::size_t k = 0; k < 58; ++k) args << str(nyu.at(3 * k));  // across the site: its files are sorted autism first
    const auto r = run(args);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    std::vector<OutOfFold> scored;
    for (const auto& line : r.out.trimmed().split('\n')) {
      const auto o = parseObject(line);
      QCOMPARE(o["top_rois"].toArray().size(), 10);
      const auto file = QFileInfo(o["file"].toString()).fileName();
      const auto id = file.left(file.indexOf(QStringLiteral("_rois_cc200")));
      QVERIFY2(diagnosis.count(id), qPrintable(id));
      scored.push_back({1, diagnosis[id], 0, QString(), o["probability"].toDouble(), QString()});
    }
    QCOMPARE(static_cast<int>(scored.size()), 58);
    QVERIFY2(pairAuc(scored, 1) > 0.8, qPrintable(QString::number(pairAuc(scored, 1))));
    // The diagnosis record's methods name the model and the connectivity.
    const auto record = run({"diagnose", "--model", model, "--in", str(nyu.front()), "--tr", "2", "--json"});
    QVERIFY2(record.exitCode == 0, qPrintable(record.err));
    const auto methods = parseObject(record.out)["methods"].toObject();
    QVERIFY2(methods["model"].toObject()["description"].toString().contains(QStringLiteral("logistic regression")), qPrintable(record.out.left(2000)));
    QVERIFY(methods["connectivity"].toString().contains(QStringLiteral("Pearson correlation")));
  }

  void evaluateJsonExportsAndStoredResults() {
    const QString prefix = str(dir_ / "eval-logreg");
    const auto r = run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "logreg", "--cv", "3", "--json", "--out", prefix});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto o = parseObject(r.out);
    QCOMPARE(o["split"].toObject()["folds"].toInt(), 3);
    const auto auc = o["metrics"].toObject()["auc"].toObject();
    QCOMPARE(auc["folds"].toArray().size(), 3);
    QVERIFY(auc["mean"].toDouble() > 0.3 && auc["mean"].toDouble() < 1.0);
    const auto calibration = o["calibration"].toObject();
    QVERIFY(calibration["temperature"].toObject()["mean"].toDouble() > 0.05);
    QVERIFY(calibration.contains("ece") && calibration.contains("ece_uncalibrated"));
    for (const char* ext : {".json", ".csv", ".md"}) QVERIFY(std::filesystem::exists(prefix.toStdString() + ext));
    // --format md prints the table PREFIX.md holds, for this run's own stored evaluation.
    const auto printed = run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "logreg", "--cv", "3", "--format", "md"});
    QVERIFY2(printed.exitCode == 0 && printed.out.startsWith("| ") && printed.out.contains("AUC") && printed.out.contains("\n| logreg"),
             qPrintable(printed.out));
    std::ifstream md(prefix.toStdString() + ".md");
    std::string header;
    std::getline(md, header);
    QVERIFY(header.find("AUC") != std::string::npos);
    const auto csv = run({"results", "-w", str(ws_), "--format", "csv"});
    QVERIFY(csv.out.contains("logreg,") && csv.out.startsWith("id,corpus,method"));
    // Out-of-fold predictions: every scan once, and the fold AUCs recomputed from them.
    const auto rows = readPredictions(prefix + "-predictions.csv");
    QCOMPARE(static_cast<int>(rows.size()), o["items"].toInt());
    std::set<qint64> scans;
    for (const auto& row : rows) scans.insert(row.scan);
    QCOMPARE(scans.size(), rows.size());
    for (int f = 1; f <= 3; ++f) QVERIFY(std::abs(pairAuc(rows, f) - auc["folds"].toArray()[f - 1].toDouble()) < 1e-9);
    QVERIFY(!rows.front().margin.isEmpty());
  }

  // --c with several values: each fold chooses its own C by cross-validation inside its training part.
  // Every fold's test predictions must then be exactly those of the same fold evaluated with its
  // chosen C fixed, and each choice the best inner AUC of the grid.
  void logregChoosesCInsideEachFold() {
    const QString nestedPrefix = str(dir_ / "eval-nested-c");
    const auto r =
        run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "logreg", "--cv", "3", "--c", "0.1,0.0001", "--json", "--out", nestedPrefix});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto o = parseObject(r.out);
    const auto selection = o["c_selection"].toObject();
    QCOMPARE(selection["grid"].toArray().size(), 2);
    QCOMPARE(selection["grid"].toArray()[0].toDouble(), 0.0001);  // ascending
    QCOMPARE(selection["inner_folds"].toInt(), 5);
    const auto choices = selection["folds"].toArray();
    QCOMPARE(choices.size(), 3);
    std::map<int, double> chosen;
    for (const auto& v : choices) {
      const auto c = v.toObject();
      const auto inner = c["inner_auc"].toArray();
      QCOMPARE(inner.size(), 2);
      const double best = inner[1].toDouble() > inner[0].toDouble() ? 0.1 : 0.0001;  // a tie keeps the smaller C
      QCOMPARE(c["c"].toDouble(), best);
      chosen[c["fold"].toInt()] = c["c"].toDouble();
    }
    const auto nested = readPredictions(nestedPrefix + "-predictions.csv");
    std::map<double, std::vector<OutOfFold>> fixed;
    for (const char* c : {"0.1", "0.0001"}) {
      const QString prefix = str(dir_ / (std::string("eval-fixed-c-") + c));
      mustRun({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "logreg", "--cv", "3", "--c", c, "--out", prefix});
      fixed[std::stod(c)] = readPredictions(prefix + "-predictions.csv");
    }
    QCOMPARE(nested.size(), fixed[0.1].size());
    for (std::size_t i = 0; i < nested.size(); ++i) {
      const auto& same = fixed[chosen[nested[i].fold]][i];
      QCOMPARE(same.scan, nested[i].scan);
      QVERIFY(std::fabs(same.probability - nested[i].probability) < 1e-9);
    }
    // The two fixed values give different predictions, so the comparison above can tell them apart.
    int differ = 0;
    for (std::size_t i = 0; i < nested.size(); ++i) differ += std::fabs(fixed[0.1][i].probability - fixed[0.0001][i].probability) > 1e-6;
    QVERIFY(differ > 0);
    const auto table = run({"results", "-w", str(ws_), "--compare", "asd", "--split", "kfold/3-folds/seed-0"}).out;
    QVERIFY2(table.contains("logreg, C chosen in folds"), qPrintable(table));
    // train: the card records its grid and uses the C its inner folds preferred.
    const QString model = str(dir_ / "logreg-nested-c.json");
    mustRun({"train", "-w", str(ws_), "--corpus", "asd", "--method", "logreg", "--c", "0.0001,0.1", "--out", model});
    std::ifstream in(model.toStdString());
    const auto card = nlohmann::json::parse(in);
    const auto& inner = card.at("c_selection").at("inner_auc");
    QCOMPARE(card.at("c").get<double>(), inner[1].get<double>() > inner[0].get<double>() ? 0.1 : 0.0001);
    QVERIFY(run({"predict", "--model", model, "--json", "--in", nyuFile(0)}).exitCode == 0);
    // The report's methods say how C was chosen.
    const auto d = run({"diagnose", "--model", model, "--in", nyuFile(0), "--tr", "2", "--json"});
    QVERIFY2(d.exitCode == 0, qPrintable(d.err));
    const auto description = nlohmann::json::parse(d.out.toStdString())["methods"]["model"]["description"].get<std::string>();
    QVERIFY2(description.find("chosen from {0.0001, 0.1} by 5-fold cross-validation on the training scans") != std::string::npos, description.c_str());
    // The printed summary says which C the folds chose.
    const auto printed = run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "logreg", "--cv", "3", "--c", "0.1,0.0001"});
    QVERIFY2(printed.exitCode == 0, qPrintable(printed.err));
    int said = 0;
    for (const auto& [fold, c] : chosen) said += c == 0.1 ? 0 : 1;
    QVERIFY2(printed.out.contains("C chosen") && printed.out.contains(said == 3   ? QString("0.0001 in 3 folds")
                                                                      : said == 0 ? QString("0.1 in 3 folds")
                                                                                  : QString("0.0001 in %1 fold").arg(said)),
             qPrintable(printed.out));
    // Not numbers, or not positive: refused before anything runs.
    for (const char* bad : {"0.01,abc", "0", "0.01,-1"})
      QCOMPARE(run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "logreg", "--cv", "3", "--c", bad}).exitCode, 64);
    // The graph models take no C: refused rather than silently ignored.
    const auto graph = run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", tiny_, "--cv", "3", "--c", "0.1"});
    QCOMPARE(graph.exitCode, 64);
    QVERIFY2(graph.err.contains("weight_decay"), qPrintable(graph.err));
  }

  // The tangent-space baseline: each fold's reference from its training part, standardised features,
  // the same metrics and calibration as the Fisher-z baseline; a sibling with the SVM.
  void tangentSpaceBaselines() {
    for (const char* method : {"logreg-tangent", "svm-tangent"}) {
      const QString prefix = str(dir_ / (std::string("eval-") + method));
      const auto r = run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", method, "--cv", "3", "--json", "--out", prefix});
      QVERIFY2(r.exitCode == 0, qPrintable(r.err));
      const auto o = parseObject(r.out);
      QCOMPARE(o["method"].toString(), QString(method));
      QCOMPARE(o["features"].toString(), QString("tangent_space_fc_standardized"));
      QCOMPARE(o["trainable_parameters"].toInt(), 200 * 201 / 2 + 1);  // the upper triangle with the diagonal, and a bias
      const auto auc = o["metrics"].toObject()["auc"].toObject();
      QCOMPARE(auc["folds"].toArray().size(), 3);
      // The fold AUCs are those of the out-of-fold predictions, counted here pair by pair, and the
      // features carry the corpus's class effect (features that lost the subject, such as a reference from the
      // wrong part, score near 0.5; realAbideEndToEnd checks the Fisher-z features on real scans).
      const auto rows = readPredictions(prefix + "-predictions.csv");
      QCOMPARE(static_cast<int>(rows.size()), kNyuScans);
      for (int f = 1; f <= 3; ++f) QVERIFY(std::abs(pairAuc(rows, f) - auc["folds"].toArray()[f - 1].toDouble()) < 1e-9);
      QVERIFY2(auc["mean"].toDouble() > 0.68, qPrintable(QString::number(auc["mean"].toDouble())));
    }
    // As a model file: predict computes each scan's tangent-space features from its time series around
    // the reference the file carries, so the scans it was fitted on score as they did in training
    // (features that did not match would score near 0.5).
    const QString model = str(dir_ / "logreg-tangent.json");
    mustRun({"train", "-w", str(ws_), "--corpus", "asd", "--method", "logreg-tangent", "--out", model});
    const auto card = parseObject(run({"model", model}).out);
    QCOMPARE(card["method"].toString(), QString("logreg-tangent"));
    QCOMPARE(card["features"].toString(), QString("tangent_space_fc_standardized"));
    QVERIFY2(card["tangent_reference"].toString().startsWith(QStringLiteral("200 x 200")), qPrintable(card["tangent_reference"].toString()));
    std::map<QString, int> autism;  // the synthetic release's phenotypes: DX_GROUP 1 autism, 2 control
    {
      std::ifstream pheno(phenotypes_);
      std::string line;
      std::getline(pheno, line);
      while (std::getline(pheno, line)) {
        const auto c = QString::fromStdString(line).split(',');
        autism[c[2]] = c[3].toInt() == 1 ? 1 : 0;
      }
    }
    QStringList args = {"predict", "--model", model, "--json", "--in"};
    for (int k = 0; k < kNyuScans; ++k) args << nyuFile(k);
    const auto r = run(args);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    std::vector<OutOfFold> scored;
    for (const auto& line : r.out.trimmed().split('\n')) {
      const auto o = parseObject(line);
      const auto file = QFileInfo(o["file"].toString()).fileName();
      const auto id = file.left(file.indexOf(QStringLiteral("_rois_cc200")));
      QVERIFY2(autism.count(id), qPrintable(id));
      scored.push_back({1, autism[id], 0, QString(), o["probability"].toDouble(), QString()});
    }
    QCOMPARE(static_cast<int>(scored.size()), kNyuScans);
    QVERIFY2(pairAuc(scored, 1) > 0.8, qPrintable(QString::number(pairAuc(scored, 1))));
    const auto record = run({"diagnose", "--model", model, "--in", nyuFile(0), "--tr", "2", "--json"});
    QVERIFY2(record.exitCode == 0, qPrintable(record.err));
    const auto methods = parseObject(record.out)["methods"].toObject();
    QVERIFY2(methods["model"].toObject()["description"].toString().contains(QStringLiteral("tangent-space embedding")), qPrintable(record.out.left(2000)));
    QVERIFY(methods["connectivity"].toString().contains(QStringLiteral("tangent space")));
    // The other tangent-space baseline stays evaluate-only.
    QCOMPARE(run({"train", "-w", str(ws_), "--corpus", "asd", "--method", "svm-tangent", "--out", str(dir_ / "never.json")}).exitCode, 64);
  }

  void promptTuningEvaluatesWithCalibration() {
    const auto r = run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "prompt", "--pretrained", pretrained_, "--config", tiny_, "--cv", "2",
                        "--label-fraction", "0.5", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto o = parseObject(r.out);
    QCOMPARE(o["method"].toString(), QString("prompt"));
    QCOMPARE(o["label_fraction"].toDouble(), 0.5);
    QVERIFY(o["trainable_parameters"].toInteger() > 200 * 200);  // the edge prompt alone is 200 x 200
    QVERIFY(o["calibration"].toObject().contains("ece"));
    QCOMPARE(o["metrics"].toObject()["auc"].toObject()["folds"].toArray().size(), 2);
    // The baseline in the same label regimes learns from as many labelled scans per fold as the graph
    // model (the same stratified share of the train part; test_baselines checks which scans), and
    // with every label from the whole training part; no labels is refused.
    const QString regimesPrefix = str(dir_ / "logreg-regimes");
    const auto lr =
        run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "logreg", "--cv", "2", "--regimes", "1,0.5", "--json", "--out", regimesPrefix});
    QVERIFY2(lr.exitCode == 0, qPrintable(lr.err));
    const auto regimes = QJsonDocument::fromJson(lr.out.toUtf8()).array();
    QCOMPARE(regimes.size(), 2);
    QCOMPARE(regimes[1].toObject()["label_fraction"].toDouble(), 0.5);
    for (int f = 0; f < 2; ++f) {
      const int half = regimes[1].toObject()["folds_detail"].toArray()[f].toObject()["train_labels"].toInt();
      QCOMPARE(half, o["folds_detail"].toArray()[f].toObject()["train_labels"].toInt());
      QVERIFY(regimes[0].toObject()["folds_detail"].toArray()[f].toObject()["train_labels"].toInt() >= 2 * half);
    }
    QVERIFY(regimes[0].toObject()["metrics"].toObject()["auc"].toObject()["mean"].toDouble() !=
            regimes[1].toObject()["metrics"].toObject()["auc"].toObject()["mean"].toDouble());
    QCOMPARE(run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "logreg", "--cv", "2", "--label-fraction", "0"}).exitCode, 64);
    // The regime's comparison: both models on the same scans, the baseline's pooled AUC that of its
    // half-label predictions (pair-counted here), and the regime named in the Markdown.
    const auto cmp = run({"results", "-w", str(ws_), "--compare", "asd", "--split", "kfold/2-folds/seed-0", "--label-fraction", "0.5", "--paired",
                          "--reference", "logreg", "--format", "json"});
    QVERIFY2(cmp.exitCode == 0, qPrintable(cmp.err));
    const auto pairedRows = QJsonDocument::fromJson(cmp.out.toUtf8()).array();
    QCOMPARE(pairedRows.size(), 1);
    QVERIFY(pairedRows[0].toObject()["model"].toString().startsWith(QStringLiteral("prompt")));
    QCOMPARE(pairedRows[0].toObject()["scans"].toInt(), o["items"].toInt());
    {
      std::vector<OutOfFold> half;
      std::ifstream in((regimesPrefix + "-predictions.csv").toStdString());
      std::string line;
      std::getline(in, line);
      while (std::getline(in, line)) {
        const auto c = QString::fromStdString(line).split(',');
        if (c[0].toDouble() == 0.5) half.push_back({0, c[5].toInt(), c[2].toLongLong(), c[7], c[8].toDouble(), c[4]});  // one pool: fold 0
      }
      QCOMPARE(static_cast<int>(half.size()), o["items"].toInt());
      QVERIFY(std::abs(pairAuc(half, 0) - pairedRows[0].toObject()["reference_pooled_auc"].toDouble()) < 1e-9);
    }
    const auto table = run({"results", "-w", str(ws_), "--compare", "asd", "--split", "kfold/2-folds/seed-0", "--label-fraction", "0.5"});
    QVERIFY2(table.out.startsWith(QStringLiteral("Label regime: 50% of the training labels.")), qPrintable(table.out));
    QCOMPARE(run({"results", "-w", str(ws_), "--label-fraction", "0.5"}).exitCode, 64);  // needs --compare
    // Every regime's AUC per model (the paper's figure 2): logreg at 50% and 100%, prompt tuning at 50%.
    const auto curves = run({"results", "-w", str(ws_), "--compare", "asd", "--split", "kfold/2-folds/seed-0", "--regimes", "--format", "json"});
    QVERIFY2(curves.exitCode == 0, qPrintable(curves.err));
    std::map<std::pair<QString, double>, double> auc;
    for (const auto& v : QJsonDocument::fromJson(curves.out.toUtf8()).array())
      auc[{v.toObject()["model"].toString(), v.toObject()["label_fraction"].toDouble()}] = v.toObject()["auc"].toDouble();
    QCOMPARE(auc.at({QStringLiteral("logreg"), 0.5}), regimes[1].toObject()["metrics"].toObject()["auc"].toObject()["mean"].toDouble());
    QCOMPARE(auc.at({QStringLiteral("logreg"), 1.0}), regimes[0].toObject()["metrics"].toObject()["auc"].toObject()["mean"].toDouble());
    QVERIFY(std::any_of(auc.begin(), auc.end(), [&](const auto& kv) {
      return kv.first.first.startsWith(QStringLiteral("prompt")) && kv.first.second == 0.5 &&
             kv.second == o["metrics"].toObject()["auc"].toObject()["mean"].toDouble();
    }));
    const auto curvesMd = run({"results", "-w", str(ws_), "--compare", "asd", "--split", "kfold/2-folds/seed-0", "--regimes"});
    QVERIFY2(curvesMd.out.contains(QStringLiteral("| model | 50% | 100% |")), qPrintable(curvesMd.out));
    QCOMPARE(run({"results", "-w", str(ws_), "--compare", "asd", "--regimes", "--paired"}).exitCode, 64);
    // Every other method runs on the same data; the linear probe trains the head alone: 2 x (2 x 16) + 2.
    for (const char* method : {"finetune", "linear", "lora", "prefix"}) {
      const auto m = run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", method, "--pretrained", pretrained_, "--config", tiny_, "--cv", "2",
                          "--epochs", "1", "--json"});
      QVERIFY2(m.exitCode == 0, qPrintable(QString(method) + ": " + m.err));
      const auto mo = parseObject(m.out);
      QCOMPARE(mo["method"].toString(), QString(method));
      if (QString(method) == QStringLiteral("linear")) QCOMPARE(mo["trainable_parameters"].toInteger(), 66);
      QVERIFY(mo["trainable_parameters"].toInteger() < mo["total_parameters"].toInteger() || QString(method) == QStringLiteral("finetune"));
    }
    // A tuning method without an encoder to adapt is a usage error (64).
    QCOMPARE(run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "lora", "--cv", "2"}).exitCode, 64);
  }

  void trainedModelPredictsAndRejectsBadInput() {
    const QString model = str(dir_ / "prompt.pt");
    mustRun({"train", "-w", str(ws_), "--corpus", "asd", "--method", "prompt", "--pretrained", pretrained_, "--config", tiny_, "--out", model});
    const auto card = parseObject(run({"model", model}).out);
    QCOMPARE(card["atlas"].toString(), QString("cc200"));
    QCOMPARE(card["classes"].toArray().size(), 2);
    QVERIFY(card.contains("temperature") && card.contains("preprocessing"));
    // A file with the wrong number of ROIs between two good ones.
    const auto bad = dir_ / "wrong.1D";
    {
      std::ofstream out(bad);
      for (int t = 0; t < 50; ++t) {
        for (int r = 0; r < 10; ++r) out << (r ? "\t" : "") << (t * 7 + r * 3) % 11;
        out << "\n";
      }
    }
    const auto r = run({"predict", "--model", model, "--json", "--record", "-w", str(ws_), "--in", nyuFile(0), str(bad), nyuFile(1)});
    QCOMPARE(r.exitCode, 65);
    const auto lines = r.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 3);
    QVERIFY(parseObject(lines[0]).contains("probability"));
    QVERIFY(parseObject(lines[1])["error"].toString().contains("wrong.1D"));
    QVERIFY(parseObject(lines[1])["error"].toString().contains("200 ROIs"));
    QVERIFY(parseObject(lines[2]).contains("top_rois"));
    // The same batch as CSV: one header, a row per input, the bad one naming its problem in the error column.
    const auto csv = run({"predict", "--model", model, "--format", "csv", "--in", nyuFile(0), str(bad), nyuFile(1)});
    QCOMPARE(csv.exitCode, 65);
    const auto rows = csv.out.trimmed().split('\n');
    QCOMPARE(rows.size(), 4);
    QCOMPARE(rows[0], QStringLiteral("file,label,probability,interval_low,interval_high,top_roi,error"));
    QVERIFY2(std::abs(rows[1].split(',')[2].toDouble() - parseObject(lines[0])["probability"].toDouble()) < 1e-6, qPrintable(rows[1]));
    QVERIFY2(rows[2].startsWith(str(bad) + ",,,,,,") && rows[2].contains("200 ROIs"), qPrintable(rows[2]));
    const auto info = parseObject(run({"workspace", "info", "-w", str(ws_), "--json"}).out);
    QCOMPARE(info["predictions"].toInt(), 2);
    // The same counts as a Markdown table.
    const auto md = run({"workspace", "info", "-w", str(ws_), "--format", "md"}).out;
    QVERIFY2(md.startsWith("| key | value |") && md.contains(QString("| predictions | %1 |").arg(info["predictions"].toInt())) &&
                 md.contains(QString("| scans | %1 |").arg(info["scans"].toInt())),
             qPrintable(md));
  }

  // A configuration file switches BrainGFM to the per-ROI readout: the card records it, and
  // predictions with explanations run through it.
  void roiReadoutFromAConfigFile() {
    const QString config = str(dir_ / "tiny-roi.json"), model = str(dir_ / "scratch-roi.pt");
    std::ofstream(config.toStdString()) << R"({"model": {"hidden": 16, "heads": 2, "attention_layers": 1, "gnn_layers": 1, "ffn": 32},
                                             "adaptation": {"readout": "roi"}, "ensemble": 1, "epochs": 1, "batch_size": 32})";
    mustRun({"train", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", config, "--out", model});
    const auto card = parseObject(run({"model", model}).out);
    QCOMPARE(card["adaptation"].toObject()["readout"].toString(), QString("roi"));
    const auto r = run({"predict", "--model", model, "--json", "--explain", "--in", nyuFile(0)});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto row = parseObject(r.out.trimmed());
    const double p = row["probability"].toDouble(-1);
    QVERIFY(p > 0 && p < 1);
    QCOMPARE(row["top_rois"].toArray().size(), 10);
  }

  // "calibration": "platt" fits a bias beside the temperature: the card keeps both, evaluate reports
  // them, and predict applies them — the same seed trains the same weights under either calibration,
  // so both files' probabilities must map back to one logit margin.
  void plattScalingFromAConfigFile() {
    const QString temperatureConfig = str(dir_ / "tiny-t.json"), plattConfig = str(dir_ / "tiny-platt.json");
    const std::string body =
        R"("model": {"hidden": 16, "heads": 2, "attention_layers": 1, "gnn_layers": 1, "ffn": 32}, "ensemble": 1, "epochs": 2, "batch_size": 32)";
    std::ofstream(temperatureConfig.toStdString()) << "{" << body << "}";
    std::ofstream(plattConfig.toStdString()) << "{" << body << R"(, "calibration": "platt"})";
    const QString a = str(dir_ / "scratch-t.pt"), b = str(dir_ / "scratch-platt.pt");
    mustRun({"train", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", temperatureConfig, "--out", a});
    mustRun({"train", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", plattConfig, "--out", b});
    const auto cardA = parseObject(run({"model", a}).out), cardB = parseObject(run({"model", b}).out);
    QCOMPARE(cardA["calibration"].toString(), QString("temperature"));
    QCOMPARE(cardA["calibration_bias"].toDouble(), 0.0);
    QCOMPARE(cardB["calibration"].toString(), QString("platt"));
    QVERIFY(cardB["calibration_bias"].toDouble() != 0.0);
    auto sameMargins = [&](const QString& temperatureModel, const QString& plattModel) {
      const auto ca = parseObject(run({"model", temperatureModel}).out), cb = parseObject(run({"model", plattModel}).out);
      const double tA = ca["temperature"].toDouble(), tB = cb["temperature"].toDouble(), biasB = cb["calibration_bias"].toDouble();
      // One predict per model over the three scans (a row each, in order): each process loads the model library once.
      const auto linesA = run({"predict", "--model", temperatureModel, "--json", "--in", nyuFile(0), nyuFile(1), nyuFile(2)}).out.trimmed().split('\n');
      const auto linesB = run({"predict", "--model", plattModel, "--json", "--in", nyuFile(0), nyuFile(1), nyuFile(2)}).out.trimmed().split('\n');
      if (linesA.size() != 3 || linesB.size() != 3) return QString("predict gave %1 and %2 rows for 3 scans").arg(linesA.size()).arg(linesB.size());
      for (int k = 0; k < 3; ++k) {
        const auto rowA = parseObject(linesA[k]), rowB = parseObject(linesB[k]);
        if (rowA["file"].toString() != nyuFile(k) || rowB["file"].toString() != nyuFile(k)) return QString("rows out of order: %1").arg(linesA[k]);
        const double pA = rowA["probability"].toDouble(), pB = rowB["probability"].toDouble();
        const double marginA = std::log(pA / (1 - pA)) * tA, marginB = (std::log(pB / (1 - pB)) - biasB) * tB;
        if (std::abs(marginA - marginB) > 1e-6 * std::max(1.0, std::abs(marginA)))
          return QString("%1: margin %2 vs %3").arg(nyuFile(k)).arg(marginA).arg(marginB);
      }
      return QString();
    };
    QString problem = sameMargins(a, b);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    // --calibration overrides the configuration (the GUI's Calibration field passes it); the
    // logistic-regression baseline takes it too, the SVM (Platt-scaled on its training data) refuses it.
    const auto e = parseObject(run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", temperatureConfig, "--calibration",
                                    "platt", "--cv", "2", "--json", "--out", str(dir_ / "eval-platt")})
                                   .out);
    const QString la = str(dir_ / "logreg-t.json"), lb = str(dir_ / "logreg-platt.json");
    mustRun({"train", "-w", str(ws_), "--corpus", "asd", "--method", "logreg", "--out", la});
    mustRun({"train", "-w", str(ws_), "--corpus", "asd", "--method", "logreg", "--calibration", "platt", "--out", lb});
    QCOMPARE(parseObject(run({"model", lb}).out)["calibration"].toString(), QString("platt"));
    problem = sameMargins(la, lb);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    const auto le =
        parseObject(run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "logreg", "--calibration", "platt", "--cv", "3", "--json"}).out);
    QCOMPARE(le["calibration"].toObject()["method"].toString(), QString("platt"));
    QCOMPARE(run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "svm", "--calibration", "platt", "--cv", "3"}).exitCode, 64);
    const auto calibration = e["calibration"].toObject();
    QCOMPARE(calibration["method"].toString(), QString("platt"));
    // Each out-of-fold probability is its margin through that fold's temperature and bias.
    const auto rows = readPredictions(str(dir_ / "eval-platt-predictions.csv"));
    QCOMPARE(static_cast<int>(rows.size()), e["items"].toInt());
    const auto folds = e["folds_detail"].toArray();
    for (const auto& row : rows) {
      const auto fold = folds[row.fold - 1].toObject();
      const double expected = 1.0 / (1.0 + std::exp(-(row.margin.toDouble() / fold["temperature"].toDouble() + fold["calibration_bias"].toDouble())));
      QVERIFY2(std::abs(expected - row.probability) < 1e-9, qPrintable(QString("%1 %2").arg(expected).arg(row.probability)));
    }
    QVERIFY(calibration["bias"].toObject().contains("mean"));
    // An unknown calibration is a configuration error naming the choices.
    const QString bad = str(dir_ / "tiny-bad.json");
    std::ofstream(bad.toStdString()) << R"({"calibration": "isotonic"})";
    const auto r = run({"train", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", bad, "--out", str(dir_ / "never.pt")});
    QVERIFY(r.exitCode != 0 && r.err.contains("temperature, platt or auto"));
    QVERIFY(!std::filesystem::exists(dir_ / "never.pt"));
  }

  void tangentInputFromTheCommandLine() {
    const QString model = str(dir_ / "tangent-z.pt");
    mustRun({"train", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", tiny_, "--input", "tangent-z", "--out", model});
    const auto card = parseObject(run({"model", model}).out);
    const auto input = card["input_transform"].toObject();
    QCOMPARE(input["kind"].toString(), QString("tangent"));
    QCOMPARE(input["standardise_edges"].toBool(), true);
    QCOMPARE(input["nodes"].toInt(), 200);
    QVERIFY(!input.contains("reference"));  // the card shown leaves the fitted matrices out
    QCOMPARE(card["tuning"].toObject()["input"].toObject()["kind"].toString(), QString("tangent"));
    // Prediction recomputes the tangent-space matrix from the file's own time series.
    const auto row = parseObject(run({"predict", "--model", model, "--json", "--in", nyuFile(1)}).out.trimmed());
    QVERIFY(row["probability"].toDouble() > 0 && row["probability"].toDouble() < 1);
    QVERIFY(!row["top_rois"].toArray().isEmpty());
    // Cross-validation fits the transform inside each fold and leaves no temporary arrays behind.
    const auto e = parseObject(
        run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", tiny_, "--input", "tangent-z", "--cv", "2", "--json"}).out);
    QCOMPARE(e["config"].toObject()["input"].toObject()["kind"].toString(), QString("tangent"));
    QVERIFY(e["metrics"].toObject()["auc"].toObject().contains("mean"));
    int left = 0;
    if (std::filesystem::exists(ws_ / "tmp"))
      for (const auto& entry : std::filesystem::directory_iterator(ws_ / "tmp")) left += entry.path().filename().string().rfind("graph-input-", 0) == 0;
    QCOMPARE(left, 0);
    // A given pre-trained encoder learned Pearson FC; the baselines name their features themselves.
    auto r = run({"train", "-w", str(ws_), "--corpus", "asd", "--method", "finetune", "--pretrained", pretrained_, "--input", "tangent", "--out",
                  str(dir_ / "never.pt")});
    QCOMPARE(r.exitCode, 64);
    QVERIFY2(r.err.contains("pre-trained on fc input") && r.err.contains("pretrain --input tangent") && r.err.contains("--pretrain-in-folds"),
             qPrintable(r.err));
    r = run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "logreg", "--input", "tangent", "--cv", "3"});
    QCOMPARE(r.exitCode, 64);
    QVERIFY(r.err.contains("logreg-tangent"));
    QVERIFY(run({"train", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--input", "partial", "--out", str(dir_ / "never.pt")}).exitCode != 0);
    QVERIFY(!std::filesystem::exists(dir_ / "never.pt"));
  }

  // Site harmonisation: every edge z-scored with the training scans of the scan's own site. Children
  // under 10 come from five sites, some with too few scans for statistics of their own.
  void siteHarmonisationAcrossSites() {
    const QString w = str(ws_);
    mustRun({"corpus", "create", "-w", w, "--name", "kids", "--class", "control", "--class", "autism", "--where", "age<10", "--folds", "3"});
    // The test scans that must fall back to the pooled statistics, counted from the out-of-fold rows:
    // those whose site has fewer than 5 scans in the other folds (the fold's training part).
    auto expectedPooled = [](const std::vector<OutOfFold>& rows) {
      int pooled = 0;
      for (const auto& a : rows) {
        int training = 0;
        for (const auto& b : rows) training += b.site == a.site && b.fold != a.fold;
        pooled += training < 5;
      }
      return pooled;
    };
    const QString plainPrefix = str(dir_ / "kids-logreg"), sitePrefix = str(dir_ / "kids-logreg-site");
    mustRun({"evaluate", "-w", w, "--corpus", "kids", "--method", "logreg", "--cv", "3", "--out", plainPrefix});
    auto r = run({"evaluate", "-w", w, "--corpus", "kids", "--method", "logreg", "--input", "fc-site", "--cv", "3", "--json", "--out", sitePrefix});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    auto o = parseObject(r.out);
    QCOMPARE(o["features"].toString(), QString("fisher_z_fc_upper_triangle_standardized_per_site"));
    QCOMPARE(o["input"].toString(), QString("fc-site"));
    const auto plain = readPredictions(plainPrefix + "-predictions.csv"), harmonised = readPredictions(sitePrefix + "-predictions.csv");
    QCOMPARE(static_cast<int>(harmonised.size()), kKids);
    std::set<QString> sites;
    for (const auto& row : harmonised) sites.insert(row.site);
    QVERIFY(sites.size() >= 5);
    const int pooled = expectedPooled(harmonised);
    QVERIFY(pooled > 0 && pooled < kKids);
    QCOMPARE(o["input_pooled_site_scans"].toInt(), pooled);
    // The same folds, other features: other probabilities.
    int differ = 0;
    for (std::size_t i = 0; i < plain.size(); ++i)
      differ += plain[i].scan == harmonised[i].scan && std::fabs(plain[i].probability - harmonised[i].probability) > 1e-6;
    QVERIFY(differ > kKids * 4 / 5);
    // Leaving a site out, its scans can only have the pooled statistics.
    r = run({"evaluate", "-w", w, "--corpus", "kids", "--method", "logreg-tangent", "--input", "tangent-site", "--leave-site-out", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QCOMPARE(parseObject(r.out)["input_pooled_site_scans"].toInt(), kKids);
    QCOMPARE(run({"evaluate", "-w", w, "--corpus", "kids", "--method", "logreg", "--input", "fc-z", "--cv", "3"}).exitCode, 64);
    QCOMPARE(run({"evaluate", "-w", w, "--corpus", "kids", "--method", "logreg-tangent", "--input", "fc-site", "--cv", "3"}).exitCode, 64);
    QCOMPARE(run({"train", "-w", w, "--corpus", "kids", "--method", "logreg", "--input", "fc-site", "--out", str(dir_ / "never.json")}).exitCode, 64);
    QVERIFY(!std::filesystem::exists(dir_ / "never.json"));

    // BrainGFM reads the same harmonised edges: the same split, the same fallback count; the comparison keeps it apart.
    const QString graphPrefix = str(dir_ / "kids-scratch-site");
    r = run(
        {"evaluate", "-w", w, "--corpus", "kids", "--method", "scratch", "--config", tiny_, "--input", "fc-site", "--cv", "3", "--json", "--out", graphPrefix});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    o = parseObject(r.out);
    QCOMPARE(o["config"].toObject()["input"].toObject()["per_site"].toBool(), true);
    QCOMPARE(o["input_pooled_site_scans"].toInt(), pooled);
    const auto table = run({"results", "-w", w, "--compare", "kids"}).out;
    QVERIFY2(table.contains("logreg, fc-site input") && table.contains("scratch, fc-site input"), qPrintable(table));

    // A model file keeps every site's statistics; predict uses the named site's, or the pooled ones.
    const QString model = str(dir_ / "kids-site.pt");
    mustRun({"train", "-w", w, "--corpus", "kids", "--method", "scratch", "--config", tiny_, "--input", "fc-site", "--out", model});
    const auto card = parseObject(run({"model", model}).out);
    const auto cardSites = card["input_transform"].toObject()["site_standardisation"].toObject()["sites"].toObject();
    QVERIFY2(cardSites.contains("NYU") && cardSites.contains("KKI"), qPrintable(QJsonDocument(cardSites).toJson()));
    QCOMPARE(cardSites["NYU"].toInt(), 16);  // NYU's children, all in the training corpus
    const auto own = parseObject(run({"predict", "--model", model, "--json", "--site", "NYU", "--in", nyuFile(2)}).out.trimmed());
    const auto unnamed = run({"predict", "--model", model, "--json", "--in", nyuFile(2)});
    QVERIFY(unnamed.err.contains("pooled"));
    const auto fallback = parseObject(unnamed.out.trimmed());
    QCOMPARE(own["site_statistics"].toObject()["own"].toBool(), true);
    QCOMPARE(fallback["site_statistics"].toObject()["own"].toBool(), false);
    QVERIFY(own["probability"].toDouble() > 0 && own["probability"].toDouble() < 1);
    QVERIFY(std::fabs(own["probability"].toDouble() - fallback["probability"].toDouble()) > 1e-7);
  }

  // A site the training part lacks can get statistics of its own from its unlabelled scans: in
  // evaluation from the test fold's scans of that site, and for a model file with adapt-site.
  void newSitesAdaptFromTheirOwnScans() {
    const QString w = str(ws_);
    const QString plainPrefix = str(dir_ / "kids-lso-site"), adaptedPrefix = str(dir_ / "kids-lso-adapted");
    mustRun({"evaluate", "-w", w, "--corpus", "kids", "--method", "logreg", "--input", "fc-site", "--leave-site-out", "--out", plainPrefix});
    auto r = run({"evaluate", "-w", w, "--corpus", "kids", "--method", "logreg", "--input", "fc-site", "--leave-site-out", "--adapt-new-sites", "--json",
                  "--out", adaptedPrefix});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    auto o = parseObject(r.out);
    const auto plain = readPredictions(plainPrefix + "-predictions.csv"), adapted = readPredictions(adaptedPrefix + "-predictions.csv");
    QCOMPARE(static_cast<int>(adapted.size()), kKids);
    // Leaving a site out, every site with at least 5 scans is adapted from its own; the others keep the pooled statistics.
    std::map<QString, int> perSite;
    for (const auto& row : adapted) ++perSite[row.site];
    int expectAdapted = 0;
    for (const auto& [site, count] : perSite) expectAdapted += count >= 5 ? count : 0;
    QVERIFY(expectAdapted > 0 && expectAdapted < kKids);
    QCOMPARE(o["input_adapted_site_scans"].toInt(), expectAdapted);
    QCOMPARE(o["input_pooled_site_scans"].toInt(), kKids - expectAdapted);
    // The training part and its model are the same: a scan's probability moves exactly when its site was adapted.
    QCOMPARE(plain.size(), adapted.size());
    for (std::size_t i = 0; i < adapted.size(); ++i) {
      QCOMPARE(plain[i].scan, adapted[i].scan);
      const bool moved = std::fabs(plain[i].probability - adapted[i].probability) > 1e-9;
      QVERIFY2(moved == (perSite[adapted[i].site] >= 5), qPrintable(adapted[i].site));
    }
    QCOMPARE(run({"evaluate", "-w", w, "--corpus", "kids", "--method", "logreg", "--leave-site-out", "--adapt-new-sites"}).exitCode, 64);
    // From only 5 of each new site's scans: a site with more moves again (other statistics), one with exactly 5 does not;
    // every scan is still scored. ComBat's shrinkage (fc-combat) moves them all, and each is named apart.
    const QString fivePrefix = str(dir_ / "kids-lso-adapted-5");
    r = run({"evaluate", "-w", w, "--corpus", "kids", "--method", "logreg", "--input", "fc-site", "--leave-site-out", "--adapt-new-sites", "--adapt-scans", "5",
             "--json", "--out", fivePrefix});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    o = parseObject(r.out);
    QCOMPARE(o["input_adapted_site_scans"].toInt(), expectAdapted);
    QCOMPARE(o["input_adaptation_scans"].toInt(), 5);
    const auto five = readPredictions(fivePrefix + "-predictions.csv");
    QCOMPARE(five.size(), adapted.size());
    int largerSites = 0;
    for (std::size_t i = 0; i < five.size(); ++i) {
      QCOMPARE(five[i].scan, adapted[i].scan);
      const int count = perSite[five[i].site];
      const bool moved = std::fabs(five[i].probability - adapted[i].probability) > 1e-9;
      if (count > 5) ++largerSites;
      QVERIFY2(moved == (count > 5), qPrintable(five[i].site));
    }
    QVERIFY(largerSites > 0);
    QCOMPARE(run({"evaluate", "-w", w, "--corpus", "kids", "--method", "logreg", "--input", "fc-site", "--leave-site-out", "--adapt-scans", "5"}).exitCode, 64);
    QCOMPARE(run({"evaluate", "-w", w, "--corpus", "kids", "--method", "logreg", "--input", "fc-site", "--leave-site-out", "--adapt-new-sites", "--adapt-scans",
                  "4"})
                 .exitCode,
             64);
    const QString combatPrefix = str(dir_ / "kids-lso-combat");
    r = run({"evaluate", "-w", w, "--corpus", "kids", "--method", "logreg", "--input", "fc-combat", "--leave-site-out", "--adapt-new-sites", "--json", "--out",
             combatPrefix});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    o = parseObject(r.out);
    QCOMPARE(o["input"].toString(), QString("fc-combat"));
    QCOMPARE(o["input_adapted_site_scans"].toInt(), expectAdapted);
    const auto combat = readPredictions(combatPrefix + "-predictions.csv");
    int combatMoved = 0;
    for (std::size_t i = 0; i < combat.size(); ++i) combatMoved += std::fabs(combat[i].probability - adapted[i].probability) > 1e-9 ? 1 : 0;
    QVERIFY2(combatMoved > kKids * 4 / 5, qPrintable(QString::number(combatMoved)));  // shrunk statistics: a (slightly) different model for every scan
    QCOMPARE(run({"evaluate", "-w", w, "--corpus", "kids", "--method", "logreg-tangent", "--input", "fc-combat", "--cv", "3"}).exitCode, 64);
    // A skewed batch (--adapt-share): patients only puts a new site's zero among its patients and its scores lower than
    // controls only does; weighting a mixed batch by its labels (--adapt-labelled) gives other statistics again.
    auto meanOfAdapted = [&](const std::vector<OutOfFold>& rows) {
      double sum = 0;
      int n = 0;
      for (const auto& row : rows)
        if (perSite[row.site] >= 5) sum += row.probability, ++n;
      return sum / n;
    };
    auto skewed = [&](const QStringList& extra, const QString& prefix) {
      auto res = run(QStringList{"evaluate", "-w", w, "--corpus", "kids", "--method", "logreg", "--input", "fc-site", "--leave-site-out", "--adapt-new-sites",
                                 "--json", "--out", prefix} +
                     extra);
      if (res.exitCode != 0) qWarning("%s", qPrintable(res.err));
      return std::make_pair(parseObject(res.out), readPredictions(prefix + "-predictions.csv"));
    };
    const auto [patientsOnly, patientsRows] = skewed({"--adapt-share", "1"}, str(dir_ / "kids-lso-patients"));
    const auto [controlsOnly, controlsRows] = skewed({"--adapt-share", "0"}, str(dir_ / "kids-lso-controls"));
    QCOMPARE(patientsOnly["input_adaptation_positive_share"].toDouble(), 1.0);
    QVERIFY(patientsOnly["input_adapted_site_scans"].toInt() > 0 && patientsOnly["input_adapted_site_scans"].toInt() <= expectAdapted);
    QCOMPARE(static_cast<int>(patientsRows.size()), kKids);
    QVERIFY2(meanOfAdapted(patientsRows) < meanOfAdapted(controlsRows),
             qPrintable(QString("%1 vs %2").arg(meanOfAdapted(patientsRows)).arg(meanOfAdapted(controlsRows))));
    const auto [unweightedBatch, unweightedRows] = skewed({"--adapt-share", "0.75"}, str(dir_ / "kids-lso-75"));
    const auto [weightedBatch, weightedRows] = skewed({"--adapt-share", "0.75", "--adapt-labelled"}, str(dir_ / "kids-lso-75-labelled"));
    QVERIFY(weightedBatch["input_adaptation_labelled"].toBool() && !unweightedBatch.contains("input_adaptation_labelled"));
    int movedByLabels = 0;
    for (std::size_t i = 0; i < weightedRows.size() && i < unweightedRows.size(); ++i)
      movedByLabels += std::fabs(weightedRows[i].probability - unweightedRows[i].probability) > 1e-9 ? 1 : 0;
    QVERIFY2(movedByLabels > 0, qPrintable(QString::number(movedByLabels)));
    const auto lsoTable = run({"results", "-w", w, "--compare", "kids", "--split", "leave-site-out"}).out;
    QVERIFY2(lsoTable.contains("new sites adapted (batches 100% positive)") && lsoTable.contains("new sites adapted (batches 75% positive), labelled"),
             qPrintable(lsoTable));
    QCOMPARE(run({"evaluate", "-w", w, "--corpus", "kids", "--method", "logreg", "--input", "fc-site", "--leave-site-out", "--adapt-share", "1"}).exitCode, 64);
    QCOMPARE(run({"evaluate", "-w", w, "--corpus", "kids", "--method", "logreg", "--input", "fc-site", "--leave-site-out", "--adapt-new-sites", "--adapt-share",
                  "1", "--adapt-labelled"})
                 .exitCode,
             64);
    // BrainGFM's fold inputs are adapted the same way.
    r = run({"evaluate", "-w", w, "--corpus", "kids", "--method", "scratch", "--config", tiny_, "--input", "fc-site", "--leave-site-out", "--adapt-new-sites",
             "--adapt-share", "0.75", "--adapt-labelled", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    o = parseObject(r.out);
    QVERIFY(o["input_adaptation_labelled"].toBool());
    QCOMPARE(o["input_adapted_site_scans"].toInt(), weightedBatch["input_adapted_site_scans"].toInt());  // the same sites qualify
    r = run({"evaluate", "-w", w, "--corpus", "kids", "--method", "scratch", "--config", tiny_, "--input", "fc-site", "--leave-site-out", "--adapt-new-sites",
             "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    o = parseObject(r.out);
    QCOMPARE(o["input_adapted_site_scans"].toInt(), expectAdapted);
    QCOMPARE(o["input_pooled_site_scans"].toInt(), kKids - expectAdapted);
    QCOMPARE(run({"evaluate", "-w", w, "--corpus", "kids", "--method", "scratch", "--config", tiny_, "--cv", "3", "--adapt-new-sites"}).exitCode, 64);
    const auto table = run({"results", "-w", w, "--compare", "kids", "--split", "leave-site-out"}).out;
    QVERIFY2(table.contains("logreg, fc-site input, new sites adapted") && table.contains("scratch, fc-site input, new sites adapted") &&
                 table.contains("logreg, fc-site input, new sites adapted from 5 scans") && table.contains("logreg, fc-combat input, new sites adapted"),
             qPrintable(table));

    // adapt-site: a model trained without CMU (no scan under 10 there) given CMU's statistics from six unlabelled scans.
    const QString model = str(dir_ / "kids-site.pt"), adaptedModel = str(dir_ / "kids-site-cmu.pt");
    QVERIFY(std::filesystem::exists(model.toStdString()));
    std::vector<std::filesystem::path> cmu;
    for (const auto& e : std::filesystem::directory_iterator(series_))
      if (e.path().filename().string().rfind("CMU_", 0) == 0) cmu.push_back(e.path());
    std::sort(cmu.begin(), cmu.end());
    QVERIFY(cmu.size() >= 7);
    QStringList adaptArgs = {"adapt-site", "--model", model, "--site", "CMU", "--out", adaptedModel, "--in"};
    for (int k = 1; k <= 6; ++k) adaptArgs << str(cmu[static_cast<std::size_t>(k)]);
    r = run(adaptArgs);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
    const auto summary = parseObject(r.out);
    QCOMPARE(summary["sites"].toObject()["CMU"].toInt(), 6);
    QCOMPARE(summary["adapted_sites"].toArray().size(), 1);
    QVERIFY2(summary["advice"].toString().contains("fc-combat"), qPrintable(r.out));  // six scans of an unshrunk model: cautioned
    const auto card = parseObject(run({"model", adaptedModel}).out);
    QCOMPARE(card["input_transform"].toObject()["site_standardisation"].toObject()["sites"].toObject()["NYU"].toInt(),
             parseObject(run({"model", model}).out)["input_transform"].toObject()["site_standardisation"].toObject()["sites"].toObject()["NYU"].toInt());
    QCOMPARE(card["site_adaptations"].toArray().at(0).toObject()["scans"].toInt(), 6);
    // A seventh CMU scan: the adapted model uses CMU's own statistics, the original the pooled ones, the weights are the same.
    const QString probe = str(cmu[0]);
    const auto own = parseObject(run({"predict", "--model", adaptedModel, "--json", "--site", "CMU", "--in", probe}).out.trimmed());
    const auto pooledRow = parseObject(run({"predict", "--model", model, "--json", "--site", "CMU", "--in", probe}).out.trimmed());
    const auto ownStats = own["site_statistics"].toObject();
    QVERIFY(ownStats["own"].toBool() && ownStats["adapted"].toBool());
    QVERIFY(!pooledRow["site_statistics"].toObject()["own"].toBool());
    QVERIFY(std::fabs(own["probability"].toDouble() - pooledRow["probability"].toDouble()) > 1e-7);
    const auto nyu = parseObject(run({"predict", "--model", adaptedModel, "--json", "--site", "NYU", "--in", nyuFile(2)}).out.trimmed());
    const auto nyuBefore = parseObject(run({"predict", "--model", model, "--json", "--site", "NYU", "--in", nyuFile(2)}).out.trimmed());
    QVERIFY(std::fabs(nyu["probability"].toDouble() - nyuBefore["probability"].toDouble()) < 1e-9);
    QVERIFY(!nyu["site_statistics"].toObject()["adapted"].toBool());
    // With the batch's diagnoses (--labels, in --in's order): statistics weighted to the training corpus's class
    // mix, which the card keeps; the batch's own mix (4 autism, 2 control) no longer sets CMU's zero.
    const auto trained = parseObject(run({"model", model}).out);
    const auto counts = trained["class_counts"].toArray();
    QCOMPARE(counts.size(), 2);
    QCOMPARE(counts.at(0).toInt() + counts.at(1).toInt(), kKids);  // the kids corpus's scans (control, autism)
    QVERIFY(counts.at(0).toInt() > 0 && counts.at(1).toInt() > 0);
    const QString labelledModel = str(dir_ / "kids-site-cmu-labelled.pt");
    QStringList labelled = adaptArgs;
    labelled[6] = labelledModel;
    labelled << "--labels"
             << "autism"
             << "autism"
             << "control"
             << "autism"
             << "control"
             << "autism";
    r = run(labelled);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
    const auto labelledSummary = parseObject(r.out);
    QVERIFY(labelledSummary["class_counts"].toArray() == QJsonArray({2, 4}));
    QVERIFY(std::fabs(labelledSummary["weighted_positive_fraction"].toDouble() - counts.at(1).toDouble() / kKids) < 1e-12);
    const auto labelledCard = parseObject(run({"model", labelledModel}).out);
    QVERIFY(labelledCard["site_adaptations"].toArray().at(0).toObject()["labelled"].toBool());
    const auto weighted = parseObject(run({"predict", "--model", labelledModel, "--json", "--site", "CMU", "--in", probe}).out.trimmed());
    QVERIFY(weighted["site_statistics"].toObject()["adapted"].toBool());
    QVERIFY(std::fabs(weighted["probability"].toDouble() - own["probability"].toDouble()) > 1e-7);
    // Labels that do not fit: one per scan, the model's class names, two of each class.
    const QString neverLabelled = str(dir_ / "never-labelled.pt");
    labelled[6] = neverLabelled;
    QStringList tooFew = labelled.mid(0, labelled.size() - 1);
    r = run(tooFew);
    QCOMPARE(r.exitCode, 64);
    QVERIFY2(r.err.contains("5 labels for 6 scans"), qPrintable(r.err));
    QStringList unknown = labelled;
    unknown.last() = "asd";
    r = run(unknown);
    QCOMPARE(r.exitCode, 64);
    QVERIFY2(r.err.contains("not one of the model's classes (control, autism)"), qPrintable(r.err));
    QStringList oneControl = labelled;
    oneControl[oneControl.size() - 2] = "autism";  // the second control becomes autism: one control left
    r = run(oneControl);
    QCOMPARE(r.exitCode, 65);
    QVERIFY2(r.err.contains("at least 2 scans of each class"), qPrintable(r.err));
    QVERIFY(!std::filesystem::exists(neverLabelled.toStdString()));
    // Refusals: a training site, too few scans, over the original, a model without per-site input; nothing written.
    const QString never = str(dir_ / "never-adapted.pt");
    QCOMPARE(run({"adapt-site", "--model", model, "--site", "NYU", "--out", never, "--in", str(cmu[1]), str(cmu[2]), str(cmu[3]), str(cmu[4]), str(cmu[5])})
                 .exitCode,
             64);
    r = run({"adapt-site", "--model", model, "--site", "CMU", "--out", never, "--in", str(cmu[1]), str(cmu[2])});
    QCOMPARE(r.exitCode, 65);
    QVERIFY2(r.err.contains("at least 5"), qPrintable(r.err));
    QCOMPARE(run({"adapt-site", "--model", model, "--site", "CMU", "--out", model, "--in", str(cmu[1]), str(cmu[2]), str(cmu[3]), str(cmu[4]), str(cmu[5])})
                 .exitCode,
             64);
    const QString logregModel = str(dir_ / "kids-logreg-model.json");
    mustRun({"train", "-w", w, "--corpus", "kids", "--method", "logreg", "--out", logregModel});
    r = run({"adapt-site", "--model", logregModel, "--site", "CMU", "--out", never, "--in", str(cmu[1]), str(cmu[2]), str(cmu[3]), str(cmu[4]), str(cmu[5])});
    QCOMPARE(r.exitCode, 64);
    QVERIFY2(r.err.contains("not standardised per site"), qPrintable(r.err));
    r = run({"adapt-site", "--model", pretrained_, "--site", "CMU", "--out", never, "--in", str(cmu[1]), str(cmu[2]), str(cmu[3]), str(cmu[4]), str(cmu[5])});
    QCOMPARE(r.exitCode, 65);
    QVERIFY2(r.err.contains("not a downstream model"), qPrintable(r.err));
    QVERIFY(!std::filesystem::exists(never.toStdString()));
  }

  // pretrain --input: BrainGFM's encoder learns a fitted input (per-site FC here) and fine-tuning with
  // the same input accepts the file; another input, or a Pearson-FC file, is refused before any work.
  void pretrainOnAFittedInput() {
    const QString w = str(ws_), pre = str(dir_ / "pre-fc-site.pt"), tuned = str(dir_ / "tuned-fc-site.pt");
    auto r = run({"pretrain", "-w", w, "--corpus", "kids", "--config", tinyPre_, "--epochs", "1", "--input", "fc-site", "--out", pre});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QCOMPARE(parseObject(r.out)["input"].toString(), QString("fc-site"));
    r = run({"train", "-w", w, "--corpus", "kids", "--method", "finetune", "--pretrained", pre, "--config", tiny_, "--input", "fc-site", "--out", tuned});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto card = parseObject(run({"model", tuned}).out);
    QCOMPARE(card["input_transform"].toObject()["kind"].toString(), QString("fc"));
    QVERIFY(card["input_transform"].toObject()["site_standardisation"].toObject()["sites"].toObject().contains("NYU"));
    const auto row = parseObject(run({"predict", "--model", tuned, "--json", "--site", "NYU", "--in", nyuFile(3)}).out.trimmed());
    QVERIFY(row["site_statistics"].toObject()["own"].toBool());
    // Mismatches: the file learned fc-site, the run reads fc-combat; a Pearson-FC file with a fitted input; a zoo pre-training.
    r = run({"train", "-w", w, "--corpus", "kids", "--method", "finetune", "--pretrained", pre, "--config", tiny_, "--input", "fc-combat", "--out",
             str(dir_ / "never.pt")});
    QCOMPARE(r.exitCode, 64);
    QVERIFY2(r.err.contains("pre-trained on fc-site input"), qPrintable(r.err));
    r = run({"evaluate", "-w", w, "--corpus", "kids", "--method", "prompt", "--pretrained", pretrained_, "--config", tiny_, "--input", "fc-site", "--cv", "3"});
    QCOMPARE(r.exitCode, 64);
    QVERIFY2(r.err.contains("pre-trained on fc input"), qPrintable(r.err));
    QCOMPARE(run({"pretrain", "-w", w, "--corpus", "kids", "--model", "brainmass", "--input", "fc-site", "--out", str(dir_ / "never-bm.pt")}).exitCode, 64);
    QVERIFY(!std::filesystem::exists(dir_ / "never.pt") && !std::filesystem::exists(dir_ / "never-bm.pt"));
  }

  // The logistic-regression edge readout through the CLI: evaluated, named apart in comparisons,
  // trained into a model file whose predictions and explanations include it.
  void logregEdgeReadoutThroughTheCli() {
    const QString w = str(ws_);
    const QString config = str(dir_ / "tiny-edges.json");
    std::ofstream(config.toStdString()) << R"({"model": {"hidden": 16, "heads": 2, "attention_layers": 1, "gnn_layers": 1, "ffn": 32},
                                              "adaptation": {"readout": "roi", "edge_readout": "logreg"}, "ensemble": 1, "epochs": 2})";
    auto r = run({"evaluate", "-w", w, "--corpus", "asd", "--method", "scratch", "--config", config, "--cv", "3", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto o = parseObject(r.out);
    QCOMPARE(o["config"].toObject()["adaptation"].toObject()["edge_readout"].toString(), QString("logreg"));
    QVERIFY(o["metrics"].toObject()["auc"].toObject()["mean"].toDouble() > 0.5);  // the linear model inside is better than chance on NYU
    const auto table = run({"results", "-w", w, "--compare", "asd", "--split", "kfold/3-folds/seed-0"}).out;
    QVERIFY2(table.contains("scratch, logreg edge readout"), qPrintable(table));
    const QString model = str(dir_ / "edges.pt");
    mustRun({"train", "-w", w, "--corpus", "asd", "--method", "scratch", "--config", config, "--out", model});
    const auto row = parseObject(run({"predict", "--model", model, "--json", "--explain", "--in", nyuFile(4)}).out.trimmed());
    QVERIFY(row["probability"].toDouble() > 0 && row["probability"].toDouble() < 1);
    QCOMPARE(row["top_rois"].toArray().size(), 10);
    QCOMPARE(run({"evaluate", "-w", w, "--corpus", "asd", "--method", "scratch", "--config", str(dir_ / "never.json"), "--cv", "3"}).exitCode, 66);
    std::ofstream(str(dir_ / "bad-edges.json").toStdString()) << R"({"adaptation": {"edge_readout": "quadratic"}})";
    QCOMPARE(run({"evaluate", "-w", w, "--corpus", "asd", "--method", "scratch", "--config", str(dir_ / "bad-edges.json"), "--cv", "3"}).exitCode, 64);
  }

  // Pre-trained inside each fold, the encoder learns the input it is tuned on: the fold's fitted
  // transform rewrites the graphs before pre-training, and the cached pre-training is keyed by it.
  void tangentInputInFoldPretraining() {
    const auto cache = ws_ / "models" / "cache";
    const auto cached = [&] {
      std::set<std::string> files;
      if (std::filesystem::exists(cache))
        for (const auto& e : std::filesystem::directory_iterator(cache))
          if (e.path().extension() == ".pt" && e.path().filename().string().rfind("pretrain-", 0) == 0) files.insert(e.path().string());
      return files;
    };
    const QStringList folded = {"evaluate",          "-w",     str(ws_), "--corpus", "asd",   "--method", "finetune", "--config", tiny_, "--pretrain-in-folds",
                                "--pretrain-config", tinyPre_, "--cv",   "2",        "--json"};
    const auto before = cached();
    const auto tangent = parseObject(run(folded + QStringList{"--input", "tangent-z"}).out);
    QCOMPARE(tangent["config"].toObject()["input"].toObject()["kind"].toString(), QString("tangent"));
    QCOMPARE(tangent["pretrained"].toString(), QString("in-folds"));
    QVERIFY(tangent["pretraining_seconds"].toDouble() > 0);
    const auto afterTangent = cached();
    QCOMPARE(afterTangent.size(), before.size() + 2);  // one pre-training per fold
    std::vector<std::string> tangentFiles;
    std::set_difference(afterTangent.begin(), afterTangent.end(), before.begin(), before.end(), std::back_inserter(tangentFiles));
    // Again: both folds' pre-trainings come from the cache, and the evaluation repeats exactly.
    const auto again = parseObject(run(folded + QStringList{"--input", "tangent-z"}).out);
    QCOMPARE(cached(), afterTangent);
    QCOMPARE(again["pretraining_seconds"].toDouble(), 0.0);
    QCOMPARE(again["metrics"].toObject()["auc"].toObject()["mean"].toDouble(), tangent["metrics"].toObject()["auc"].toObject()["mean"].toDouble());
    // Pearson FC pre-trains anew: the input is part of the cache key.
    const auto pearson = parseObject(run(folded).out);
    QVERIFY(pearson["metrics"].toObject()["auc"].toObject().contains("mean"));
    QCOMPARE(cached().size(), afterTangent.size() + 2);
    // A fold's tangent-space pre-training names its input and serves only its own fold.
    auto r = run({"train", "-w", str(ws_), "--corpus", "asd", "--method", "finetune", "--config", tiny_, "--pretrained",
                  QString::fromStdString(tangentFiles.front()), "--out", str(dir_ / "never.pt")});
    QCOMPARE(r.exitCode, 64);
    QVERIFY2(r.err.contains("pre-trained on tangent-z input"), qPrintable(r.err));
    QVERIFY(!std::filesystem::exists(dir_ / "never.pt"));
    // Crop augmentation recomputes Pearson FC, so it does not combine with a fitted input.
    const QString crop = str(dir_ / "tiny-crop.json");
    std::ofstream(crop.toStdString()) << R"({"model": {"hidden": 16, "heads": 2, "attention_layers": 1, "gnn_layers": 1, "ffn": 32},
                                            "epochs": 1, "batch_size": 32, "crop_augmentation": 0.7})";
    QStringList withCrop = folded;
    withCrop[withCrop.indexOf("--pretrain-config") + 1] = crop;
    r = run(withCrop + QStringList{"--input", "tangent-z"});
    QVERIFY(r.exitCode != 0 && r.err.contains("crop_augmentation"));
  }

  void ensembleFromTheCommandLine() {
    const QString single = str(dir_ / "member0.pt"), ensemble = str(dir_ / "ensemble2.pt");
    mustRun({"train", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", tiny_, "--out", single});
    mustRun({"train", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", tiny_, "--ensemble", "2", "--ensemble-validation", "shared",
             "--out", ensemble});
    const auto one = parseObject(run({"model", single}).out), two = parseObject(run({"model", ensemble}).out);
    const auto members = two["ensemble"].toArray();
    QCOMPARE(members.size(), 2);
    // Member 1 is exactly the single model of the same seed; member 2 is another one.
    QCOMPARE(members[0].toObject()["temperature"].toDouble(), one["temperature"].toDouble());
    QCOMPARE(members[0].toObject()["validation_auc"].toDouble(), one["validation"].toObject()["auc"].toDouble());
    // (its own embedding space: its out-of-distribution reference has another threshold; temperatures can both sit at their bound)
    QVERIFY(members[1].toObject()["ood"].toObject()["threshold"].toDouble() != two["ood"].toObject()["threshold"].toDouble());
    QCOMPARE(two["validation"].toObject()["members"].toInt(), 2);
    const auto row = parseObject(run({"predict", "--model", ensemble, "--json", "--in", nyuFile(2)}).out.trimmed());
    QCOMPARE(row["ensemble"].toInt(), 2);
    QVERIFY(row["interval"].toObject()["method"].toString().contains("2 ensemble members"));
    // Cross-validation: the first member of every fold is the single model's fold.
    const auto e1 = parseObject(
        run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", tiny_, "--cv", "2", "--json", "--out", str(dir_ / "ens1")}).out);
    const auto e2 = parseObject(run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", tiny_, "--cv", "2", "--ensemble", "2",
                                     "--ensemble-validation", "shared", "--json", "--out", str(dir_ / "ens2")})
                                    .out);
    QCOMPARE(e2["ensemble"].toInt(), 2);
    const auto f1 = e1["folds_detail"].toArray(), f2 = e2["folds_detail"].toArray();
    QCOMPARE(f1.size(), f2.size());
    for (int f = 0; f < f1.size(); ++f) {
      const auto m = f2[f].toObject()["members"].toArray();
      QCOMPARE(m.size(), 2);
      QCOMPARE(m[0].toObject()["auc"].toDouble(), f1[f].toObject()["auc"].toDouble());
      QCOMPARE(m[0].toObject()["temperature"].toDouble(), f1[f].toObject()["temperature"].toDouble());
    }
    // The ensemble's out-of-fold probability is the mean of its members': with member 1 known from the
    // single run, every probability lies between it and a valid member 2 (0 < 2p - p1 < 1).
    const auto single1 = readPredictions(str(dir_ / "ens1-predictions.csv")), double2 = readPredictions(str(dir_ / "ens2-predictions.csv"));
    QCOMPARE(single1.size(), double2.size());
    std::map<qint64, double> firstMember;
    for (const auto& r : single1) firstMember[r.scan] = r.probability;
    int differing = 0;
    for (const auto& r : double2) {
      const double second = 2 * r.probability - firstMember.at(r.scan);
      QVERIFY2(second > -1e-5 && second < 1 + 1e-5, qPrintable(QString("%1: %2").arg(r.scan).arg(second)));
      differing += std::abs(r.probability - firstMember.at(r.scan)) > 1e-6;
    }
    QVERIFY(differing > 0);
    QCOMPARE(run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "logreg", "--ensemble", "2", "--cv", "3"}).exitCode, 64);
  }

  // The default file learns from every label: 5 fold models, each validating on its own fold; evaluate
  // measures the same procedure inside each outer fold. One member instead keeps 15% aside.
  void deployedGraphModelLearnsFromEveryLabel() {
    const QString config = str(dir_ / "tiny-default.json"), crossFitted = str(dir_ / "deployed.pt"), single = str(dir_ / "deployed1.pt");
    std::ofstream(config.toStdString()) << R"({"model": {"hidden": 16, "heads": 2, "attention_layers": 1, "gnn_layers": 1, "ffn": 32},
                                              "epochs": 1, "batch_size": 32})";
    const auto t = run({"train", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", config, "--out", crossFitted});
    QVERIFY2(t.exitCode == 0, qPrintable(t.err));
    const auto card = parseObject(run({"model", crossFitted}).out);
    const int items = card["corpus"].toObject()["items"].toInt();
    const auto d = card["deployment"].toObject();
    QCOMPARE(d["procedure"].toString(), QString("cross-fitted ensemble"));
    QCOMPARE(d["members"].toInt(), 5);
    QCOMPARE(d["scans_learned_from"].toInt(), items);
    int validated = 0;
    for (int k = 0; k < 5; ++k) {
      const int learned = d["learned_from"].toArray()[k].toInt(), v = d["validated_on"].toArray()[k].toInt();
      QCOMPARE(learned + v, items);
      QVERIFY(std::abs(5 * v - items) <= 5);
      validated += v;
    }
    QCOMPARE(validated, items);
    QVERIFY2(t.out.contains(QString("together they learned from all %1 labelled scans").arg(items)), qPrintable(t.out));
    QCOMPARE(parseObject(run({"predict", "--model", crossFitted, "--json", "--in", nyuFile(2)}).out.trimmed())["ensemble"].toInt(), 5);
    mustRun({"train", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", config, "--ensemble", "1", "--out", single});
    const auto one = parseObject(run({"model", single}).out)["deployment"].toObject();
    QCOMPARE(one["members"].toInt(), 1);
    QVERIFY(one["procedure"].toString().startsWith("single model"));
    const int learnedAlone = one["scans_learned_from"].toInt(), kept = one["validated_on"].toArray()[0].toInt();
    QCOMPARE(learnedAlone + kept, items);
    QVERIFY(std::abs(kept - 0.15 * items) <= 2);
    const auto e = parseObject(run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", config, "--cv", "2", "--json"}).out);
    QCOMPARE(e["ensemble"].toInt(), 5);
    QVERIFY2(e["procedure"].toString().contains("cross-fitted ensemble of 5"), qPrintable(e["procedure"].toString()));
    for (const auto& f : e["folds_detail"].toArray()) {
      QCOMPARE(f.toObject()["members"].toArray().size(), 5);
      QCOMPARE(f.toObject()["validation"].toInt(), items - f.toObject()["test"].toInt());  // every outer-training scan validated once
    }
  }

  // --ensemble-validation folds: each member selects and calibrates on its own fold of the training
  // part, so the card's validation covers every scan once and the members' validations partition them.
  void ensembleMembersValidateOnTheirOwnFolds() {
    const QString crossFitted = str(dir_ / "cross3.pt"), shared = str(dir_ / "shared3.pt");
    mustRun({"train", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", tiny_, "--ensemble", "3", "--ensemble-validation", "folds", "--out",
             crossFitted});
    mustRun({"train", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", tiny_, "--ensemble", "3", "--ensemble-validation", "shared",
             "--out", shared});
    const auto cross = parseObject(run({"model", crossFitted}).out), same = parseObject(run({"model", shared}).out);
    const int items = cross["corpus"].toObject()["items"].toInt();
    QVERIFY(items >= kNyuScans);
    QCOMPARE(cross["validation"].toObject()["n"].toInt(), items);  // every scan validated once
    QCOMPARE(cross["validation"].toObject()["split"].toString(), QString("folds"));
    QCOMPARE(cross["tuning"].toObject()["ensemble_validation"].toString(), QString("folds"));
    int validated = 0;
    for (const auto& m : cross["ensemble"].toArray()) {
      const int v = m.toObject()["validation"].toInt();
      QVERIFY2(std::abs(3 * v - items) <= 3, qPrintable(QString::number(v)));
      validated += v;
    }
    QCOMPARE(validated, items);
    // The shared split: one 15% validation part for all three members.
    const int sharedValidation = same["validation"].toObject()["n"].toInt();
    QVERIFY(sharedValidation > 0 && sharedValidation < items / 4);
    for (const auto& m : same["ensemble"].toArray()) QCOMPARE(m.toObject()["validation"].toInt(), sharedValidation);
    // The model predicts like any ensemble.
    const auto row = parseObject(run({"predict", "--model", crossFitted, "--json", "--in", nyuFile(2)}).out.trimmed());
    QCOMPARE(row["ensemble"].toInt(), 3);
    const double p = row["probability"].toDouble();
    QVERIFY(p > 0 && p < 1);
    // The report's methods say how the members were validated.
    const auto d = run({"diagnose", "--model", crossFitted, "--in", nyuFile(2), "--json"});
    QVERIFY2(d.out.contains("each validated on its own fold of the training scans"), qPrintable(d.err));
    // Cross-validation: members of one fold differ from the shared run's only in their split.
    const auto e = parseObject(run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", tiny_, "--cv", "2", "--ensemble", "2",
                                    "--ensemble-validation", "folds", "--json"})
                                   .out);
    QCOMPARE(e["config"].toObject()["ensemble_validation"].toString(), QString("folds"));
    QCOMPARE(e["folds_detail"].toArray().size(), 2);
    for (const auto& f : e["folds_detail"].toArray()) QCOMPARE(f.toObject()["members"].toArray().size(), 2);
    const auto table = run({"results", "-w", str(ws_), "--compare", "asd"});
    QVERIFY2(table.out.contains("ensemble of 2 (cross-fitted)"), qPrintable(table.out));
    // A one-member "ensemble" has nothing to cross-fit; the baselines have no members at all.
    auto r = run({"train", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", tiny_, "--ensemble-validation", "folds", "--out",
                  str(dir_ / "never-cross.pt")});
    QVERIFY(r.exitCode != 0);
    QVERIFY2(r.err.contains("at least 2 members"), qPrintable(r.err));
    QVERIFY(!std::filesystem::exists(dir_ / "never-cross.pt"));
    QCOMPARE(run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "logreg", "--ensemble-validation", "folds", "--cv", "3"}).exitCode, 64);
    // A label regime draws its labelled scans once, before the folds: the members share them and learn
    // from (and validate on) nothing else.
    r = run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", tiny_, "--ensemble", "2", "--ensemble-validation", "folds",
             "--label-fraction", "0.4", "--cv", "2", "--json"});
    QCOMPARE(r.exitCode, 0);
    const auto regime = parseObject(r.out);
    for (const auto& f : regime["folds_detail"].toArray()) {
      // 40% of the outer fold's training part (items - test) is labelled (stratified: within a scan per class),
      // and validated once over the two members; each member learns from the other half of those
      const int outerTraining = items - f.toObject()["test"].toInt();
      const int learned = f.toObject()["train_labels"].toInt(), validated = f.toObject()["validation"].toInt();
      QVERIFY2(std::abs(5 * validated - 2 * outerTraining) <= 10 && std::abs(2 * learned - validated) <= 1,
               qPrintable(QString("%1 + %2 of %3").arg(learned).arg(validated).arg(outerTraining)));
    }
  }

  // Two --config: evaluate keeps, in each fold, the configuration with the better validation AUC,
  // and that fold's test predictions are exactly those of the configuration evaluated alone; train
  // keeps the better one on its own validation split and writes exactly that model.
  void graphModelChoosesItsConfigurationInEachFold() {
    const QString slow = str(dir_ / "tiny-slow.json");
    std::ofstream(slow.toStdString()) << R"({"model": {"hidden": 16, "heads": 2, "attention_layers": 1, "gnn_layers": 1, "ffn": 32},
                                            "ensemble": 1, "epochs": 2, "batch_size": 32, "learning_rate": 0.0003})";
    const QStringList base = {"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--cv", "3", "--json"};
    const QString fastPrefix = str(dir_ / "cfg-fast"), slowPrefix = str(dir_ / "cfg-slow"), chosenPrefix = str(dir_ / "cfg-chosen");
    const auto fast = parseObject(run(QStringList(base) << "--config" << tiny_ << "--out" << fastPrefix).out);
    const auto slowResult = parseObject(run(QStringList(base) << "--config" << slow << "--out" << slowPrefix).out);
    const auto chosen = parseObject(run(QStringList(base) << "--config" << tiny_ << "--config" << slow << "--out" << chosenPrefix).out);
    const auto fastFolds = fast["folds_detail"].toArray(), slowFolds = slowResult["folds_detail"].toArray(), folds = chosen["folds_detail"].toArray();
    QCOMPARE(folds.size(), 3);
    QCOMPARE(fastFolds.size(), 3);
    const auto fastRows = readPredictions(fastPrefix + "-predictions.csv"), slowRows = readPredictions(slowPrefix + "-predictions.csv"),
               rows = readPredictions(chosenPrefix + "-predictions.csv");
    QCOMPARE(rows.size(), fastRows.size());
    int differing = 0, slowWins = 0;
    for (int f = 0; f < 3; ++f) {
      const double a = fastFolds[f].toObject()["validation_auc"].toDouble(), b = slowFolds[f].toObject()["validation_auc"].toDouble();
      QVERIFY(a > 0 && b > 0);
      differing += a != b;
      const bool slowWon = b > a;  // a tie keeps the first listed
      slowWins += slowWon;
      const auto d = folds[f].toObject();
      QCOMPARE(d["configuration"].toString(), slowWon ? QString("tiny-slow.json") : QString("tiny.json"));
      QCOMPARE(d["validation_auc_by_configuration"].toArray()[0].toDouble(), a);
      QCOMPARE(d["validation_auc_by_configuration"].toArray()[1].toDouble(), b);
      std::map<qint64, QString> expected;
      for (const auto& r : slowWon ? slowRows : fastRows)
        if (r.fold == f + 1) expected[r.scan] = r.margin;
      int seen = 0;
      for (const auto& r : rows)
        if (r.fold == f + 1) {
          QCOMPARE(r.margin, expected.at(r.scan));
          ++seen;
        }
      QCOMPARE(seen, static_cast<int>(expected.size()));
      QVERIFY(std::abs(d["auc"].toDouble() - pairAuc(rows, f + 1)) < 1e-9);
    }
    QVERIFY2(differing > 0, "the two configurations must not score alike on validation, or the choice is not tested");
    const auto sel = chosen["config_selection"].toObject();
    QCOMPARE(sel["candidates"].toArray()[1].toObject()["chosen_folds"].toInt(), slowWins);
    QVERIFY(chosen["training_seconds"].toDouble() > fast["training_seconds"].toDouble());  // both trained in every fold
    const auto printed = run(QStringList(base.mid(0, base.size() - 1)) << "--config" << tiny_ << "--config" << slow);
    QVERIFY2(printed.out.contains(QString("tiny-slow.json in %1 fold").arg(slowWins)), qPrintable(printed.out));
    // The candidates are stored as evaluations of their own, so the comparison sets the choice beside them.
    const auto table = run({"results", "-w", str(ws_), "--compare", "asd", "--split", "kfold/3-folds/seed-0"}).out;
    for (const char* model : {"scratch, configuration chosen in folds from tiny.json / tiny-slow.json", "scratch, tiny.json", "scratch, tiny-slow.json"})
      QVERIFY2(table.contains(model), qPrintable(table));
    QVERIFY(sel["candidates"].toArray()[0].toObject()["evaluation_id"].toInteger() > 0);
    std::ifstream md((chosenPrefix + ".md").toStdString());
    const std::string mdText((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
    QVERIFY2(mdText.find("| scratch, configuration chosen in folds |") != std::string::npos, mdText.c_str());

    // train: the better validation AUC of the two cards, and exactly that model.
    const QString fastModel = str(dir_ / "cfg-fast.pt"), slowModel = str(dir_ / "cfg-slow.pt"), chosenModel = str(dir_ / "cfg-chosen.pt");
    const QStringList train = {"train", "-w", str(ws_), "--corpus", "asd", "--method", "scratch"};
    mustRun(QStringList(train) << "--config" << tiny_ << "--out" << fastModel);
    mustRun(QStringList(train) << "--config" << slow << "--out" << slowModel);
    const auto t = run(QStringList(train) << "--config" << tiny_ << "--config" << slow << "--out" << chosenModel);
    QCOMPARE(t.exitCode, 0);
    const double a = parseObject(run({"model", fastModel}).out)["validation"].toObject()["auc"].toDouble();
    const double b = parseObject(run({"model", slowModel}).out)["validation"].toObject()["auc"].toDouble();
    const auto card = parseObject(run({"model", chosenModel}).out);
    const QString winner = b > a ? "tiny-slow.json" : "tiny.json";
    QCOMPARE(card["config_selection"].toObject()["chosen"].toString(), winner);
    QCOMPARE(card["config_selection"].toObject()["candidates"].toArray()[0].toObject()["validation_auc"].toDouble(), a);
    QCOMPARE(card["config_selection"].toObject()["candidates"].toArray()[1].toObject()["validation_auc"].toDouble(), b);
    QVERIFY2(t.out.contains("configuration " + winner + " chosen"), qPrintable(t.out));
    const auto predicted = parseObject(run({"predict", "--model", chosenModel, "--json", "--in", nyuFile(2)}).out.trimmed());
    const auto alone = parseObject(run({"predict", "--model", b > a ? slowModel : fastModel, "--json", "--in", nyuFile(2)}).out.trimmed());
    QCOMPARE(predicted["probability"].toDouble(), alone["probability"].toDouble());
    for (const auto& e : std::filesystem::directory_iterator(dir_))
      QVERIFY2(e.path().filename().string().find(".candidate-") == std::string::npos, e.path().string().c_str());
    // The report's methods name the choice.
    const auto diagnosis = run({"diagnose", "--model", chosenModel, "--in", nyuFile(2), "--json"});
    QVERIFY2(diagnosis.out.contains("configuration " + winner + " chosen from {tiny.json, tiny-slow.json} by AUC on its validation scans"),
             qPrintable(diagnosis.out + diagnosis.err));

    // Refusals, before any work.
    QCOMPARE(run({"evaluate", "-w", str(ws_), "--corpus", "asd", "--method", "logreg", "--config", tiny_, "--config", slow, "--cv", "3"}).exitCode, 64);
    QCOMPARE(run(QStringList(base) << "--config" << tiny_ << "--config" << tiny_).exitCode, 64);
    QCOMPARE(run(QStringList(base) << "--config" << tiny_ << "--config" << slow << "--regimes"
                                   << "1,0")
                 .exitCode,
             64);
    QCOMPARE(run(QStringList(base) << "--config" << tiny_ << "--config" << str(dir_ / "never.json")).exitCode, 66);
  }

  void metaLearningThenZeroShotOnAnUnseenTask() {
    const QString meta = str(dir_ / "meta.pt");
    const auto r = run({"meta-train", "-w", str(ws_), "--corpus", "asd", "--corpus", "sex", "--pretrained", pretrained_, "--meta-epochs", "2", "--first-order",
                        "--out", meta});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY(r.out.contains("2 tasks"));
    const auto z = run({"evaluate", "-w", str(ws_), "--corpus", "eyes", "--method", "zeroshot", "--meta", meta, "--json"});
    QVERIFY2(z.exitCode == 0, qPrintable(z.err));
    const auto o = parseObject(z.out);
    QCOMPARE(o["label_fraction"].toDouble(), 0.0);
    QCOMPARE(o["method"].toString(), QString("zeroshot"));
    QCOMPARE(o["trainable_parameters"].toInteger(), 0);
    QVERIFY(o["texts"].toObject()["task_text"].toString().contains("Eyes closed"));
    // Few-shot: the meta-learned prompts adapted from K = 4 graphs per class.
    const auto f =
        run({"evaluate", "-w", str(ws_), "--corpus", "eyes", "--method", "prompt", "--meta", meta, "--shots", "4", "--epochs", "2", "--cv", "2", "--json"});
    QVERIFY2(f.exitCode == 0, qPrintable(f.err));
    QCOMPARE(parseObject(f.out)["shots_per_class"].toInt(), 4);
    // Cross-fitted over the 8 labelled scans alone: 4 folds of 2 (one per class), each member learning from the other 6.
    QCOMPARE(parseObject(f.out)["folds_detail"].toArray()[0].toObject()["train_labels"].toInt(), 6);
    QCOMPARE(parseObject(f.out)["folds_detail"].toArray()[0].toObject()["validation"].toInt(), 8);
    QCOMPARE(parseObject(f.out)["ensemble"].toInt(), 4);
    // Zero-shot without a meta-learned model is a usage error.
    QCOMPARE(run({"evaluate", "-w", str(ws_), "--corpus", "eyes", "--method", "zeroshot"}).exitCode, 64);
  }

  // --estimate: a time and memory figure from the first seconds, nothing written where the run would write.
  // The model zoo through the same commands: pre-training BrainMass and LCM, BrainMass's linear probe
  // trained, carried in a model file and predicting; every architecture evaluated by --method; the
  // comparison command storing and printing the table.
  void modelZooFromTheCommandLine() {
    const QString w = str(ws_);
    const QString zoo = str(dir_ / "zoo.json"), zooPre = str(dir_ / "zoo-pre.json");
    std::ofstream(zoo.toStdString())
        << R"({"model": {"hidden": 16, "heads": 2, "layers": 1, "ffn": 32, "representation": 16}, "ensemble": 1, "epochs": 2, "batch_size": 32})";
    std::ofstream(zooPre.toStdString())
        << R"({"model": {"hidden": 16, "heads": 2, "layers": 1, "ffn": 32, "representation": 16}, "epochs": 1, "batch_size": 16})";
    const QString bm = str(dir_ / "brainmass-pre.pt"), lcm = str(dir_ / "lcm-pre.pt");
    for (const auto& [arch, file] : {std::pair{"brainmass", bm}, std::pair{"lcm", lcm}}) {
      const auto r = run({"pretrain", "-w", w, "--corpus", "asd", "--model", arch, "--config", zooPre, "--out", file});
      QVERIFY2(r.exitCode == 0, qPrintable(r.err));
      const auto summary = parseObject(r.out);
      QCOMPARE(summary["architecture"].toString(), QString(arch));
      QCOMPARE(summary["losses"].toArray().size(), 1);
      QVERIFY(std::filesystem::exists(file.toStdString()));
    }
    // LCM learned whatever phenotypes the workspace has: diagnosis per dataset, sex, age (NYU is one site).
    const auto vars = parseObject(run({"pretrain", "-w", w, "--corpus", "asd", "--model", "lcm", "--config", zooPre, "--out", lcm}).out)["variables"].toArray();
    QStringList names;
    for (const auto& v : vars) names << v.toObject()["name"].toString();
    QVERIFY2(names.contains("diagnosis@ABIDE_I") && names.contains("sex") && names.contains("age"), qPrintable(names.join(',')));

    const QString probe = str(dir_ / "probe.pt");
    mustRun({"train", "-w", w, "--corpus", "asd", "--method", "brainmass-probe", "--pretrained", bm, "--config", zoo, "--out", probe});
    const auto card = parseObject(run({"model", probe}).out);
    QCOMPARE(card["architecture"].toString(), QString("brainmass"));
    const auto p = run({"predict", "--model", probe, "--json", "--in", nyuFile(0)});
    QVERIFY2(p.exitCode == 0, qPrintable(p.err));
    const auto row = parseObject(p.out.trimmed());
    QVERIFY(row["probability"].toDouble() >= 0 && row["probability"].toDouble() <= 1);
    QCOMPARE(row["architecture"].toString(), QString("brainmass"));
    QCOMPARE(row["top_rois"].toArray().size(), 10);

    // The probe trains its head only: representation (16) x 2 classes + 2 biases.
    const auto probeEval = parseObject(
        run({"evaluate", "-w", w, "--corpus", "asd", "--method", "brainmass-probe", "--pretrained", bm, "--config", zoo, "--cv", "2", "--json"}).out);
    QCOMPARE(probeEval["trainable_parameters"].toInteger(), 34);
    for (const char* method : {"brainmass", "lcm", "gcn", "braingnn", "transformer", "graph_transformer", "brainnettf"}) {
      const auto r = run({"evaluate", "-w", w, "--corpus", "asd", "--method", method, "--config", zoo, "--cv", "2", "--epochs", "1", "--json"});
      QVERIFY2(r.exitCode == 0, qPrintable(QString(method) + ": " + r.err));
      const auto o = parseObject(r.out);
      QCOMPARE(o["method"].toString(), QString(method));
      QCOMPARE(o["metrics"].toObject()["auc"].toObject()["folds"].toArray().size(), 2);
      QVERIFY(o["trainable_parameters"].toInteger() > 0);
    }
    // LCM fine-tuned from its multitask pre-training (new task query, pseudo-labels).
    const auto lcmEval = run({"evaluate", "-w", w, "--corpus", "asd", "--method", "lcm", "--pretrained", lcm, "--config", zoo, "--cv", "2", "--json"});
    QVERIFY2(lcmEval.exitCode == 0, qPrintable(lcmEval.err));
    QCOMPARE(parseObject(lcmEval.out)["adaptation"].toString(), QString("finetune"));
    // A BrainMass file is not an LCM: a usage error naming both.
    const auto wrong = run({"evaluate", "-w", w, "--corpus", "asd", "--method", "lcm", "--pretrained", bm, "--config", zoo, "--cv", "2"});
    QCOMPARE(wrong.exitCode, 64);
    QVERIFY2(wrong.err.contains("brainmass") && wrong.err.contains("lcm"), qPrintable(wrong.err));

    // compare: every listed model on the same folds, stored; results --compare shows the same table.
    const QString cmp = str(dir_ / "compare.json");
    std::ofstream(cmp.toStdString())
        << R"({"default": {"ensemble": 1, "epochs": 1, "batch_size": 32, "model": {"hidden": 16, "heads": 2, "layers": 1, "ffn": 32}}})";
    const QString prefix = str(dir_ / "compare-out");
    const auto c = run(
        {"compare", "-w", w, "--corpus", "asd", "--methods", "logreg,gcn", "--cv", "3", "--seed", "7", "--config", cmp, "--format", "json", "--out", prefix});
    QVERIFY2(c.exitCode == 0, qPrintable(c.err));
    {
      // Every model's out-of-fold predictions, a row per model and scan; the paired test's pooled AUCs
      // are those of these rows, counted here pair by pair.
      std::ifstream csv((prefix + "-predictions.csv").toStdString());
      std::string line;
      std::getline(csv, line);
      QCOMPARE(QString::fromStdString(line), QString("model,label_fraction,fold,scan_id,subject,site,label,class,margin,probability"));
      std::map<std::string, std::vector<std::pair<int, double>>> byModel;
      std::map<std::string, std::set<std::string>> scans;
      while (std::getline(csv, line)) {
        const auto cells = QString::fromStdString(line).split(',');
        QCOMPARE(cells.size(), 10);
        byModel[cells[0].toStdString()].push_back({cells[6].toInt(), cells[9].toDouble()});
        scans[cells[0].toStdString()].insert(cells[3].toStdString());
      }
      QCOMPARE(byModel.size(), std::size_t(2));
      QCOMPARE(scans["gcn"], scans["logreg"]);  // the same folds: every scan once per model
      QCOMPARE(byModel["gcn"].size(), scans["gcn"].size());
      const auto pooledAuc = [](const std::vector<std::pair<int, double>>& rows) {
        double wins = 0, pairs = 0;
        for (const auto& [yi, pi] : rows)
          for (const auto& [yj, pj] : rows)
            if (yi == 1 && yj == 0) {
              pairs += 1;
              wins += pi > pj ? 1.0 : pi == pj ? 0.5 : 0.0;
            }
        return wins / pairs;
      };
      std::ifstream pairedFile((prefix + "-paired.json").toStdString());
      const auto paired = nlohmann::json::parse(pairedFile);
      QCOMPARE(paired.size(), std::size_t(1));
      QCOMPARE(paired[0]["model"].get<std::string>(), std::string("gcn"));
      QCOMPARE(paired[0]["reference"].get<std::string>(), std::string("logreg"));
      QVERIFY(std::fabs(paired[0]["pooled_auc"].get<double>() - pooledAuc(byModel["gcn"])) < 1e-9);
      QVERIFY(std::fabs(paired[0]["reference_pooled_auc"].get<double>() - pooledAuc(byModel["logreg"])) < 1e-9);
      QVERIFY(paired[0]["p"].get<double>() >= 0 && paired[0]["p"].get<double>() <= 1);
      QCOMPARE(paired[0]["scans"].get<std::size_t>(), scans["gcn"].size());
      // The evaluations kept their predictions in the workspace: results tests the stored comparison
      // exactly as compare tested the fresh one, and writes the same predictions.
      const QString storedCsv = str(dir_ / "stored-predictions.csv");
      const auto stored = run({"results", "-w", w, "--compare", "asd", "--split", "kfold/3-folds/seed-7", "--paired", "--reference", "logreg", "--format",
                               "json", "--predictions", storedCsv});
      QVERIFY2(stored.exitCode == 0, qPrintable(stored.err));
      const auto storedPaired = nlohmann::json::parse(stored.out.toStdString());
      QVERIFY2(storedPaired == paired, stored.out.toUtf8().constData());
      const auto linesOf = [](const QString& file) {
        std::ifstream in(file.toStdString());
        std::multiset<std::string> lines;
        for (std::string l; std::getline(in, l);) lines.insert(l);
        return lines;
      };
      QVERIFY(linesOf(storedCsv) == linesOf(prefix + "-predictions.csv"));
      const QString storedRoc = str(dir_ / "stored-roc.csv");
      QCOMPARE(run({"results", "-w", w, "--compare", "asd", "--split", "kfold/3-folds/seed-7", "--roc", storedRoc}).exitCode, 0);
      QVERIFY(linesOf(storedRoc) == linesOf(prefix + "-roc.csv"));
      QVERIFY(linesOf(storedRoc).size() > 4);
      const auto md = run({"results", "-w", w, "--compare", "asd", "--split", "kfold/3-folds/seed-7"});
      QVERIFY2(md.out.contains("Paired DeLong test against logreg") && md.out.contains("| gcn |"), qPrintable(md.out));
      QCOMPARE(run({"results", "-w", w, "--paired"}).exitCode, 64);  // --paired needs --compare
      // evaluate --name: another configuration of a method is a model of its own in the comparison.
      const auto named =
          run({"evaluate", "-w", w, "--corpus", "asd", "--method", "logreg", "--c", "0.1", "--cv", "3", "--seed", "7", "--name", "logreg C=0.1", "--json"});
      QVERIFY2(named.exitCode == 0, qPrintable(named.err));
      const auto withNamed = nlohmann::json::parse(
          run({"results", "-w", w, "--compare", "asd", "--split", "kfold/3-folds/seed-7", "--paired", "--reference", "logreg", "--format", "json"})
              .out.toStdString());
      QCOMPARE(withNamed.size(), std::size_t(2));
      QVERIFY2(withNamed[0]["model"] == "gcn" || withNamed[1]["model"] == "gcn", withNamed.dump().c_str());
      QVERIFY2(withNamed[0]["model"] == "logreg C=0.1" || withNamed[1]["model"] == "logreg C=0.1", withNamed.dump().c_str());
      QCOMPARE(run({"results", "-w", w, "--compare", "asd", "--split", "kfold/3-folds/seed-7", "--paired", "--reference", "svm"}).exitCode, 64);
    }
    const auto badReference = run({"compare", "-w", w, "--corpus", "asd", "--methods", "logreg,gcn", "--reference", "svm"});
    QCOMPARE(badReference.exitCode, 64);
    const auto table = QJsonDocument::fromJson(c.out.toUtf8()).array();
    QCOMPARE(table.size(), 2);
    QStringList models;
    for (const auto& t : table) models << t.toObject()["model"].toString();
    models.sort();
    QCOMPARE(models, (QStringList{"gcn", "logreg"}));
    const auto again = QJsonDocument::fromJson(run({"results", "-w", w, "--compare", "asd", "--split", "kfold", "--format", "json"}).out.toUtf8()).array();
    QCOMPARE(again.size() >= 2, true);
    for (const auto& t : table) {
      bool found = false;
      for (const auto& a : again)
        found = found || (a.toObject()["evaluation_id"] == t.toObject()["evaluation_id"] &&
                          a.toObject()["metrics"].toObject()["auc"].toObject()["mean"] == t.toObject()["metrics"].toObject()["auc"].toObject()["mean"]);
      QVERIFY(found);
    }
  }

  // Faults get one clear message (the file, what is wrong, what to do), never a library backtrace,
  // and leave nothing half-written.
  void faultsGiveOneClearMessage() {
    const auto out = dir_ / "faults";
    std::filesystem::create_directories(out);
    auto leftovers = [&] {
      int n = 0;
      for (const auto& e : std::filesystem::directory_iterator(out)) n += e.path().filename().string().find(".tmp-") != std::string::npos;
      return n;
    };
    auto clean = [](const bgtest::CliResult& r) { return !r.err.contains("frame #") && !r.err.contains("Exception raised") && !r.err.contains("terminate"); };
    // A full disk while pre-training writes its checkpoint (simulated: CI has no small filesystem).
    qputenv("BRAINGRAPH_TEST_WRITE_LIMIT", "4096");
    auto r = run({"pretrain", "-w", str(ws_), "--corpus", "asd", "--config", tinyPre_, "--epochs", "1", "--out", str(out / "pre.pt")});
    qunsetenv("BRAINGRAPH_TEST_WRITE_LIMIT");
    QCOMPARE(r.exitCode, 74);
    QVERIFY2(r.err.contains(str(out / "pre.pt.ckpt")) && r.err.contains("No space left") && clean(r), qPrintable(r.err));
    QCOMPARE(leftovers(), 0);
    mustRun({"pretrain", "-w", str(ws_), "--corpus", "asd", "--config", tinyPre_, "--epochs", "1", "--resume", "--out", str(out / "pre.pt")});
    QVERIFY(std::filesystem::exists(out / "pre.pt"));
    // Damaged model files: a cut JSON model, bytes that are no model, a pre-training file.
    mustRun({"train", "-w", str(ws_), "--corpus", "asd", "--method", "logreg", "--out", str(out / "logreg.json")});
    {
      std::ifstream in(out / "logreg.json");
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::ofstream(out / "cut.json") << text.substr(0, text.size() / 2);
      std::ofstream(out / "noise.pt") << "these bytes are not a model";
    }
    r = run({"predict", "--model", str(out / "cut.json"), "--in", nyuFile(2)});
    QCOMPARE(r.exitCode, 65);
    QVERIFY2(r.err.contains(str(out / "cut.json")) && r.err.contains("not valid JSON (line") && !r.err.contains("json.exception"), qPrintable(r.err));
    for (const auto& bad : {out / "noise.pt", out / "pre.pt"}) {
      r = run({"predict", "--model", QString::fromStdString(bad.string()), "--in", nyuFile(2)});
      QVERIFY2(r.exitCode == 65 && r.err.contains(QString::fromStdString(bad.string())) && clean(r), qPrintable(r.err));
    }
    // Configurations: a misspelt key (with the closest valid one), a wrong type, malformed JSON, a
    // negative learning rate; --lenient turns the unknown key into a warning.
    const std::string tinyModel = R"("model": {"hidden": 16, "heads": 2, "attention_layers": 1, "gnn_layers": 1, "ffn": 32}, "ensemble": 1)";
    std::ofstream(out / "misspelt.json") << "{" << tinyModel << R"(, "epoch": 1})";
    std::ofstream(out / "wrong-type.json") << R"({"epochs": "two"})";
    std::ofstream(out / "malformed.json") << "{\n  \"epochs\": 2,\n";
    std::ofstream(out / "negative.json") << R"({"learning_rate": -0.1})";
    auto trainWith = [&](const std::string& config, QStringList extra = {}) {
      return run(extra +
                 QStringList{"train", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", str(out / config), "--out", str(out / "never.pt")});
    };
    r = trainWith("misspelt.json");
    QVERIFY2(r.exitCode == 78 && r.err.contains("unknown key 'epoch'") && r.err.contains("did you mean 'epochs'?"), qPrintable(r.err));
    r = trainWith("wrong-type.json");
    QVERIFY2(r.exitCode == 78 && r.err.contains("'epochs' must be a whole number, not a string"), qPrintable(r.err));
    r = trainWith("malformed.json");
    QVERIFY2(r.exitCode == 78 && r.err.contains(str(out / "malformed.json")) && r.err.contains("line 3"), qPrintable(r.err));
    r = trainWith("negative.json");
    QVERIFY2(r.exitCode == 78 && r.err.contains("learning_rate must be positive") && clean(r), qPrintable(r.err));
    QVERIFY(!std::filesystem::exists(out / "never.pt"));
    r = trainWith("misspelt.json", {"--lenient"});
    QVERIFY2(r.exitCode == 0 && r.err.contains("unknown key 'epoch'") && r.err.contains("ignored (--lenient)"), qPrintable(r.err));
    QCOMPARE(leftovers(), 0);

    // SIGTERM cancels like Ctrl-C: exit 143, the checkpoint kept, no temporary left.
    {
      QProcess p;
      p.start(QStringLiteral(BRAINGRAPH_CLI),
              {"--threads", "1", "pretrain", "-w", str(ws_), "--corpus", "asd", "--config", tinyPre_, "--epochs", "5000", "--out", str(out / "long.pt")});
      QVERIFY(p.waitForStarted());
      QTRY_VERIFY_WITH_TIMEOUT(std::filesystem::exists(out / "long.pt.ckpt"), 120000);
      p.terminate();
      QVERIFY(p.waitForFinished(120000));
      QCOMPARE(p.exitStatus(), QProcess::NormalExit);
      QCOMPARE(p.exitCode(), 143);
      QVERIFY(std::filesystem::exists(out / "long.pt.ckpt") && !std::filesystem::exists(out / "long.pt"));
      QCOMPARE(leftovers(), 0);
    }
    // A killed process's temporaries: reported by workspace check, removed by the next command that
    // opens the workspace; a live process's are left alone.
    qint64 gone = 0;
    {
      QProcess p;  // a process that has ended: a shell that prints its own pid and exits
      p.start(QStringLiteral("sh"), {"-c", "sh -c 'echo $$'"});
      QVERIFY(p.waitForFinished());
      gone = p.readAllStandardOutput().trimmed().toLongLong();
    }
    QVERIFY(gone > 0);
    const auto arraysDir = ws_ / "arrays" / "00";
    std::filesystem::create_directories(arraysDir);
    const auto stale = arraysDir / (".tmp-" + std::to_string(gone) + "-0"), live = arraysDir / (".tmp-" + std::to_string(::getpid()) + "-0");
    const auto staleCkpt = ws_ / "models" / ("cache.pt.ckpt.tmp-" + std::to_string(gone));
    std::filesystem::create_directories(staleCkpt.parent_path());
    for (const auto& f : {stale, live, staleCkpt}) std::ofstream(f) << "half-written";
    r = run({"workspace", "check", "-w", str(ws_)});
    QVERIFY2(r.exitCode == 0 && r.out.contains(QString::fromStdString(stale.string())) && r.out.contains(QString::fromStdString(staleCkpt.string())) &&
                 !r.out.contains(QString::fromStdString(live.string())),
             qPrintable(r.out + r.err));
    QVERIFY(std::filesystem::exists(stale));
    mustRun({"corpus", "list", "-w", str(ws_)});
    QVERIFY(!std::filesystem::exists(stale) && !std::filesystem::exists(staleCkpt));
    QVERIFY(std::filesystem::exists(live));  // its process (this test) still runs
    std::filesystem::remove(live);
  }

  void estimateWritesNothing() {
    const auto out = dir_ / "estimated.pt";
    const auto r = run({"--estimate", "pretrain", "-w", str(ws_), "--corpus", "asd", "--config", tinyPre_, "--epochs", "20", "--out", str(out)});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto o = parseObject(r.out.trimmed().split('\n').last());
    QVERIFY2(o["estimated_seconds"].toDouble() > 0, qPrintable(r.out));
    QVERIFY(o["estimated_seconds"].toDouble() >= o["measured_seconds"].toDouble());
    QVERIFY(o["peak_memory_mib"].toDouble() > 10);
    QVERIFY(!std::filesystem::exists(out));
    QVERIFY(!std::filesystem::exists(out.string() + ".ckpt"));
  }

  // A tracked run (what the GUI launches) writes its curves and final metrics; runs compare; a
  // trained model is released with a stored evaluation in its card, refused against another corpus.
  void trackedRunsCurvesCompareAndRelease() {
    const QString w = str(ws_);
    const QString log1 = str(dir_ / "runs-a.log"), log2 = str(dir_ / "runs-b.log");
    const QString model = str(dir_ / "scratch-tracked.pt");
    qputenv("BRAINGRAPH_TRACK_RUN", w.toUtf8());
    qputenv("BRAINGRAPH_RUN_LOG", log1.toUtf8());
    const auto a = run({"train", "-w", w, "--corpus", "asd", "--method", "scratch", "--config", tiny_, "--epochs", "2", "--out", model});
    qputenv("BRAINGRAPH_RUN_LOG", log2.toUtf8());
    const auto b = run({"evaluate", "-w", w, "--corpus", "asd", "--method", "logreg", "--cv", "3", "--json"});
    qunsetenv("BRAINGRAPH_TRACK_RUN");
    qunsetenv("BRAINGRAPH_RUN_LOG");
    QVERIFY2(a.exitCode == 0, qPrintable(a.err));
    QVERIFY2(b.exitCode == 0, qPrintable(b.err));
    // The curves file: the training loss per batch, validation AUC and loss at epochs 1 and 2.
    std::vector<std::pair<std::string, double>> points;
    {
      std::ifstream in(dir_ / "runs-a.metrics.jsonl");
      std::string line;
      while (std::getline(in, line)) {
        const auto o = parseObject(QString::fromStdString(line));
        if (o.contains("s")) points.emplace_back(o["s"].toString().toStdString(), o["x"].toDouble());
      }
    }
    std::vector<double> validationX;
    int trainPoints = 0;
    for (const auto& [series, x] : points) {
      if (series == "validation/auc") validationX.push_back(x);
      if (series == "loss/train") ++trainPoints;
    }
    QCOMPARE(validationX, (std::vector<double>{1.0, 2.0}));
    QVERIFY(trainPoints >= 2);
    const auto list = QJsonDocument::fromJson(run({"runs", "list", "-w", w, "--json"}).out.toUtf8()).array();
    QVERIFY(list.size() >= 2);
    const auto evalRun = list[0].toObject(), trainRun = list[1].toObject();  // newest first
    // The same list as CSV (every command that prints results takes --format text|json|csv|md): a header, a row per run.
    const auto csvList = run({"runs", "list", "-w", w, "--format", "csv"}).out.trimmed().split('\n');
    QCOMPARE(csvList.size(), list.size() + 1);
    QVERIFY2(csvList[0] == QStringLiteral("id,task,state,progress,stage,started"), qPrintable(csvList[0]));
    QVERIFY2(csvList[1].startsWith(QString::number(evalRun["id"].toInt()) + ",evaluate logreg,completed,100.0 %"), qPrintable(csvList[1]));
    QCOMPARE(trainRun["state"].toString(), QString("completed"));
    QCOMPARE(trainRun["task"].toString(), QString("train scratch"));
    QCOMPARE(trainRun["config"].toObject()["command"].toString(), QString("train"));
    QVERIFY(trainRun["metrics"].toObject().contains("validation/auc"));
    QCOMPARE(trainRun["config"].toObject()["config"].toObject()["model"].toObject()["hidden"].toInt(), 16);  // the --config file's JSON
    // The evaluation's final test AUC is the mean of its per-fold test AUCs (those of the JSON it printed), with their SD.
    const auto foldAucs = parseObject(b.out)["metrics"].toObject()["auc"].toObject()["folds"].toArray();
    double meanAuc = 0;
    for (const auto& f : foldAucs) meanAuc += f.toDouble() / foldAucs.size();
    QVERIFY(std::abs(evalRun["metrics"].toObject()["test/auc"].toDouble() - meanAuc) < 1e-12);
    QVERIFY(evalRun["metrics"].toObject().contains("test/auc sd"));
    // What each run used is recorded: the evaluation's split and its configuration after the defaults.
    QCOMPARE(evalRun["config"].toObject()["effective"].toObject()["split"].toObject()["kind"].toString(), QString("kfold"));
    QCOMPARE(trainRun["config"].toObject()["effective"].toObject()["config"].toObject()["model"].toObject()["hidden"].toInt(), 16);
    const auto cmp =
        parseObject(run({"runs", "compare", QString::number(trainRun["id"].toInt()), QString::number(evalRun["id"].toInt()), "-w", w, "--json"}).out);
    QStringList keys;
    for (const auto& d : cmp["configuration"].toArray()) keys << d.toObject()["key"].toString();
    QVERIFY2(keys.contains("command") && keys.contains("options.--cv") && keys.contains("options.--method"), qPrintable(keys.join(',')));
    QVERIFY(!keys.contains("options.--corpus"));  // the same in both
    // Release the BrainGFM model with the evaluation: its card carries it; the weights are untouched.
    const auto results = QJsonDocument::fromJson(run({"results", "-w", w, "--format", "json"}).out.toUtf8()).array();
    const int evaluationId = results.last().toObject()["id"].toInt();
    const double auc = results.last().toObject()["result"].toObject()["metrics"].toObject()["auc"].toObject()["mean"].toDouble();
    const QString released = str(dir_ / "released.pt");
    mustRun(
        {"release", "-w", w, "--model", model, "--evaluation", QString::number(evaluationId), "--name", "ASD screen v1", "--by", "tester", "--out", released});
    const auto card = parseObject(run({"model", released}).out);
    QCOMPARE(card["release"].toObject()["name"].toString(), QString("ASD screen v1"));
    QCOMPARE(card["evaluation"].toObject()["evaluation_run"].toInt(), evaluationId);
    QCOMPARE(card["evaluation"].toObject()["metrics"].toObject()["auc"].toObject()["mean"].toDouble(), auc);
    const auto p0 = parseObject(run({"predict", "--model", model, "--json", "--in", nyuFile(3)}).out)["probability"].toDouble();
    const auto p1 = parseObject(run({"predict", "--model", released, "--json", "--in", nyuFile(3)}).out)["probability"].toDouble();
    QCOMPARE(p1, p0);
    // Another corpus's evaluation does not back this model; the release never overwrites its source.
    const auto other = run({"evaluate", "-w", w, "--corpus", "eyes", "--method", "logreg", "--cv", "2", "--json"});
    QVERIFY2(other.exitCode == 0, qPrintable(other.err));
    const auto all = QJsonDocument::fromJson(run({"results", "-w", w, "--format", "json"}).out.toUtf8()).array();
    const auto refused = run({"release", "-w", w, "--model", model, "--evaluation", QString::number(all.last().toObject()["id"].toInt()), "--name", "x",
                              "--out", str(dir_ / "refused.pt")});
    QCOMPARE(refused.exitCode, 65);
    QVERIFY(refused.err.contains("eyes"));
    QVERIFY(!std::filesystem::exists(dir_ / "refused.pt"));
    QCOMPARE(run({"release", "-w", w, "--model", model, "--evaluation", QString::number(evaluationId), "--name", "x", "--out", model}).exitCode, 64);
  }
};

QTEST_GUILESS_MAIN(TestTuningCli)
#include "test_tuning_cli.moc"
