#pragma once
// The model comparison (the BrainGFM paper's table 1 on the user's own data): which methods a
// comparison runs, how each is configured, and the table built from the workspace's stored
// evaluations — the latest evaluation of each method on one corpus and split.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/Metrics.h"
#include "eval/Results.h"

namespace bg {

class Workspace;

// One row of a comparison: the --method it evaluates and whether its foundation model is
// pre-trained inside each fold's training part first.
struct ComparisonEntry {
  std::string method;
  bool pretrainInFolds = false;
  std::string label() const;  // "brainmass-probe (pre-trained in folds)"
};

// Tokens: any evaluate --method; "NAME+pretrained" pre-trains in folds (BrainGFM finetune/prompt,
// brainmass, brainmass-probe and lcm imply it where they need it).
ComparisonEntry parseComparisonEntry(const std::string& token);
// Every model the workbench has, roughly cheapest first: the classical baselines, the paper's
// baselines, BrainGFM from scratch, LCM and BrainMass (scratch and pre-trained in folds), then
// BrainGFM pre-trained in folds with fine-tuning and with graph-prompt tuning.
std::vector<std::string> defaultComparisonMethods();

// A comparison configuration file: {"default": tuning fields, METHOD: tuning fields, "pretrain":
// {ARCHITECTURE: pre-training fields}}. Returns the tuning JSON for a method (default merged with
// its own entry; BrainGFM methods read "braingfm") and the pre-training JSON for an architecture.
nlohmann::json comparisonTuningConfig(const nlohmann::json& file, const std::string& method);
nlohmann::json comparisonPretrainConfig(const nlohmann::json& file, const std::string& architecture);

struct ComparisonRow {
  std::int64_t evaluationId = 0;
  std::string model, createdAt;
  nlohmann::json metrics;  // auc, accuracy, sensitivity, specificity, ... with mean, sd, ci95
  nlohmann::json trainableParameters, totalParameters;
  double trainingSeconds = 0, pretrainingSeconds = 0;
  int items = 0, folds = 0;
  double labelFraction = 1.0;
};

// A stored evaluation's model in comparisons: the request's "name" where one was given (evaluate
// --name), otherwise its method label ("prompt (node_mult+edge) (pre-trained in folds)"), followed
// by its graph input where that is not Pearson FC ("scratch, tangent-z input").
std::string comparisonModelName(const EvaluationRecord& evaluation);
// A split's identity: "kfold/5-folds/seed-0" (models are compared on identical folds only).
std::string splitId(const nlohmann::json& result);
// The latest evaluation per model on `corpus` with the split `split` (an id, or a kind such as
// "kfold" / "leave-site-out" for that kind's most recent folds, or empty for the most recent
// evaluation's) and a label regime (labelFraction: 1 = every training label, the default; another
// share compares the models evaluated in that regime on the same labelled scans), best AUC first;
// models are named by comparisonModelName.
std::vector<ComparisonRow> comparisonTable(const std::vector<EvaluationRecord>& evaluations, const std::string& corpus, std::string split = {},
                                           double labelFraction = 1.0);
// A split as comparisonTable takes it (an id, a kind, or empty) resolved to an id; empty when none matches.
std::string resolveComparisonSplit(const std::vector<EvaluationRecord>& evaluations, const std::string& corpus, const std::string& split);
// Split ids with stored evaluations for a corpus (most recent first).
std::vector<std::string> comparisonSplits(const std::vector<EvaluationRecord>& evaluations, const std::string& corpus);
// Each model's AUC by label regime on one corpus and split id (the paper's figure 2): the latest
// evaluation per model and label fraction, fractions ascending; models named by comparisonModelName.
struct RegimePoint {
  double labelFraction = 1;
  double auc = 0, low = 0, high = 0;  // mean over folds and its 95% interval
  double labelledScans = 0;           // per fold, on average (0 where the evaluation did not record it)
  std::int64_t evaluationId = 0;
};
std::vector<std::pair<std::string, std::vector<RegimePoint>>> labelRegimeCurves(const std::vector<EvaluationRecord>& evaluations, const std::string& corpus,
                                                                                const std::string& split);
// Markdown (md; one row per model, one column per regime), CSV (one row per model and regime) or JSON.
std::string renderLabelRegimeCurves(const std::vector<std::pair<std::string, std::vector<RegimePoint>>>& curves, const std::string& format);
// The label regimes (label fractions) evaluated on a corpus and split id, largest first.
std::vector<double> comparisonLabelFractions(const std::vector<EvaluationRecord>& evaluations, const std::string& corpus, const std::string& split);
// Markdown (md), CSV or JSON.
std::string renderComparison(const std::vector<ComparisonRow>& rows, const std::string& format);

// Is a model's AUC different from a reference model's on the same scans? Both models' out-of-fold
// predictions (evaluate's {"predictions": [{scan_id, label, probability}, ...]}) are pooled over the
// folds and matched by scan; the paired DeLong test compares the pooled AUCs (which can differ from the
// per-fold mean AUC of the table).
struct PairedComparisonRow {
  std::string model, reference;
  PairedAucTest test;  // A = model, B = reference
  // p adjusted for testing every model against the one reference (Holm 1979: step-down, controls the
  // family-wise error rate at any dependence between the tests).
  double pHolm = 1;
};
// Holm's step-down adjustment of a family of p-values (same order as given).
std::vector<double> holmAdjusted(const std::vector<double>& p);
std::vector<PairedComparisonRow> pairedAucComparison(const std::vector<std::pair<std::string, nlohmann::json>>& outOfFold, const std::string& reference);
std::string renderPairedComparison(const std::vector<PairedComparisonRow>& rows, const std::string& format);

// The same tests on a stored comparison: each row's evaluation's stored out-of-fold predictions
// against the reference row's. `outOfFold` holds what was found, named by model (for
// renderPredictionsCsv); `missing` names the rows whose evaluation stored none (recorded before
// predictions were kept: evaluate them again).
struct StoredPairedComparison {
  std::vector<PairedComparisonRow> rows;
  std::vector<std::pair<std::string, nlohmann::json>> outOfFold;
  std::vector<std::string> missing;
};
StoredPairedComparison storedPairedComparison(Workspace& ws, const std::vector<ComparisonRow>& rows, const std::string& reference);
// The ROC curve of one model's out-of-fold predictions ({"predictions": [{label, probability}, ...]},
// pooled over the folds); empty without predictions.
std::vector<RocPoint> outOfFoldRocCurve(const nlohmann::json& outOfFold);
// Every model's pooled out-of-fold ROC curve (rocCurve of its stored probabilities) as CSV: model,
// threshold, false_positive_rate, true_positive_rate.
std::string renderRocCurvesCsv(const std::vector<std::pair<std::string, nlohmann::json>>& outOfFold);
// Writes a comparison beside PREFIX: PREFIX.md/.csv/.json (the table), PREFIX-paired.md/.csv/.json (the
// tests), PREFIX-predictions.csv (every model's out-of-fold predictions, one row per model and
// scan) and PREFIX-roc.csv (their ROC curves), each through a temporary file and a rename; returns
// the files written.
std::vector<std::string> writeComparisonFiles(const std::string& prefix, const std::vector<ComparisonRow>& rows, const std::vector<PairedComparisonRow>& paired,
                                              const std::vector<std::pair<std::string, nlohmann::json>>& outOfFold);
// The reference a stored comparison is tested against by default: logistic regression (the classical
// baseline every table carries) when it is there, otherwise the first (best) row; empty for no rows.
std::string defaultComparisonReference(const std::vector<ComparisonRow>& rows);

}  // namespace bg
