#pragma once
// BrainMass (Yang et al., IEEE TMI 2024): a transformer over ROI tokens (each token = the ROI's FC
// row, plus a learned ROI embedding), flattened into a representation y; downstream, a linear
// head on y (the paper's probe) or everything fine-tuned. The pre-training parts live here too so
// that one module holds every parameter: the BYOL projector and predictor, the mask embedding that
// replaces masked ROI tokens, and the mask-ROI-modelling head that predicts a masked ROI's FC row.
// (The public code never hands the mask token and MRM head to its optimiser; here they train.)
#include "model/ModelZoo.h"

namespace bg::model {

struct BrainMassEncoding {
  torch::Tensor tokens;          // [B, N, H] ROI tokens after the transformer
  torch::Tensor representation;  // [B, R] flattened tokens through the representation layer
};

class BrainMassClassifierImpl : public ZooClassifierImpl {
 public:
  BrainMassClassifierImpl(const ZooConfig& config, const AdaptationSpec& spec, int classes, int maxNodes);
  torch::Tensor forward(const GraphBatchInput& input, const FastWeights& fast = {}) override;
  torch::Tensor embed(const GraphBatchInput& input) override;
  void recordAttention(bool on) override;
  std::vector<torch::Tensor> attentionMaps() const override;

  // `maskedNodes` ([B, N] bool, may be undefined): these ROI tokens become the mask embedding.
  BrainMassEncoding encode(const torch::Tensor& fc, const torch::Tensor& mask, const torch::Tensor& maskedNodes = {});
  // What the BYOL target network tracks (an EMA copy): encoder and projector, not the predictor.
  std::vector<torch::Tensor> targetTrackedParameters() const;

  torch::nn::Linear input{nullptr}, representation{nullptr}, mrmHead{nullptr};
  torch::Tensor roiEmbedding, maskToken;
  torch::nn::ModuleList blocks;
  torch::nn::Sequential projector{nullptr}, predictor{nullptr};

 protected:
  std::vector<torch::Tensor> pretrainingOnly() const override;
};

}  // namespace bg::model
