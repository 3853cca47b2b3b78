#pragma once
// LCM, the Large Connectome Model (Wei, Dan & Wu, arXiv 2510.18910), in a small configuration:
// each ROI's FC row (plus a learned ROI embedding) is a "memory" token; learned query tokens, one
// per predicted variable (diagnosis per dataset, sex, age, site: the brain-environment-interaction
// tokens) and one for the downstream task, pass through decoder layers that self-attend among the
// queries and cross-attend to the FC memory. Every layer's query outputs go through the same
// per-variable heads, so every layer produces logits (deep supervision); the two-stage schedule
// trains on all layers' logits first and on the last layer's afterwards.
#include <string>
#include <vector>

#include "model/ModelZoo.h"

namespace bg::model {

// The variables a pre-trained LCM predicts (from the workspace's phenotypes).
struct LcmVariable {
  std::string name;                  // e.g. "diagnosis@ABIDE_I", "sex", "age", "site"
  std::string phenotype;             // the phenotype it reads ("diagnosis", "sex", ...)
  std::string dataset;               // only for per-dataset diagnosis variables
  bool regression = false;           // age: standardised, MSE
  std::vector<std::string> classes;  // categorical variables
  double mean = 0, sd = 1;           // regression targets are (x - mean) / sd

  int outputs() const { return regression ? 1 : static_cast<int>(classes.size()); }
};

struct LcmVariables {
  std::vector<LcmVariable> list;
  nlohmann::json toJson() const;
  static LcmVariables fromJson(const nlohmann::json& j);  // null: none
  int indexOf(const std::string& phenotype) const;        // first variable reading it, or -1
};

class LcmDecoderLayerImpl : public torch::nn::Module {
 public:
  LcmDecoderLayerImpl(int hidden, int heads, int ffn, double dropout);
  torch::Tensor forward(const torch::Tensor& queries, const torch::Tensor& memory, const torch::Tensor& memoryPadding);
  MultiHeadAttention selfAttention{nullptr}, crossAttention{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr}, norm3{nullptr};
  torch::nn::Linear ffn1{nullptr}, ffn2{nullptr};

 private:
  double dropout_;
};
TORCH_MODULE(LcmDecoderLayer);

class LcmClassifierImpl : public ZooClassifierImpl {
 public:
  LcmClassifierImpl(const ZooConfig& config, const AdaptationSpec& spec, int classes, int maxNodes, LcmVariables variables);
  torch::Tensor forward(const GraphBatchInput& input, const FastWeights& fast = {}) override;
  torch::Tensor embed(const GraphBatchInput& input) override;
  nlohmann::json describe() const override;
  // Two-stage schedule: every layer's logits for the first half of training, the last layer's after.
  std::vector<torch::Tensor> trainingLogits(const GraphBatchInput& input, double progress) override {
    return progress < 0.5 ? taskLogitsPerLayer(input) : std::vector<torch::Tensor>{forward(input)};
  }

  // Query outputs after every decoder layer: [layers] x [B, variables + 1, H]; the task query is last.
  std::vector<torch::Tensor> decode(const torch::Tensor& fc, const torch::Tensor& mask);
  // Task logits from every layer (deep supervision), first layer first.
  std::vector<torch::Tensor> taskLogitsPerLayer(const GraphBatchInput& input);
  // Per variable, per layer: logits [B, outputs] of the pre-training variables.
  std::vector<std::vector<torch::Tensor>> variableOutputsPerLayer(const torch::Tensor& fc, const torch::Tensor& mask);
  const LcmVariables& variables() const { return variables_; }
  // The task query starts as the pre-trained diagnosis query (when there is one).
  void initialiseTaskQueryFromDiagnosis();

  torch::nn::Linear memoryInput{nullptr};
  torch::Tensor roiEmbedding, variableQueries, taskQuery;
  torch::nn::LayerNorm memoryNorm{nullptr};
  torch::nn::ModuleList layers, variableHeads;

 protected:
  std::vector<torch::Tensor> pretrainingOnly() const override;

 private:
  LcmVariables variables_;
};

}  // namespace bg::model
