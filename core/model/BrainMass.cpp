#include "model/BrainMass.h"

#include "model/BaselineNetworks.h"

namespace bg::model {
namespace {
// BYOL's projector and predictor: Linear, BatchNorm, ReLU, Linear. The batch normalisation matters:
// FC representations of different scans are nearly parallel (the group connectome dominates), and
// centring them across the batch is what lets the objective see the differences between scans.
torch::nn::Sequential mlp(int width, int out) {
  return torch::nn::Sequential(torch::nn::Linear(width, width), torch::nn::BatchNorm1d(width), torch::nn::ReLU(), torch::nn::Linear(width, out));
}
}  // namespace

BrainMassClassifierImpl::BrainMassClassifierImpl(const ZooConfig& c, const AdaptationSpec& spec, int classes, int maxNodes)
    : ZooClassifierImpl("brainmass", c, spec, classes, maxNodes) {
  input = register_module("input", torch::nn::Linear(maxNodes, c.hidden));
  roiEmbedding = register_parameter("roi_embedding", torch::randn({maxNodes, c.hidden}) * 0.02);
  maskToken = register_parameter("mask_token", torch::randn({c.hidden}) * 0.02);
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int l = 0; l < c.layers; ++l) blocks->push_back(TransformerBlock(c.hidden, c.heads, c.ffn, c.dropout));
  representation = register_module("representation", torch::nn::Linear(maxNodes * c.hidden, c.representation));
  projector = register_module("projector", mlp(c.representation, c.representation));
  predictor = register_module("predictor", mlp(c.representation, c.representation));
  mrmHead = register_module("mrm_head", torch::nn::Linear(c.hidden, maxNodes));
  // The probe standardises the representation first (see RunningStandardizer): without it a linear
  // head sees nearly identical vectors for every scan.
  head = register_module("head", torch::nn::Sequential(RunningStandardizer(c.representation), torch::nn::Linear(c.representation, classes)));
}

BrainMassEncoding BrainMassClassifierImpl::encode(const torch::Tensor& fc, const torch::Tensor& mask, const torch::Tensor& maskedNodes) {
  const auto n = fc.size(1);
  auto h = input->forward(padColumns(fc, maxNodes_));
  if (maskedNodes.defined()) h = torch::where(maskedNodes.unsqueeze(-1), maskToken.expand_as(h), h);
  h = h + roiEmbedding.narrow(0, 0, n);
  const auto pad = mask.logical_not();
  for (auto& b : *blocks) h = b->as<TransformerBlockImpl>()->forward(h, pad);
  h = h * mask.to(h.dtype()).unsqueeze(-1);
  // Flatten over the model's full ROI count (padded ROIs contribute zeros).
  auto flat = torch::constant_pad_nd(h, {0, 0, 0, maxNodes_ - n}).flatten(1);
  return {h, representation->forward(flat)};
}

torch::Tensor BrainMassClassifierImpl::embed(const GraphBatchInput& in) { return encode(in.fc, in.mask).representation; }

torch::Tensor BrainMassClassifierImpl::forward(const GraphBatchInput& in, const FastWeights&) {
  return head->forward(fastDropout(embed(in), config_.dropout, is_training()));
}

void BrainMassClassifierImpl::recordAttention(bool on) { setRecording(blocks, on); }
std::vector<torch::Tensor> BrainMassClassifierImpl::attentionMaps() const { return recordedMaps(const_cast<torch::nn::ModuleList&>(blocks)); }

std::vector<torch::Tensor> BrainMassClassifierImpl::pretrainingOnly() const {
  std::vector<torch::Tensor> out = {maskToken};
  for (const auto* m : {&projector, &predictor}) {
    auto p = (*m)->parameters();
    out.insert(out.end(), p.begin(), p.end());
  }
  auto p = mrmHead->parameters();
  out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::vector<torch::Tensor> BrainMassClassifierImpl::targetTrackedParameters() const {
  std::vector<torch::Tensor> out = {roiEmbedding};
  auto add = [&](const std::vector<torch::Tensor>& ps) { out.insert(out.end(), ps.begin(), ps.end()); };
  add(input->parameters());
  add(blocks->parameters());
  add(representation->parameters());
  add(projector->parameters());
  return out;
}

}  // namespace bg::model
