// Metrics and classical baselines against independent computations.
#include <QTest>

#include <QTemporaryDir>

#include <algorithm>
#include <cmath>
#include <limits>
#include <filesystem>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "errors/Error.h"
#include "connectome/Connectivity.h"
#include "eval/BaselineModel.h"
#include "eval/Baselines.h"
#include "eval/Calibration.h"
#include "eval/CrossFit.h"
#include "eval/Evaluation.h"
#include "jobs/Progress.h"
#include "eval/ConfigurationChoice.h"
#include "eval/Metrics.h"
#include "eval/ModelComparison.h"
#include "eval/RegularisationSearch.h"
#include "eval/Results.h"
#include "workspace/Corpus.h"
#include "workspace/Workspace.h"

using namespace bg;

namespace {
// The AUC by its definition: the share of (positive, negative) pairs ordered correctly, ties half.
double pairCountedAuc(const std::vector<int>& y, const std::vector<double>& s) {
  double wins = 0, pairs = 0;
  for (std::size_t i = 0; i < y.size(); ++i)
    for (std::size_t j = 0; j < y.size(); ++j)
      if (y[i] == 1 && y[j] == 0) {
        pairs += 1;
        wins += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
      }
  return wins / pairs;
}
}  // namespace

class TestBaselines : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  // The comparison table: the latest evaluation per model, only identical folds, only 100% labels,
  // best AUC first; NAME+pretrained entries and per-method configurations.
  void comparisonTableKeepsIdenticalFoldsOnly() {
    auto record = [](std::int64_t id, const std::string& method, double auc, int folds, double fraction = 1.0, bool pretrained = false) {
      EvaluationRecord r;
      r.id = id;
      r.corpus = "asd";
      r.request = {{"method", method}, {"pretrain_in_folds", pretrained}};
      r.result = {{"method", method},
                  {"label_fraction", fraction},
                  {"items", 100},
                  {"split", {{"kind", "kfold"}, {"folds", folds}, {"seed", 0}}},
                  {"metrics", {{"auc", {{"mean", auc}, {"sd", 0.01}, {"ci95", {auc - 0.02, auc + 0.02}}}}}},
                  {"trainable_parameters", 10 * id},
                  {"training_seconds", 1.5 * static_cast<double>(id)}};
      return r;
    };
    const std::vector<EvaluationRecord> all = {record(1, "logreg", 0.70, 5), record(2, "gcn", 0.60, 5),      record(3, "gcn", 0.65, 5),
                                               record(4, "gcn", 0.90, 10),   record(5, "lcm", 0.95, 5, 0.1), record(6, "lcm", 0.62, 5, 1.0, true)};
    const auto rows = comparisonTable(all, "asd", "kfold/5-folds/seed-0");
    QCOMPARE(static_cast<int>(rows.size()), 3);
    QCOMPARE(QString::fromStdString(rows[0].model), QStringLiteral("logreg"));
    QCOMPARE(QString::fromStdString(rows[1].model), QStringLiteral("gcn"));
    QCOMPARE(rows[1].evaluationId, 3);  // the later of the two 5-fold gcn evaluations
    QCOMPARE(QString::fromStdString(rows[2].model), QStringLiteral("lcm (pre-trained in folds)"));
    // A kind alone means its most recent folds: the 10-fold gcn (id 4) came after the first 5-fold ones,
    // but the 5-fold lcm (id 6) is the most recent of all.
    QCOMPARE(static_cast<int>(comparisonTable(all, "asd", "kfold").size()), 3);
    QCOMPARE(comparisonSplits(all, "asd"), (std::vector<std::string>{"kfold/5-folds/seed-0", "kfold/10-folds/seed-0"}));
    QVERIFY(comparisonTable(all, "other").empty());
    // A named evaluation (evaluate --name) is a model of its own beside its method's latest one.
    auto named = all;
    named.push_back(record(7, "gcn", 0.66, 5));
    named.back().request["name"] = "gcn, wider";
    const auto withName = comparisonTable(named, "asd", "kfold/5-folds/seed-0");
    QCOMPARE(static_cast<int>(withName.size()), 4);
    QVERIFY(std::any_of(withName.begin(), withName.end(), [](const ComparisonRow& r) { return r.model == "gcn, wider" && r.evaluationId == 7; }));
    QVERIFY(std::any_of(withName.begin(), withName.end(), [](const ComparisonRow& r) { return r.model == "gcn" && r.evaluationId == 3; }));
    // The graph input keeps a method's Pearson and tangent-space evaluations apart (Pearson FC is not named).
    auto inputs = all;
    inputs.push_back(record(8, "finetune", 0.67, 5, 1.0, true));
    inputs.back().result["config"] = {{"input", {{"kind", "tangent"}, {"standardise_edges", true}}}};
    inputs.push_back(record(9, "finetune", 0.66, 5, 1.0, true));
    inputs.back().result["config"] = {{"input", {{"kind", "fc"}, {"standardise_edges", false}}}};
    QCOMPARE(comparisonModelName(inputs[6]), std::string("finetune (pre-trained in folds), tangent-z input"));
    QCOMPARE(comparisonModelName(inputs[7]), std::string("finetune (pre-trained in folds)"));
    QCOMPARE(static_cast<int>(comparisonTable(inputs, "asd", "kfold/5-folds/seed-0").size()), 5);
    const auto md = renderComparison(rows, "md");
    QVERIFY(md.find("| gcn | 0.650 ± 0.010 [0.630, 0.670]") != std::string::npos);
    QCOMPARE(static_cast<int>(nlohmann::json::parse(renderComparison(rows, "json")).size()), 3);

    QVERIFY(parseComparisonEntry("brainmass-probe").pretrainInFolds);
    QVERIFY(!parseComparisonEntry("lcm").pretrainInFolds);
    const auto e = parseComparisonEntry("lcm+pretrained");
    QCOMPARE(QString::fromStdString(e.method), QStringLiteral("lcm"));
    QVERIFY(e.pretrainInFolds);
    const nlohmann::json file = {{"default", {{"epochs", 20}, {"model", {{"hidden", 32}}}}},
                                 {"gcn", {{"epochs", 5}}},
                                 {"braingfm", {{"model", {{"hidden", 16}}}}},
                                 {"pretrain", {{"lcm", {{"epochs", 3}}}}}};
    QCOMPARE(comparisonTuningConfig(file, "gcn")["epochs"].get<int>(), 5);
    QCOMPARE(comparisonTuningConfig(file, "gcn")["model"]["hidden"].get<int>(), 32);
    QCOMPARE(comparisonTuningConfig(file, "finetune")["model"]["hidden"].get<int>(), 16);  // BrainGFM's own sizes, not the zoo's
    QCOMPARE(comparisonPretrainConfig(file, "lcm")["epochs"].get<int>(), 3);
    QVERIFY(comparisonPretrainConfig(file, "brainmass").empty());
  }

  void aucMatchesPairCounting() {
    std::mt19937 rng(4);
    std::uniform_real_distribution<double> u;
    std::vector<int> y;
    std::vector<double> p;
    for (int i = 0; i < 200; ++i) {
      y.push_back(i % 3 == 0);
      p.push_back(std::round((u(rng) + 0.3 * y.back()) * 20) / 20);  // coarse: many ties
    }
    const auto m = binaryMetrics(y, p);
    QVERIFY(std::fabs(m.auc - pairCountedAuc(y, p)) < 1e-12);
    const auto perfect = binaryMetrics({0, 0, 1, 1}, {0.1, 0.4, 0.6, 0.9});
    QCOMPARE(perfect.auc, 1.0);
    QCOMPARE(perfect.accuracy, 1.0);
    QCOMPARE(perfect.f1, 1.0);
    const auto half = binaryMetrics({0, 1, 1, 0}, {0.6, 0.7, 0.2, 0.1});  // tp 1, fn 1, fp 1, tn 1
    QCOMPARE(half.sensitivity, 0.5);
    QCOMPARE(half.specificity, 0.5);
    QCOMPARE(half.balancedAccuracy, 0.5);
  }

  // DeLong's standard error of an AUC difference against its sampling distribution: many independent
  // samples of two correlated scores, the spread of their AUC difference measured directly.
  void delongStandardErrorMatchesSimulation() {
    std::mt19937 rng(8);
    std::normal_distribution<double> g;
    const int reps = 1000, perClass = 60;
    std::vector<double> differences, variances;
    int nullRejections = 0;
    for (int r = 0; r < reps; ++r) {
      std::vector<int> y;
      std::vector<double> a, b, c;
      for (int i = 0; i < 2 * perClass; ++i) {
        const int label = i % 2;
        const double shared = g(rng);  // both models see the same scan: correlated scores
        y.push_back(label);
        a.push_back(1.0 * label + 0.7 * shared + 0.7 * g(rng));
        b.push_back(0.5 * label + 0.7 * shared + 0.7 * g(rng));
        c.push_back(1.0 * label + 0.7 * shared + 0.7 * g(rng));  // as good as a: the null
      }
      const auto t = delongTest(y, a, b);
      QVERIFY(std::fabs(t.aucA - binaryMetrics(y, a).auc) < 1e-12 && std::fabs(t.aucB - binaryMetrics(y, b).auc) < 1e-12);
      differences.push_back(t.difference);
      variances.push_back(t.se * t.se);
      nullRejections += delongTest(y, a, c).p < 0.05;
    }
    double mean = 0, meanVariance = 0;
    for (int r = 0; r < reps; ++r) mean += differences[static_cast<std::size_t>(r)] / reps;
    double empirical = 0;
    for (int r = 0; r < reps; ++r) {
      empirical += (differences[static_cast<std::size_t>(r)] - mean) * (differences[static_cast<std::size_t>(r)] - mean) / (reps - 1);
      meanVariance += variances[static_cast<std::size_t>(r)] / reps;
    }
    QVERIFY2(meanVariance / empirical > 0.8 && meanVariance / empirical < 1.25, qPrintable(QString("%1 vs %2").arg(meanVariance).arg(empirical)));
    QVERIFY2(mean > 0.05, qPrintable(QString::number(mean)));                                                              // a is the better model
    QVERIFY2(nullRejections > 0.02 * reps && nullRejections < 0.085 * reps, qPrintable(QString::number(nullRejections)));  // about 5%

    // Identical scores: no difference, p = 1. Swapping the models flips the sign only.
    const std::vector<int> y = {0, 1, 0, 1, 1, 0, 1, 0};
    const std::vector<double> a = {0.1, 0.8, 0.4, 0.35, 0.9, 0.2, 0.6, 0.7}, b = {0.3, 0.6, 0.2, 0.5, 0.7, 0.4, 0.5, 0.1};
    const auto same = delongTest(y, a, a);
    QCOMPARE(same.difference, 0.0);
    QCOMPARE(same.p, 1.0);
    const auto ab = delongTest(y, a, b), ba = delongTest(y, b, a);
    QVERIFY(std::fabs(ab.z + ba.z) < 1e-12 && std::fabs(ab.p - ba.p) < 1e-12 && ab.se > 0);
    QVERIFY_THROWS_EXCEPTION(Error, delongTest({0, 1, 1}, {0.1, 0.2, 0.3}, {0.1, 0.2, 0.3}));  // one negative
  }

  // compare's paired tests: scans matched by id (any order), scans one model lacks left out.
  void pairedComparisonMatchesScans() {
    using nlohmann::json;
    const std::vector<int> y = {0, 1, 0, 1, 1, 0, 1, 0};
    const std::vector<double> a = {0.1, 0.8, 0.4, 0.35, 0.9, 0.2, 0.6, 0.7}, b = {0.3, 0.6, 0.2, 0.5, 0.7, 0.4, 0.5, 0.1};
    json ref = {{"predictions", json::array()}}, other = {{"predictions", json::array()}};
    for (std::size_t i = 0; i < y.size(); ++i) {
      ref["predictions"].push_back({{"scan_id", 100 + i}, {"label", y[i]}, {"probability", b[i]}});
      other["predictions"].push_back({{"scan_id", 100 + (y.size() - 1 - i)}, {"label", y[y.size() - 1 - i]}, {"probability", a[y.size() - 1 - i]}});
    }
    other["predictions"].push_back({{"scan_id", 999}, {"label", 1}, {"probability", 0.99}});  // not in the reference's predictions
    const auto rows = pairedAucComparison({{"logreg", ref}, {"braingfm", other}}, "logreg");
    QCOMPARE(rows.size(), std::size_t(1));
    const auto expected = delongTest(y, a, b);
    QCOMPARE(rows[0].model, std::string("braingfm"));
    QVERIFY(std::fabs(rows[0].test.z - expected.z) < 1e-12 && std::fabs(rows[0].test.aucA - expected.aucA) < 1e-12);
    QCOMPARE(rows[0].test.positives + rows[0].test.negatives, 8);
    const auto md = renderPairedComparison(rows, "md");
    QVERIFY2(md.find("| braingfm |") != std::string::npos && md.find("against logreg") != std::string::npos, md.c_str());
    const auto j = json::parse(renderPairedComparison(rows, "json"));
    QVERIFY(std::fabs(j[0]["p"].get<double>() - expected.p) < 1e-12);
    QCOMPARE(rows[0].pHolm, rows[0].test.p);  // one test: nothing to adjust
    QCOMPARE(renderPairedComparison(rows, "csv").substr(0, 24), std::string("model,reference,pooled_a"));
    QVERIFY_THROWS_EXCEPTION(Error, pairedAucComparison({{"braingfm", other}}, "logreg"));  // no reference predictions
    other["predictions"][0]["label"] = 1 - other["predictions"][0]["label"].get<int>();
    QVERIFY_THROWS_EXCEPTION(Error, pairedAucComparison({{"logreg", ref}, {"braingfm", other}}, "logreg"));  // the labels disagree
  }

  // Evaluations keep their out-of-fold predictions in the workspace, and a stored comparison is tested
  // from them as compare tests its fresh ones; an evaluation stored without predictions is named.
  void storedComparisonTestsStoredPredictions() {
    using nlohmann::json;
    QTemporaryDir tmp;
    auto ws = Workspace::create(std::filesystem::path(tmp.path().toStdString()) / "ws");
    std::mt19937 rng(5);
    std::normal_distribution<double> noise;
    const json classes = {"control", "autism"};
    std::vector<int> labels;
    std::vector<double> ref, other;
    json refRows = json::array(), otherRows = json::array();
    for (int i = 0; i < 40; ++i) {
      const int y = i % 2;
      const double mRef = 0.8 * y + noise(rng), mOther = 1.6 * y + noise(rng);
      labels.push_back(y);
      ref.push_back(1 / (1 + std::exp(-mRef)));
      other.push_back(1 / (1 + std::exp(-mOther)));
      const json item = {{"scan_id", 500 + i}, {"subject", "sub-" + std::to_string(i)}, {"site", i < 20 ? "NYU" : "UM"}};
      refRows.push_back(outOfFoldPrediction(1 + i % 5, item, classes, y, mRef, ref.back()));
      otherRows.push_back(outOfFoldPrediction(1 + i % 5, item, classes, y, mOther, other.back()));
    }
    auto result = [](const std::string& method) {
      return json{{"method", method},
                  {"label_fraction", 1.0},
                  {"items", 40},
                  {"split", {{"kind", "kfold"}, {"folds", 5}, {"seed", 0}}},
                  {"metrics", {{"auc", {{"mean", 0.7}, {"sd", 0.05}, {"ci95", {0.6, 0.8}}}}}}};
    };
    // No corpus named "asd" exists here, so the evaluations list under the empty corpus name.
    const auto older = recordEvaluation(*ws, "asd", {{"method", "svm"}}, result("svm"));  // as an older version stored it
    const auto refId = recordEvaluation(*ws, "asd", {{"method", "logreg"}}, result("logreg"), refRows);
    recordEvaluation(*ws, "asd", {{"method", "scratch"}}, result("scratch"), otherRows);
    QVERIFY(evaluationPredictions(*ws, refId) == refRows);
    QVERIFY(evaluationPredictions(*ws, older).empty());
    QVERIFY(evaluationPredictions(*ws, 12345).empty());
    const auto rows = comparisonTable(listEvaluations(*ws), "", "kfold");
    QCOMPARE(rows.size(), std::size_t(3));
    QCOMPARE(defaultComparisonReference(rows), std::string("logreg"));
    const auto stored = storedPairedComparison(*ws, rows, "logreg");
    QCOMPARE(stored.missing, std::vector<std::string>{"svm"});
    QCOMPARE(stored.rows.size(), std::size_t(1));
    QCOMPARE(stored.rows[0].model, std::string("scratch"));
    const auto expected = delongTest(labels, other, ref);
    QVERIFY(std::fabs(stored.rows[0].test.z - expected.z) < 1e-12 && std::fabs(stored.rows[0].test.p - expected.p) < 1e-12);
    QVERIFY(std::fabs(stored.rows[0].test.aucA - pairCountedAuc(labels, other)) < 1e-12);
    // Both models' stored predictions, one CSV row each per scan.
    std::vector<json> named;
    for (const auto& m : stored.outOfFold) named.push_back(m.second);
    const auto csv = renderPredictionsCsv(named);
    QCOMPARE(static_cast<int>(std::count(csv.begin(), csv.end(), '\n')), 1 + 2 * 40);
    QVERIFY(csv.rfind("model,", 0) == 0);
    // The reference without predictions: nothing to test, and it is named.
    const auto noReference = storedPairedComparison(*ws, rows, "svm");
    QVERIFY(noReference.rows.empty());
    QCOMPARE(noReference.missing, std::vector<std::string>{"svm"});
    QVERIFY_THROWS_EXCEPTION(Error, storedPairedComparison(*ws, rows, "gcn"));  // not compared
  }

  // Holm's step-down adjustment, worked by hand: sorted 0.01, 0.03, 0.04, 0.20 times 4, 3, 2, 1,
  // kept non-decreasing and at most 1.
  void holmAdjustmentStepsDown() {
    const auto a = holmAdjusted({0.01, 0.04, 0.03, 0.20});
    const std::vector<double> expected = {0.04, 0.09, 0.09, 0.20};
    for (std::size_t i = 0; i < a.size(); ++i) QVERIFY2(std::fabs(a[i] - expected[i]) < 1e-12, std::to_string(a[i]).c_str());
    QCOMPARE(holmAdjusted({0.5, 0.6}), (std::vector<double>{1.0, 1.0}));
    QVERIFY(holmAdjusted({}).empty());
    // In a comparison, each row carries the adjustment over every model tested against the reference.
    using nlohmann::json;
    std::mt19937 rng(9);
    std::normal_distribution<double> noise;
    std::vector<std::pair<std::string, json>> outOfFold;
    for (const auto& [name, effect] : std::vector<std::pair<std::string, double>>{{"logreg", 0.5}, {"a", 1.5}, {"b", 0.6}, {"c", 2.0}}) {
      json rows = json::array();
      std::mt19937 local(rng());
      for (int i = 0; i < 60; ++i) rows.push_back({{"scan_id", i}, {"label", i % 2}, {"probability", effect * (i % 2) + noise(local)}});
      outOfFold.emplace_back(name, json{{"predictions", rows}});
    }
    const auto rows = pairedAucComparison(outOfFold, "logreg");
    QCOMPARE(rows.size(), std::size_t(3));
    std::vector<double> p;
    for (const auto& r : rows) p.push_back(r.test.p);
    const auto adjusted = holmAdjusted(p);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      QCOMPARE(rows[i].pHolm, adjusted[i]);
      QVERIFY(rows[i].pHolm >= rows[i].test.p);
    }
    QVERIFY(renderPairedComparison(rows, "md").find("adjusted for the 3 tests") != std::string::npos);
  }

  // The ROC curve's trapezoidal area is the AUC counted pair by pair, ties included.
  void rocCurveAreaIsTheAuc() {
    std::mt19937 rng(11);
    std::normal_distribution<double> g;
    std::vector<int> y;
    std::vector<double> s;
    for (int i = 0; i < 200; ++i) {
      y.push_back(i % 3 == 0 ? 1 : 0);
      s.push_back(std::round((0.7 * y.back() + g(rng)) * 4) / 4);  // coarse: many ties
    }
    const auto curve = rocCurve(y, s);
    QCOMPARE(curve.front().falsePositiveRate, 0.0);
    QCOMPARE(curve.front().truePositiveRate, 0.0);
    QCOMPARE(curve.back().falsePositiveRate, 1.0);
    QCOMPARE(curve.back().truePositiveRate, 1.0);
    double area = 0;
    for (std::size_t k = 1; k < curve.size(); ++k) {
      QVERIFY(curve[k].threshold < curve[k - 1].threshold);
      QVERIFY(curve[k].falsePositiveRate >= curve[k - 1].falsePositiveRate && curve[k].truePositiveRate >= curve[k - 1].truePositiveRate);
      area += (curve[k].falsePositiveRate - curve[k - 1].falsePositiveRate) * (curve[k].truePositiveRate + curve[k - 1].truePositiveRate) / 2;
    }
    const double auc = pairCountedAuc(y, s);
    QVERIFY2(std::fabs(area - auc) < 1e-12, (std::to_string(area) + " vs " + std::to_string(auc)).c_str());
    QVERIFY_THROWS_EXCEPTION(Error, rocCurve({1, 1}, {0.2, 0.3}));
    // A comparison's curves as CSV: a header, then every model's points.
    using nlohmann::json;
    json rows = json::array();
    for (std::size_t i = 0; i < y.size(); ++i) rows.push_back({{"scan_id", i}, {"label", y[i]}, {"probability", s[i]}});
    const auto csv = renderRocCurvesCsv({{"logreg", json{{"predictions", rows}}}});
    QVERIFY(csv.rfind("model,threshold,false_positive_rate,true_positive_rate\n", 0) == 0);
    QCOMPARE(static_cast<std::size_t>(std::count(csv.begin(), csv.end(), '\n')), 1 + curve.size());
  }

  void intervalUsesStudentT() {
    const auto i = interval95({0.70, 0.72, 0.74, 0.76});
    QVERIFY(std::fabs(i.mean - 0.73) < 1e-12);
    const double sd = std::sqrt((0.0009 + 0.0001 + 0.0001 + 0.0009) / 3.0);
    QVERIFY(std::fabs(i.sd - sd) < 1e-12);
    QVERIFY(std::fabs(i.high - (0.73 + 3.182 * sd / 2.0)) < 1e-9);
    // Fold metrics are bounded: their reported interval is clipped to [0, 1], the raw one is not.
    std::vector<BinaryMetrics> folds(3);
    folds[0].sensitivity = 0.0;
    folds[1].sensitivity = 1.0;
    folds[2].sensitivity = 0.1;
    QVERIFY(interval95({0.0, 1.0, 0.1}).low < 0.0);
    const auto summary = summarizeFolds(folds);
    QCOMPARE(summary["sensitivity"]["ci95"][0].get<double>(), 0.0);
    QVERIFY(summary["sensitivity"]["ci95"][1].get<double>() <= 1.0);
  }

  void logisticRegressionReachesTheOptimum() {
    // p >> n, as with FC features.
    std::mt19937 rng(2);
    std::normal_distribution<double> g;
    const int n = 60, p = 500;
    Eigen::MatrixXd x(n, p);
    Eigen::VectorXi y(n);
    for (int i = 0; i < n; ++i) {
      y(i) = i % 2;
      for (int j = 0; j < p; ++j) x(i, j) = g(rng) + (j < 10 ? 0.8 * y(i) : 0.0);
    }
    const double c = 0.05;
    LogisticRegression lr(c);
    lr.fit(x, y);
    // Stationarity of C * sum logloss + |w|^2 / 2: w = -C X'(mu - y) and sum(mu - y) = 0.
    const Eigen::VectorXd mu = lr.probability(x);
    const Eigen::VectorXd r = mu - y.cast<double>();
    QVERIFY((lr.weights() + c * x.transpose() * r).cwiseAbs().maxCoeff() < 1e-6);
    QVERIFY(std::fabs(r.sum()) < 1e-3);
    QVERIFY(binaryMetrics(std::vector<int>(y.data(), y.data() + n), std::vector<double>(mu.data(), mu.data() + n)).auc > 0.95);
  }

  // Three candidate configurations on the same two folds, with made-up validation AUCs and test
  // predictions: each fold must keep the candidate with the best validation AUC (a tie: the one listed
  // first), and the result's metrics must be those of the kept predictions.
  void configurationChoiceKeepsEachFoldsBestValidation() {
    std::mt19937 rng(5);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    const std::vector<std::vector<double>> validation = {{0.60, 0.70}, {0.65, 0.70}, {0.62, 0.55}};  // [candidate][fold]
    std::vector<ConfigurationCandidate> candidates;
    std::vector<std::vector<std::vector<double>>> probabilities(3);  // [candidate][fold][scan]
    const std::vector<int> labels = {0, 1, 0, 1, 1, 0, 1, 0, 0, 1};
    for (int k = 0; k < 3; ++k) {
      nlohmann::json r = {{"split", {{"kind", "kfold"}, {"seed", 0}, {"folds", 2}}},
                          {"items", 20},
                          {"config", {{"epochs", 10 + k}}},
                          {"trainable_parameters", 100 * (k + 1)},
                          {"training_seconds", 1.0 + k},
                          {"pretraining_seconds", 0.0},
                          {"input_seconds", 0.5},
                          {"calibration", {{"method", "temperature"}}}};
      r["folds_detail"] = nlohmann::json::array();
      r["predictions"] = nlohmann::json::array();
      for (int f = 1; f <= 2; ++f) {
        r["folds_detail"].push_back({{"fold", f},
                                     {"validation_auc", validation[static_cast<std::size_t>(k)][static_cast<std::size_t>(f - 1)]},
                                     {"ece", 0.1 * k + 0.01 * f},
                                     {"ece_uncalibrated", 0.2 + 0.1 * k},
                                     {"temperature", 1.0 + k},
                                     {"calibration_bias", 0.0},
                                     {"best_epoch", 3 + k}});
        probabilities[static_cast<std::size_t>(k)].emplace_back();
        for (std::size_t i = 0; i < labels.size(); ++i) {
          const double p = u(rng);
          probabilities[static_cast<std::size_t>(k)].back().push_back(p);
          r["predictions"].push_back({{"fold", f}, {"scan_id", f * 100 + static_cast<int>(i)}, {"label", labels[i]}, {"probability", p}, {"margin", 0.0}});
        }
      }
      candidates.push_back({"c" + std::to_string(k) + ".json", r});
    }
    const auto out = combineConfigurationChoice(candidates);
    // Fold 1: candidate 2 (0.65); fold 2: candidates 1 and 2 tie at 0.70, the first listed wins.
    const std::vector<std::size_t> expected = {1, 0};
    QCOMPARE(out["folds_detail"].size(), std::size_t{2});
    std::vector<double> aucs;
    for (std::size_t f = 0; f < 2; ++f) {
      const auto& d = out["folds_detail"][f];
      QCOMPARE(QString::fromStdString(d["configuration"].get<std::string>()), QString("c%1.json").arg(expected[f]));
      QCOMPARE(d["best_epoch"].get<int>(), 3 + static_cast<int>(expected[f]));
      QCOMPARE(out["config_selection"]["folds"][f]["validation_auc"].size(), std::size_t{3});
      aucs.push_back(pairCountedAuc(labels, probabilities[expected[f]][f]));
      for (std::size_t i = 0; i < labels.size(); ++i)
        QCOMPARE(out["predictions"][f * labels.size() + i]["probability"].get<double>(), probabilities[expected[f]][f][i]);
    }
    QVERIFY(std::abs(out["metrics"]["auc"]["mean"].get<double>() - (aucs[0] + aucs[1]) / 2) < 1e-12);
    QVERIFY(std::abs(out["calibration"]["ece"]["mean"].get<double>() - (0.11 + 0.02) / 2) < 1e-12);
    QVERIFY(std::abs(out["calibration"]["temperature"]["mean"].get<double>() - 1.5) < 1e-12);
    // Each candidate won one fold: the tie between them goes to the first for the reported configuration.
    QCOMPARE(out["config"]["epochs"].get<int>(), 10);
    QCOMPARE(out["config_selection"]["candidates"][1]["chosen_folds"].get<int>(), 1);
    QCOMPARE(out["config_selection"]["candidates"][2]["chosen_folds"].get<int>(), 0);
    QVERIFY(std::abs(out["training_seconds"].get<double>() - 6.0) < 1e-12);  // every candidate trained in every fold
    QVERIFY(std::abs(out["input_seconds"].get<double>() - 1.5) < 1e-12);
    // Refusals: one candidate; another split; a fold without a validation AUC.
    QVERIFY_THROWS_EXCEPTION(Error, combineConfigurationChoice({candidates[0]}));
    auto other = candidates;
    other[2].result["split"]["seed"] = 1;
    QVERIFY_THROWS_EXCEPTION(Error, combineConfigurationChoice(other));
    other = candidates;
    other[1].result["folds_detail"][0]["validation_auc"] = nullptr;
    QVERIFY_THROWS_EXCEPTION(Error, combineConfigurationChoice(other));
  }

  // The nested choice of C against a recomputation: the same inner folds, each standardised on its
  // own training rows, the AUC by pair counting, the best mean winning and a tie going to the smaller C.
  void regularisationChoiceMatchesARecomputation() {
    std::mt19937 rng(11);
    std::normal_distribution<double> g;
    const Eigen::Index n = 90, p = 40;
    Eigen::MatrixXd x(n, p);
    Eigen::VectorXi y(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      y(i) = i % 3 == 0;
      const double shared = g(rng);  // correlated features: the direction depends on C
      for (Eigen::Index j = 0; j < p; ++j) x(i, j) = 3.0 * (j % 7) + (j < 6 ? 0.6 * y(i) : 0.0) + (j < 12 ? shared : 0.0) + g(rng);
    }
    const std::vector<double> grid = {10.0, 0.001, 0.1};
    for (const std::string method : {"logreg", "svm"}) {
      const auto choice = chooseRegularisation(x, y, grid, method, 4, 7);
      QCOMPARE(choice.grid, (std::vector<double>{0.001, 0.1, 10.0}));
      QCOMPARE(choice.folds, 4);
      const auto inner = stratifiedFolds(std::vector<int>(y.data(), y.data() + n), 4, 7);
      std::vector<double> mean(3, 0.0);
      for (std::size_t gi = 0; gi < 3; ++gi) {
        for (const auto& fold : inner) {
          Eigen::MatrixXd xt(static_cast<Eigen::Index>(fold.train.size()), p), xv(static_cast<Eigen::Index>(fold.validation.size()), p);
          Eigen::VectorXi yt(xt.rows());
          for (std::size_t k = 0; k < fold.train.size(); ++k)
            xt.row(static_cast<Eigen::Index>(k)) = x.row(static_cast<Eigen::Index>(fold.train[k])),
            yt(static_cast<Eigen::Index>(k)) = y(static_cast<Eigen::Index>(fold.train[k]));
          for (std::size_t k = 0; k < fold.validation.size(); ++k) xv.row(static_cast<Eigen::Index>(k)) = x.row(static_cast<Eigen::Index>(fold.validation[k]));
          const Eigen::RowVectorXd mu = xt.colwise().mean();
          const Eigen::RowVectorXd sd = ((xt.rowwise() - mu).array().square().colwise().sum() / static_cast<double>(xt.rows())).sqrt();
          const Eigen::MatrixXd zt = (xt.rowwise() - mu).array().rowwise() / sd.array();
          const Eigen::MatrixXd zv = (xv.rowwise() - mu).array().rowwise() / sd.array();
          Eigen::VectorXd score;
          if (method == "logreg") {
            LogisticRegression m(choice.grid[gi]);
            m.fit(zt, yt);
            score = zv * m.weights();
          } else {
            LinearSvm m(choice.grid[gi]);
            m.fit(zt, yt);
            score = m.decision(zv);
          }
          std::vector<int> yv;
          for (auto i : fold.validation) yv.push_back(y(static_cast<Eigen::Index>(i)));
          mean[gi] += pairCountedAuc(yv, std::vector<double>(score.data(), score.data() + score.size())) / 4.0;
        }
        QVERIFY2(std::fabs(mean[gi] - choice.auc[gi]) < 1e-6,
                 qPrintable(QString("%1 C=%2: %3 vs %4").arg(QString::fromStdString(method)).arg(choice.grid[gi]).arg(mean[gi]).arg(choice.auc[gi])));
      }
      const auto best = static_cast<std::size_t>(std::max_element(mean.begin(), mean.end()) - mean.begin());  // the first of equals
      QCOMPARE(choice.c, choice.grid[best]);
    }
    // One value: nothing to choose, nothing fitted. Bad grids and too few scans: usage errors.
    const auto one = chooseRegularisation(x, y, {0.5}, "logreg", 4, 7);
    QCOMPARE(one.c, 0.5);
    QVERIFY(one.auc.empty());
    QVERIFY_THROWS_EXCEPTION(Error, chooseRegularisation(x, y, {}, "logreg", 4, 7));
    QVERIFY_THROWS_EXCEPTION(Error, chooseRegularisation(x, y, {0.1, -1.0}, "logreg", 4, 7));
    QVERIFY_THROWS_EXCEPTION(Error, chooseRegularisation(x.topRows(5), y.head(5), {0.1, 1.0}, "logreg", 4, 7));
    QCOMPARE(parseRegularisationGrid("0.1,0.001, 0.01,0.1"), (std::vector<double>{0.001, 0.01, 0.1}));
    for (const char* bad : {"", "abc", "0.1,x", "0", "-0.1", "1e400", "0.1;0.2"}) QVERIFY_THROWS_EXCEPTION(Error, parseRegularisationGrid(bad));
  }

  // A label regime: the classifier learns from the stratified share of each fold's train part that a
  // graph model at the same seed learns from, and is calibrated by cross-fitting on that share alone
  // (as `train` makes its file), while the standardisation is fitted on every training scan.
  // Recomputed here from the stored FC.
  void labelRegimeLearnsFromItsShareOfTheTrainPart() {
    using nlohmann::json;
    QTemporaryDir tmp;
    auto ws = Workspace::create(std::filesystem::path(tmp.path().toStdString()) / "ws");
    std::mt19937 rng(23);
    std::normal_distribution<double> g;
    const int n = 90, rois = 8;
    json items = json::array();
    std::vector<int> y;
    for (int i = 0; i < n; ++i) {
      y.push_back(i % 5 < 2);  // 36 positives, 54 negatives
      Eigen::MatrixXd fc = Eigen::MatrixXd::Identity(rois, rois);
      for (int a = 0; a < rois; ++a)
        for (int b = a + 1; b < rois; ++b) fc(a, b) = fc(b, a) = std::tanh(0.2 * g(rng) + (a < 3 && b < 4 ? 0.15 * y.back() : 0.0));
      items.push_back(
          {{"scan_id", 1000 + i}, {"subject", "sub-" + std::to_string(i)}, {"site", "SITE"}, {"class_index", y.back()}, {"fc_array", ws->arrays().put(fc)}});
    }
    json folds = json::array();
    for (int f = 0; f < 3; ++f) {
      json fold = {{"train", json::array()}, {"validation", json::array()}, {"test", json::array()}};
      for (int i = 0; i < n; ++i) fold[i % 3 == f ? "test" : i % 6 == (f + 1) % 3 ? "validation" : "train"].push_back(i);
      folds.push_back(fold);
    }
    const json manifest = {{"name", "toy"}, {"classes", {"control", "autism"}}, {"items", items}, {"split", {{"kind", "fixed"}, {"folds", folds}}}};
    EvaluateRequest req;
    req.c = 0.1;
    req.seed = 4;
    req.labelFraction = 0.25;
    NullProgress quiet;
    const auto out = evaluateBaseline(*ws, manifest, req, quiet);
    QCOMPARE(out.at("label_fraction").get<double>(), 0.25);
    std::map<std::int64_t, json> predicted;
    for (const auto& p : out.at("predictions")) predicted[p.at("scan_id").get<std::int64_t>()] = p;
    for (int f = 0; f < 3; ++f) {
      const auto train = folds[f].at("train").get<std::vector<int>>(), validation = folds[f].at("validation").get<std::vector<int>>(),
                 test = folds[f].at("test").get<std::vector<int>>();
      auto features = [&](const std::vector<int>& idx) {
        Eigen::MatrixXd x(static_cast<Eigen::Index>(idx.size()), rois * (rois - 1) / 2);
        for (std::size_t k = 0; k < idx.size(); ++k)
          x.row(static_cast<Eigen::Index>(k)) = fisherUpperTriangle(ws->arrays().read(items[idx[k]].at("fc_array").get<std::string>())).transpose();
        return x;
      };
      std::vector<int> all = train;
      all.insert(all.end(), validation.begin(), validation.end());
      Standardizer scaler;
      scaler.fit(features(all));  // every training scan, labelled or not
      std::vector<int> trainLabels;
      for (int i : train) trainLabels.push_back(y[static_cast<std::size_t>(i)]);
      const auto share = stratifiedLabelShare(trainLabels, 0.25, 4);
      int positives = 0;
      for (auto k : share) positives += trainLabels[k];
      const int trainPositives = static_cast<int>(std::count(trainLabels.begin(), trainLabels.end(), 1));
      QCOMPARE(positives, static_cast<int>(std::lround(0.25 * trainPositives)));
      QCOMPARE(static_cast<int>(share.size()) - positives, static_cast<int>(std::lround(0.25 * (static_cast<int>(train.size()) - trainPositives))));
      QCOMPARE(out.at("folds_detail")[static_cast<std::size_t>(f)].at("train_labels").get<std::size_t>(), share.size());
      std::vector<int> labelled;
      for (auto k : share) labelled.push_back(train[k]);
      Eigen::VectorXi yl(static_cast<Eigen::Index>(labelled.size()));
      for (std::size_t k = 0; k < labelled.size(); ++k) yl(static_cast<Eigen::Index>(k)) = y[static_cast<std::size_t>(labelled[k])];
      LogisticRegression model(0.1);
      model.fit(scaler.apply(features(labelled)), yl);
      const auto cf = crossFitLogistic(scaler.apply(features(labelled)), yl, 0.1, "temperature", 4 + static_cast<unsigned>(f));
      // The temperature minimises the out-of-fold margins' negative log-likelihood: checked here by a
      // dense grid over log T with the likelihood written out, not with the code's own functions.
      double bestT = 1, bestNll = std::numeric_limits<double>::infinity();
      for (int g = 0; g <= 6000; ++g) {
        const double t = std::exp(std::log(0.05) + g * (std::log(20.0) - std::log(0.05)) / 6000);
        double nll = 0;
        for (std::size_t k = 0; k < cf.margins.size(); ++k) {
          const double z = cf.margins[k] / t;
          nll += yl(static_cast<Eigen::Index>(k)) == 1 ? std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
        }
        if (nll < bestNll) bestNll = nll, bestT = t;
      }
      const double temperature = cf.calibration.temperature;
      QVERIFY2(std::fabs(std::log(temperature) - std::log(bestT)) < 3e-3, qPrintable(QString("T %1, grid %2").arg(temperature).arg(bestT)));
      QCOMPARE(cf.calibration.bias, 0.0);
      const Eigen::VectorXd mt = (scaler.apply(features(test)) * model.weights()).array() + model.intercept();
      for (std::size_t k = 0; k < test.size(); ++k) {
        const auto& p = predicted.at(1000 + test[k]);
        QCOMPARE(p.at("fold").get<int>(), f + 1);
        QVERIFY2(
            std::fabs(p.at("margin").get<double>() - mt(static_cast<Eigen::Index>(k))) < 1e-9,
            qPrintable(QString("fold %1 scan %2: %3 vs %4").arg(f + 1).arg(test[k]).arg(p.at("margin").get<double>()).arg(mt(static_cast<Eigen::Index>(k)))));
        QVERIFY(std::fabs(p.at("probability").get<double>() - 1.0 / (1.0 + std::exp(-mt(static_cast<Eigen::Index>(k)) / temperature))) < 1e-9);
      }
    }
    // Every label: the whole training part, so the margins differ; no labels at all is not a baseline's regime.
    req.labelFraction = 1.0;
    const auto full = evaluateBaseline(*ws, manifest, req, quiet);
    QCOMPARE(full.at("folds_detail")[0].at("train_labels").get<std::size_t>(), folds[0].at("train").size() + folds[0].at("validation").size());
    QVERIFY(std::fabs(full.at("predictions")[0].at("margin").get<double>() -
                      predicted.at(full.at("predictions")[0].at("scan_id").get<std::int64_t>()).at("margin").get<double>()) > 1e-6);
    req.labelFraction = 0.0;
    QVERIFY_THROWS_EXCEPTION(Error, evaluateBaseline(*ws, manifest, req, quiet));
  }

  // A tangent-space model file predicts from a scan's time series exactly what training saw: the
  // validation scans' AUC recomputed through predictBaseline equals the card's, the reference is the
  // geometric mean of every corpus scan, and a prediction without the time series is refused.
  void tangentModelFilePredictsWhatItTrainedOn() {
    using nlohmann::json;
    QTemporaryDir tmp;
    auto ws = Workspace::create(std::filesystem::path(tmp.path().toStdString()) / "ws");
    std::mt19937 rng(31);
    std::normal_distribution<double> g;
    const int n = 80, rois = 6, volumes = 90;
    json items = json::array();
    std::vector<Eigen::MatrixXd> series, fcs, covariances;
    std::vector<int> classIndex;
    for (int i = 0; i < n; ++i) {
      const int y = i % 2;
      Eigen::MatrixXd s(volumes, rois);
      for (Eigen::Index t = 0; t < volumes; ++t) {
        const double shared = g(rng);
        for (Eigen::Index r = 0; r < rois; ++r) s(t, r) = g(rng) + (r < 2 ? (0.4 + 0.5 * y) * shared : 0.3 * shared);
      }
      Eigen::MatrixXd centred = s.rowwise() - s.colwise().mean();
      Eigen::MatrixXd fc = centred.transpose() * centred;
      const Eigen::VectorXd d = fc.diagonal().cwiseSqrt().cwiseInverse();
      fc = d.asDiagonal() * fc * d.asDiagonal();
      series.push_back(s);
      fcs.push_back(fc);
      covariances.push_back(ledoitWolfCovariance(s));
      classIndex.push_back(y);
      items.push_back({{"scan_id", 2000 + i}, {"class_index", y}, {"fc_array", ws->arrays().put(fc)}, {"series_array", ws->arrays().put(s)}});
    }
    const json manifest = {{"name", "toy"}, {"classes", {"control", "autism"}}, {"items", items}};
    NullProgress quiet;
    const auto card = trainBaselineModel(*ws, manifest, {1.0}, 3, quiet, "temperature", "tangent");
    QCOMPARE(card.at("method").get<std::string>(), std::string("logreg-tangent"));
    QCOMPARE(card.at("weights").size(), std::size_t(rois * (rois + 1) / 2));
    // The stored series are float32: recompute the reference from what the store returns.
    std::vector<Eigen::MatrixXd> stored;
    for (const auto& item : items) stored.push_back(ledoitWolfCovariance(ws->arrays().read(item.at("series_array").get<std::string>())));
    TangentSpace space;
    space.fitCovariances(stored);
    const auto reference = card.at("tangent_reference").get<std::vector<std::vector<double>>>();
    for (int a = 0; a < rois; ++a)
      for (int b = 0; b < rois; ++b) QVERIFY(std::fabs(reference[a][b] - space.reference()(a, b)) < 1e-9);
    // Every scan trains the file; the card's validation figures are out of fold: each scan scored by the
    // fold model that left it out, recomputed here through predictBaseline's fold-model probabilities.
    QCOMPARE(card.at("corpus").at("train").get<int>(), n);
    QVERIFY(card.at("validation").at("out_of_fold").get<bool>());
    QCOMPARE(card.at("validation").at("n").get<int>(), n);
    const auto folds = stratifiedFolds(classIndex, kCrossFitFolds, 3);
    std::vector<int> labels;
    std::vector<double> probabilities;
    for (int f = 0; f < kCrossFitFolds; ++f)
      for (auto k : folds[static_cast<std::size_t>(f)].validation) {
        const auto scan = ws->arrays().read(items[k].at("series_array").get<std::string>());
        const auto fc = ws->arrays().read(items[k].at("fc_array").get<std::string>());
        labels.push_back(classIndex[k]);
        probabilities.push_back(predictBaseline(card, fc, {}, 3, scan).interval.at("probabilities")[static_cast<std::size_t>(f)].get<double>());
      }
    QVERIFY2(std::fabs(pairCountedAuc(labels, probabilities) - card.at("validation").at("auc").get<double>()) < 1e-9,
             qPrintable(QString("%1 vs %2").arg(pairCountedAuc(labels, probabilities)).arg(card.at("validation").at("auc").get<double>())));
    QVERIFY(card.at("validation").at("auc").get<double>() > 0.6);  // the class signal is there to find
    // Connectivity alone is not enough for this model; a missing series is named when training.
    QVERIFY_THROWS_EXCEPTION(Error, predictBaseline(card, fcs[0], {}, 3));
    json bare = manifest;
    bare["items"][5].erase("series_array");
    QVERIFY_THROWS_EXCEPTION(Error, trainBaselineModel(*ws, bare, {1.0}, 3, quiet, "temperature", "tangent"));
  }

  // Cross-fitting: each row's margin comes from the model fitted on the other folds (recomputed here),
  // and the calibration is fitted on those margins.
  void crossFitScoresEachRowWithAModelThatDidNotSeeIt() {
    std::mt19937 rng(5);
    std::normal_distribution<double> g;
    const int n = 60, p = 7;
    Eigen::MatrixXd z(n, p);
    Eigen::VectorXi y(n);
    for (int i = 0; i < n; ++i) {
      y(i) = i % 3 == 0;
      for (int j = 0; j < p; ++j) z(i, j) = g(rng) + (j < 2 && y(i) ? 0.8 : 0.0);
    }
    const auto cf = crossFitLogistic(z, y, 0.5, "temperature", 11);
    QCOMPARE(cf.foldModels.size(), std::size_t(kCrossFitFolds));
    const std::vector<int> labels(y.data(), y.data() + n);
    const auto folds = stratifiedFolds(labels, kCrossFitFolds, 11);
    for (int f = 0; f < kCrossFitFolds; ++f) {
      std::vector<Eigen::Index> train(folds[f].train.begin(), folds[f].train.end());
      LogisticRegression m(0.5);
      m.fit(z(train, Eigen::all), y(train));
      for (auto i : folds[f].validation) {
        QCOMPARE(cf.foldOf[i], f);
        QVERIFY(std::fabs(cf.margins[i] - (z.row(static_cast<Eigen::Index>(i)).dot(m.weights()) + m.intercept())) < 1e-9);
      }
    }
    const auto direct = fitCalibration("temperature", cf.margins, labels);
    QVERIFY(std::fabs(direct.temperature - cf.calibration.temperature) < 1e-12);
    Eigen::VectorXi one = Eigen::VectorXi::Zero(n);
    one(0) = 1;
    QVERIFY_THROWS_EXCEPTION(Error, crossFitLogistic(z, one, 0.5, "temperature", 1));  // a class of one
  }

  void svmSeparatesSeparableData() {
    std::mt19937 rng(3);
    std::normal_distribution<double> g;
    Eigen::MatrixXd x(80, 20);
    Eigen::VectorXi y(80);
    for (int i = 0; i < 80; ++i) {
      y(i) = i < 40;
      for (int j = 0; j < 20; ++j) x(i, j) = g(rng) + (j == 0 ? (y(i) ? 4.0 : -4.0) : 0.0);
    }
    LinearSvm svm(1.0);
    svm.fit(x, y);
    const Eigen::VectorXd p = svm.probability(x);
    int correct = 0;
    for (int i = 0; i < 80; ++i) correct += (p(i) >= 0.5) == (y(i) == 1);
    QCOMPARE(correct, 80);
    // Fisher z of the upper triangle.
    Eigen::MatrixXd fc(3, 3);
    fc << 1, 0.5, -0.2, 0.5, 1, 0.1, -0.2, 0.1, 1;
    const auto f = fisherUpperTriangle(fc);
    QCOMPARE(f.size(), Eigen::Index(3));
    QVERIFY(std::fabs(f(0) - std::atanh(0.5)) < 1e-12);
    QVERIFY(std::fabs(f(1) - std::atanh(-0.2)) < 1e-12);
  }
};

QTEST_APPLESS_MAIN(TestBaselines)
#include "test_baselines.moc"
