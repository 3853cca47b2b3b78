#pragma once
// What `predict` needs around a model: the input file turned into an FC matrix exactly as the
// model's training data were (its atlas and preprocessing), and the prediction recorded in a
// workspace with its explanation. Shared by the CLI and the GUI.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "eval/ModelCard.h"
#include "jobs/Progress.h"

namespace bg {

class AtlasRegistry;
class Workspace;

struct PredictionInput {
  std::filesystem::path file;
  Eigen::MatrixXd fc;
  Eigen::MatrixXd series;  // the cleaned ROI time series the FC came from (time points x ROIs)
  std::vector<std::string> roiNames, networks;
  std::string kind;  // bold | timeseries
  int volumes = 0;
  double tr = 0;                       // seconds; 0 = unknown
  std::vector<std::string> emptyRois;  // ROIs without signal (BOLD) or with constant series (time series)
  std::optional<std::filesystem::path> confounds;
  nlohmann::json qc;        // the connectome pipeline's QC record
  std::string site;         // the acquisition site (predict --site), for per-site harmonised models
  std::string contentHash;  // of the file's bytes (hashFile), computed once: the training-set check, the workspace's records
};

struct PredictionInputOptions {
  double tr = 0;                                   // seconds, for time-series files without one
  std::optional<std::filesystem::path> confounds;  // fMRIPrep confounds TSV (BOLD default: the one beside the file)
  bool requireFullCoverage = true;                 // false: ROIs without signal stay in (flat rows), QC judges them
};

bool isNiftiPath(const std::filesystem::path& p);

// BOLD NIfTI: parcellated with the model's atlas (which must be registered); ROI time-series files
// (.1D[.gz], .csv, .tsv, .npy): their columns must follow the model's atlas. `tr` (seconds) is
// needed when the preprocessing band-passes and the file carries no TR.
PredictionInput loadPredictionInput(const std::filesystem::path& file, const ModelCard& card, const AtlasRegistry* registry, double tr,
                                    ProgressDelegate& progress);
PredictionInput loadPredictionInput(const std::filesystem::path& file, const ModelCard& card, const AtlasRegistry* registry,
                                    const PredictionInputOptions& options, ProgressDelegate& progress);
// One atlas's input (a member of a multi-atlas model, or a one-atlas model's only atlas).
PredictionInput loadPredictionInput(const std::filesystem::path& file, const ModelAtlasInput& atlas, const AtlasRegistry* registry,
                                    const PredictionInputOptions& options, ProgressDelegate& progress);
// One BOLD file for every atlas of a multi-atlas model (card.inputs): parcellated with every atlas in
// one pass over the volume when they share their preprocessing (one pass per atlas otherwise). Keyed by atlas.
std::map<std::string, PredictionInput> loadBoldPredictionInputs(const std::filesystem::path& file, const std::vector<ModelAtlasInput>& atlases,
                                                                const AtlasRegistry* registry, const PredictionInputOptions& options,
                                                                ProgressDelegate& progress);

// The fMRIPrep confounds file beside a BOLD file (sub-X_..._desc-confounds_timeseries.tsv), if any.
std::optional<std::filesystem::path> siblingConfounds(const std::filesystem::path& bold);

// The card without its data (weights, standardisation, fold models, the out-of-distribution
// reference's arrays): what people read and what the workspace's models table keeps.
nlohmann::json modelCardSummary(nlohmann::json card);

// Classifies one prepared input: {file, label, probability, positive_class, top_rois, explanation,
// interval, ood, model}. Shared by predict, diagnose and the wizard.
nlohmann::json predictInput(const std::filesystem::path& modelFile, const ModelCard& model, const PredictionInput& input, const std::string& device,
                            int threads, ProgressDelegate& progress);
// A fused multi-atlas graph model (AtlasCombination::Fused): reads one scan in every atlas of the
// model (`inputs` keyed by atlas, each loaded with its ModelAtlasInput); its top ROIs name their atlas.
nlohmann::json predictFusedInput(const std::filesystem::path& modelFile, const ModelCard& model, const std::map<std::string, PredictionInput>& inputs,
                                 const std::string& device, int threads, ProgressDelegate& progress);

// Stores a prediction (the model and, when new, the scan by content hash); returns its id.
// The models table's row for this file (by content hash), added with the card's summary when new.
std::int64_t registerModel(Workspace& ws, const std::filesystem::path& modelFile, const ModelCard& card);
std::int64_t recordPrediction(Workspace& ws, const PredictionInput& input, const std::filesystem::path& modelFile, const ModelCard& card,
                              const std::string& label, double probability, const nlohmann::json& explanation);

}  // namespace bg
