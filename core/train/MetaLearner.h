#pragma once
// MAML over tasks (paper appendix I, table 8): a task is a (label definition, atlas) pair, i.e. a
// corpus. Only the graph prompts and the head adapt; the backbone stays frozen. Each episode draws
// graphs of one task, splits them support/query (80/20, stratified), takes `innerSteps` gradient
// steps on the support loss, and scores the adapted weights on the query set; the outer step
// (Adam) moves the shared prompt and head initialisation by the mean query loss over a meta-batch.
// Second order differentiates through the inner steps (create_graph); first order treats the
// inner gradient as a constant.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "jobs/Progress.h"
#include "model/DownstreamModel.h"
#include "train/Tuner.h"
#include "workspace/CorpusDataset.h"

namespace bg::train {

struct MetaConfig {
  int metaEpochs = 50;
  int tasksPerBatch = 8;
  int episodesPerTask = 4;  // episodes drawn per task and meta-epoch
  int episodeSize = 40;     // graphs per episode (support + query)
  double supportFraction = 0.8;
  double innerLearningRate = 2e-4;
  int innerSteps = 1;
  double outerLearningRate = 1e-4;
  bool secondOrder = true;
  unsigned seed = 0;

  nlohmann::json toJson() const;
  static MetaConfig fromJson(const nlohmann::json& j);
};

struct MetaTask {
  std::string name;
  std::vector<DatasetItem> items;
  TaskTexts texts;
};

struct MetaHistory {
  std::vector<double> queryLoss;           // mean query loss after adaptation, per meta-epoch
  std::vector<double> queryLossUnadapted;  // the same query sets before adaptation
  double seconds = 0;
  nlohmann::json toJson() const;
};

class MetaLearner {
 public:
  MetaLearner(const MetaConfig& config, const model::BrainGfmConfig& modelConfig, model::DownstreamModel model, torch::Device device = torch::kCPU);
  MetaHistory train(const ArrayStore& store, const std::vector<MetaTask>& tasks, ProgressDelegate& progress);
  // The adapted prompt and head after the inner loop on one support set (for tests and inspection).
  model::FastWeights adapt(const model::GraphBatchInput& support, const torch::Tensor& labels, bool createGraph);
  model::DownstreamModel model() const { return model_; }

 private:
  torch::Tensor loss(const model::GraphBatchInput& in, const torch::Tensor& labels, const model::FastWeights& w);
  MetaConfig config_;
  model::BrainGfmConfig modelConfig_;
  model::DownstreamModel model_;
  torch::Device device_;
};

}  // namespace bg::train
