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
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "model/BrainGfm.h"

namespace bg::model {

struct AdaptationSpec {
  std::string method = "prompt";    // finetune | scratch | linear | lora | prefix | prompt
  std::string prompt = "node_mult+edge";
  int loraRank = 8;
  double loraAlpha = 16;
  int prefixLength = 8;

  bool nodeMultiplicative() const { return method == "prompt" && prompt.find("node_mult") != std::string::npos; }
  bool nodeAdditive() const { return method == "prompt" && prompt.find("node_add") != std::string::npos; }
  bool edgePrompt() const { return method == "prompt" && prompt.find("edge") != std::string::npos; }
  nlohmann::json toJson() const;
  static AdaptationSpec fromJson(const nlohmann::json& j);  // validates the method and prompt names
};

// Parameters that MAML adapts in an inner loop; undefined members fall back to the module's own.
struct FastWeights {
  torch::Tensor nodeMul, nodeAdd, edge, headWeight, headBias;
};

class DownstreamModelImpl : public torch::nn::Module {
 public:
  // maxNodes bounds the edge prompt (the largest atlas the model serves). LoRA and prefix parameters
  // are added by attachAdapters(), after pre-trained encoder weights have been loaded.
  DownstreamModelImpl(const BrainGfmConfig& config, const AdaptationSpec& spec, int classes, int maxNodes);
  void attachAdapters();

  torch::Tensor forward(const GraphBatchInput& input, const FastWeights& fast = {});
  // The pooled graph embedding g the head reads (after the prompts): what out-of-distribution checks compare.
  torch::Tensor embed(const GraphBatchInput& input);
  // Applies the graph prompts to a prepared batch (features and adjacency).
  GraphBatchInput prompted(const GraphBatchInput& input, const FastWeights& fast = {}) const;
  // Sets requires_grad by the method; returns the trainable parameters.
  std::vector<torch::Tensor> configureTrainable();
  std::vector<torch::Tensor> promptAndHeadParameters() const;  // what MAML adapts
  FastWeights ownWeights() const;
  std::int64_t trainableCount() const;
  std::int64_t totalCount() const;
  // Frozen-backbone methods run the encoder in eval mode (no dropout noise the prompts cannot undo).
  void setTraining(bool on);

  const AdaptationSpec& spec() const { return spec_; }
  BrainGfmEncoder encoder{nullptr};
  torch::nn::Linear head{nullptr};
  torch::Tensor nodeMul, nodeAdd, edge;

 private:
  AdaptationSpec spec_;
  bool adaptersAttached_ = false;
};
TORCH_MODULE(DownstreamModel);

// Margin between the positive (index 1) and negative class logits: what calibration scales.
inline torch::Tensor logitMargin(const torch::Tensor& logits) { return logits.select(1, 1) - logits.select(1, 0); }

}  // namespace bg::model
