#pragma once
// What a model file says about itself, read and checked once into a type. The card is stored as
// JSON (a baseline's file is its card; a graph model's archive holds one); everything that decides
// or describes — predict, diagnose, the wizard, the report, release and site adaptation — reads these
// fields instead of looking keys up where it stands. `stored` keeps the card as written, for what is
// stored again (the workspace's models table, a re-saved file) and for what is copied verbatim into a
// report record.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "connectome/ConnectomePipeline.h"

namespace bg {

// The kinds a card names (baseline-logreg and atlas-ensemble are in eval/BaselineModel.h and
// eval/AtlasEnsemble.h, beside what writes them).
inline constexpr const char* kDownstreamKind = "braingfm-downstream";
inline constexpr const char* kMetaKind = "braingfm-meta";
inline constexpr const char* kPublicImportKind = "braingfm-public-import";

enum class ModelKind {
  Baseline,       // a logistic regression (baseline-logreg)
  AtlasEnsemble,  // one model per atlas, calibrated probabilities averaged (atlas-ensemble)
  Graph,          // a trained graph model (braingfm-downstream; any architecture of the catalog)
  Meta,           // a meta-learned initialisation (meta-train)
  PublicImport,   // a published BrainGFM checkpoint as imported, not adapted to a task yet
  Pretrained,     // a pre-training's encoder (pretrain, zoo pre-training)
  Other
};

// How a model reads a scan in several atlases (ModelCard::inputs holds one entry per atlas).
enum class AtlasCombination {
  Single,    // one atlas
  Averaged,  // one model per atlas, their calibrated probabilities averaged (late fusion)
  Fused      // one network per atlas under one head (train --atlas-fusion embedding)
};

// One atlas the model reads a scan through, and how that atlas's connectome is prepared.
struct ModelAtlasInput {
  std::string atlas;
  int nodes = 0;                 // 0: not recorded
  nlohmann::json preprocessing;  // as recorded (the report quotes it); empty: the pipeline's defaults
  PipelineOptions pipeline;      // the same, parsed
  // What a member of a multi-atlas model is (the report's Methods name it).
  std::string architecture;  // a graph member's
  std::string adaptation;    // a graph member's adaptation method
  double c = 0;              // a regression member's C
  bool tangent = false;      // a regression on tangent-space FC
};

struct ModelValidation {
  int scans = 0;
  bool outOfFold = false;  // cross-fitted: the out-of-fold scores of the training scans, no split kept aside
  std::optional<double> auc, accuracy;
};

struct ModelRelease {
  std::string name, releasedBy, releasedAt;
};

struct ModelCard {
  ModelKind kind = ModelKind::Other;
  std::string kindName;   // as stored
  bool baseline = false;  // predicted in this process without the model library (a regression or an ensemble of them)
  AtlasCombination combination = AtlasCombination::Single;
  std::vector<ModelAtlasInput> inputs;  // one per atlas, in the model's order; empty for files without an atlas

  std::string architecture;  // a graph model's (braingfm when unrecorded; atlas-fusion for a fused model)
  std::string adaptation;    // a graph model's adaptation method (scratch, prompt, finetune, ...)
  std::string prompt;        // its prompt kind, when prompt-tuned
  int ensembleMembers = 1;   // models averaged inside the file (different initial weights or cross-fitted folds)
  bool crossFitted = false;  // the members are cross-fitted fold models (deployment "cross-fitted ensemble")
  bool tangent = false;      // a regression on tangent-space FC
  double c = 0;              // a regression's C

  std::string labelField;
  std::vector<std::string> classes;  // the second is the positive class of a binary model
  std::string positiveClass;

  std::string calibration = "temperature";
  double temperature = 1.0, calibrationBias = 0.0;

  std::string corpusName;
  int corpusItems = 0;
  std::optional<ModelValidation> validation;
  std::optional<double> crossValidatedAuc;  // evaluate's mean AUC over folds, when recorded (release, train --evaluate)
  std::optional<ModelRelease> release;
  std::vector<std::string> trainingScanHashes;  // content hashes of the scans it learned from (empty in a summary)
  bool hasFoldModels = false, hasOodReference = false;
  std::int64_t trainableParameters = 0;
  std::string codeVersion;

  nlohmann::json stored;  // the card as written

  // Checks and types a stored card; throws bg::Error(Data) naming `source` when a field has the wrong
  // type or a multi-atlas card's atlases and members disagree. A summary (modelCardSummary) reads too.
  static ModelCard fromJson(nlohmann::json card, const std::string& source);
  // A model file's card: a baseline's JSON, or the model library's card of a graph model's archive.
  static ModelCard read(const std::filesystem::path& modelFile);

  bool readsSeveralAtlases() const { return combination != AtlasCombination::Single; }
  std::vector<std::string> atlases() const;
  std::string atlas() const { return inputs.empty() ? std::string() : inputs.front().atlas; }
  std::string atlasLabel() const;  // "cc200" or "cc200 + ho"
  std::string negativeClass() const { return classes.size() == 2 ? classes.front() : std::string(); }
  // A scan whose content hash the model learned from (or was calibrated on).
  bool learnedFrom(const std::string& contentHash) const;
};

}  // namespace bg
