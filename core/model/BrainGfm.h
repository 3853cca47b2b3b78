#pragma once
// BrainGFM's encoder (the paper's graph transformer, table 7 defaults), in LibTorch.
//
// Input per graph: a Pearson FC matrix (N x N, N = the atlas's ROI count).
//  * adjacency A = [FC > threshold] (diagonal kept), only among real nodes;
//  * node features = the FC row (N values, zero-padded) and RWSE (P = D^-1 A, diag(P^k), k = 1..5)
//    in the last k columns of a Dm = 512 wide vector. RWSE sits at a fixed place (not right after
//    the FC row as in the reference code) so a graph's features do not depend on how far its
//    batch is padded;
//  * [T/D] and [A/P] tokens from text embeddings are prepended (N + 2 tokens); they connect to every
//    real node in the expanded adjacency;
//  * layers alternate self-attention (key-padding mask: padded nodes are never attended to) and a
//    GCN step on the symmetric-normalised adjacency; LayerNorm rather than the reference code's
//    BatchNorm, whose batch statistics would let padding change the outputs;
//  * readout: mean over real nodes.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "model/ModelConfig.h"

namespace bg::model {

struct GraphBatchInput {
  torch::Tensor fc;           // [B, N, N] the padded FC matrices themselves (what the other models read)
  torch::Tensor features;     // [B, N, Dm]
  torch::Tensor adjacency;    // [B, N, N] float (0/1 among real nodes)
  torch::Tensor mask;         // [B, N] bool, true on real nodes
  torch::Tensor taskText;     // [B, textDimension] ([T/D] embedding)
  torch::Tensor atlasText;    // [B, textDimension] ([A/P] embedding)
  torch::Tensor maskedNodes;  // optional [B, N] bool: these nodes' inputs are replaced by the mask token
  // A fused multi-atlas model's input (model/AtlasFusion.h): the same scans in its other atlases.
  std::vector<GraphBatchInput> views;
};

// Adjacency, RWSE and features from padded FC matrices ([B, N, N]) and their node masks.
// `rwse` ([B, N, rwseSteps]) may be given when known: it depends on the FC matrix alone, and its
// matrix powers cost as much as a small model's forward pass, so training caches it per graph.
GraphBatchInput makeGraphInput(const torch::Tensor& fc, const torch::Tensor& mask, const torch::Tensor& taskText, const torch::Tensor& atlasText,
                               const BrainGfmConfig& config, const torch::Tensor& rwse = {});

// Dropout with a cheap counter-based generator (splitmix64 on (seed, index), four 16-bit draws per
// hash) instead of torch's per-element Mersenne twister, which cost more than the layers' matrix
// products here. The seed comes from torch's global generator, so torch::manual_seed still makes
// runs reproducible.
torch::Tensor fastDropout(const torch::Tensor& x, double p, bool training);

// Multi-head self-attention with a key-padding mask (true = ignore), written out so its dropout on
// the attention weights can use fastDropout.
//
// Parameter-efficient tuning hooks (off by default, so a pre-trained encoder loads unchanged):
//  * LoRA: W x + (alpha / r) B A x on the qkv and output projections, A random, B zero (so tuning
//    starts from the pre-trained function);
//  * prefix tuning: `length` learnable key and value vectors per head prepended to the keys and
//    values (queries unchanged), as in Li & Liang (2021).
class SelfAttentionImpl : public torch::nn::Module {
 public:
  SelfAttentionImpl(int hidden, int heads, double dropout);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& keyPadding);
  void enableLora(int rank, double alpha);
  void enablePrefix(int length);
  std::vector<torch::Tensor> adapterParameters() const;
  // When set, forward keeps its attention weights (averaged over heads, [B, L, L+prefix]).
  bool recordAttention = false;
  torch::Tensor lastAttention;

  torch::nn::Linear qkv{nullptr}, out{nullptr};

 private:
  torch::Tensor project(torch::nn::Linear layer, const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& x) const;
  int heads_;
  double dropout_;
  double loraScale_ = 0;
  torch::Tensor loraQkvA, loraQkvB, loraOutA, loraOutB, prefixKey, prefixValue;
};
TORCH_MODULE(SelfAttention);

struct EncoderOutput {
  torch::Tensor nodes;   // [B, N, H] (ROI tokens only)
  torch::Tensor tokens;  // [B, 2, H] ([T/D], [A/P])
  torch::Tensor graph;   // [B, H] masked mean over real nodes
};

class BrainGfmEncoderImpl : public torch::nn::Module {
 public:
  explicit BrainGfmEncoderImpl(const BrainGfmConfig& config);
  EncoderOutput forward(const GraphBatchInput& input);
  // The node-feature projection, exposed so pre-training can put a mask token in feature space.
  torch::Tensor project(const torch::Tensor& features) { return inputProjection->forward(features); }
  const BrainGfmConfig& config() const { return config_; }
  std::int64_t parameterCount() const;
  void enableLora(int rank, double alpha);
  void enablePrefix(int length);
  std::vector<torch::Tensor> adapterParameters() const;  // LoRA and prefix parameters
  void recordAttention(bool on);
  std::vector<torch::Tensor> attentionMaps() const;  // per attention layer, after a recorded forward

  torch::nn::Linear inputProjection{nullptr}, taskProjection{nullptr}, atlasProjection{nullptr};
  torch::Tensor maskToken;  // [H], learnable (GMAE)
  torch::nn::ModuleList attention, attentionNorm, feedForward, feedForwardOut, feedForwardNorm, gcn, gcnNorm;

 private:
  BrainGfmConfig config_;
};
TORCH_MODULE(BrainGfmEncoder);

}  // namespace bg::model
