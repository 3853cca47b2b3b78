// Cleaning, connectivity estimators and graph construction against independent computations.
#include <QTest>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "TestSupport.h"
#include "connectome/BrainGraph.h"
#include "connectome/Connectivity.h"
#include "connectome/GraphInputTransform.h"
#include "connectome/SiteStandardizer.h"
#include "errors/Error.h"
#include "signal/Cleaning.h"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>

using namespace bg;

namespace {
Eigen::VectorXd sine(int T, double tr, double hz, double phase = 0.0) {
  Eigen::VectorXd v(T);
  for (int t = 0; t < T; ++t) v(t) = std::sin(2 * M_PI * hz * t * tr + phase);
  return v;
}
double rms(const Eigen::VectorXd& v) { return std::sqrt(v.squaredNorm() / static_cast<double>(v.size())); }
// Pearson FC of 50 time points of 4 random ROIs, ROI 2 driven by ROI 0 with `coupling`: a scan whose
// edge 0-2 tells its site (or class) apart.
Eigen::MatrixXd coupledFc(std::mt19937& rng, std::normal_distribution<double>& normal, double coupling) {
  Eigen::MatrixXd series(50, 4);
  for (Eigen::Index i = 0; i < series.size(); ++i) series.data()[i] = normal(rng);
  series.col(2) += coupling * series.col(0);
  return pearson(series).matrix;
}
}  // namespace

class TestSignal : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void detrendRemovesPolynomials() {
    const int T = 100;
    Eigen::MatrixXd x(T, 2);
    for (int t = 0; t < T; ++t) {
      x(t, 0) = 5.0 + 0.3 * t;
      x(t, 1) = 1.0 - 0.02 * t + 0.001 * t * t;
    }
    QVERIFY(detrend(x.col(0), 1).cwiseAbs().maxCoeff() < 1e-9);
    QVERIFY(detrend(x.col(1), 1).cwiseAbs().maxCoeff() > 1e-3);
    QVERIFY(detrend(x, 2).cwiseAbs().maxCoeff() < 1e-9);
  }

  void bandpassFollowsButterworthMagnitude() {
    const int T = 400;
    const double tr = 2.0;
    // In band (0.05 Hz): filtfilt of order 5 has |H|^2 = 1/(1+(f/fh)^10) * 1/(1+(fl/f)^10).
    auto expectedGain = [](double f) { return 1.0 / (1.0 + std::pow(f / 0.1, 10)) / (1.0 + std::pow(0.01 / f, 10)); };
    for (double f : {0.03, 0.05, 0.08, 0.12, 0.2}) {
      const Eigen::VectorXd s = sine(T, tr, f);
      const Eigen::VectorXd y = butterworthBandpass(s, tr, 0.01, 0.1, 5);
      // Compare in the middle of the series, away from the edges.
      const double gain = rms(y.segment(100, 200)) / rms(s.segment(100, 200));
      QVERIFY2(std::fabs(gain - expectedGain(f)) < 0.03, (std::to_string(f) + " Hz: " + std::to_string(gain)).c_str());
    }
    // Zero phase: an in-band sine keeps its timing.
    const Eigen::VectorXd s = sine(T, tr, 0.05);
    const Eigen::VectorXd y = butterworthBandpass(s, tr, 0.01, 0.1, 5);
    double lag0 = 0, lag1 = 0;
    for (int t = 100; t < 300; ++t) {
      lag0 += y(t) * s(t);
      lag1 += y(t) * s(t - 1);
    }
    QVERIFY(lag0 > lag1);
    // A constant offset (0 Hz) is removed entirely.
    const Eigen::VectorXd c = Eigen::VectorXd::Constant(T, 7.0);
    QVERIFY(butterworthBandpass(c, tr, 0.01, 0.1, 5).cwiseAbs().maxCoeff() < 1e-9);
    QVERIFY_THROWS_EXCEPTION(Error, butterworthBandpass(c, 0.0, 0.01, 0.1, 5));
  }

  void confoundRegressionRemovesConfounds() {
    std::mt19937 rng(3);
    std::normal_distribution<double> g;
    const int T = 120;
    Eigen::MatrixXd conf(T, 2), signal(T, 1);
    for (int t = 0; t < T; ++t) {
      conf(t, 0) = g(rng);
      conf(t, 1) = g(rng);
      signal(t, 0) = g(rng);
    }
    const Eigen::MatrixXd mixed = signal + 3.0 * conf.col(0) - 2.0 * conf.col(1);
    const Eigen::MatrixXd out = regressOut(mixed, conf);
    // Residual is orthogonal to the confounds.
    QVERIFY((conf.transpose() * out).cwiseAbs().maxCoeff() < 1e-8);
    // And it is the least-squares residual, from the normal equations solved here (an all-zero output
    // is orthogonal to everything too): what is left is the signal's own part outside the confounds.
    const Eigen::MatrixXd beta = (conf.transpose() * conf).ldlt().solve(conf.transpose() * mixed);
    const Eigen::MatrixXd expected = mixed - conf * beta;
    QVERIFY((out - expected).cwiseAbs().maxCoeff() < 1e-9);
    QVERIFY(out.norm() > 0.8 * signal.norm());
    QVERIFY(std::fabs(beta(0, 0) - 3.0) < 0.3 && std::fabs(beta(1, 0) + 2.0) < 0.3);
    // Fitted on some rows only (scrubbing): the fit on those rows, removed from every row.
    std::vector<int> rows;
    for (int t = 0; t < T; t += 2) rows.push_back(t);
    Eigen::MatrixXd cs(static_cast<Eigen::Index>(rows.size()), 2), ms(static_cast<Eigen::Index>(rows.size()), 1);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      cs.row(static_cast<Eigen::Index>(i)) = conf.row(rows[i]);
      ms.row(static_cast<Eigen::Index>(i)) = mixed.row(rows[i]);
    }
    const Eigen::MatrixXd betaRows = (cs.transpose() * cs).ldlt().solve(cs.transpose() * ms);
    QVERIFY((regressOut(mixed, conf, rows) - (mixed - conf * betaRows)).cwiseAbs().maxCoeff() < 1e-9);
  }

  void fmriprepConfoundsAndScrubbing() {
    const auto file = bgtest::scratchDir("confounds") / "sub-01_task-rest_desc-confounds_timeseries.tsv";
    std::mt19937 rng(5);
    std::normal_distribution<double> g;
    const int T = 60;
    {
      std::ofstream out(file);
      out << "global_signal\tcsf\twhite_matter\tframewise_displacement";
      for (const char* m : {"trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"})
        out << "\t" << m << "\t" << m << "_derivative1\t" << m << "_power2\t" << m << "_derivative1_power2";
      out << "\n";
      for (int t = 0; t < T; ++t) {
        out << g(rng) << "\t" << g(rng) << "\t" << g(rng) << "\t" << (t == 0 ? std::string("n/a") : std::to_string(t % 10 == 0 ? 0.9 : 0.1));
        for (int k = 0; k < 24; ++k) out << "\t" << ((t == 0 && k % 2 == 1) ? std::string("n/a") : std::to_string(g(rng)));
        out << "\n";
      }
    }
    const auto c = loadFmriprepConfounds(file, {"motion24", "wm_csf", "global_signal"});
    QCOMPARE(c.regressors.cols(), Eigen::Index(27));
    QCOMPARE(c.regressors.rows(), Eigen::Index(T));
    QCOMPARE(c.regressors(0, 1), 0.0);  // n/a becomes 0
    QCOMPARE(c.framewiseDisplacement.size(), std::size_t(T));
    Eigen::MatrixXd series(T, 3);
    for (int t = 0; t < T; ++t)
      for (int r = 0; r < 3; ++r) series(t, r) = g(rng) + 0.5 * c.regressors(t, 24);
    CleaningOptions o;
    CleaningReport report;
    const auto cleaned = clean(series, 2.0, o, &c, &report);
    QCOMPARE(report.censoredVolumes, 5);  // t = 10, 20, 30, 40, 50 have FD 0.9 > 0.5
    QCOMPARE(cleaned.rows(), Eigen::Index(T - 5));
    for (Eigen::Index r = 0; r < 3; ++r) {
      QVERIFY(std::fabs(cleaned.col(r).mean()) < 1e-9);
      QVERIFY(std::fabs(std::sqrt(cleaned.col(r).squaredNorm() / (cleaned.rows() - 1)) - 1.0) < 1e-9);
    }
    QVERIFY(report.meanFramewiseDisplacement > 0.1 && report.meanFramewiseDisplacement < 0.2);
    try {
      loadFmriprepConfounds(file, {"acompcor"});
      QFAIL("no exception");
    } catch (const Error& e) {
      QVERIFY(std::string(e.what()).find("a_comp_cor_00") != std::string::npos);
      QVERIFY(std::string(e.what()).find(file.string()) != std::string::npos);
    }
    QVERIFY_THROWS_EXCEPTION(Error, clean(series.topRows(8), 2.0, o, nullptr));
  }

  void pearsonAndFisher() {
    std::mt19937 rng(11);
    std::normal_distribution<double> g;
    Eigen::MatrixXd x(50, 4);
    for (int t = 0; t < 50; ++t) {
      const double common = g(rng);
      x(t, 0) = common + 0.5 * g(rng);
      x(t, 1) = common + 0.5 * g(rng);
      x(t, 2) = g(rng);
      x(t, 3) = 2.0;  // zero variance
    }
    const auto r = pearson(x);
    QCOMPARE(r.zeroVarianceRois, std::vector<int>{3});
    QVERIFY(r.matrix.allFinite());
    QCOMPARE(r.matrix(3, 0), 0.0);
    QCOMPARE(r.matrix(3, 3), 1.0);
    const auto z = pearson(x, true);
    QVERIFY(std::fabs(z.matrix(0, 1) - std::atanh(r.matrix(0, 1))) < 1e-12);
    QCOMPARE(z.matrix(0, 0), 0.0);
  }

  void partialCorrelationSeparatesDirectFromIndirect() {
    // Chain a -> b -> c: a and c correlate, but not given b.
    std::mt19937 rng(2);
    std::normal_distribution<double> g;
    const int T = 2000;
    Eigen::MatrixXd x(T, 3);
    for (int t = 0; t < T; ++t) {
      x(t, 0) = g(rng);
      x(t, 1) = x(t, 0) + 0.5 * g(rng);
      x(t, 2) = x(t, 1) + 0.5 * g(rng);
    }
    const auto full = pearson(x).matrix;
    const auto partial = partialCorrelation(x).matrix;
    QVERIFY(full(0, 2) > 0.7);
    QVERIFY(std::fabs(partial(0, 2)) < 0.05);
    QVERIFY(partial(0, 1) > 0.5);
    double shrink = -1;
    ledoitWolfCovariance(x, &shrink);
    QVERIFY(shrink >= 0 && shrink < 0.05);  // plenty of samples: little shrinkage
    // Few samples, many variables: strong shrinkage and an invertible estimate.
    Eigen::MatrixXd few(10, 30);
    for (int t = 0; t < 10; ++t)
      for (int c = 0; c < 30; ++c) few(t, c) = g(rng);
    const auto cov = ledoitWolfCovariance(few, &shrink);
    QVERIFY(shrink > 0.3);
    QVERIFY(Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(cov).eigenvalues().minCoeff() > 0);
  }

  void tangentSpace() {
    // Geometric mean of commuting SPD matrices is the element-wise geometric mean of the eigenvalues.
    const Eigen::MatrixXd a = Eigen::Vector3d(1, 4, 9).asDiagonal(), b = Eigen::Vector3d(4, 1, 1).asDiagonal();
    const auto gm = geometricMean({a, b});
    QVERIFY((gm - Eigen::MatrixXd(Eigen::Vector3d(2, 2, 3).asDiagonal())).cwiseAbs().maxCoeff() < 1e-6);
    TangentSpace ts;
    ts.fitCovariances({a, b});
    // At the reference the tangent vector is 0; log is symmetric.
    QVERIFY(ts.transformCovariance(gm).cwiseAbs().maxCoeff() < 1e-6);
    const auto v = ts.transformCovariance(a);
    QVERIFY((v - v.transpose()).cwiseAbs().maxCoeff() < 1e-12);
    QVERIFY(std::fabs(v(0, 0) - std::log(0.5)) < 1e-6);
    QVERIFY_THROWS_EXCEPTION(Error, TangentSpace().transformCovariance(a));
  }

  void geometricMeanOfNonCommutingMatrices() {
    // Two matrices: the Riemannian mean has a closed form, A^1/2 (A^-1/2 B A^-1/2)^1/2 A^1/2.
    std::mt19937 rng(11);
    std::normal_distribution<double> normal;
    const auto randomSpd = [&](int r) {
      Eigen::MatrixXd x(3 * r, r);
      for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = normal(rng);
      return Eigen::MatrixXd(x.transpose() * x / (3.0 * r) + 0.1 * Eigen::MatrixXd::Identity(r, r));
    };
    const Eigen::MatrixXd a = randomSpd(12), b = randomSpd(12);
    const Eigen::MatrixXd as = spdSqrt(a), ais = spdInvSqrt(a);
    const Eigen::MatrixXd expected = as * spdSqrt(ais * b * ais) * as;
    QVERIFY2((geometricMean({a, b}) - expected).norm() < 1e-6 * expected.norm(),
             qPrintable(QString::number((geometricMean({a, b}) - expected).norm() / expected.norm())));
    // Many matrices: the Karcher condition, the whitened logarithms sum to zero at the mean.
    std::vector<Eigen::MatrixXd> set;
    for (int i = 0; i < 40; ++i) set.push_back(randomSpd(20));
    const Eigen::MatrixXd g = geometricMean(set), gis = spdInvSqrt(g);
    Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(20, 20);
    for (const auto& m : set) sum += spdLog(gis * m * gis);
    // nilearn's stopping rule: mean gradient norm per entry below 1e-7.
    QVERIFY2(sum.norm() / 40.0 < 20 * 20 * 1e-7, qPrintable(QString::number(sum.norm() / 40.0)));
    // Not the arithmetic mean (the test would pass vacuously if the matrices were too alike).
    Eigen::MatrixXd arithmetic = Eigen::MatrixXd::Zero(20, 20);
    for (const auto& m : set) arithmetic += m / 40.0;
    QVERIFY((arithmetic - g).norm() > 1e-3 * g.norm());
  }

  void graphInputTransformFitsOnTrainingScansOnly() {
    // Scans with subject-specific mixing, so their covariances differ and do not commute.
    std::mt19937 rng(5);
    std::normal_distribution<double> normal;
    const int rois = 8, timepoints = 120, scans = 30;
    std::vector<Eigen::MatrixXd> series, fc;
    for (int s = 0; s < scans; ++s) {
      Eigen::MatrixXd mix = Eigen::MatrixXd::Identity(rois, rois);
      for (int i = 0; i < rois; ++i)
        for (int j = 0; j < rois; ++j) mix(i, j) += 0.3 * normal(rng);
      Eigen::MatrixXd x(timepoints, rois);
      for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = normal(rng);
      series.push_back(x * mix);
      fc.push_back(pearson(series.back()).matrix);
    }
    const std::vector<Eigen::MatrixXd> trainFc(fc.begin(), fc.begin() + 20), trainSeries(series.begin(), series.begin() + 20);

    // The identity passes the stored FC through and needs nothing fitted.
    const auto identity = GraphInputTransform::fit(GraphInputSpec{}, {}, {});
    QVERIFY(identity.identity());
    QCOMPARE(identity.apply(fc[0], {}), fc[0]);

    // Tangent space: the whitened logarithm of each scan's Ledoit-Wolf covariance against the training
    // scans' geometric mean, computed here from the primitives.
    GraphInputSpec tangent;
    tangent.kind = "tangent";
    const auto t = GraphInputTransform::fit(tangent, trainFc, trainSeries);
    std::vector<Eigen::MatrixXd> trainCov;
    for (const auto& x : trainSeries) trainCov.push_back(ledoitWolfCovariance(x));
    const Eigen::MatrixXd w = spdInvSqrt(geometricMean(trainCov));
    for (int s : {0, 25}) {  // a training scan and one it never saw
      const Eigen::MatrixXd expected = spdLog(w * ledoitWolfCovariance(series[s]) * w);
      QVERIFY((t.apply(fc[s], series[s]) - expected).cwiseAbs().maxCoeff() < 1e-9);
    }
    QVERIFY_THROWS_EXCEPTION(Error, t.apply(fc[0], Eigen::MatrixXd()));             // no time series
    QVERIFY_THROWS_EXCEPTION(Error, t.apply(fc[0], series[0].leftCols(rois - 1)));  // another parcellation

    // Per-edge z-scores: over the training scans every edge has mean 0 and SD 1 (constant edges stay 0);
    // a scan outside the training set is scaled by the training statistics, not its own.
    GraphInputSpec z;
    z.kind = "tangent";
    z.standardiseEdges = true;
    const auto tz = GraphInputTransform::fit(z, trainFc, trainSeries);
    Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(rois, rois), sumSq = Eigen::MatrixXd::Zero(rois, rois);
    for (int s = 0; s < 20; ++s) {
      const auto m = tz.apply(fc[s], series[s]);
      sum += m;
      sumSq += m.cwiseProduct(m);
    }
    QVERIFY((sum / 20.0).cwiseAbs().maxCoeff() < 1e-9);
    QVERIFY(((sumSq / 20.0).array() - 1.0).abs().maxCoeff() < 1e-9);
    std::vector<Eigen::MatrixXd> raw;
    for (int s = 0; s < 20; ++s) raw.push_back(t.apply(fc[s], series[s]));
    const Eigen::MatrixXd outside = t.apply(fc[27], series[27]);
    Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(rois, rois);
    for (const auto& m : raw) mean += m / 20.0;
    double var01 = 0;
    for (const auto& m : raw) var01 += (m(0, 1) - mean(0, 1)) * (m(0, 1) - mean(0, 1)) / 20.0;
    QVERIFY(std::fabs(tz.apply(fc[27], series[27])(0, 1) - (outside(0, 1) - mean(0, 1)) / std::sqrt(var01)) < 1e-9);
    GraphInputSpec fcz;
    fcz.standardiseEdges = true;
    const auto fz = GraphInputTransform::fit(fcz, trainFc, {});
    QCOMPARE(fz.apply(fc[3], {})(2, 2), 0.0);  // Pearson's diagonal is constant: left at 0, not divided by 0

    // The fitted parameters survive a model file's JSON exactly (what predict applies).
    const auto back = GraphInputTransform::fromJson(nlohmann::json::parse(tz.toJson().dump()));
    QVERIFY((back.apply(fc[28], series[28]) - tz.apply(fc[28], series[28])).cwiseAbs().maxCoeff() < 1e-12);
    QCOMPARE(back.spec().standardiseEdges, true);
    auto broken = tz.toJson();
    broken["reference"] = std::vector<double>(5, 1.0);
    QVERIFY_THROWS_EXCEPTION(Error, GraphInputTransform::fromJson(broken));
    broken = tz.toJson();
    std::vector<double> notSpd(rois * rois, 0.0);
    broken["reference"] = notSpd;
    QVERIFY_THROWS_EXCEPTION(Error, GraphInputTransform::fromJson(broken));
    QVERIFY_THROWS_EXCEPTION(Error, GraphInputSpec::fromJson(nlohmann::json("partial")));
    QCOMPARE(GraphInputSpec::fromJson(nlohmann::json("tangent")).kind, std::string("tangent"));
    // A card names its input for reports; cards without one read Pearson FC.
    const auto described = graphInputOfCard(nlohmann::json{{"input_transform", tz.toJson()}}).description();
    QVERIFY(described.find("tangent-space") == 0 && described.find("z-scored") != std::string::npos);
    QVERIFY(graphInputOfCard(nlohmann::json::object()).description().find("Pearson correlation") == 0);
    // Fitting needs one time series per training scan.
    QVERIFY_THROWS_EXCEPTION(Error, GraphInputTransform::fit(tangent, trainFc, {}));

    // Progress runs from 0 to 1 without going back, through every stage, and the fit is the same
    // with or without it; a cancel request stops the fit at the next report.
    struct Recorder final : ProgressDelegate {
      std::vector<double> fractions;
      std::vector<std::string> stages;
      std::size_t cancelAt = 0;  // 0: never
      bool update(std::string_view stage, double fraction) override {
        fractions.push_back(fraction);
        stages.emplace_back(stage);
        return cancelAt > 0 && fractions.size() >= cancelAt;
      }
      bool cancelRequested() const override { return cancelAt > 0 && fractions.size() >= cancelAt; }
    } recorder;
    const auto tracked = GraphInputTransform::fit(z, trainFc, trainSeries, &recorder);
    QVERIFY((tracked.apply(fc[28], series[28]) - tz.apply(fc[28], series[28])).cwiseAbs().maxCoeff() < 1e-12);
    QVERIFY(recorder.fractions.size() >= 4);
    QVERIFY(std::is_sorted(recorder.fractions.begin(), recorder.fractions.end()));
    QCOMPARE(recorder.fractions.back(), 1.0);
    for (const char* stage : {"Ledoit-Wolf covariances", "geometric mean", "edge statistics"})
      QVERIFY2(std::any_of(recorder.stages.begin(), recorder.stages.end(), [&](const std::string& s) { return s.find(stage) != std::string::npos; }), stage);
    const auto reports = recorder.fractions.size();
    for (std::size_t at : {std::size_t{1}, std::size_t{3}, reports}) {  // during the covariances, the mean, the last edge chunk
      Recorder cancelling;
      cancelling.cancelAt = at;
      QVERIFY_THROWS_EXCEPTION(CancelledError, GraphInputTransform::fit(z, trainFc, trainSeries, &cancelling));
      QCOMPARE(cancelling.fractions.size(), at);
    }
  }

  void siteStandardisationUsesEachSitesTrainingScans() {
    // Three sites with different offsets and spreads; site C has too few scans for statistics of its own.
    std::mt19937 rng(11);
    std::normal_distribution<double> normal;
    const int features = 6;
    const std::vector<std::pair<std::string, int>> plan = {{"A", 12}, {"B", 9}, {"C", SiteStandardizer::kMinScans - 1}};
    std::vector<Eigen::RowVectorXd> rows;
    std::vector<std::string> sites;
    for (std::size_t s = 0; s < plan.size(); ++s)
      for (int k = 0; k < plan[s].second; ++k) {
        Eigen::RowVectorXd r(features);
        for (int c = 0; c < features; ++c) r(c) = 3.0 * static_cast<double>(s) + (1.0 + static_cast<double>(s)) * normal(rng);
        r(features - 1) = 0.25;  // constant everywhere: stays 0, not divided by 0
        rows.push_back(r);
        sites.push_back(plan[s].first);
      }
    Eigen::MatrixXd x(static_cast<Eigen::Index>(rows.size()), features);
    for (std::size_t i = 0; i < rows.size(); ++i) x.row(static_cast<Eigen::Index>(i)) = rows[i];
    SiteStandardizer st;
    st.fit(x, sites);
    QVERIFY(st.knows("A") && st.knows("B") && !st.knows("C") && !st.knows("D"));
    QCOMPARE(st.sites(), (std::vector<std::string>{"A", "B"}));
    // Independent statistics, feature 2: population mean and SD over a site's scans, or over all scans.
    auto stats = [&](const std::string& only) {
      double sum = 0, n = 0;
      for (std::size_t i = 0; i < rows.size(); ++i)
        if (only.empty() || sites[i] == only) sum += rows[i](2), n += 1;
      const double mean = sum / n;
      double ss = 0;
      for (std::size_t i = 0; i < rows.size(); ++i)
        if (only.empty() || sites[i] == only) ss += (rows[i](2) - mean) * (rows[i](2) - mean);
      return std::make_pair(mean, std::sqrt(ss / n));
    };
    Eigen::RowVectorXd probe = Eigen::RowVectorXd::Constant(features, 1.7);
    for (const std::string site : {"A", "B", "C", "D", ""}) {
      const auto [mean, sd] = stats(site == "A" || site == "B" ? site : std::string());  // C (too few), D (unseen), none: pooled
      Eigen::RowVectorXd r = probe;
      st.applyRow(r, site);
      QVERIFY2(std::fabs(r(2) - (1.7 - mean) / sd) < 1e-12, site.c_str());
      QCOMPARE(r(features - 1), (1.7 - 0.25) / 1.0);
    }
    // Within a site with statistics, its own training scans have mean 0 and SD 1.
    const Eigen::MatrixXd z = st.apply(x, sites);
    Eigen::RowVectorXd sumA = Eigen::RowVectorXd::Zero(features), sqA = Eigen::RowVectorXd::Zero(features);
    for (int i = 0; i < 12; ++i) sumA += z.row(i), sqA += z.row(i).cwiseProduct(z.row(i));
    QVERIFY((sumA / 12.0).head(features - 1).cwiseAbs().maxCoeff() < 1e-12);
    QVERIFY(((sqA / 12.0).head(features - 1).array() - 1.0).abs().maxCoeff() < 1e-12);
    // JSON round trip, and clear errors.
    const auto back = SiteStandardizer::fromJson(nlohmann::json::parse(st.toJson().dump()));
    QVERIFY((back.apply(x, sites) - z).cwiseAbs().maxCoeff() < 1e-12);
    QVERIFY_THROWS_EXCEPTION(Error, st.apply(x, std::vector<std::string>(3, "A")));
    Eigen::RowVectorXd shortRow(3);
    QVERIFY_THROWS_EXCEPTION(Error, st.applyRow(shortRow, "A"));
    QVERIFY_THROWS_EXCEPTION(Error, SiteStandardizer().finish());
    auto broken = st.toJson();
    broken["sites"]["A"]["scale"][0] = -1.0;
    QVERIFY_THROWS_EXCEPTION(Error, SiteStandardizer::fromJson(broken));

    // As a graph input: fc-site z-scores every edge with the scan's site's training scans.
    const int rois = 5;
    std::vector<Eigen::MatrixXd> fc;
    std::vector<std::string> fcSites;
    for (int s = 0; s < 16; ++s) {
      Eigen::MatrixXd series(60, rois);
      for (Eigen::Index i = 0; i < series.size(); ++i) series.data()[i] = normal(rng);
      if (s % 2) series.col(1) += 0.8 * series.col(0);  // site B: a stronger edge 0-1
      fc.push_back(pearson(series).matrix);
      fcSites.push_back(s % 2 ? "B" : "A");
    }
    const auto spec = GraphInputSpec::fromName("fc-site");
    QVERIFY(spec.perSite && spec.standardiseEdges && spec.kind == "fc" && !spec.identity());
    QCOMPARE(spec.name(), std::string("fc-site"));
    QCOMPARE(GraphInputSpec::fromName("tangent-site").name(), std::string("tangent-site"));
    QVERIFY(!GraphInputSpec::fromName("fc-z").toJson().contains("per_site"));  // existing cache keys and model files unchanged
    QVERIFY(GraphInputSpec::fromJson(spec.toJson()) == spec);
    QVERIFY(GraphInputSpec::fromName("fc-z") != spec);
    QVERIFY_THROWS_EXCEPTION(Error, GraphInputSpec::fromName("fc-sites"));
    QVERIFY_THROWS_EXCEPTION(Error, GraphInputTransform::fit(spec, fc, {}));  // no sites
    const auto t = GraphInputTransform::fit(spec, fc, {}, nullptr, fcSites);
    double sumB = 0, sqB = 0;
    for (int s = 1; s < 16; s += 2)
      sumB += fc[static_cast<std::size_t>(s)](0, 1), sqB += fc[static_cast<std::size_t>(s)](0, 1) * fc[static_cast<std::size_t>(s)](0, 1);
    const double meanB = sumB / 8, sdB = std::sqrt(sqB / 8 - meanB * meanB);
    QVERIFY(std::fabs(t.apply(fc[0], {}, "B")(0, 1) - (fc[0](0, 1) - meanB) / sdB) < 1e-9);
    QVERIFY(t.knowsSite("A") && !t.knowsSite("Z"));
    QCOMPARE(t.siteStandardizer().features(), rois * (rois + 1) / 2);  // the upper triangle with the diagonal: what a model file stores
    const Eigen::MatrixXd harmonised = t.apply(fc[4], {}, "A");
    QVERIFY((harmonised - harmonised.transpose()).cwiseAbs().maxCoeff() == 0.0);
    const GraphInputTransform pooled = GraphInputTransform::fit(GraphInputSpec::fromName("fc-z"), fc, {});
    QVERIFY((t.apply(fc[3], {}, "Z") - pooled.apply(fc[3], {})).cwiseAbs().maxCoeff() < 1e-9);  // an unseen site: pooled
    QVERIFY(std::fabs(t.apply(fc[3], {}, "A")(0, 1) - pooled.apply(fc[3], {})(0, 1)) > 0.1);    // the site's own statistics differ
    const auto tBack = GraphInputTransform::fromJson(nlohmann::json::parse(t.toJson().dump()));
    QVERIFY((tBack.apply(fc[5], {}, "B") - t.apply(fc[5], {}, "B")).cwiseAbs().maxCoeff() < 1e-12);
    QVERIFY((tBack.apply(fc[5], {}, "Q") - t.apply(fc[5], {}, "Q")).cwiseAbs().maxCoeff() < 1e-12);
    QVERIFY(graphInputOfCard(nlohmann::json{{"input_transform", t.toJson()}}).description().find("acquisition site") != std::string::npos);
  }

  void siteAdaptationUsesTheNewSitesOwnScans() {
    // Two training sites, then a new site D with its own offset and spread, seen only unlabelled.
    std::mt19937 rng(23);
    std::normal_distribution<double> normal;
    const int features = 4;
    auto draw = [&](double offset, double spread) {
      Eigen::RowVectorXd r(features);
      for (int c = 0; c < features; ++c) r(c) = offset + spread * normal(rng);
      return r;
    };
    Eigen::MatrixXd x(16, features);
    std::vector<std::string> sites;
    for (int i = 0; i < 16; ++i) {
      x.row(i) = draw(i % 2 ? 2.0 : -1.0, 1.0);
      sites.push_back(i % 2 ? "B" : "A");
    }
    SiteStandardizer st;
    st.fit(x, sites);
    Eigen::MatrixXd d(7, features);
    for (int i = 0; i < 7; ++i) d.row(i) = draw(5.0, 3.0);
    QVERIFY(!st.knows("D"));
    QVERIFY_THROWS_EXCEPTION(Error, st.adapt(d.topRows(SiteStandardizer::kMinScans - 1), "D"));  // too few
    QVERIFY_THROWS_EXCEPTION(Error, st.adapt(d.leftCols(3), "D"));                               // wrong length
    QVERIFY_THROWS_EXCEPTION(Error, st.adapt(d, "A"));                                           // a training site
    QVERIFY_THROWS_EXCEPTION(Error, st.adapt(d, ""));
    st.adapt(d, "D");
    QVERIFY(st.knows("D") && st.adapted("D") && !st.adapted("A"));
    // Independently: feature 1's population mean and SD over D's seven rows.
    double sum = 0, ss = 0;
    for (int i = 0; i < 7; ++i) sum += d(i, 1);
    const double mean = sum / 7;
    for (int i = 0; i < 7; ++i) ss += (d(i, 1) - mean) * (d(i, 1) - mean);
    const double sd = std::sqrt(ss / 7);
    Eigen::RowVectorXd probe = Eigen::RowVectorXd::Constant(features, 4.2);
    st.applyRow(probe, "D");
    QVERIFY(std::fabs(probe(1) - (4.2 - mean) / sd) < 1e-12);
    // The training sites and the pooled statistics are untouched.
    SiteStandardizer fresh;
    fresh.fit(x, sites);
    QVERIFY((st.apply(x, sites) - fresh.apply(x, sites)).cwiseAbs().maxCoeff() == 0.0);
    QVERIFY((st.pooledMean() - fresh.pooledMean()).cwiseAbs().maxCoeff() == 0.0);
    // Adapting again replaces the earlier adaptation; the flag survives a JSON round trip.
    st.adapt(d.bottomRows(5), "D");
    const auto back = SiteStandardizer::fromJson(nlohmann::json::parse(st.toJson().dump()));
    QVERIFY(back.adapted("D") && !back.adapted("B"));
    QVERIFY(!fresh.toJson()["sites"]["A"].contains("adapted"));  // files without adaptations stay as they were
    Eigen::RowVectorXd again = Eigen::RowVectorXd::Constant(features, 4.2), again2 = again;
    st.applyRow(again, "D");
    back.applyRow(again2, "D");
    QVERIFY((again - again2).cwiseAbs().maxCoeff() < 1e-12);
    QVERIFY(std::fabs(again(1) - probe(1)) > 1e-9);  // other rows, other statistics

    // As a graph input: the new site's scans are z-scored with their own edge statistics; only per-site inputs adapt.
    auto scan = [&](double coupling) { return coupledFc(rng, normal, coupling); };
    std::vector<Eigen::MatrixXd> fc, fresher;
    std::vector<std::string> fcSites;
    for (int i = 0; i < 12; ++i) fc.push_back(scan(0.2)), fcSites.push_back(i % 2 ? "B" : "A");
    for (int i = 0; i < 6; ++i) fresher.push_back(scan(1.5));
    auto t = GraphInputTransform::fit(GraphInputSpec::fromName("fc-site"), fc, {}, nullptr, fcSites);
    const Eigen::MatrixXd before = t.apply(fresher[0], {}, "E");
    t.adaptSite("E", fresher, {});
    QVERIFY(t.knowsSite("E") && t.siteAdapted("E") && !t.siteAdapted("A"));
    double eSum = 0, eSq = 0;
    for (const auto& m : fresher) eSum += m(0, 2), eSq += m(0, 2) * m(0, 2);
    const double eMean = eSum / 6, eSd = std::sqrt(eSq / 6 - eMean * eMean);
    const Eigen::MatrixXd after = t.apply(fresher[0], {}, "E");
    QVERIFY(std::fabs(after(0, 2) - (fresher[0](0, 2) - eMean) / eSd) < 1e-9);
    QVERIFY(std::fabs(after(0, 2) - before(0, 2)) > 0.5);  // the pooled statistics put the new site's strong edge far off
    const auto tBack = GraphInputTransform::fromJson(nlohmann::json::parse(t.toJson().dump()));
    QVERIFY(tBack.siteAdapted("E") && (tBack.apply(fresher[1], {}, "E") - t.apply(fresher[1], {}, "E")).cwiseAbs().maxCoeff() < 1e-12);
    QVERIFY_THROWS_EXCEPTION(Error, t.adaptSite("A", fresher, {}));
    auto pooledOnly = GraphInputTransform::fit(GraphInputSpec::fromName("fc-z"), fc, {});
    QVERIFY_THROWS_EXCEPTION(Error, pooledOnly.adaptSite("E", fresher, {}));
  }

  // A new site's batch with known diagnoses: its statistics are those of the training mix, computed
  // here from the class means and variances by hand; the batch's own mix no longer matters.
  void labelledAdaptationWeightsTheBatchToTheTrainingMix() {
    std::mt19937 rng(11);
    std::normal_distribution<double> normal(0.0, 1.0);
    const int features = 3;
    Eigen::MatrixXd x(20, features);
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = normal(rng);
    std::vector<std::string> sites;
    for (int i = 0; i < 20; ++i) sites.push_back(i % 2 ? "B" : "A");
    SiteStandardizer st;
    st.fit(x, sites);
    // Site E: patients (class 1) about +2 on feature 0, controls about -2; 9 patients and 3 controls.
    auto draw = [&](int n, double shift) {
      Eigen::MatrixXd r(n, features);
      for (Eigen::Index i = 0; i < r.size(); ++i) r.data()[i] = normal(rng);
      r.col(0).array() += shift;
      return r;
    };
    const Eigen::MatrixXd pos = draw(9, 2.0), neg = draw(3, -2.0);
    Eigen::MatrixXd batch(12, features);
    batch << pos, neg;
    std::vector<int> labels(9, 1);
    labels.insert(labels.end(), 3, 0);
    const double f = 0.4;  // the training corpus's share of patients
    SiteStandardizer weighted = st;
    weighted.adapt(batch, "E", labels, f);
    QVERIFY(weighted.adapted("E"));
    const Eigen::RowVectorXd m1 = pos.colwise().mean(), m0 = neg.colwise().mean();
    const Eigen::RowVectorXd v1 = (pos.rowwise() - m1).array().square().colwise().mean(), v0 = (neg.rowwise() - m0).array().square().colwise().mean();
    const Eigen::RowVectorXd mean = f * m1 + (1 - f) * m0;
    const Eigen::RowVectorXd sd = (f * (v1.array() + (m1 - mean).array().square()) + (1 - f) * (v0.array() + (m0 - mean).array().square())).sqrt();
    Eigen::RowVectorXd probe = Eigen::RowVectorXd::Constant(features, 0.7);
    weighted.applyRow(probe, "E");
    for (int k = 0; k < features; ++k) QVERIFY(std::fabs(probe(k) - (0.7 - mean(k)) / sd(k)) < 1e-12);
    // Unlabelled, the 9:3 batch puts the site's zero near the patients' mean instead.
    SiteStandardizer plain = st;
    plain.adapt(batch, "E");
    Eigen::RowVectorXd plainProbe = Eigen::RowVectorXd::Constant(features, 0.7);
    plain.applyRow(plainProbe, "E");
    QVERIFY(std::fabs(plainProbe(0) - probe(0)) > 0.3);
    // Three times the controls (the same scans repeated): the weighted statistics do not move, the plain ones do.
    Eigen::MatrixXd more(18, features);
    more << pos, neg, neg, neg;
    std::vector<int> moreLabels(9, 1);
    moreLabels.insert(moreLabels.end(), 9, 0);
    SiteStandardizer weighted2 = st, plain2 = st;
    weighted2.adapt(more, "E", moreLabels, f);
    plain2.adapt(more, "E");
    Eigen::RowVectorXd a = Eigen::RowVectorXd::Constant(features, 0.7), b = a, c = a;
    weighted2.applyRow(a, "E");
    plain2.applyRow(b, "E");
    QVERIFY((a - probe).cwiseAbs().maxCoeff() < 1e-12);
    QVERIFY(std::fabs(b(0) - plainProbe(0)) > 0.1);
    // A batch already at the weighting's mix gets the unlabelled statistics exactly.
    Eigen::MatrixXd even(6, features);
    even << pos.topRows(3), neg;
    SiteStandardizer half = st, unlabelled = st;
    half.adapt(even, "E", {1, 1, 1, 0, 0, 0}, 0.5);
    unlabelled.adapt(even, "E");
    half.applyRow(c, "E");
    Eigen::RowVectorXd d = Eigen::RowVectorXd::Constant(features, 0.7);
    unlabelled.applyRow(d, "E");
    QVERIFY((c - d).cwiseAbs().maxCoeff() < 1e-12);
    // The weighted statistics survive the JSON round trip.
    const auto back = SiteStandardizer::fromJson(nlohmann::json::parse(weighted.toJson().dump()));
    Eigen::RowVectorXd e = Eigen::RowVectorXd::Constant(features, 0.7);
    back.applyRow(e, "E");
    QVERIFY((e - probe).cwiseAbs().maxCoeff() < 1e-12);
    // Refusals: a label per row, classes 0 and 1, two of each, a share strictly inside (0, 1).
    SiteStandardizer r = st;
    QVERIFY_THROWS_EXCEPTION(Error, r.adapt(batch, "E", std::vector<int>(11, 1), f));
    std::vector<int> bad = labels;
    bad[0] = 2;
    QVERIFY_THROWS_EXCEPTION(Error, r.adapt(batch, "E", bad, f));
    std::vector<int> oneControl = labels;
    oneControl[10] = oneControl[11] = 1;
    QVERIFY_THROWS_EXCEPTION(Error, r.adapt(batch, "E", oneControl, f));
    QVERIFY_THROWS_EXCEPTION(Error, r.adapt(batch, "E", labels, 1.0));
    QVERIFY(!r.knows("E"));
    // Through the graph input: a balanced labelled batch at one half equals the unlabelled adaptation.
    auto scan = [&](double coupling) { return coupledFc(rng, normal, coupling); };
    std::vector<Eigen::MatrixXd> fc, fresher;
    std::vector<std::string> fcSites;
    for (int i = 0; i < 12; ++i) fc.push_back(scan(0.2)), fcSites.push_back(i % 2 ? "B" : "A");
    for (int i = 0; i < 6; ++i) fresher.push_back(scan(i < 3 ? 1.5 : 0.5));
    auto t = GraphInputTransform::fit(GraphInputSpec::fromName("fc-site"), fc, {}, nullptr, fcSites);
    auto u = t;
    t.adaptSite("E", fresher, {}, {1, 1, 1, 0, 0, 0}, 0.5);
    u.adaptSite("E", fresher, {});
    QVERIFY((t.apply(fresher[0], {}, "E") - u.apply(fresher[0], {}, "E")).cwiseAbs().maxCoeff() < 1e-9);
    auto w = GraphInputTransform::fit(GraphInputSpec::fromName("fc-site"), fc, {}, nullptr, fcSites);
    w.adaptSite("E", fresher, {}, {1, 1, 1, 0, 0, 0}, 0.2);
    QVERIFY((w.apply(fresher[0], {}, "E") - u.apply(fresher[0], {}, "E")).cwiseAbs().maxCoeff() > 0.05);
  }

  void adaptationSampleIsSeededPerSite() {
    const auto a = SiteStandardizer::adaptationSample(30, 7, 3, "NYU");
    QCOMPARE(a.size(), std::size_t{7});
    QVERIFY(std::is_sorted(a.begin(), a.end()) && std::adjacent_find(a.begin(), a.end()) == a.end() && a.back() < 30);
    QVERIFY(a == SiteStandardizer::adaptationSample(30, 7, 3, "NYU"));  // a rerun draws alike
    QVERIFY(a != SiteStandardizer::adaptationSample(30, 7, 3, "UCLA") || a != SiteStandardizer::adaptationSample(30, 7, 4, "NYU"));
    std::set<std::vector<std::size_t>> draws;
    for (unsigned seed = 0; seed < 20; ++seed) draws.insert(SiteStandardizer::adaptationSample(30, 7, seed, "NYU"));
    QVERIFY(draws.size() > 15);  // C(30, 7) choices: seeds draw apart
    const std::vector<std::size_t> all = {0, 1, 2, 3, 4};
    QVERIFY(SiteStandardizer::adaptationSample(5, 0, 1, "X") == all && SiteStandardizer::adaptationSample(5, 9, 1, "X") == all);
  }

  // Evaluation batches of a chosen class mix: every scan of the class that runs out first, a seeded
  // choice of the other, at most `wanted` in all at the same share.
  void adaptationBatchHasTheAskedMix() {
    std::vector<int> labels;
    for (int i = 0; i < 30; ++i) labels.push_back(i % 3 == 0 ? 1 : 0);  // 10 positives, 20 negatives
    auto count = [&](const std::vector<std::size_t>& b, int c) { return std::count_if(b.begin(), b.end(), [&](std::size_t k) { return labels[k] == c; }); };
    QVERIFY(SiteStandardizer::adaptationBatch(labels, 7, -1, 3, "NYU") == SiteStandardizer::adaptationSample(30, 7, 3, "NYU"));  // as the site comes
    const auto onlyPositives = SiteStandardizer::adaptationBatch(labels, 0, 1.0, 3, "NYU");
    QCOMPARE(onlyPositives.size(), std::size_t{10});
    QCOMPARE(count(onlyPositives, 1), 10);
    QCOMPARE(count(SiteStandardizer::adaptationBatch(labels, 0, 0.0, 3, "NYU"), 0), 20);
    const auto threeQuarters = SiteStandardizer::adaptationBatch(labels, 0, 0.75, 3, "NYU");  // all 10 positives, round(10 / 3) = 3 negatives
    QCOMPARE(count(threeQuarters, 1), 10);
    QCOMPARE(count(threeQuarters, 0), 3);
    const auto tenth = SiteStandardizer::adaptationBatch(labels, 0, 0.1, 3, "NYU");  // all 20 negatives, round(20 * 0.1 / 0.9) = 2 positives
    QCOMPARE(count(tenth, 0), 20);
    QCOMPARE(count(tenth, 1), 2);
    const auto half = SiteStandardizer::adaptationBatch(labels, 8, 0.5, 3, "NYU");  // 10 + 10, capped at 8: 4 + 4
    QCOMPARE(count(half, 1), 4);
    QCOMPARE(count(half, 0), 4);
    QVERIFY(std::is_sorted(half.begin(), half.end()));
    QVERIFY(half == SiteStandardizer::adaptationBatch(labels, 8, 0.5, 3, "NYU"));  // a rerun draws alike
    std::set<std::vector<std::size_t>> draws;
    for (unsigned seed = 0; seed < 10; ++seed) draws.insert(SiteStandardizer::adaptationBatch(labels, 8, 0.5, seed, "NYU"));
    QVERIFY(draws.size() > 5);
  }

  void combatShrinksSiteStatisticsByEmpiricalBayes() {
    // Three sites whose per-feature offsets and spreads scatter around a site-wide level (the shape
    // ComBat's priors assume), a constant feature, then ComBat computed independently from the rows.
    std::mt19937 rng(31);
    std::normal_distribution<double> normal;
    const int features = 40;
    const std::vector<std::tuple<std::string, int, double, double>> plan = {{"A", 6, 1.0, 1.5}, {"B", 9, -0.5, 0.8}, {"C", 60, 0.2, 1.0}};
    std::vector<Eigen::RowVectorXd> rowList;
    std::vector<std::string> sites;
    for (const auto& [site, n, offset, spread] : plan) {
      Eigen::RowVectorXd featureOffset(features), featureSpread(features);
      for (int g = 0; g < features; ++g) featureOffset(g) = offset + 0.3 * normal(rng), featureSpread(g) = spread * std::exp(0.2 * normal(rng));
      for (int i = 0; i < n; ++i) {
        Eigen::RowVectorXd r(features);
        for (int g = 0; g < features; ++g) r(g) = featureOffset(g) + featureSpread(g) * normal(rng) + 0.1 * g;
        r(0) = 1.0;  // constant, like Pearson's diagonal
        rowList.push_back(r);
        sites.push_back(site);
      }
    }
    Eigen::MatrixXd x(static_cast<Eigen::Index>(rowList.size()), features);
    for (std::size_t i = 0; i < rowList.size(); ++i) x.row(static_cast<Eigen::Index>(i)) = rowList[i];

    // Independent ComBat (Johnson et al. 2007, no covariates), straight from the rows.
    const auto total = static_cast<double>(x.rows());
    Eigen::RowVectorXd alpha = x.colwise().mean(), sigma2 = Eigen::RowVectorXd::Zero(features);
    std::map<std::string, Eigen::RowVectorXd> siteMean;
    for (const auto& [site, n, offset, spread] : plan) {
      Eigen::RowVectorXd m = Eigen::RowVectorXd::Zero(features);
      for (Eigen::Index i = 0; i < x.rows(); ++i)
        if (sites[static_cast<std::size_t>(i)] == site) m += x.row(i) / n;
      siteMean[site] = m;
    }
    for (Eigen::Index i = 0; i < x.rows(); ++i) sigma2 += (x.row(i) - siteMean[sites[static_cast<std::size_t>(i)]]).array().square().matrix() / total;
    // gamma* and delta* for one site's rows, features 1.. (0 is constant), to a tight tolerance.
    auto combat = [&](const std::vector<Eigen::RowVectorXd>& rows) {
      const int n = static_cast<int>(rows.size()), k = features - 1;
      Eigen::MatrixXd z(n, k);
      for (int i = 0; i < n; ++i)
        for (int g = 1; g < features; ++g) z(i, g - 1) = (rows[static_cast<std::size_t>(i)](g) - alpha(g)) / std::sqrt(sigma2(g));
      Eigen::VectorXd gHat = z.colwise().mean().transpose(), dHat(k);
      for (int g = 0; g < k; ++g) dHat(g) = (z.col(g).array() - gHat(g)).square().sum() / (n - 1);
      auto var = [k](const Eigen::VectorXd& v) { return (v.array() - v.mean()).square().sum() / (k - 1); };
      const double gBar = gHat.mean(), t2 = var(gHat), m = dHat.mean(), s2 = var(dHat);
      const double a = (2 * s2 + m * m) / s2, b = (m * s2 + m * m * m) / s2;
      Eigen::VectorXd g = gHat, d = dHat;
      for (int it = 0; it < 10000; ++it) {
        Eigen::VectorXd gNew(k), dNew(k);
        for (int f = 0; f < k; ++f) {
          gNew(f) = (n * t2 * gHat(f) + d(f) * gBar) / (n * t2 + d(f));
          double sum2 = 0;
          for (int i = 0; i < n; ++i) sum2 += (z(i, f) - gNew(f)) * (z(i, f) - gNew(f));
          dNew(f) = (0.5 * sum2 + b) / (n / 2.0 + a - 1);
        }
        const double change = std::max((gNew - g).cwiseAbs().maxCoeff(), (dNew - d).cwiseAbs().maxCoeff());
        g = gNew, d = dNew;
        if (change < 1e-14) break;
      }
      return std::make_tuple(g, d, gHat, dHat);
    };

    SiteStandardizer plain, eb(true);
    plain.fit(x, sites);
    eb.fit(x, sites);
    QVERIFY(eb.empiricalBayes() && !plain.empiricalBayes());
    Eigen::RowVectorXd probe(features);
    for (int g = 0; g < features; ++g) probe(g) = 0.7 - 0.05 * g + 0.1 * g;
    double smallSiteShift = 0, largeSiteShift = 0;
    for (const auto& [site, n, offset, spread] : plan) {
      std::vector<Eigen::RowVectorXd> own;
      for (Eigen::Index i = 0; i < x.rows(); ++i)
        if (sites[static_cast<std::size_t>(i)] == site) own.push_back(x.row(i));
      const auto [g, d, gHat, dHat] = combat(own);
      Eigen::RowVectorXd out = probe, unshrunk = probe;
      eb.applyRow(out, site);
      plain.applyRow(unshrunk, site);
      double shift = 0;
      for (int f = 1; f < features; ++f) {
        const double z = (probe(f) - alpha(f)) / std::sqrt(sigma2(f));
        QVERIFY2(
            std::fabs(out(f) - (z - g(f - 1)) / std::sqrt(d(f - 1))) < 1e-3 * (1 + std::fabs(out(f))),
            qPrintable(QString("site %1 feature %2: %3 vs %4").arg(QString::fromStdString(site)).arg(f).arg(out(f)).arg((z - g(f - 1)) / std::sqrt(d(f - 1)))));
        shift = std::max(shift, std::fabs(out(f) - unshrunk(f)));
      }
      QCOMPARE(out(0), unshrunk(0));  // the constant feature is left to the plain statistics
      if (site == "A") smallSiteShift = shift;
      if (site == "C") largeSiteShift = shift;
    }
    QVERIFY2(smallSiteShift > 0.05, qPrintable(QString::number(smallSiteShift)));  // six scans: the prior matters
    QVERIFY2(largeSiteShift < smallSiteShift, qPrintable(QString::number(largeSiteShift)));

    // A model file keeps the shrunk statistics and what a later adaptation needs; plain files stay as they were.
    const auto back = SiteStandardizer::fromJson(nlohmann::json::parse(eb.toJson().dump()));
    QVERIFY(back.empiricalBayes() && eb.toJson().value("shrinkage", std::string()) == "empirical-bayes");
    QVERIFY(!plain.toJson().contains("shrinkage") && !plain.toJson().contains("combat"));
    QVERIFY((back.apply(x, sites) - eb.apply(x, sites)).cwiseAbs().maxCoeff() < 1e-12);
    auto bad = eb.toJson();
    bad["shrinkage"] = "median";
    QVERIFY_THROWS_EXCEPTION(Error, SiteStandardizer::fromJson(bad));

    // A new site adapted from its own rows is shrunk the same way, against the training standardisation.
    std::vector<Eigen::RowVectorXd> fresh;
    Eigen::MatrixXd d(7, features);
    for (int i = 0; i < 7; ++i) {
      for (int g = 0; g < features; ++g) d(i, g) = 2.0 + 1.3 * normal(rng) + 0.1 * g;
      d(i, 0) = 1.0;
      fresh.push_back(d.row(i));
    }
    auto adapted = back;
    adapted.adapt(d, "D");
    const auto [gD, dD, gHatD, dHatD] = combat(fresh);
    Eigen::RowVectorXd outD = probe;
    adapted.applyRow(outD, "D");
    for (int f = 1; f < features; ++f) {
      const double z = (probe(f) - alpha(f)) / std::sqrt(sigma2(f));
      QVERIFY(std::fabs(outD(f) - (z - gD(f - 1)) / std::sqrt(dD(f - 1))) < 1e-3 * (1 + std::fabs(outD(f))));
    }

    // As a graph input: the names, the model-file form, and a file whose statistics contradict its name.
    const auto spec = GraphInputSpec::fromName("tangent-combat");
    QVERIFY(spec.perSite && spec.empiricalBayes && spec.standardiseEdges && spec.kind == "tangent" && spec.name() == "tangent-combat");
    QVERIFY(GraphInputSpec::fromJson(spec.toJson()) == spec && GraphInputSpec::fromJson(spec.toJson()) != GraphInputSpec::fromName("tangent-site"));
    QVERIFY(!GraphInputSpec::fromName("fc-site").toJson().contains("site_shrinkage"));
    for (const auto& n : GraphInputSpec::names()) QCOMPARE(GraphInputSpec::fromName(n).name(), n);  // the CLI's list, each a name
    QCOMPARE(GraphInputSpec::names().size(), std::size_t{8});
    QVERIFY(GraphInputSpec::fromName("fc-combat").perSite && GraphInputSpec::fromName("fc-site").perSite && !GraphInputSpec::fromName("fc-z").perSite);
    QVERIFY_THROWS_EXCEPTION(Error,
                             GraphInputSpec::fromJson(nlohmann::json{{"kind", "fc"}, {"standardise_edges", true}, {"site_shrinkage", "empirical-bayes"}}));
    const int rois = 5;
    std::vector<Eigen::MatrixXd> fc;
    std::vector<std::string> fcSites;
    for (int i = 0; i < 18; ++i) {
      Eigen::MatrixXd series(40, rois);
      for (Eigen::Index e = 0; e < series.size(); ++e) series.data()[e] = normal(rng);
      series.col(1) += (i % 3 == 0 ? 0.9 : 0.1) * series.col(0);
      fc.push_back(pearson(series).matrix);
      fcSites.push_back(i % 3 == 0 ? "P" : "Q");
    }
    const auto t = GraphInputTransform::fit(GraphInputSpec::fromName("fc-combat"), fc, {}, nullptr, fcSites);
    QVERIFY(t.siteStandardizer().empiricalBayes());
    const auto tBack = GraphInputTransform::fromJson(nlohmann::json::parse(t.toJson().dump()));
    QVERIFY((tBack.apply(fc[0], {}, "P") - t.apply(fc[0], {}, "P")).cwiseAbs().maxCoeff() < 1e-12);
    auto contradict = t.toJson();
    contradict.erase("site_shrinkage");
    QVERIFY_THROWS_EXCEPTION(Error, GraphInputTransform::fromJson(contradict));
    const auto tPlain = GraphInputTransform::fit(GraphInputSpec::fromName("fc-site"), fc, {}, nullptr, fcSites);
    QVERIFY((tPlain.apply(fc[0], {}, "P") - t.apply(fc[0], {}, "P")).cwiseAbs().maxCoeff() > 1e-6);
  }

  void adjacencyRules() {
    Eigen::MatrixXd fc(4, 4);
    fc << 1, 0.5, -0.6, 0.1,  //
        0.5, 1, 0.2, 0.35,    //
        -0.6, 0.2, 1, 0.05,   //
        0.1, 0.35, 0.05, 1;
    AdjacencyOptions o;
    auto a = buildAdjacency(fc, o);
    QCOMPARE(a(0, 1), 1.0);
    QCOMPARE(a(0, 2), 0.0);
    QCOMPARE(a(1, 3), 1.0);
    QCOMPARE(a(0, 0), 1.0);
    o.absolute = true;
    QCOMPARE(buildAdjacency(fc, o)(0, 2), 1.0);
    o.rule = AdjacencyRule::Proportional;
    o.density = 2.0 / 6.0;  // keep the 2 strongest |r| of 6 edges
    a = buildAdjacency(fc, o);
    QCOMPARE(a(0, 2), 1.0);
    QCOMPARE(a(0, 1), 1.0);
    QCOMPARE((a.sum() - a.trace()) / 2, 2.0);
  }

  void randomWalkEncodingMatchesMatrixPowers() {
    Eigen::MatrixXd a(4, 4);
    a << 1, 1, 0, 1,  //
        1, 1, 1, 0,   //
        0, 1, 1, 1,   //
        1, 0, 1, 1;
    const auto rwse = randomWalkEncoding(a, 5);
    Eigen::MatrixXd p = a;
    for (int i = 0; i < 4; ++i) p.row(i) /= a.row(i).sum() + 1e-6;
    Eigen::MatrixXd pk = Eigen::MatrixXd::Identity(4, 4);
    for (int k = 0; k < 5; ++k) {
      pk = pk * p;
      for (int i = 0; i < 4; ++i) QVERIFY(std::fabs(rwse(i, k) - pk(i, i)) < 1e-12);
    }
    const auto x = nodeFeatures(a, rwse, 16);
    QCOMPARE(x.cols(), Eigen::Index(16));
    QCOMPARE(x(2, 4 + 1), rwse(2, 1));
    QCOMPARE(x(2, 15), 0.0);
  }

  void graphMetricsOnKnownGraphs() {
    // Two 4-cliques joined by one weak edge, negative weights between them.
    Eigen::MatrixXd w = Eigen::MatrixXd::Constant(8, 8, -0.2);
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 8; ++j)
        if ((i < 4) == (j < 4)) w(i, j) = 0.8;
    w(3, 4) = w(4, 3) = 0.1;
    std::vector<int> networks = {0, 0, 0, 0, 1, 1, 1, 1};
    const auto m = computeGraphMetrics(w, networks, 1);
    QCOMPARE(m.community(0), m.community(3));
    QCOMPARE(m.community(4), m.community(7));
    QVERIFY(m.community(0) != m.community(4));
    QVERIFY(std::fabs(m.modularity - signedModularity(w, m.community)) < 1e-12);
    QVERIFY(m.modularity > 0.4);
    // Participation by the true partition: nodes 3 and 4 reach across, the others do not.
    QCOMPARE(m.participation(0), 0.0);
    QVERIFY(m.participation(3) > 0.0);
    QCOMPARE(m.degree(0), 7.0);
    // Complete graph: clustering 1, efficiency 1.
    const Eigen::MatrixXd k5 = Eigen::MatrixXd::Ones(5, 5);
    const auto mk = computeGraphMetrics(k5, {});
    QVERIFY(std::fabs(mk.clustering(0) - 1.0) < 1e-12);
    QVERIFY(std::fabs(mk.globalEfficiency - 1.0) < 1e-12);
    // Path 0-1-2: efficiency = (1 + 1 + 1/2) * 2 / 6.
    Eigen::MatrixXd path = Eigen::MatrixXd::Zero(3, 3);
    path(0, 1) = path(1, 0) = path(1, 2) = path(2, 1) = 1;
    QVERIFY(std::fabs(computeGraphMetrics(path, {}).globalEfficiency - 5.0 / 6.0) < 1e-12);
  }
};

QTEST_APPLESS_MAIN(TestSignal)
#include "test_signal.moc"
