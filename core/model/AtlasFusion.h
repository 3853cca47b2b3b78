#pragma once
// One classifier over several parcellations of the same scan: a member network per atlas reads that
// atlas's graph, and one decision is taken over all of them, trained with one loss (early fusion of
// the atlases' representations, where the atlas ensemble averages separately trained probabilities).
//
// The logits are the sum of the members' logits. Each member's head is linear in its representation
// (BrainGFM's pooled embedding and, with the "roi" readout, its per-ROI node embeddings), so the sum is
// exactly one linear head over the concatenation of every atlas's representation, and training it
// jointly lets each atlas's part learn what the others do not already give.
//
// The batch's first graph set is the first atlas's; GraphBatchInput::views holds the same scans in the
// other atlases, in the model's atlas order.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "model/GraphClassifier.h"
#include "model/ModelBackend.h"  // kAtlasFusionArchitecture

namespace bg::model {

class AtlasFusionClassifierImpl : public GraphClassifierImpl {
 public:
  // One member per atlas, in `atlases` order; all of one architecture.
  AtlasFusionClassifierImpl(std::vector<std::string> atlases, std::vector<GraphClassifier> members);

  std::string architecture() const override { return kAtlasFusionArchitecture; }
  torch::Tensor forward(const GraphBatchInput& input, const FastWeights& fast = {}) override;
  // The members' embeddings side by side [B, sum of their widths].
  torch::Tensor embed(const GraphBatchInput& input) override;
  std::vector<torch::Tensor> configureTrainable() override;
  int classes() const override { return members_.front()->classes(); }
  // {"architecture": "atlas-fusion", "atlases": [...], "members": [each member's describe()],
  //  "model", "adaptation", "max_nodes": the first member's}.
  nlohmann::json describe() const override;
  void setTraining(bool on) override;
  bool readsNodeFeatures() const override { return members_.front()->readsNodeFeatures(); }
  double dropoutRate() const override { return members_.front()->dropoutRate(); }

  const std::vector<std::string>& atlases() const { return atlases_; }
  const std::vector<GraphClassifier>& members() const { return members_; }
  // Member k's input: the batch itself for the first atlas, else its view k - 1.
  static const GraphBatchInput& view(const GraphBatchInput& input, std::size_t k);

 private:
  std::vector<std::string> atlases_;
  std::vector<GraphClassifier> members_;
};

// Rebuilds a fused model from its card (describe()'s fields and "classes"); each member's adapters attached.
GraphClassifier atlasFusionFromCard(const nlohmann::json& card);

}  // namespace bg::model
