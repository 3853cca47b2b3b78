#pragma once
// The public BrainGFM code's architecture (weixinxu666/BrainGFM, BrainGFM_Gprompt.py and
// graph_prompt.py), reproduced so that its published checkpoints run here with the same outputs.
// It is kept apart from the workbench's own BrainGFM (model/BrainGfm.h), which stays the default
// for training from scratch; docs/models.md lists where the two differ.
//
// Data flow, as the public code computes it (B graphs padded to N nodes):
//  * RWSE from the binary adjacency A (diagonal kept): P = A / (rowsum + 1e-6), diag(P^k), k = 1..K,
//    appended right after the N FC columns, then zero-padded to max_feature_dim (Dm);
//  * [A/P] = projection(parcellation token), [T/D] = disease_proj(768-d disease embedding);
//  * graph prompt conditioned on both tokens (MLP 2H -> H -> 4 = alpha/beta for nodes and edges):
//    features x (1 + tanh(alpha_n P_node + beta_n)); edges A + 0.3 sigmoid(alpha_e P_edge + beta_e)(1 - A),
//    P_edge symmetrised with a zero diagonal and zero on padded nodes, the result symmetrised and its
//    diagonal removed (so the GCN sees no self-loops);
//  * sequence [T/D], [A/P], projection(prompted features); padded nodes masked as attention keys;
//  * the public code runs num_GNN_layers blocks that all read this same sequence and returns only the
//    last block's readout, so only the last block is kept and computed here: num_self_att_layers
//    post-norm layers (attention, then a top-1 mixture-of-experts FFN routed per graph on its mean
//    token) and a mixture-of-experts GCN (support X W, A~ support, BatchNorm over every padded row,
//    ReLU), then the masked mean over real nodes; the head reads it.
// BatchNorm uses batch statistics only while the model is fitted (setTraining(true)); Monte Carlo
// dropout (train()) keeps the running statistics.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "model/BrainGfm.h"
#include "model/DownstreamModel.h"
#include "model/GraphClassifier.h"
#include "model/ModelBackend.h"  // kPublicArchitecture

namespace bg::model {

// One expert of the FFN: Linear(H, ff), ReLU, dropout, Linear(ff, H).
class PublicExpertImpl : public torch::nn::Module {
 public:
  PublicExpertImpl(int hidden, int ffn);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(PublicExpert);

class PublicLayerImpl : public torch::nn::Module {
 public:
  PublicLayerImpl(const PublicGfmConfig& c);
  SelfAttention attention{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Linear router{nullptr};
  torch::nn::ModuleList experts;
};
TORCH_MODULE(PublicLayer);

class PublicGfmClassifierImpl : public GraphClassifierImpl {
 public:
  // Methods: scratch, finetune (everything trains), linear (the head on the frozen encoder), prompt
  // (its own graph prompt and the head), lora (LoRA on the kept block's attention, and the head).
  PublicGfmClassifierImpl(const PublicGfmConfig& config, const AdaptationSpec& spec, int classes);

  std::string architecture() const override { return kPublicArchitecture; }
  torch::Tensor forward(const GraphBatchInput& input, const FastWeights& fast = {}) override;
  torch::Tensor embed(const GraphBatchInput& input) override;
  std::vector<torch::Tensor> configureTrainable() override;
  void setTraining(bool on) override;
  void train(bool on = true) override;
  int classes() const override { return static_cast<int>(head->weight.size(0)); }
  nlohmann::json describe() const override;
  double dropoutRate() const override { return config_.dropout; }
  void recordAttention(bool on) override;
  std::vector<torch::Tensor> attentionMaps() const override;
  int leadingTokens() const override { return 2; }
  void attachAdapters() override;

  const PublicGfmConfig& config() const { return config_; }
  const AdaptationSpec& spec() const { return spec_; }
  // Chooses the tokens this model reads (names from its tables; throws Usage for an unknown one).
  void setTokens(const std::string& atlasToken, const std::string& diseaseToken);

  torch::nn::Linear projection{nullptr}, diseaseProjection{nullptr}, cond1{nullptr}, cond2{nullptr}, head{nullptr};
  torch::Tensor atlasTable, diseaseTable, nodePrompt, edgePrompt;
  torch::nn::ModuleList layers;
  torch::nn::Linear gcnRouter{nullptr};
  torch::Tensor gcnWeight;  // [experts, H, H] (X W, as the public GraphConvolution stores it)
  torch::nn::ModuleList gcnNorm;

 private:
  torch::Tensor moeFfn(PublicLayerImpl& layer, const torch::Tensor& x);
  torch::Tensor moeGcn(const torch::Tensor& x, const torch::Tensor& adjacency);
  PublicGfmConfig config_;
  AdaptationSpec spec_;
  int atlasIndex_ = 0, diseaseIndex_ = 0;
  bool fitting_ = false;
};
TORCH_MODULE(PublicGfmClassifier);

}  // namespace bg::model
