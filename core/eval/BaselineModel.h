#pragma once
// A trained classical baseline as a self-contained model file (JSON): L2 logistic regression on the
// standardised Fisher-z FC upper triangle, with its label names, atlas, preprocessing and a
// calibration temperature fitted on a held-out validation part. No LibTorch needed to use it.
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "jobs/Progress.h"

namespace bg {

class Workspace;

inline constexpr const char* kBaselineKind = "baseline-logreg";

// Fits on a stratified 85% of the corpus, the calibration (temperature | platt) on the other 15%.
// cGrid: one C, or several to choose from by 5-fold cross-validation on the 85% (chooseRegularisation;
// the card records the grid and the inner AUCs under "c_selection").
// features: "fisher" (the Fisher-z FC upper triangle) or "tangent" (the tangent-space embedding of each
// scan's Ledoit-Wolf covariance around the geometric mean of every corpus scan's, upper triangle with
// the diagonal, as evaluate --method logreg-tangent; the card carries that reference, and prediction
// needs the scan's ROI time series).
nlohmann::json trainBaselineModel(Workspace& ws, const nlohmann::json& manifest, const std::vector<double>& cGrid, unsigned seed, ProgressDelegate& progress,
                                  const std::string& calibration = "temperature", const std::string& features = "fisher");

struct BaselinePrediction {
  double probability = 0;  // calibrated, of the positive class
  std::string label;
  nlohmann::json topRois;           // [{index, name, saliency}], saliency = sum over the ROI's edges of |w_e z_e|
  std::vector<double> roiSaliency;  // every ROI's share of sum |w_e z_e| (sums to 1)
  nlohmann::json interval;          // {low, high, method}: the fold models' range; null for older files
  nlohmann::json ood;               // see OutOfDistribution.h; null for older files
};
// series: the scan's ROI time series (volumes x ROIs), needed by a tangent-space model, unused otherwise.
BaselinePrediction predictBaseline(const nlohmann::json& model, const Eigen::MatrixXd& fc, const std::vector<std::string>& roiNames, int topRois = 10,
                                   const Eigen::MatrixXd& series = {});

// Reads a model file of either kind far enough to tell: true for a baseline (JSON) model.
bool isBaselineModelFile(const std::string& path);

}  // namespace bg
