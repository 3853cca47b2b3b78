#pragma once
// The one cross-validation loop every model kind runs (the classical baselines in eval/Evaluation,
// the graph models in train/EvaluateMethod): the folds in order, each fitted by the model kind's own
// FoldFitter on its training part and scored on its test scans. The loop keeps the bookkeeping in
// one place and one type: metrics, calibration error, out-of-fold predictions, the per-fold record
// and the test curves on the dashboard. JSON is made only where a result leaves for storage or output.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/Metrics.h"
#include "jobs/Progress.h"

namespace bg {

// One fold's test scans as a model kind scored them.
struct FoldResult {
  int fold = 0;                                  // 1-based, as the split numbers them
  std::vector<const nlohmann::json*> testItems;  // the corpus manifest's items, in test order
  std::vector<int> labels;
  std::vector<double> margins;        // the decision value before calibration
  std::vector<double> probabilities;  // calibrated
  std::vector<double> uncalibrated;
  double temperature = 1.0, bias = 0.0;
  std::int64_t trainLabels = 0;                      // labelled scans the model learned from
  nlohmann::json detail = nlohmann::json::object();  // the model kind's own per-fold fields
  // Filled in by crossValidate:
  BinaryMetrics metrics;
  double ece = 0, eceUncalibrated = 0;
};

struct EvaluationResult {
  std::vector<FoldResult> folds;

  // Mean, SD and 95% interval of each metric over the folds (summarizeFolds).
  nlohmann::json metricsJson() const;
  // ece, ece_uncalibrated, temperature and bias over the folds (mean, sd, ci95), and the method.
  nlohmann::json calibrationJson(const std::string& method) const;
  // One record per fold: fold, test, train_labels, auc, temperature, calibration_bias, ece,
  // ece_uncalibrated, and the model kind's own fields.
  nlohmann::json foldsDetailJson() const;
  // One out-of-fold prediction per test scan (eval/Results.h outOfFoldPrediction).
  nlohmann::json predictionsJson(const nlohmann::json& classes) const;
};

// Fits one fold (0-based index) on its training part and scores its test scans; nullopt when the fold
// has no test scans. `progress` runs from 0 to 1 over the fold.
using FoldFitter = std::function<std::optional<FoldResult>(int foldIndex, ProgressDelegate& progress)>;

// Runs `fit` for folds 0 .. count-1, each over its share of [from, to] of `progress`, and records each
// fold's test AUC and accuracy as the dashboard's test curves. Throws bg::Error(Data) when no fold had
// test scans: nothing may be recorded as if it had been tested.
EvaluationResult crossValidate(int count, ProgressDelegate& progress, double from, double to, const FoldFitter& fit);

}  // namespace bg
