#include "eval/BaselineModel.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <numeric>
#include <random>

#include "connectome/Connectivity.h"
#include "errors/Error.h"
#include "eval/Baselines.h"
#include "eval/Calibration.h"
#include "eval/CrossFit.h"
#include "eval/Metrics.h"
#include "eval/OutOfDistribution.h"
#include "eval/RegularisationSearch.h"
#include "platform/Versions.h"
#include "workspace/Corpus.h"
#include "workspace/Derivation.h"
#include "workspace/Workspace.h"

namespace bg {
using nlohmann::json;

namespace {
json matrixJson(const Eigen::MatrixXd& m) {
  json rows = json::array();
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    std::vector<double> row(static_cast<std::size_t>(m.cols()));
    for (Eigen::Index j = 0; j < m.cols(); ++j) row[static_cast<std::size_t>(j)] = m(i, j);
    rows.push_back(row);
  }
  return rows;
}
}  // namespace

json trainBaselineModel(Workspace& ws, const json& manifest, const std::vector<double>& cGrid, unsigned seed, ProgressDelegate& progress,
                        const std::string& calibration, const std::string& featureKind) {
  const auto& items = manifest.at("items");
  requireSingleAtlas(manifest, "the logistic-regression baseline");
  if (manifest.at("classes").size() != 2) throw Error(ErrorCode::Data, "the baseline needs a two-class corpus");
  if (featureKind != "fisher" && featureKind != "tangent") throw Error(ErrorCode::Usage, "features '" + featureKind + "' are not fisher or tangent");
  const bool tangent = featureKind == "tangent";
  // Every labelled scan trains the file; calibration comes from cross-fitting (CrossFit.h).
  std::vector<std::size_t> all(items.size());
  for (std::size_t k = 0; k < all.size(); ++k) all[k] = k;
  // Tangent space: the reference is the geometric mean of every corpus scan's covariance (no labels).
  TangentSpace space;
  std::vector<Eigen::MatrixXd> covariances;
  if (tangent) {
    for (std::size_t k = 0; k < items.size(); ++k) {
      if (k % 32 == 0 && progress.update("covariances", 0.3 * static_cast<double>(k) / static_cast<double>(items.size()))) throw CancelledError();
      const auto series = items[k].value("series_array", std::string());
      if (series.empty())
        throw Error(ErrorCode::Data, "scan " + std::to_string(items[k].value("scan_id", 0)) + " has no ROI time series, which tangent-space features need");
      covariances.push_back(ledoitWolfCovariance(ws.arrays().read(series)));
      if (covariances.back().rows() != covariances.front().rows()) throw Error(ErrorCode::Data, "the corpus mixes parcellations of different sizes");
    }
    ProgressRange fitting(progress, 0.3, 0.5, "tangent reference: ");
    space.fitCovariances(covariances, &fitting);
  }
  const double readFrom = tangent ? 0.5 : 0.0;
  auto features = [&](const std::vector<std::size_t>& which, Eigen::MatrixXd& x, Eigen::VectorXi& y, double from, double to) {
    from = readFrom + from * (0.7 - readFrom) / 0.7;  // after the tangent reference, when there is one
    to = readFrom + to * (0.7 - readFrom) / 0.7;
    for (std::size_t k = 0; k < which.size(); ++k) {
      if (k % 32 == 0 && progress.update(tangent ? "tangent-space features" : "reading FC matrices",
                                         from + (to - from) * static_cast<double>(k) / static_cast<double>(which.size())))
        throw CancelledError();
      const auto& item = items[which[k]];
      const auto f = tangent ? upperTriangleWithDiagonal(space.transformCovariance(covariances[which[k]]))
                             : fisherUpperTriangle(ws.arrays().read(item.at("fc_array").get<std::string>()));
      if (k == 0) x.resize(static_cast<Eigen::Index>(which.size()), f.size());
      if (f.size() != x.cols()) throw Error(ErrorCode::Data, "the corpus mixes FC matrices of different sizes");
      x.row(static_cast<Eigen::Index>(k)) = f.transpose();
      y(static_cast<Eigen::Index>(k)) = item.at("class_index").get<int>();
    }
  };
  Eigen::MatrixXd xt;
  Eigen::VectorXi yt(static_cast<Eigen::Index>(all.size()));
  features(all, xt, yt, 0.0, 0.7);
  RegularisationChoice choice;
  {
    ProgressRange choosing(progress, 0.7, 0.75);
    choice = chooseRegularisation(xt, yt, cGrid, "logreg", 5, seed, &choosing);
  }
  const double c = choice.c;
  Standardizer scaler;
  scaler.fit(xt);
  const Eigen::MatrixXd zt = scaler.apply(xt);
  // Out-of-fold margins calibrate; the fold models give a prediction its spread (how much the answer
  // depends on which subjects a model happened to see); the refit on every scan is the model.
  ProgressRange crossFitting(progress, 0.75, 0.95);
  const auto cf = crossFitLogistic(zt, yt, c, calibration, seed, kCrossFitFolds, &crossFitting);
  const auto& fitted = cf.calibration;
  progress.update("fitting on every scan", 0.95);
  LogisticRegression model(c);
  model.fit(zt, yt);
  std::vector<int> labels(yt.data(), yt.data() + yt.size());
  const auto validationMetrics = binaryMetrics(labels, calibratedProbabilities(cf.margins, fitted));
  json folds = json::array();
  for (const auto& m : cf.foldModels)
    folds.push_back({{"weights", std::vector<double>(m.weights().data(), m.weights().data() + m.weights().size())}, {"intercept", m.intercept()}});
  const auto ood = fitOodReference(xt, tangent ? "tangent-space FC features" : "Fisher-z FC features", true);
  const auto fcRows = ws.arrays().read(items[0].at("fc_array").get<std::string>()).rows();
  const auto params = derivationParamsJson(ws, items[0].value("params_hash", ""));
  progress.update("done", 1.0);
  auto vec = [](const auto& v) { return std::vector<double>(v.data(), v.data() + v.size()); };
  json card{{"kind", kBaselineKind},
            {"format", 1},
            {"c", c},
            {"method", tangent ? "logreg-tangent" : "logreg"},
            {"features", tangent ? "tangent_space_fc_standardized" : "fisher_z_fc_upper_triangle_standardized"},
            {"classes", manifest.at("classes")},
            {"positive_class", manifest.at("classes")[1]},
            {"label_field", manifest.value("label_field", "")},
            {"atlas", manifest.value("atlas", "")},
            {"nodes", fcRows},
            {"preprocessing", params.empty() ? json::object() : json::parse(params)},
            {"temperature", fitted.temperature},
            {"calibration_bias", fitted.bias},
            {"calibration", calibration},
            {"corpus", {{"name", manifest.value("name", "")}, {"items", items.size()}, {"train", items.size()}, {"validation", 0}}},
            {"training",
             {{"refit", "every labelled scan"},
              {"scans", items.size()},
              {"calibration", "out-of-fold margins of " + std::to_string(cf.foldModels.size()) + " cross-fitted fold models"},
              {"cross_fit_folds", cf.foldModels.size()},
              {"cross_fit_seed", seed}}},
            {"mean", vec(scaler.mean)},
            {"scale", vec(scaler.scale)},
            {"weights", vec(model.weights())},
            {"intercept", model.intercept()},
            {"trainable_parameters", model.weights().size() + 1},
            {"validation",
             {{"auc", validationMetrics.auc},
              {"accuracy", validationMetrics.accuracy},
              {"balanced_accuracy", validationMetrics.balancedAccuracy},
              {"n", labels.size()},
              {"calibrated", true},
              {"out_of_fold", true}}},
            {"fold_models", folds},
            {"training_scans", corpusTrainingScans(manifest)},
            {"ood", ood},
            {"code_version", braingraphVersion()}};
  if (choice.grid.size() > 1) card["c_selection"] = toJson(choice);
  if (tangent) card["tangent_reference"] = matrixJson(space.reference());  // every corpus scan's geometric mean
  return card;
}

BaselinePrediction predictBaseline(const json& m, const Eigen::MatrixXd& fc, const std::vector<std::string>& roiNames, int topRois,
                                   const Eigen::MatrixXd& series) {
  const int n = m.at("nodes").get<int>();
  if (fc.rows() != n || fc.cols() != n)
    throw Error(ErrorCode::Data,
                "has " + std::to_string(fc.rows()) + " ROIs but the model was trained on " + m.value("atlas", "") + " (" + std::to_string(n) + " ROIs)");
  if (!fc.allFinite()) throw Error(ErrorCode::Data, "its connectivity matrix holds NaN or infinite values");
  // The features, and the ROIs each one joins: Fisher-z edges (i < j), or tangent-space entries (i <= j).
  const bool tangent = m.contains("tangent_reference");
  Eigen::VectorXd f;
  if (tangent) {
    if (series.cols() != n || series.rows() < 3)
      throw Error(ErrorCode::Data, "a tangent-space model needs the scan's ROI time series (" + std::to_string(n) + " ROIs), not its connectivity alone");
    if (!series.allFinite()) throw Error(ErrorCode::Data, "its ROI time series hold NaN or infinite values");
    const auto rows = m.at("tangent_reference").get<std::vector<std::vector<double>>>();
    if (rows.size() != static_cast<std::size_t>(n)) throw Error(ErrorCode::Data, "the model file's tangent reference does not match its node count");
    Eigen::MatrixXd reference(n, n);
    for (int i = 0; i < n; ++i) {
      if (rows[static_cast<std::size_t>(i)].size() != static_cast<std::size_t>(n))
        throw Error(ErrorCode::Data, "the model file's tangent reference is not square");
      for (int j = 0; j < n; ++j) reference(i, j) = rows[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
    }
    TangentSpace space;
    space.setReference(reference);
    f = upperTriangleWithDiagonal(space.transformCovariance(ledoitWolfCovariance(series)));
  } else {
    f = fisherUpperTriangle(fc);
  }
  const auto mean = m.at("mean").get<std::vector<double>>(), scale = m.at("scale").get<std::vector<double>>(), w = m.at("weights").get<std::vector<double>>();
  if (static_cast<std::size_t>(f.size()) != w.size() || mean.size() != w.size() || scale.size() != w.size())
    throw Error(ErrorCode::Data, "the model file's weights do not match its node count");
  double z = m.at("intercept").get<double>();
  std::vector<double> roi(static_cast<std::size_t>(n), 0.0);
  Eigen::Index e = 0;
  for (int i = 0; i < n; ++i)
    for (int j = tangent ? i : i + 1; j < n; ++j, ++e) {
      const auto k = static_cast<std::size_t>(e);
      const double contribution = w[k] * (f(e) - mean[k]) / scale[k];
      z += contribution;
      roi[static_cast<std::size_t>(i)] += std::abs(contribution);
      if (j != i) roi[static_cast<std::size_t>(j)] += std::abs(contribution);
    }
  BaselinePrediction p;
  const auto calibration = cardCalibration(m);
  p.probability = calibration.probability(z);
  Eigen::VectorXd standardised(f.size());
  for (Eigen::Index k = 0; k < f.size(); ++k) standardised(k) = (f(k) - mean[static_cast<std::size_t>(k)]) / scale[static_cast<std::size_t>(k)];
  if (m.contains("fold_models") && !m["fold_models"].empty()) {
    std::vector<double> probabilities;
    for (const auto& fm : m["fold_models"]) {
      const auto fw = fm.at("weights").get<std::vector<double>>();
      if (fw.size() != w.size()) throw Error(ErrorCode::Data, "the model file's fold models do not match its node count");
      probabilities.push_back(calibration.probability(Eigen::Map<const Eigen::VectorXd>(fw.data(), static_cast<Eigen::Index>(fw.size())).dot(standardised) +
                                                      fm.at("intercept").get<double>()));
    }
    const auto [lo, hi] = std::minmax_element(probabilities.begin(), probabilities.end());
    p.interval = {
        {"low", *lo}, {"high", *hi}, {"method", "range across " + std::to_string(probabilities.size()) + " fold models"}, {"probabilities", probabilities}};
  }
  if (m.contains("ood")) p.ood = assessOod(m["ood"], f);
  p.label = p.probability >= 0.5 ? m.at("classes")[1].get<std::string>() : m.at("classes")[0].get<std::string>();
  const double total = std::accumulate(roi.begin(), roi.end(), 0.0);
  std::vector<int> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return roi[static_cast<std::size_t>(a)] > roi[static_cast<std::size_t>(b)]; });
  p.roiSaliency = roi;
  if (total > 0)
    for (auto& v : p.roiSaliency) v /= total;
  p.topRois = json::array();
  for (int k = 0; k < std::min(topRois, n); ++k) {
    const int i = order[static_cast<std::size_t>(k)];
    p.topRois.push_back({{"index", i},
                         {"name", i < static_cast<int>(roiNames.size()) ? roiNames[static_cast<std::size_t>(i)] : "roi_" + std::to_string(i + 1)},
                         {"saliency", total > 0 ? roi[static_cast<std::size_t>(i)] / total : 0.0}});
  }
  return p;
}

bool isBaselineModelFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::NoInput, "cannot open model " + path);
  char ch = 0;
  while (in.get(ch) && std::isspace(static_cast<unsigned char>(ch))) {
  }
  return ch == '{';
}

}  // namespace bg
