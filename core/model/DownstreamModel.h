#pragma once
// BrainGFM adapted to a labelled task: the encoder, optional graph prompts, and a head.
//
// Tuning methods (what trains; everything else is frozen):
//   finetune / scratch  encoder + head (scratch: no pre-trained weights)
//   linear              head only (linear probe on the frozen encoder)
//   lora                LoRA adapters on every attention projection + head
//   prefix              prefix keys/values in every attention layer + head
//   prompt              graph prompts + head, backbone frozen; prompt kinds (paper table 3):
//                       node_mult (features * p, p starts at 1), node_add (features + p on real nodes,
//                       p starts at 0), edge (adjacency * sym(E), E starts at 1), or node_*+edge
//
// The head is task-conditioned: logits = W [g ; g * t] + b, where g is the mean of the node
// embeddings and t the [T/D] token's output. With one task t is a constant and this is a linear head;
// across tasks (meta-learning, zero-shot) the text embedding of the task selects which graph features
// count, so an unseen task can be addressed through its description alone.
//
// Readout "roi" adds sum_i U_i . h_i, one weight vector per ROI over its node embedding h_i. The mean
// forgets which ROI a feature came from (node tokens carry no identity but their FC row), so a
// mean-pooled linear head only sees per-ROI sums; the per-ROI term lets a fixed-atlas task weigh
// regions, as a linear model on the FC matrix does (a rank-H bilinear form on it). For supervised
// tuning only: MAML adapts the mean head and prompts.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "model/BrainGfm.h"
#include "model/GraphClassifier.h"

namespace bg::model {

class DownstreamModelImpl : public GraphClassifierImpl {
 public:
  // maxNodes bounds the edge prompt (the largest atlas the model serves). LoRA and prefix parameters
  // are added by attachAdapters(), after pre-trained encoder weights have been loaded.
  DownstreamModelImpl(const BrainGfmConfig& config, const AdaptationSpec& spec, int classes, int maxNodes);
  void attachAdapters() override;

  std::string architecture() const override { return "braingfm"; }
  torch::Tensor forward(const GraphBatchInput& input, const FastWeights& fast = {}) override;
  // The pooled graph embedding g the head reads (after the prompts): what out-of-distribution checks compare.
  torch::Tensor embed(const GraphBatchInput& input) override;
  // Applies the graph prompts to a prepared batch (features and adjacency).
  GraphBatchInput prompted(const GraphBatchInput& input, const FastWeights& fast = {}) const;
  // Sets requires_grad by the method; returns the trainable parameters.
  std::vector<torch::Tensor> configureTrainable() override;
  std::vector<torch::Tensor> promptAndHeadParameters() const;  // what MAML adapts
  FastWeights ownWeights() const;
  // Frozen-backbone methods run the encoder in eval mode (no dropout noise the prompts cannot undo).
  void setTraining(bool on) override;
  int classes() const override { return static_cast<int>(head->weight.size(0)); }
  nlohmann::json describe() const override;
  bool readsNodeFeatures() const override { return true; }
  void recordAttention(bool on) override {
    encoder->recordAttention(on);
    recordReadout_ = on;
  }
  // With the per-ROI or edge readout: node i's term of each logit, the mean head's share (h_i / n
  // through the head) plus U_c,i . h_i plus its row of the edge term, sum_j V_c,ij x_ij; they sum to
  // the logits minus the head's bias.
  torch::Tensor readoutContributions(int targetClass) const override;
  std::vector<torch::Tensor> attentionMaps() const override { return encoder->attentionMaps(); }
  int leadingTokens() const override { return 2; }
  double dropoutRate() const override { return encoder->config().dropout; }

  const AdaptationSpec& spec() const { return spec_; }
  BrainGfmEncoder encoder{nullptr};
  torch::nn::Linear head{nullptr};
  torch::Tensor nodeMul, nodeAdd, edge;
  torch::Tensor roiHead;   // [classes, maxNodes, hidden] with readout "roi"
  torch::Tensor edgeHead;  // [classes, maxNodes, maxNodes] with the edge readout (symmetrised when read)

 private:
  bool recordReadout_ = false;
  torch::Tensor contributions_;  // [B, classes, N], recorded
  AdaptationSpec spec_;
  int maxNodes_;
  bool adaptersAttached_ = false;
};
TORCH_MODULE(DownstreamModel);

}  // namespace bg::model
