#pragma once
// Why the model decided: per-ROI attention (attention rollout, Abnar & Zuidema 2020, read out as the
// readout does: the mean over node rows, or with the per-ROI readout each node row weighted by that
// node's share |c_i| of the target logit) and gradient x input saliency per ROI and per edge (the
// input features hold each node's FC row, so feature (i, j) is edge i-j), aggregated by atlas network.
// Rollout covers the attention layers only (the GCN steps mix along the graph's edges in between).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "model/DownstreamModel.h"
#include "model/GraphClassifier.h"

namespace bg::train {

struct Explanation {
  std::vector<double> roiAttention;  // sums to 1 over the real nodes; empty for models without ROI self-attention
  std::vector<double> roiSaliency;   // sums to 1
  std::vector<double> edgeSaliency;  // N x N row-major, symmetric, sums to 1 over i < j
  int nodes = 0;
  int targetClass = 1;

  // roiNames / networks may be empty (ROIs are then named by index, networks "unassigned").
  nlohmann::json toJson(const std::vector<std::string>& roiNames, const std::vector<std::string>& networks, int topRois = 10, int topEdges = 20) const;
};

// `input` holds exactly one graph. The model is put in eval mode. Saliency is taken on what the
// model reads: BrainGFM's node features, the others' FC matrix (row i = ROI i's FC row either way).
Explanation explain(model::GraphClassifierImpl& model, const model::GraphBatchInput& input, int targetClass = 1);
inline Explanation explain(const model::GraphClassifier& model, const model::GraphBatchInput& input, int targetClass = 1) {
  return explain(*model, input, targetClass);
}
inline Explanation explain(const model::DownstreamModel& model, const model::GraphBatchInput& input, int targetClass = 1) {
  return explain(*model.ptr(), input, targetClass);
}

}  // namespace bg::train
