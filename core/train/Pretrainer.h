#pragma once
// BrainGFM pre-training on one shared encoder:
//  * GCL: two views of each graph (feature-column dropout and edge dropout), projected, NT-Xent
//    over the batch (temperature 0.2 by default);
//  * GMAE: a ratio of real nodes get the learnable mask token, edges are dropped, and a light
//    decoder reconstructs each masked node's input features (MSE). The decoder sees the node's
//    embedding plus a learned embedding of its index and the [A/P] token, so it knows which node it
//    reconstructs (the reference decoder does not and can only predict a mean row);
//  * modes: gcl, gmae, sum, sequential (GCL for the first part of the epochs, then GMAE); in sum
//    mode GMAE's masked view is also GCL's first view (two encoder passes a step, not three);
//  * schedules: the mask ratio and the edge-drop rate move linearly from start to end values;
//  * crop augmentation reads each epoch's graphs from windows of the time series; with contrastive
//    windows GCL's second view is a second, independent window of the same scan.
// Random choices (views, masks) come from a generator seeded by (seed, epoch, item), so a run is
// reproducible, and resuming from a checkpoint continues the same loss curve.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "jobs/Progress.h"
#include "model/BrainGfm.h"
#include "train/GraphBatchLoader.h"
#include "train/TrainingConfig.h"

namespace bg::train {

struct PretrainLosses {
  double gcl = 0, gmae = 0, total = 0;
  int graphs = 0;
};

class Pretrainer {
 public:
  Pretrainer(const PretrainConfig& config, torch::Device device = torch::kCPU);

  // One optimisation step on a batch (item ids seed the random choices).
  PretrainLosses step(const GraphBatch& batch, const std::vector<std::int64_t>& itemIds, int epoch);
  // GMAE reconstructions of the masked nodes, for inspection and tests: [B, N, Dm].
  torch::Tensor reconstruct(const model::GraphBatchInput& input, const torch::Tensor& masked);

  // Everything needed to continue: model, optimiser, config, epoch, and the caller's extra fields
  // (corpus manifest hash, code version). Written atomically.
  void saveCheckpoint(const std::filesystem::path& file, int nextEpoch, const nlohmann::json& extra) const;
  // Returns the epoch to continue from and the extra fields.
  std::pair<int, nlohmann::json> loadCheckpoint(const std::filesystem::path& file);

  model::BrainGfmEncoder encoder() const { return encoder_; }
  void setAtlasText(const torch::Tensor& t) { atlasText_ = t.to(device_); }
  // Multi-atlas: each graph's [A/P] token from its own atlas (GraphBatch::atlases); a graph whose
  // atlas is not listed reads setAtlasText's.
  void setAtlasTexts(const std::map<std::string, torch::Tensor>& texts);
  const PretrainConfig& config() const { return config_; }
  double learningRate() const;
  bool gclActive(int epoch) const;
  bool gmaeActive(int epoch) const;
  std::vector<torch::Tensor> parameters() const;
  // Averages gradients across processes before the optimiser step (data-parallel training).
  std::function<void(std::vector<torch::Tensor>&)> allReduceGradients;

 private:
  model::GraphBatchInput prepare(const GraphBatch& batch) const;
  torch::Tensor atlasTextsFor(const std::vector<std::string>& atlases, std::int64_t graphs) const;  // [B, textDimension]
  double scheduled(double start, double end, int epoch) const;

  PretrainConfig config_;
  torch::Device device_;
  model::BrainGfmEncoder encoder_{nullptr};
  torch::nn::Sequential projection_{nullptr};
  torch::nn::Sequential decoder_{nullptr};
  torch::nn::Embedding nodeIdentity_{nullptr};
  torch::Tensor taskText_, atlasText_;
  std::map<std::string, torch::Tensor> atlasTexts_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
};

struct PretrainRunResult {
  std::vector<PretrainLosses> epochLosses;  // mean per epoch
  int startEpoch = 0;
  double graphsPerSecond = 0;
};

// Runs epochs [start, config.epochs) over the items, checkpointing to `checkpoint` after every
// epoch (and when cancelled). Resumes from `checkpoint` when it exists and `resume` is set.
class DataParallel;

// With `parallel`, each process trains on its share of every batch and gradients are averaged;
// rank 0 writes the checkpoints. `atlasTexts`: the [A/P] embedding of each atlas the items name
// (zeros for an atlas it lacks; one entry serves every item of a single-atlas corpus).
using AtlasTexts = std::map<std::string, torch::Tensor>;
PretrainRunResult runPretraining(const ArrayStore& store, const std::vector<DatasetItem>& items, const PretrainConfig& config,
                                 const std::filesystem::path& checkpoint, bool resume, const nlohmann::json& extra, ProgressDelegate& progress,
                                 torch::Device device = torch::kCPU, DataParallel* parallel = nullptr, const AtlasTexts& atlasTexts = {});

}  // namespace bg::train
