#pragma once
// A classifier over several parcellations of the same scans (a multi-atlas corpus, corpus create
// --atlas cc200,ho): one logistic regression per atlas, each trained, cross-fit calibrated and refitted
// exactly as a one-atlas baseline, and one prediction per scan as the mean of the members' calibrated
// probabilities (late fusion: the atlases' feature spaces differ in size and meaning, and averaging
// calibrated probabilities needs no second fit on the same labels). The model file is one JSON card
// (kind "atlas-ensemble") holding every member's card.
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/Evaluation.h"
#include "jobs/Progress.h"

namespace bg {

class Workspace;

inline constexpr const char* kAtlasEnsembleKind = "atlas-ensemble";

// A model file's card says which kind of multi-atlas model it is: ModelCard::combination (eval/ModelCard.h).

// One atlas's part of a multi-atlas corpus: its items, and every fold of the split with the indices
// remapped (the split keeps a subject's graphs together, so each part has the same subjects per fold).
nlohmann::json atlasPart(const nlohmann::json& manifest, const std::string& atlas);

// One member's model from its atlas's part of the corpus (a baseline's card, or a graph model's card
// after writing its file).
using AtlasMemberTrainer = std::function<nlohmann::json(const std::string& atlas, const nlohmann::json& part, ProgressDelegate& progress)>;
// One member evaluated on its atlas's part, whose split is the whole corpus's (split "corpus"): a
// result with "predictions" (scan_id, fold, label, margin, probability), "metrics" and "training_seconds".
using AtlasMemberEvaluator = AtlasMemberTrainer;

// Any members: the card holds each member's card, in the corpus's atlas order.
nlohmann::json trainAtlasEnsemble(const nlohmann::json& manifest, ProgressDelegate& progress, const AtlasMemberTrainer& trainMember);

struct AtlasEnsembleEvaluation {
  std::string method, split = "corpus";  // split: corpus | kfold | leave-site-out (made once over subjects)
  int folds = 10;
  unsigned seed = 0;
  std::string calibration;
  double labelFraction = 1.0;
  std::string memberProcedure;  // what each member does inside a fold, for the result's "procedure"
};
nlohmann::json evaluateAtlasEnsemble(const nlohmann::json& manifest, const AtlasEnsembleEvaluation& request, ProgressDelegate& progress,
                                     const AtlasMemberEvaluator& evaluateMember);

// features: "fisher" or "tangent", as trainBaselineModel.
nlohmann::json trainAtlasEnsemble(Workspace& ws, const nlohmann::json& manifest, const std::vector<double>& cGrid, unsigned seed, ProgressDelegate& progress,
                                  const std::string& calibration, const std::string& features);

// The same procedure inside each outer fold: each atlas's baseline on the fold's training scans, the
// fold's test acquisitions scored by the mean of the members' calibrated probabilities. The split is
// made once over subjects (req.split kfold or leave-site-out), so every atlas sees the same folds.
// Predictions carry the first atlas's scan ids, so paired tests against one-atlas models of that atlas
// match scan by scan.
nlohmann::json evaluateAtlasEnsemble(Workspace& ws, const nlohmann::json& manifest, const EvaluateRequest& req, ProgressDelegate& progress);

// The input files of one prediction each: a BOLD file serves every atlas; ROI time-series files come
// one per atlas, recognised by `rois_<atlas>` or `atlas-<atlas>` in their names and matched into
// scans by the rest of the name. A scan missing an atlas is an error naming the file and the atlas.
std::vector<std::map<std::string, std::filesystem::path>> groupAtlasInputs(const std::vector<std::string>& files, const std::vector<std::string>& atlases);

struct PredictionInput;
struct ModelCard;
// One scan through every atlas of the model (`inputs`: each atlas's prepared input, loaded with that
// member's ModelAtlasInput): the mean of the members' calibrated probabilities, the members' own results, the
// ten ROIs of either atlas that weigh most, the members' mean interval, and the out-of-distribution
// flag when at least half of the members raise it.
// Graph-model members (card "member_files") are read from their files beside `modelFile`, each checked
// against its recorded SHA-256.
nlohmann::json predictAtlasEnsemble(const std::filesystem::path& modelFile, const ModelCard& card, const std::map<std::string, PredictionInput>& inputs,
                                    ProgressDelegate& progress, const std::string& device = "cpu", int threads = 1);

}  // namespace bg
