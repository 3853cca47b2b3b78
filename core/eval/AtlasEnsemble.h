#pragma once
// A classifier over several parcellations of the same scans (a multi-atlas corpus, corpus create
// --atlas cc200,ho): one logistic regression per atlas, each trained, cross-fit calibrated and refitted
// exactly as a one-atlas baseline, and one prediction per scan as the mean of the members' calibrated
// probabilities (late fusion: the atlases' feature spaces differ in size and meaning, and averaging
// calibrated probabilities needs no second fit on the same labels). The model file is one JSON card
// (kind "atlas-ensemble") holding every member's card.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/Evaluation.h"
#include "jobs/Progress.h"

namespace bg {

class Workspace;

inline constexpr const char* kAtlasEnsembleKind = "atlas-ensemble";

bool isAtlasEnsemble(const nlohmann::json& card);

// One atlas's part of a multi-atlas corpus: its items, and every fold of the split with the indices
// remapped (the split keeps a subject's graphs together, so each part has the same subjects per fold).
nlohmann::json atlasPart(const nlohmann::json& manifest, const std::string& atlas);

// features: "fisher" or "tangent", as trainBaselineModel.
nlohmann::json trainAtlasEnsemble(Workspace& ws, const nlohmann::json& manifest, const std::vector<double>& cGrid, unsigned seed,
                                  ProgressDelegate& progress, const std::string& calibration, const std::string& features);

// The same procedure inside each outer fold: each atlas's baseline on the fold's training scans, the
// fold's test acquisitions scored by the mean of the members' calibrated probabilities. The split is
// made once over subjects (req.split kfold or leave-site-out), so every atlas sees the same folds.
// Predictions carry the first atlas's scan ids, so paired tests against one-atlas models of that atlas
// match scan by scan.
nlohmann::json evaluateAtlasEnsemble(Workspace& ws, const nlohmann::json& manifest, const EvaluateRequest& req, ProgressDelegate& progress);

// The input files of one prediction each: a BOLD file serves every atlas; ROI time-series files come
// one per atlas, recognised by `rois_<atlas>` or `atlas-<atlas>` in their names and matched into
// scans by the rest of the name. A scan missing an atlas is an error naming the file and the atlas.
std::vector<std::map<std::string, std::filesystem::path>> groupAtlasInputs(const std::vector<std::string>& files,
                                                                           const std::vector<std::string>& atlases);

struct PredictionInput;
// One scan through every atlas of the model (`inputs`: each atlas's prepared input, loaded with that
// member's card): the mean of the members' calibrated probabilities, the members' own results, the
// ten ROIs of either atlas that weigh most, the members' mean interval, and the out-of-distribution
// flag when at least half of the members raise it.
nlohmann::json predictAtlasEnsemble(const std::filesystem::path& modelFile, const nlohmann::json& card,
                                    const std::map<std::string, PredictionInput>& inputs, ProgressDelegate& progress);

}  // namespace bg
