#include "eval/Evaluation.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "errors/Error.h"
#include "connectome/Connectivity.h"
#include "connectome/SiteStandardizer.h"
#include "eval/Baselines.h"
#include "eval/Calibration.h"
#include "eval/CrossFit.h"
#include "eval/CrossValidation.h"
#include "eval/Metrics.h"
#include "eval/RegularisationSearch.h"
#include "eval/Results.h"
#include "workspace/Corpus.h"
#include "workspace/Workspace.h"

namespace bg {
using nlohmann::json;

namespace {

// Each scan's features, one row per scan (Fisher-z FC), or each scan's covariance (tangent space: the
// reference, and so the features, come from each fold's training part).
struct BaselineFeatures {
  Eigen::MatrixXd x;
  std::vector<Eigen::MatrixXd> covariances;
  Eigen::VectorXi y;
  std::vector<int> classIndex;
  std::vector<std::string> sites;
};

BaselineFeatures readBaselineFeatures(Workspace& ws, const json& items, bool tangent, ProgressDelegate& progress) {
  BaselineFeatures out;
  const auto n = static_cast<Eigen::Index>(items.size());
  out.y.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    if (i % 32 == 0 && progress.update("reading FC matrices", 0.2 * static_cast<double>(i) / static_cast<double>(n))) throw CancelledError();
    const auto& item = items[static_cast<std::size_t>(i)];
    if (tangent) {
      out.covariances.push_back(ledoitWolfCovariance(ws.arrays().read(item.at("series_array").get<std::string>())));
      if (out.covariances.back().rows() != out.covariances.front().rows()) throw Error(ErrorCode::Data, "the corpus mixes parcellations of different sizes");
    } else {
      const auto f = fisherUpperTriangle(ws.arrays().read(item.at("fc_array").get<std::string>()));
      if (i == 0) out.x.resize(n, f.size());
      if (f.size() != out.x.cols()) throw Error(ErrorCode::Data, "the corpus mixes FC matrices of different sizes");
      out.x.row(i) = f.transpose();
    }
    out.y(i) = item.at("class_index").get<int>();
    out.classIndex.push_back(out.y(i));
    out.sites.push_back(item.value("site", std::string()));
  }
  return out;
}

// Per-site standardisation fitted on the fold's training rows (adapting to new sites: also on a new
// site's test rows, their labels only to draw a skewed batch or, asked for, to weight it). Counts the
// test scans left on the pooled statistics and those adapted.
void harmoniseFold(const EvaluateRequest& req, const std::vector<int>& train, const std::vector<int>& test, const Eigen::VectorXi& y,
                   const std::vector<std::string>& sites, Eigen::MatrixXd& xt, const Eigen::VectorXi& yt, Eigen::MatrixXd& xs, int& pooledSiteScans,
                   int& adaptedSiteScans) {
  std::vector<std::string> trainSites, testSites;
  for (int i : train) trainSites.push_back(sites[static_cast<std::size_t>(i)]);
  for (int i : test) testSites.push_back(sites[static_cast<std::size_t>(i)]);
  SiteStandardizer harmoniser(req.siteShrinkage);
  harmoniser.fit(xt, trainSites);
  if (req.adaptNewSites) {
    std::map<std::string, std::vector<Eigen::Index>> newSites;
    for (std::size_t k = 0; k < testSites.size(); ++k)
      if (!testSites[k].empty() && !harmoniser.knows(testSites[k])) newSites[testSites[k]].push_back(static_cast<Eigen::Index>(k));
    const double trainingShare = yt.cast<double>().mean();
    for (const auto& [site, rows] : newSites) {
      if (static_cast<int>(rows.size()) < SiteStandardizer::kMinScans) continue;
      std::vector<int> siteLabels;
      for (auto k : rows) siteLabels.push_back(y(test[static_cast<std::size_t>(k)]));
      std::vector<Eigen::Index> used;
      std::vector<int> usedLabels;
      for (auto k : SiteStandardizer::adaptationBatch(siteLabels, req.adaptScans, req.adaptShare, req.seed, site)) {
        used.push_back(rows[k]);
        usedLabels.push_back(siteLabels[k]);
      }
      if (!SiteStandardizer::adaptableBatch(usedLabels, req.adaptLabelled)) continue;
      harmoniser.adapt(xs(used, Eigen::all), site, req.adaptLabelled ? usedLabels : std::vector<int>{}, trainingShare);
      adaptedSiteScans += static_cast<int>(rows.size());
    }
  }
  xt = harmoniser.apply(xt, trainSites);
  xs = harmoniser.apply(xs, testSites);
  for (const auto& s : testSites) pooledSiteScans += harmoniser.knows(s) ? 0 : 1;
}

struct FoldScores {
  Eigen::VectorXd p, pRaw, margin;  // calibrated and raw probabilities; the decision value before calibration
  Calibration calibration;
};

// One fold's classifier, learned from `rows` (the standardised labelled training rows, labels `yl`),
// scoring the standardised test rows `zs`.
FoldScores fitBaselineFold(const EvaluateRequest& req, double c, const Eigen::MatrixXd& rows, const Eigen::VectorXi& yl, const Eigen::MatrixXd& zs,
                           unsigned fold) {
  FoldScores out;
  if (req.method == "logreg") {
    // As `train` makes the file users get: calibration from the out-of-fold margins of models
    // cross-fitted on the labelled training rows, then the model refitted on all of them.
    out.calibration = crossFitLogistic(rows, yl, c, req.calibration, req.seed + fold).calibration;
    LogisticRegression model(c);
    model.fit(rows, yl);
    out.p = model.probability(zs);
    out.pRaw = out.p;
    out.margin = (zs * model.weights()).array() + model.intercept();
    for (Eigen::Index i = 0; i < out.margin.size(); ++i) out.p(i) = out.calibration.probability(out.margin(i));
  } else {
    LinearSvm model(c);
    model.fit(rows, yl);
    out.p = model.probability(zs);  // Platt scaling fitted on the training data
    out.margin = model.decision(zs);
    out.pRaw = out.p;
  }
  return out;
}

json baselineResult(const json& manifest, const EvaluateRequest& req, const json& split, const EvaluationResult& cv, Eigen::Index features, double seconds,
                    const json& cChoices, int pooledSiteScans, int adaptedSiteScans) {
  const bool tangent = req.features == "tangent";
  json featureName = tangent ? "tangent_space_fc_standardized" : "fisher_z_fc_upper_triangle_standardized";
  if (req.harmoniseSites) featureName = featureName.get<std::string>() + (req.siteShrinkage ? "_per_site_combat" : "_per_site");
  json out{{"method", req.method},
           {"c", req.c},
           {"features", featureName},
           {"corpus", manifest.value("name", std::string())},
           {"positive_class", manifest.at("classes")[1]},
           {"items", manifest.at("items").size()},
           {"split", {{"kind", split.at("kind")}, {"seed", split.value("seed", 0u)}, {"folds", split.at("folds").size()}}},
           {"metrics", cv.metricsJson()},
           {"calibration", cv.calibrationJson(req.method == "svm" ? std::string("platt (training data)") : req.calibration)},
           {"trainable_parameters", features + 1},
           {"label_fraction", req.labelFraction},
           {"folds_detail", cv.foldsDetailJson()},
           {"predictions", cv.predictionsJson(manifest.at("classes"))},
           {"training_seconds", seconds}};
  if (!cChoices.empty()) {
    std::vector<double> chosen;
    for (const auto& ch : cChoices) chosen.push_back(ch.at("c").get<double>());
    std::sort(chosen.begin(), chosen.end());
    out["c"] = chosen[chosen.size() / 2];  // the median choice, for tables that show one C
    out["c_selection"] = {{"grid", req.cGrid}, {"inner_folds", req.innerFolds}, {"criterion", "mean inner-fold AUC"}, {"folds", cChoices}};
  }
  if (req.harmoniseSites) {
    out["input"] = std::string(tangent ? "tangent" : "fc") + (req.siteShrinkage ? "-combat" : "-site");
    out["input_pooled_site_scans"] = pooledSiteScans;
    if (req.adaptNewSites) out["input_adapted_site_scans"] = adaptedSiteScans;
    if (req.adaptNewSites && req.adaptScans > 0) out["input_adaptation_scans"] = req.adaptScans;
    if (req.adaptNewSites && req.adaptShare >= 0) out["input_adaptation_positive_share"] = req.adaptShare;
    if (req.adaptNewSites && req.adaptLabelled) out["input_adaptation_labelled"] = true;
  }
  return out;
}

}  // namespace

json evaluateBaseline(Workspace& ws, const json& manifest, const EvaluateRequest& req, ProgressDelegate& progress) {
  return withContext("while evaluating " + req.method + " on corpus '" + manifest.value("name", std::string()) + "'", [&] {
    if (req.method != "logreg" && req.method != "svm") throw Error(ErrorCode::Usage, "method '" + req.method + "' is not logreg or svm");
    requireSingleAtlas(manifest, "the " + req.method + " baseline");
    if (req.features != "fisher" && req.features != "tangent") throw Error(ErrorCode::Usage, "features '" + req.features + "' are not fisher or tangent");
    const bool tangent = req.features == "tangent";
    if (req.adaptNewSites && !req.harmoniseSites)
      throw Error(ErrorCode::Usage, "adapting to new sites needs per-site standardisation (--input fc-site, fc-combat, tangent-site or tangent-combat)");
    if (!(req.labelFraction > 0 && req.labelFraction <= 1))
      throw Error(ErrorCode::Usage, "a baseline learns from labels: its label fraction must be in (0, 1], not " + std::to_string(req.labelFraction) +
                                        " (zero-shot needs a meta-learned BrainGFM)");
    const bool regime = req.labelFraction < 1.0;
    const auto& items = manifest.at("items");
    if (manifest.at("classes").size() != 2) throw Error(ErrorCode::Data, "the baselines need a two-class corpus");
    auto features = readBaselineFeatures(ws, items, tangent, progress);
    const auto n = static_cast<Eigen::Index>(items.size());
    auto& x = features.x;
    const auto& y = features.y;
    json split = manifest.at("split");
    if (req.split != "corpus") {
      SplitSpec spec;
      spec.kind = req.split;
      spec.folds = req.folds;
      spec.seed = req.seed;
      split = makeSplit(features.classIndex, features.sites, spec);
    }
    const bool chooseC = req.cGrid.size() > 1;
    json cChoices = json::array();  // per fold, with chooseC
    int pooledSiteScans = 0;        // harmonised: test scans whose site the training part lacks
    int adaptedSiteScans = 0;       // ... which, adapting to new sites, got their own site's statistics instead
    const auto start = std::chrono::steady_clock::now();
    const auto& fs = split.at("folds");
    const auto cv =
        crossValidate(static_cast<int>(fs.size()), progress, 0.2, 1.0, [&](int foldIndex, ProgressDelegate& foldProgress) -> std::optional<FoldResult> {
          const auto f = static_cast<std::size_t>(foldIndex);
          if (foldProgress.update("fold " + std::to_string(f + 1) + " of " + std::to_string(fs.size()), 0.0)) throw CancelledError();
          std::vector<int> train = fs[f].at("train").get<std::vector<int>>();
          const auto trainOnly = static_cast<Eigen::Index>(train.size());
          for (int v : fs[f].at("validation").get<std::vector<int>>()) train.push_back(v);
          const auto test = fs[f].at("test").get<std::vector<int>>();
          if (test.empty()) return std::nullopt;
          if (tangent) {  // the reference comes from this fold's training part only
            std::vector<Eigen::MatrixXd> trainCovs;
            for (int i : train) trainCovs.push_back(features.covariances[static_cast<std::size_t>(i)]);
            TangentSpace space;
            space.fitCovariances(trainCovs);
            const auto r = features.covariances.front().rows();
            x.resize(n, r * (r + 1) / 2);
            SerialBlasScope serialBlas;
#pragma omp parallel for schedule(dynamic, 8)
            for (Eigen::Index i = 0; i < n; ++i)
              x.row(i) = upperTriangleWithDiagonal(space.transformCovariance(features.covariances[static_cast<std::size_t>(i)])).transpose();
          }
          Eigen::MatrixXd xt(static_cast<Eigen::Index>(train.size()), x.cols()), xs(static_cast<Eigen::Index>(test.size()), x.cols());
          Eigen::VectorXi yt(static_cast<Eigen::Index>(train.size()));
          for (std::size_t k = 0; k < train.size(); ++k) {
            xt.row(static_cast<Eigen::Index>(k)) = x.row(train[k]);
            yt(static_cast<Eigen::Index>(k)) = y(train[k]);
          }
          for (std::size_t k = 0; k < test.size(); ++k) xs.row(static_cast<Eigen::Index>(k)) = x.row(test[k]);
          if (req.harmoniseSites) harmoniseFold(req, train, test, y, features.sites, xt, yt, xs, pooledSiteScans, adaptedSiteScans);
          // The rows the classifier learns from: every training row, or a label regime's share of the train
          // part (copied out only then: the full matrix is large).
          std::vector<Eigen::Index> shareRows;
          if (regime) {
            std::vector<int> trainLabels(yt.data(), yt.data() + trainOnly);
            for (auto k : stratifiedLabelShare(trainLabels, req.labelFraction, req.seed)) shareRows.push_back(static_cast<Eigen::Index>(k));
          }
          const Eigen::VectorXi yShare = regime ? Eigen::VectorXi(yt(shareRows)) : Eigen::VectorXi();
          const Eigen::VectorXi& yl = regime ? yShare : yt;
          Eigen::MatrixXd share;
          const auto fitRowsOf = [&](const Eigen::MatrixXd& m) -> const Eigen::MatrixXd& {
            if (!regime) return m;
            share = m(shareRows, Eigen::all);
            return share;
          };
          double c = req.c;
          if (chooseC) {  // on the labelled training rows alone, after the label-free harmonisation
            ProgressRange choosing(foldProgress, 0.0, 0.7);
            const auto choice = chooseRegularisation(fitRowsOf(xt), yl, req.cGrid, req.method, req.innerFolds, req.seed + static_cast<unsigned>(f), &choosing);
            c = choice.c;
            auto record = toJson(choice);
            record["fold"] = f + 1;
            cChoices.push_back(record);
          }
          Standardizer scaler;
          scaler.fit(xt);
          const Eigen::MatrixXd zs = scaler.apply(xs);  // the test part, standardised once
          const Eigen::MatrixXd zt = scaler.apply(xt);
          const auto scores = fitBaselineFold(req, c, fitRowsOf(zt), yl, zs, static_cast<unsigned>(f));
          FoldResult fold;
          for (int i : test) {
            fold.labels.push_back(y(i));
            fold.testItems.push_back(&items[static_cast<std::size_t>(i)]);
          }
          fold.probabilities.assign(scores.p.data(), scores.p.data() + scores.p.size());
          fold.uncalibrated.assign(scores.pRaw.data(), scores.pRaw.data() + scores.pRaw.size());
          fold.margins.assign(scores.margin.data(), scores.margin.data() + scores.margin.size());
          fold.temperature = scores.calibration.temperature;
          fold.bias = scores.calibration.bias;
          fold.trainLabels = yl.size();
          return fold;
        });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    progress.update("done", 1.0);
    return baselineResult(manifest, req, split, cv, x.cols(), seconds, cChoices, pooledSiteScans, adaptedSiteScans);
  });
}

}  // namespace bg
