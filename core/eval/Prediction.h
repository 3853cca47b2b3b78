#pragma once
// What `predict` needs around a model: the input file turned into an FC matrix exactly as the
// model's training data were (its atlas and preprocessing), and the prediction recorded in a
// workspace with its explanation. Shared by the CLI and the GUI.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "jobs/Progress.h"

namespace bg {

class AtlasRegistry;
class Workspace;

struct PredictionInput {
  std::filesystem::path file;
  Eigen::MatrixXd fc;
  std::vector<std::string> roiNames, networks;
  std::string kind;  // bold | timeseries
};

bool isNiftiPath(const std::filesystem::path& p);

// BOLD NIfTI: parcellated with the card's atlas (which must be registered); ROI time-series files
// (.1D[.gz], .csv, .tsv, .npy): their columns must follow the model's atlas. `tr` (seconds) is
// needed when the preprocessing band-passes and the file carries no TR.
PredictionInput loadPredictionInput(const std::filesystem::path& file, const nlohmann::json& card, const AtlasRegistry* registry,
                                    double tr, ProgressDelegate& progress);

// Stores a prediction (the model and, when new, the scan by content hash); returns its id.
std::int64_t recordPrediction(Workspace& ws, const PredictionInput& input, const std::filesystem::path& modelFile, const nlohmann::json& card,
                              const std::string& label, double probability, const nlohmann::json& explanation);

}  // namespace bg
