// Metrics and classical baselines against independent computations.
#include <QTest>

#include <random>

#include "eval/Baselines.h"
#include "eval/Metrics.h"
#include "eval/ModelComparison.h"

using namespace bg;

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
    const std::vector<EvaluationRecord> all = {record(1, "logreg", 0.70, 5), record(2, "gcn", 0.60, 5),  record(3, "gcn", 0.65, 5),
                                               record(4, "gcn", 0.90, 10), record(5, "lcm", 0.95, 5, 0.1), record(6, "lcm", 0.62, 5, 1.0, true)};
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
    double wins = 0, pairs = 0;
    for (std::size_t i = 0; i < y.size(); ++i)
      for (std::size_t j = 0; j < y.size(); ++j)
        if (y[i] == 1 && y[j] == 0) {
          pairs += 1;
          wins += p[i] > p[j] ? 1.0 : p[i] == p[j] ? 0.5 : 0.0;
        }
    const auto m = binaryMetrics(y, p);
    QVERIFY(std::fabs(m.auc - wins / pairs) < 1e-12);
    const auto perfect = binaryMetrics({0, 0, 1, 1}, {0.1, 0.4, 0.6, 0.9});
    QCOMPARE(perfect.auc, 1.0);
    QCOMPARE(perfect.accuracy, 1.0);
    QCOMPARE(perfect.f1, 1.0);
    const auto half = binaryMetrics({0, 1, 1, 0}, {0.6, 0.7, 0.2, 0.1});  // tp 1, fn 1, fp 1, tn 1
    QCOMPARE(half.sensitivity, 0.5);
    QCOMPARE(half.specificity, 0.5);
    QCOMPARE(half.balancedAccuracy, 0.5);
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
