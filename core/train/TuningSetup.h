#pragma once
// What train, evaluate and meta-train share in setting a run up from its request: the architecture a
// method trains, the tuning configuration resolved once against the request's pre-trained file, the
// checks that name a bad combination before any work, the corpus's items, the task's texts and a
// fresh model to adapt. Internal to the model library (Experiment.h is its face).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "connectome/GraphInputSpec.h"
#include "model/GraphClassifier.h"
#include "model/ModelBackend.h"
#include "model/TextEmbedding.h"
#include "train/PretrainedFile.h"
#include "train/TrainingConfig.h"
#include "workspace/CorpusDataset.h"

namespace bg {
class ArrayStore;
}

namespace bg::train {

model::PromptTexts promptTexts();
torch::Tensor embedText(const std::string& key, const std::string& text, int dimension);

// The architecture a --method trains: a zoo model's name, or "braingfm" for BrainGFM's tuning methods.
std::string architectureOf(const std::string& method);
// `--method braingfm-public`, or BrainGFM's method names with a file from `model import`.
bool isPublicRequest(const model::TuneRequest& request, const PretrainedFile& pretrained);
// The request's tuning configuration (its file, its flags, the pre-trained file's model), checked
// against the input it reads.
TuningConfig tuningConfig(const model::TuneRequest& request, const PretrainedFile& pretrained);
// An encoder pre-trained on another input than Pearson FC reads only that input.
void checkPretrainedInput(const nlohmann::json& extra, const GraphInputSpec& input, const std::string& file);
// The public architecture reads the corpus's atlas and disorder as tokens of its checkpoint's tables
// (train/PublicCheckpoint.h says how they are chosen) and records them in `config`; null for other
// architectures.
nlohmann::json choosePublicTokensFor(TuningConfig& config, const nlohmann::json& manifest, int nodes, const PretrainedFile& pretrained);

int maxNodes(const std::vector<DatasetItem>& items);
std::vector<int> labelsOf(const std::vector<DatasetItem>& items);
// Scans per class (negative, positive): adapt-site weights a labelled batch to this mix.
nlohmann::json classCounts(const std::vector<DatasetItem>& items);
std::vector<DatasetItem> partItems(const nlohmann::json& manifest, int fold, std::initializer_list<const char*> parts, const ArrayStore& store);
std::vector<DatasetItem> sameAcquisitionsInEveryAtlas(const nlohmann::json& manifest, const std::vector<DatasetItem>& unlabelled, const ArrayStore& store);

// A fresh downstream model: from a meta-learned model, a pre-trained encoder, or random weights.
struct Initialised {
  model::GraphClassifier model;
  nlohmann::json origin;
};
Initialised initialise(const TuningConfig& config, int classes, int nodes, const model::TuneRequest& request, const PretrainedFile& pretrained);

}  // namespace bg::train
