#include "eval/CrossValidation.h"

#include <spdlog/spdlog.h>

#include "errors/Error.h"
#include "eval/Calibration.h"
#include "eval/Results.h"

namespace bg {
using nlohmann::json;

EvaluationResult crossValidate(int count, ProgressDelegate& progress, double from, double to, const FoldFitter& fit) {
  EvaluationResult out;
  for (int f = 0; f < count; ++f) {
    ProgressRange part(progress, from + (to - from) * f / count, from + (to - from) * (f + 1) / count);
    auto fold = fit(f, part);
    if (!fold) continue;
    if (fold->labels.size() != fold->probabilities.size() || fold->testItems.size() != fold->labels.size() || fold->margins.size() != fold->labels.size() ||
        fold->uncalibrated.size() != fold->labels.size())
      throw Error(ErrorCode::Internal, "fold " + std::to_string(f + 1) + " reported scores that do not match its test scans");
    fold->fold = f + 1;
    fold->metrics = binaryMetrics(fold->labels, fold->probabilities);
    fold->ece = expectedCalibrationError(fold->probabilities, fold->labels);
    fold->eceUncalibrated = expectedCalibrationError(fold->uncalibrated, fold->labels);
    progress.metric("test/auc", static_cast<double>(f + 1), fold->metrics.auc);
    progress.metric("test/accuracy", static_cast<double>(f + 1), fold->metrics.accuracy);
    spdlog::info("fold {}/{}: AUC {:.3f}, accuracy {:.3f}", f + 1, count, fold->metrics.auc, fold->metrics.accuracy);
    out.folds.push_back(std::move(*fold));
  }
  if (out.folds.empty()) throw Error(ErrorCode::Data, "no fold of the split has test scans, so there is nothing to evaluate");
  return out;
}

json EvaluationResult::metricsJson() const {
  std::vector<BinaryMetrics> m;
  for (const auto& f : folds) m.push_back(f.metrics);
  return summarizeFolds(m);
}

json EvaluationResult::calibrationJson(const std::string& method) const {
  std::vector<double> ece, raw, temperatures, biases;
  for (const auto& f : folds) {
    ece.push_back(f.ece);
    raw.push_back(f.eceUncalibrated);
    temperatures.push_back(f.temperature);
    biases.push_back(f.bias);
  }
  return {{"method", method},
          {"ece", intervalJson(ece)},
          {"ece_uncalibrated", intervalJson(raw)},
          {"temperature", intervalJson(temperatures)},
          {"bias", intervalJson(biases)}};
}

json EvaluationResult::foldsDetailJson() const {
  json out = json::array();
  for (const auto& f : folds) {
    json row = f.detail.is_object() ? f.detail : json::object();
    row.update({{"fold", f.fold},
                {"test", f.labels.size()},
                {"train_labels", f.trainLabels},
                {"auc", f.metrics.auc},
                {"temperature", f.temperature},
                {"calibration_bias", f.bias},
                {"ece", f.ece},
                {"ece_uncalibrated", f.eceUncalibrated}});
    out.push_back(std::move(row));
  }
  return out;
}

json EvaluationResult::predictionsJson(const json& classes) const {
  json out = json::array();
  for (const auto& f : folds)
    for (std::size_t i = 0; i < f.labels.size(); ++i)
      out.push_back(outOfFoldPrediction(f.fold, *f.testItems[i], classes, f.labels[i], f.margins[i], f.probabilities[i]));
  return out;
}

}  // namespace bg
