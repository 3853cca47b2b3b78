#pragma once
// Evaluation results rendered as JSON, CSV or a Markdown table for papers and reports; they are kept
// in the workspace by workspace/EvaluationStore.h.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workspace/EvaluationStore.h"

namespace bg {

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
