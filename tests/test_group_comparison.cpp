// Edge-wise group tests: Welch's t, its p value and Benjamini-Hochberg q, against direct computations.
#include <QTest>

#include <cmath>
#include <random>

#include "connectome/GroupComparison.h"
#include "errors/Error.h"

using namespace bg;

class TestGroupComparison : public QObject {
  Q_OBJECT
  // Two-sided tail of Student's t by Simpson integration of its density (independent of Boost).
  static double tailBySimpson(double t, double df) {
    const double c = std::exp(std::lgamma((df + 1) / 2) - std::lgamma(df / 2)) / std::sqrt(df * M_PI);
    auto pdf = [&](double x) { return c * std::pow(1 + x * x / df, -(df + 1) / 2); };
    const int n = 200000;
    const double a = 0, b = std::abs(t), h = (b - a) / n;
    double s = pdf(a) + pdf(b);
    for (int i = 1; i < n; ++i) s += (i % 2 ? 4 : 2) * pdf(a + i * h);
    return 1.0 - 2.0 * s * h / 3.0;  // 1 - P(|T| < t)
  }

 private Q_SLOTS:
  void studentPValues() {
    QVERIFY(std::abs(studentTwoSidedP(2.0, 10) - 0.0733880347) < 1e-8);  // a textbook value
    QVERIFY(std::abs(studentTwoSidedP(2.228138852, 10) - 0.05) < 1e-8);
    for (const auto& [t, df] : std::vector<std::pair<double, double>>{{1.3, 4.5}, {-3.1, 17.25}, {0.2, 2.7}})
      QVERIFY2(std::abs(studentTwoSidedP(t, df) - tailBySimpson(t, df)) < 1e-7, qPrintable(QString::number(t)));
    QCOMPARE(studentTwoSidedP(0.0, 5), 1.0);
  }

  void benjaminiHochbergByHand() {
    const auto q = benjaminiHochberg({0.01, 0.04, 0.03, 0.005});
    const std::vector<double> expected{0.02, 0.04, 0.04, 0.02};
    for (std::size_t i = 0; i < q.size(); ++i) QVERIFY2(std::abs(q[i] - expected[i]) < 1e-12, qPrintable(QString::number(q[i])));
  }

  void welchMatchesADirectComputation() {
    std::mt19937 rng(7);
    std::normal_distribution<double> noise(0.0, 1.0);
    const int rois = 6, na = 9, nb = 14;
    std::vector<Eigen::MatrixXd> a, b;
    GroupMoments ma, mb;
    for (int s = 0; s < na + nb; ++s) {
      Eigen::MatrixXd m(rois, rois);
      for (int i = 0; i < rois; ++i)
        for (int j = 0; j <= i; ++j) m(i, j) = m(j, i) = noise(rng) * (s < na ? 1.0 : 2.0);
      if (s < na) m(0, 1) = m(1, 0) = m(0, 1) + 6.0;  // a planted difference on one edge
      (s < na ? a : b).push_back(m);
      (s < na ? ma : mb).add(m);
    }
    const auto c = welchEdgeComparison(ma, mb);
    QCOMPARE(c.tests, rois * (rois - 1) / 2);
    for (int i = 0; i < rois; ++i)
      for (int j = i + 1; j < rois; ++j) {
        auto moments = [&](const std::vector<Eigen::MatrixXd>& g) {
          double mean = 0, var = 0;
          for (const auto& m : g) mean += m(i, j) / static_cast<double>(g.size());
          for (const auto& m : g) var += (m(i, j) - mean) * (m(i, j) - mean) / static_cast<double>(g.size() - 1);
          return std::make_pair(mean, var);
        };
        const auto [meanA, varA] = moments(a);
        const auto [meanB, varB] = moments(b);
        const double sa = varA / na, sb = varB / nb;
        const double t = (meanA - meanB) / std::sqrt(sa + sb);
        const double df = (sa + sb) * (sa + sb) / (sa * sa / (na - 1) + sb * sb / (nb - 1));
        QVERIFY(std::abs(c.t(i, j) - t) < 1e-9);
        QVERIFY(std::abs(c.df(i, j) - df) < 1e-9);
        QCOMPARE(c.t(j, i), c.t(i, j));
        QVERIFY(std::abs(c.p(i, j) - tailBySimpson(t, df)) < 1e-6);
      }
    QVERIFY(c.q(0, 1) < 0.05);  // the planted edge survives FDR
    QVERIFY(c.significant >= 1);
  }

  void tooSmallGroupsAreRefused() {
    GroupMoments one, two;
    one.add(Eigen::MatrixXd::Identity(3, 3));
    two.add(Eigen::MatrixXd::Identity(3, 3));
    two.add(Eigen::MatrixXd::Identity(3, 3));
    QVERIFY_THROWS_EXCEPTION(Error, welchEdgeComparison(one, two));
    QVERIFY_THROWS_EXCEPTION(Error, two.add(Eigen::MatrixXd::Identity(4, 4)));
  }
};

QTEST_APPLESS_MAIN(TestGroupComparison)
#include "test_group_comparison.moc"
