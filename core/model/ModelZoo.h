#pragma once
// The models beside BrainGFM: BrainMass, LCM and the baselines of the BrainGFM paper's table 1,
// their shared configuration, and the factory that builds any architecture from a name or a
// model file's card.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "model/DownstreamModel.h"
#include "model/ModelConfig.h"
#include "model/GraphClassifier.h"

namespace bg::model {

// One line per architecture for help texts and the GUI.
std::string describeArchitecture(const std::string& name);

// A fresh classifier. spec.method: scratch (random weights), finetune (everything trains, from a
// pre-trained backbone) or linear (head only: the probe); BrainGFM takes every AdaptationSpec method.
// `extra` carries architecture-specific state from a card or a pre-training file (LCM's variables).
GraphClassifier makeClassifier(const std::string& architecture, const nlohmann::json& config, const AdaptationSpec& spec, int classes, int maxNodes,
                               const nlohmann::json& extra = nullptr);
// Rebuilds the module a model file's card describes (weights not loaded). Cards without
// "architecture" are BrainGFM's.
GraphClassifier classifierFromCard(const nlohmann::json& card);

// Zero-pads the last dimension of x to `width` (FC rows of an N-node graph as width-wide features).
torch::Tensor padColumns(const torch::Tensor& x, std::int64_t width);
torch::Tensor maskedMean(const torch::Tensor& x, const torch::Tensor& mask);  // [B, N, H], [B, N] -> [B, H]
torch::Tensor maskedMax(const torch::Tensor& x, const torch::Tensor& mask);
// Each entry's rank within its row (0 = smallest, or largest when descending).
torch::Tensor rowRanks(const torch::Tensor& x, bool descending);

// Multi-head attention written out (key padding, an optional [B, Lq, Lk] block mask, recorded
// weights, fastDropout): self-attention for the transformers, cross-attention for LCM.
class MultiHeadAttentionImpl : public torch::nn::Module {
 public:
  MultiHeadAttentionImpl(int hidden, int heads, double dropout);
  // keyPadding [B, Lk] true = ignore; blocked [B, Lq, Lk] true = ignore (may be undefined).
  torch::Tensor forward(const torch::Tensor& query, const torch::Tensor& memory, const torch::Tensor& keyPadding, const torch::Tensor& blocked = {});
  bool record = false;
  torch::Tensor lastAttention;  // [B, Lq, Lk] averaged over heads

  torch::nn::Linear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr};

 private:
  int heads_;
  double dropout_;
};
TORCH_MODULE(MultiHeadAttention);

// Standardises features with batch statistics while training (batches of 2 or more; running
// averages kept) and with the running averages otherwise: the linear probe's input normalisation
// (as MAE's probe uses a non-affine BatchNorm), safe for single-graph batches and MC dropout.
class RunningStandardizerImpl : public torch::nn::Module {
 public:
  explicit RunningStandardizerImpl(int width);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor mean, var;
};
TORCH_MODULE(RunningStandardizer);

// Post-norm transformer block: x + attention, LayerNorm, x + FFN, LayerNorm.
class TransformerBlockImpl : public torch::nn::Module {
 public:
  TransformerBlockImpl(int hidden, int heads, int ffn, double dropout);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& keyPadding, const torch::Tensor& blocked = {});
  MultiHeadAttention attention{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Linear ffn1{nullptr}, ffn2{nullptr};

 private:
  double dropout_;
};
TORCH_MODULE(TransformerBlock);

// What the zoo classifiers share: configuration, tuning method, head, and how the method decides
// what trains (linear: the head only, the backbone in eval mode).
class ZooClassifierImpl : public GraphClassifierImpl {
 public:
  ZooClassifierImpl(std::string architecture, const ZooConfig& config, const AdaptationSpec& spec, int classes, int maxNodes);
  std::string architecture() const override { return architecture_; }
  std::vector<torch::Tensor> configureTrainable() override;
  void setTraining(bool on) override;
  int classes() const override { return classes_; }
  nlohmann::json describe() const override;
  double dropoutRate() const override { return config_.dropout; }
  const ZooConfig& config() const { return config_; }
  const AdaptationSpec& spec() const { return spec_; }
  int maxNodes() const { return maxNodes_; }
  torch::nn::Sequential head{nullptr};

 protected:
  // Parameters used only by pre-training objectives (never trained downstream).
  virtual std::vector<torch::Tensor> pretrainingOnly() const { return {}; }
  std::vector<torch::Tensor> headParameters() const;
  ZooConfig config_;
  AdaptationSpec spec_;
  int classes_, maxNodes_;
  std::string architecture_;
};

}  // namespace bg::model
