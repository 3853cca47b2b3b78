#pragma once
// Evaluation results kept in the workspace (the runs table, kind "evaluation") and rendered as JSON,
// CSV or a Markdown table for papers and reports.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bg {

class Workspace;

// Stores one evaluation (the request that produced it and its result) and, when given, its
// out-of-fold predictions (outOfFoldPrediction rows), so that stored evaluations can be tested
// against each other later; returns the run id.
std::int64_t recordEvaluation(Workspace& ws, const std::string& corpus, const nlohmann::json& request, const nlohmann::json& result,
                              const nlohmann::json& predictions = nlohmann::json::array());
// The out-of-fold predictions stored with an evaluation; an empty array where none were (evaluations
// recorded before schema version 4, or by a method that gives none).
nlohmann::json evaluationPredictions(Workspace& ws, std::int64_t evaluationId);

struct EvaluationRecord {
  std::int64_t id = 0;
  std::string corpus, createdAt;
  nlohmann::json request, result;
};
std::vector<EvaluationRecord> listEvaluations(Workspace& ws);

// format: json | csv | md. One row per evaluation: method, prompt, corpus, split, folds, label
// fraction, AUC / accuracy / sensitivity / specificity / F1 / balanced accuracy as mean and 95% CI,
// ECE, trainable parameters, training seconds.
std::string renderResults(const std::vector<EvaluationRecord>& rows, const std::string& format);

// One out-of-fold prediction of an evaluation ("predictions" in its result): fold (1-based), the
// manifest item's scan_id, subject and site, the true class (index and name), the decision value
// before calibration (the logit margin; the SVM's decision) and the calibrated probability of the positive class.
nlohmann::json outOfFoldPrediction(int fold, const nlohmann::json& item, const nlohmann::json& classes, int label, double margin, double probability);
// The predictions of evaluations as CSV: label_fraction, fold, scan_id, subject, site, label, class,
// margin, probability; one header, a row per prediction. Results carrying "model" (a comparison's)
// add a first column naming it.
std::string renderPredictionsCsv(const std::vector<nlohmann::json>& results);
// A CSV field, quoted when it holds a comma, a quote or a line break.
std::string csvCell(const std::string& s);

}  // namespace bg
