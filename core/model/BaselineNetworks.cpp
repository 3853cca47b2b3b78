#include "model/BaselineNetworks.h"

#include <cmath>

namespace bg::model {
namespace {

torch::nn::Sequential mlpHead(int in, int hidden, int classes, double dropout) {
  return torch::nn::Sequential(torch::nn::Linear(in, hidden), torch::nn::ReLU(), torch::nn::Dropout(dropout), torch::nn::Linear(hidden, classes));
}

// D^-1/2 (A + I) D^-1/2 over real nodes.
torch::Tensor normalisedAdjacency(const GraphBatchInput& in) {
  const auto m = in.mask.to(torch::kFloat32);
  const auto n = in.adjacency.size(1);
  auto a = in.adjacency.clone();
  a = torch::maximum(a, torch::eye(n, a.options()).unsqueeze(0) * m.unsqueeze(-1));  // self loops on real nodes
  const auto d = a.sum(-1).clamp_min(1e-6).rsqrt();
  return d.unsqueeze(-1) * a * d.unsqueeze(1);
}

torch::Tensor nodeInput(const GraphBatchInput& in, int maxNodes) { return padColumns(in.fc, maxNodes); }

torch::Tensor keyPadding(const GraphBatchInput& in) { return in.mask.logical_not(); }

}  // namespace

std::vector<torch::Tensor> recordedMaps(torch::nn::ModuleList& blocks) {
  std::vector<torch::Tensor> out;
  for (auto& b : *blocks) out.push_back(b->as<TransformerBlockImpl>()->attention->lastAttention);
  return out;
}

void setRecording(torch::nn::ModuleList& blocks, bool on) {
  for (auto& b : *blocks) b->as<TransformerBlockImpl>()->attention->record = on;
}

// ---- GCN

GcnClassifierImpl::GcnClassifierImpl(const ZooConfig& c, const AdaptationSpec& spec, int classes, int maxNodes)
    : ZooClassifierImpl("gcn", c, spec, classes, maxNodes) {
  input = register_module("input", torch::nn::Linear(maxNodes, c.hidden));
  convs = register_module("convs", torch::nn::ModuleList());
  for (int l = 0; l < c.layers; ++l) convs->push_back(torch::nn::Linear(c.hidden, c.hidden));
  head = register_module("head", mlpHead(2 * c.hidden, c.hidden, classes, c.dropout));
}

torch::Tensor GcnClassifierImpl::embed(const GraphBatchInput& in) {
  const auto a = normalisedAdjacency(in);
  auto h = torch::relu(input->forward(nodeInput(in, maxNodes_)));
  for (auto& conv : *convs) {
    h = torch::relu(torch::bmm(a, conv->as<torch::nn::LinearImpl>()->forward(h)));
    h = fastDropout(h, config_.dropout, is_training());
  }
  return torch::cat({maskedMean(h, in.mask), maskedMax(h, in.mask)}, 1);
}

torch::Tensor GcnClassifierImpl::forward(const GraphBatchInput& in, const FastWeights&) { return head->forward(embed(in)); }

// ---- BrainGNN-style

BrainGnnClassifierImpl::BrainGnnClassifierImpl(const ZooConfig& c, const AdaptationSpec& spec, int classes, int maxNodes)
    : ZooClassifierImpl("braingnn", c, spec, classes, maxNodes) {
  input = register_module("input", torch::nn::Linear(maxNodes, c.hidden));
  membership = register_module("membership", torch::nn::Embedding(maxNodes, c.communities));
  for (int l = 0; l < c.layers; ++l)
    kernels.push_back(
        register_parameter("kernel" + std::to_string(l), torch::randn({c.communities, c.hidden, c.hidden}) / std::sqrt(static_cast<double>(c.hidden))));
  poolScore = register_parameter("pool_score", torch::randn({c.hidden}) / std::sqrt(static_cast<double>(c.hidden)));
  head = register_module("head", mlpHead(2 * c.hidden, c.hidden, classes, c.dropout));
}

torch::Tensor BrainGnnClassifierImpl::embed(const GraphBatchInput& in) {
  const auto n = in.fc.size(1);
  const auto a = normalisedAdjacency(in);
  // alpha[i, k]: how much ROI i uses basis kernel k (the ROI-aware part: kernels depend on the node).
  const auto alpha = torch::softmax(membership->weight.narrow(0, 0, n), 1);  // [N, K]
  auto h = torch::relu(input->forward(nodeInput(in, maxNodes_)));
  for (const auto& w : kernels) {
    const auto perCommunity = torch::einsum("bnd,kde->bkne", {torch::bmm(a, h), w});  // [B, K, N, H]
    h = torch::relu(torch::einsum("bkne,nk->bne", {perCommunity, alpha}));
    h = fastDropout(h, config_.dropout, is_training());
  }
  // ROI top-k pooling: keep the best-scoring share of each graph's real nodes, gated by their score.
  const auto score = torch::matmul(h, poolScore) / poolScore.norm();  // [B, N]
  const auto masked = score.masked_fill(in.mask.logical_not(), -1e9);
  // Rank each graph's real nodes by score; keep the best poolRatio of them (at least one).
  const auto rank = rowRanks(masked, true).to(torch::kFloat32);
  const auto limit = (in.mask.sum(1).to(torch::kFloat32) * config_.poolRatio).ceil().clamp_min(1).unsqueeze(1);
  const auto keep = (rank < limit).logical_and(in.mask);
  const auto gated = h * torch::sigmoid(score).unsqueeze(-1);
  return torch::cat({maskedMean(gated, keep), maskedMax(gated, keep)}, 1);
}

torch::Tensor BrainGnnClassifierImpl::forward(const GraphBatchInput& in, const FastWeights&) { return head->forward(embed(in)); }

// ---- transformer / graph transformer

TransformerClassifierImpl::TransformerClassifierImpl(const ZooConfig& c, const AdaptationSpec& spec, int classes, int maxNodes, bool graphMasked)
    : ZooClassifierImpl(graphMasked ? "graph_transformer" : "transformer", c, spec, classes, maxNodes), graphMasked_(graphMasked) {
  input = register_module("input", torch::nn::Linear(maxNodes, c.hidden));
  roiEmbedding = register_parameter("roi_embedding", torch::randn({maxNodes, c.hidden}) * 0.02);
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int l = 0; l < c.layers; ++l) blocks->push_back(TransformerBlock(c.hidden, c.heads, c.ffn, c.dropout));
  head = register_module("head", mlpHead(c.hidden, c.hidden, classes, c.dropout));
}

torch::Tensor TransformerClassifierImpl::embed(const GraphBatchInput& in) {
  const auto n = in.fc.size(1);
  auto h = input->forward(nodeInput(in, maxNodes_)) + roiEmbedding.narrow(0, 0, n);
  torch::Tensor blocked;
  if (graphMasked_) {
    const auto self = torch::eye(n, in.adjacency.options()).unsqueeze(0);
    blocked = torch::maximum(in.adjacency, self) <= 0;  // itself is always allowed: no empty rows
  }
  const auto pad = keyPadding(in);
  for (auto& b : *blocks) h = b->as<TransformerBlockImpl>()->forward(h, pad, blocked);
  return maskedMean(h, in.mask);
}

torch::Tensor TransformerClassifierImpl::forward(const GraphBatchInput& in, const FastWeights&) { return head->forward(embed(in)); }
void TransformerClassifierImpl::recordAttention(bool on) { setRecording(blocks, on); }
std::vector<torch::Tensor> TransformerClassifierImpl::attentionMaps() const { return recordedMaps(const_cast<torch::nn::ModuleList&>(blocks)); }

// ---- BrainNetTF-style

BrainNetTfClassifierImpl::BrainNetTfClassifierImpl(const ZooConfig& c, const AdaptationSpec& spec, int classes, int maxNodes)
    : ZooClassifierImpl("brainnettf", c, spec, classes, maxNodes) {
  input = register_module("input", torch::nn::Linear(maxNodes, c.hidden));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int l = 0; l < c.layers; ++l) blocks->push_back(TransformerBlock(c.hidden, c.heads, c.ffn, c.dropout));
  // Orthonormal cluster centres (Gram-Schmidt through QR), as OCRead initialises them.
  auto init = std::get<0>(torch::linalg::qr(torch::randn({c.hidden, c.clusters})));  // [H, K] orthonormal columns
  centres = register_parameter("centres", init.t().contiguous().narrow(0, 0, std::min(c.clusters, c.hidden)).clone());
  const int k = static_cast<int>(centres.size(0));
  head = register_module("head", mlpHead(k * c.hidden, c.hidden, classes, c.dropout));
}

torch::Tensor BrainNetTfClassifierImpl::embed(const GraphBatchInput& in) {
  auto h = input->forward(nodeInput(in, maxNodes_));
  const auto pad = keyPadding(in);
  for (auto& b : *blocks) h = b->as<TransformerBlockImpl>()->forward(h, pad);
  // Soft assignment of each real node to the clusters; cluster embedding = assignment-weighted sum.
  auto assign = torch::softmax(torch::matmul(h, centres.t()), -1) * in.mask.to(h.dtype()).unsqueeze(-1);  // [B, N, K]
  const auto clustersOut = torch::bmm(assign.transpose(1, 2), h);                                         // [B, K, H]
  return clustersOut.flatten(1);
}

torch::Tensor BrainNetTfClassifierImpl::forward(const GraphBatchInput& in, const FastWeights&) { return head->forward(embed(in)); }
void BrainNetTfClassifierImpl::recordAttention(bool on) { setRecording(blocks, on); }
std::vector<torch::Tensor> BrainNetTfClassifierImpl::attentionMaps() const { return recordedMaps(const_cast<torch::nn::ModuleList&>(blocks)); }

}  // namespace bg::model
