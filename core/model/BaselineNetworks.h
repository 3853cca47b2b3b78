#pragma once
// The baselines of the BrainGFM paper's table 1, trained from scratch on FC matrices:
//  * GcnClassifier       vanilla GCN (Kipf & Welling 2017): node features = FC rows, A = [FC > t],
//                        symmetric-normalised A + I, mean and max readout;
//  * BrainGnnClassifier  BrainGNN-style (Li et al. 2021): ROI-aware graph convolution — each ROI's
//                        kernel is a learned soft mixture of `communities` basis kernels — and ROI
//                        top-k pooling (score-weighted, ratio poolRatio). BrainGNN's extra
//                        regularisers (unit, top-k and group consistency losses) are left out;
//  * TransformerClassifier  vanilla transformer over ROI tokens (FC row + learned ROI embedding);
//                        with `graphMasked`, the graph transformer: each ROI attends only to its
//                        graph neighbours (A = [FC > t], itself included);
//  * BrainNetTfClassifier   BrainNetTF-style (Kan et al. 2022): transformer over FC rows, then the
//                        orthonormal clustering readout (OCRead: soft assignment to orthonormal
//                        cluster centres, cluster embeddings flattened).
#include "model/ModelZoo.h"

namespace bg::model {

class GcnClassifierImpl : public ZooClassifierImpl {
 public:
  GcnClassifierImpl(const ZooConfig& config, const AdaptationSpec& spec, int classes, int maxNodes);
  torch::Tensor forward(const GraphBatchInput& input, const FastWeights& fast = {}) override;
  torch::Tensor embed(const GraphBatchInput& input) override;
  torch::nn::Linear input{nullptr};
  torch::nn::ModuleList convs;
};

class BrainGnnClassifierImpl : public ZooClassifierImpl {
 public:
  BrainGnnClassifierImpl(const ZooConfig& config, const AdaptationSpec& spec, int classes, int maxNodes);
  torch::Tensor forward(const GraphBatchInput& input, const FastWeights& fast = {}) override;
  torch::Tensor embed(const GraphBatchInput& input) override;
  torch::nn::Linear input{nullptr};
  torch::nn::Embedding membership{nullptr};  // ROI -> community logits
  std::vector<torch::Tensor> kernels;        // per layer [communities, hidden, hidden]
  torch::Tensor poolScore;                   // [hidden]
};

class TransformerClassifierImpl : public ZooClassifierImpl {
 public:
  TransformerClassifierImpl(const ZooConfig& config, const AdaptationSpec& spec, int classes, int maxNodes, bool graphMasked);
  torch::Tensor forward(const GraphBatchInput& input, const FastWeights& fast = {}) override;
  torch::Tensor embed(const GraphBatchInput& input) override;
  void recordAttention(bool on) override;
  std::vector<torch::Tensor> attentionMaps() const override;
  torch::nn::Linear input{nullptr};
  torch::Tensor roiEmbedding;  // [maxNodes, hidden]
  torch::nn::ModuleList blocks;

 private:
  bool graphMasked_;
};

class BrainNetTfClassifierImpl : public ZooClassifierImpl {
 public:
  BrainNetTfClassifierImpl(const ZooConfig& config, const AdaptationSpec& spec, int classes, int maxNodes);
  torch::Tensor forward(const GraphBatchInput& input, const FastWeights& fast = {}) override;
  torch::Tensor embed(const GraphBatchInput& input) override;
  void recordAttention(bool on) override;
  std::vector<torch::Tensor> attentionMaps() const override;
  torch::nn::Linear input{nullptr};
  torch::nn::ModuleList blocks;
  torch::Tensor centres;  // [clusters, hidden], orthonormal at initialisation
};

// Self-attention layers' recorded maps (shared by the transformer classifiers and BrainMass).
std::vector<torch::Tensor> recordedMaps(torch::nn::ModuleList& blocks);
void setRecording(torch::nn::ModuleList& blocks, bool on);

}  // namespace bg::model
