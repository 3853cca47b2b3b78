#pragma once
// Pre-training for the zoo's foundation models, and loading their pre-trained weights:
//  * BrainMass: two pseudo-FC views per scan (each drops dropTimepoints of the time points at
//    random, then Pearson FC); BYOL between the online prediction of one view and the EMA target's
//    projection of the other (symmetric 2 - 2 cos, momentum 0.996); mask-ROI modelling on the first
//    view: maskRatio of the ROI tokens become the mask embedding and the MRM head predicts their FC
//    rows — InfoNCE over the batch's masked rows (each prediction must pick its own row; rows are
//    centred on the batch's mean row of their ROI first) plus MSE. The projector and predictor use
//    batch normalisation as BYOL's do; a "representation spread" is reported to show collapse.
//    Loss = BYOL + 0.1 InfoNCE + 2 MSE (the public code's weights); every parameter is optimised.
//  * LCM: supervised multitask learning on the workspace's phenotypes — diagnosis per dataset, sex,
//    site (cross-entropy) and age (standardised, MSE); a missing value skips that variable for that
//    scan. Two stages: SGD with momentum on every decoder layer's logits, then AdamW on the last
//    layer's (our reading of the paper's "momentum, then adaptive" schedule).
// A pre-training file holds the module ("model"), the configuration ("config_json") and the
// provenance ("extra_json": kind, architecture, max_nodes, LCM's variables).
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "jobs/Progress.h"
#include "model/BrainMass.h"
#include "model/Lcm.h"
#include "workspace/CorpusDataset.h"
#include "train/TrainingConfig.h"

namespace bg {
class ArrayStore;
class Workspace;
}  // namespace bg

namespace bg::train {

using ObjectiveLosses = std::map<std::string, double>;  // objective name -> mean loss

// A pseudo-FC view: keeps a random (1 - drop) share of the time points ([T, N] series), Pearson FC.
torch::Tensor pseudoFc(const torch::Tensor& series, double drop, torch::Generator& generator);

class BrainMassPretrainer {
 public:
  BrainMassPretrainer(const ZooPretrainConfig& config, int maxNodes, torch::Device device = torch::kCPU);
  // One step on a batch of ROI time series ([T_i, N_i] each): returns byol, infonce, mse, total.
  ObjectiveLosses step(const std::vector<torch::Tensor>& series, torch::Generator& generator);
  std::shared_ptr<model::BrainMassClassifierImpl> online() const { return online_; }

 private:
  ZooPretrainConfig config_;
  torch::Device device_;
  std::shared_ptr<model::BrainMassClassifierImpl> online_, target_;
  std::vector<torch::Tensor> trainable_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
};

// Targets of one scan for LCM's variables: class index (or -1 when missing) or standardised value (NaN when missing).
struct LcmTargets {
  std::vector<std::vector<double>> values;  // [variable][scan in batch]
};

class LcmPretrainer {
 public:
  LcmPretrainer(const ZooPretrainConfig& config, int maxNodes, model::LcmVariables variables, torch::Device device = torch::kCPU);
  // One step; stageOne: every layer's logits and SGD with momentum, else the last layer's and AdamW.
  // Returns one loss per variable and "total".
  ObjectiveLosses step(const torch::Tensor& fc, const torch::Tensor& mask, const LcmTargets& targets, bool stageOne);
  std::shared_ptr<model::LcmClassifierImpl> model() const { return model_; }

 private:
  ZooPretrainConfig config_;
  torch::Device device_;
  std::shared_ptr<model::LcmClassifierImpl> model_;
  std::unique_ptr<torch::optim::SGD> sgd_;
  std::unique_ptr<torch::optim::AdamW> adam_;
};

// LCM's variables from phenotypes of the items' scans: diagnosis per dataset (values of
// `labelField`), sex, site (categorical, at least two values seen) and age (standardised).
model::LcmVariables lcmVariablesFrom(const std::vector<std::map<std::string, std::string>>& phenotypes, const std::vector<std::string>& datasets,
                                     const std::string& labelField);
LcmTargets lcmTargets(const model::LcmVariables& variables, const std::vector<const std::map<std::string, std::string>*>& phenotypes,
                      const std::vector<const std::string*>& datasets);

// The phenotypes (only `fields`) and dataset of each item's scan, from the workspace.
void phenotypesOfItems(Workspace& ws, const std::vector<DatasetItem>& items, const std::vector<std::string>& fields,
                       std::vector<std::map<std::string, std::string>>& phenotypes, std::vector<std::string>& datasets);

struct ZooPretrainResult {
  std::vector<ObjectiveLosses> epochs;  // mean per epoch
  double graphsPerSecond = 0;
  nlohmann::json extra;
};

// Runs pre-training over the items and writes `out` (atomically). `phenotypes` and `datasets`
// (per item) are needed by LCM only.
ZooPretrainResult runZooPretraining(const ArrayStore& store, const std::vector<DatasetItem>& items, const ZooPretrainConfig& config,
                                    const std::vector<std::map<std::string, std::string>>& phenotypes, const std::vector<std::string>& datasets,
                                    const std::string& labelField, const std::filesystem::path& out, nlohmann::json extra, ProgressDelegate& progress,
                                    torch::Device device = torch::kCPU);

// What a pre-training file (any architecture) says about itself.
struct PretrainedInfo {
  std::string architecture;  // braingfm | brainmass | lcm
  nlohmann::json model;      // its model configuration
  nlohmann::json extra;
  int maxNodes = 0;  // zoo files only
};
PretrainedInfo readPretrainedInfo(const std::filesystem::path& file);
PretrainedInfo readPretrainedInfo(torch::serialize::InputArchive& archive);
// Copies a zoo pre-training file's weights into `target` (every parameter and buffer whose name
// and shape match); checks architecture, configuration and ROI count. Returns the file's extra fields.
nlohmann::json loadPretrainedZoo(model::GraphClassifierImpl& target, const std::filesystem::path& file);
// The same from an archive already open (train/PretrainedFile.h); `file` names it in messages.
nlohmann::json loadPretrainedZoo(model::GraphClassifierImpl& target, torch::serialize::InputArchive& archive, const PretrainedInfo& info,
                                 const std::filesystem::path& file);

}  // namespace bg::train
