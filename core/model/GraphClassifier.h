#pragma once
// One interface over every classifier the workbench trains — BrainGFM (DownstreamModel), BrainMass,
// LCM and the paper's baselines — so tuning, cross-validation, model files, prediction, Monte Carlo
// intervals and explanations are written once and work with any of them.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "model/BrainGfm.h"

namespace bg::model {

// Parameters that MAML adapts in an inner loop (BrainGFM's prompts and head); undefined members
// fall back to the module's own. Other models ignore them.
struct FastWeights {
  torch::Tensor nodeMul, nodeAdd, edge, headWeight, headBias;
};

class GraphClassifierImpl : public torch::nn::Module {
 public:
  // "braingfm", "brainmass", "lcm", "gcn", "braingnn", "transformer", "graph_transformer", "brainnettf".
  virtual std::string architecture() const = 0;
  // Logits [B, classes].
  virtual torch::Tensor forward(const GraphBatchInput& input, const FastWeights& fast = {}) = 0;
  // The pooled representation the head reads (what out-of-distribution checks compare).
  virtual torch::Tensor embed(const GraphBatchInput& input) = 0;
  // The logits the training loss averages over at `progress` (0..1) of training: the final logits,
  // or (LCM) every layer's during the first stage of its two-stage schedule.
  virtual std::vector<torch::Tensor> trainingLogits(const GraphBatchInput& input, double /*progress*/) { return {forward(input)}; }
  // Sets requires_grad by the tuning method; returns the trainable parameters.
  virtual std::vector<torch::Tensor> configureTrainable() = 0;
  virtual int classes() const = 0;
  // Everything a model file's card needs to rebuild the module: "architecture", "model" (its
  // configuration), "adaptation", "max_nodes".
  virtual nlohmann::json describe() const = 0;
  // Frozen-backbone methods keep the backbone in eval mode while the head trains.
  virtual void setTraining(bool on) { train(on); }
  // True when the model reads BrainGFM's prepared node features (FC row + RWSE, text tokens);
  // the others read only input.fc, input.adjacency and input.mask.
  virtual bool readsNodeFeatures() const { return false; }
  // Attention maps (per layer, [B, L, L] over leadingTokens() + ROI tokens) after a forward with
  // recording on; empty for models without self-attention over ROIs.
  virtual void recordAttention(bool) {}
  virtual std::vector<torch::Tensor> attentionMaps() const { return {}; }
  virtual int leadingTokens() const { return 0; }
  // After a recorded forward: how much each node's final embedding adds to `targetClass`'s logit
  // ([B, N], signed), for readouts that do not read every node alike; undefined for a plain mean.
  virtual torch::Tensor readoutContributions(int /*targetClass*/) const { return {}; }
  // Dropout rate, for Monte Carlo intervals (0: none).
  virtual double dropoutRate() const { return 0; }
  // Adds parameters that must not exist while pre-trained weights load (LoRA, prefixes).
  virtual void attachAdapters() {}

  std::int64_t trainableCount() const {
    std::int64_t n = 0;
    for (const auto& p : parameters())
      if (p.requires_grad()) n += p.numel();
    return n;
  }
  std::int64_t totalCount() const {
    std::int64_t n = 0;
    for (const auto& p : parameters()) n += p.numel();
    return n;
  }
};
using GraphClassifier = std::shared_ptr<GraphClassifierImpl>;

// The input the FC-reading models need: padded FC [B, N, N], node mask [B, N], and the binarised
// adjacency [FC > threshold] among real nodes (diagonal kept). `features` is left undefined.
GraphBatchInput makeFcInput(const torch::Tensor& fc, const torch::Tensor& mask, double threshold = 0.3);

// Margin between the positive (index 1) and negative class logits: what calibration scales.
inline torch::Tensor logitMargin(const torch::Tensor& logits) { return logits.select(1, 1) - logits.select(1, 0); }

}  // namespace bg::model
