#pragma once
// Supervised adaptation of BrainGFM to one labelled task (any AdaptationSpec method), with model
// selection and early stopping on a validation split only, class-balanced cross-entropy, and
// calibration (temperature scaling, or Platt scaling on request) fitted on the same validation split.
#include <filesystem>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "connectome/GraphInputSpec.h"
#include "eval/Calibration.h"
#include "jobs/Progress.h"
#include "model/DownstreamModel.h"
#include "train/GraphBatchLoader.h"
#include "train/TrainingConfig.h"
#include "workspace/CorpusDataset.h"

namespace bg {
class ArrayStore;
}

namespace bg::train {

// What a task looks like to the model: its [T/D] and [A/P] text embeddings and its classes.
struct TaskTexts {
  torch::Tensor task, atlas;               // [textDimension] each
  std::vector<torch::Tensor> viewAtlases;  // a fused multi-atlas model's: [A/P] of each further atlas
};

struct TuningHistory {
  std::vector<double> trainLoss, validationLoss, validationAuc;
  int bestEpoch = -1;
  double bestScore = 0;
  double temperature = 1.0;
  double calibrationBias = 0.0;
  double seconds = 0;
  int trainItems = 0;
  int pseudoLabelled = 0;
  nlohmann::json toJson() const;
};

// Stratified subsample of the training labels (at least one item per class), deterministic for a seed.
std::vector<DatasetItem> subsampleLabels(const std::vector<DatasetItem>& items, double fraction, unsigned seed);
// K items per class (all of a class that has fewer), deterministic for a seed.
std::vector<DatasetItem> subsampleShots(const std::vector<DatasetItem>& items, int perClass, unsigned seed);

class Tuner {
 public:
  Tuner(const TuningConfig& config, model::GraphClassifier model, TaskTexts texts, torch::Device device = torch::kCPU);
  Tuner(const TuningConfig& config, const model::DownstreamModel& model, TaskTexts texts, torch::Device device = torch::kCPU)
      : Tuner(config, std::static_pointer_cast<model::GraphClassifierImpl>(model.ptr()), std::move(texts), device) {}

  // Trains on `train`, selects the best epoch on `validation` (which must hold both classes for AUC
  // selection; otherwise the validation loss decides), then fits the calibration on `validation`.
  // `progress` gets fractions in [0, 1].
  TuningHistory fit(const ArrayStore& store, const std::vector<DatasetItem>& train, const std::vector<DatasetItem>& validation, ProgressDelegate& progress);

  // Logit margins (positive minus negative class), in item order, without calibration.
  std::vector<double> margins(const ArrayStore& store, const std::vector<DatasetItem>& items);
  // Pooled graph embeddings (rows in item order, eval mode).
  torch::Tensor embeddings(const ArrayStore& store, const std::vector<DatasetItem>& items);

  model::GraphClassifier model() const { return model_; }
  double temperature() const { return calibration_.temperature; }
  const Calibration& calibration() const { return calibration_; }
  void setTemperature(double t) { calibration_ = {t, 0.0}; }

 private:
  // The batch as model input, with each graph's RWSE computed once and cached by its FC array.
  model::GraphBatchInput prepare(const GraphBatch& batch, const std::vector<DatasetItem>& items);
  // One set of graphs (the batch or one of its views): `itemOf(b)` is graph b's item (its FC array keys the RWSE cache).
  model::GraphBatchInput prepareGraphs(const GraphBatch& batch, const std::function<const DatasetItem&(std::int64_t)>& itemOf, const torch::Tensor& atlasText);
  TuningConfig config_;
  model::GraphClassifier model_;
  TaskTexts texts_;
  torch::Device device_;
  Calibration calibration_;
  double fcThreshold_ = 0.3;  // adjacency threshold of the FC-reading models
  std::unordered_map<std::string, torch::Tensor> rwseCache_;
};

// Loads the encoder of a pre-training model file (`braingraph-cli pretrain`) into `encoder`; checks
// that the model configuration matches. Returns the file's extra fields (corpus, code version, ...).
// The encoder configuration a pre-training model file was made with.
model::BrainGfmConfig pretrainedModelConfig(const std::filesystem::path& file);
nlohmann::json loadPretrainedEncoder(model::BrainGfmEncoder& encoder, const std::filesystem::path& file);
// The same file's "extra" record alone (what it was pre-trained on), without building an encoder.
nlohmann::json pretrainedExtra(const std::filesystem::path& file);

}  // namespace bg::train
