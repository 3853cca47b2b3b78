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

// A fused multi-atlas model (request atlasFusion "embedding") reads a one-atlas part of a multi-atlas
// corpus whose "atlas_views" lists every atlas's items. Its atlases: the part's own first, then the
// others in the order they appear there. Throws a usage error when the manifest has a single atlas.
std::vector<std::string> fusedAtlases(const nlohmann::json& manifest);
// Each item with the same acquisition's graph in every further atlas (DatasetItem::views, in
// fusedAtlases order); a scan without one is a data error naming it and the atlas.
std::vector<DatasetItem> withAtlasViews(const nlohmann::json& manifest, const std::vector<DatasetItem>& items, const ArrayStore& store);
// Refuses what a fused model cannot do (a fitted input, a meta-learned start, the public architecture).
void checkFusionRequest(const model::TuneRequest& request, const TuningConfig& config);

// A fresh downstream model: from a meta-learned model, a pre-trained encoder, or random weights.
struct Initialised {
  model::GraphClassifier model;
  nlohmann::json origin;
};
Initialised initialise(const TuningConfig& config, int classes, int nodes, const model::TuneRequest& request, const PretrainedFile& pretrained);
// The same for a fused multi-atlas model: one member per atlas (each initialised as above, from the same
// pre-trained file), `nodes` per atlas. A plain initialise when the request does not fuse atlases.
Initialised initialiseFor(const TuningConfig& config, int classes, const std::vector<DatasetItem>& items, const model::TuneRequest& request,
                          const PretrainedFile& pretrained, const std::vector<std::string>& atlases);

}  // namespace bg::train
