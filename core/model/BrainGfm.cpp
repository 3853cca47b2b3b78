#include "model/BrainGfm.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "errors/Error.h"

namespace bg::model {

GraphBatchInput makeGraphInput(const torch::Tensor& fc, const torch::Tensor& mask, const torch::Tensor& taskText, const torch::Tensor& atlasText,
                               const BrainGfmConfig& c, const torch::Tensor& rwse) {
  const auto B = fc.size(0), N = fc.size(1);
  if (N + c.rwseSteps > c.featureWidth)
    throw Error(ErrorCode::Config, std::to_string(N) + " nodes + RWSE do not fit the feature width " + std::to_string(c.featureWidth));
  const auto m = mask.to(torch::kFloat32);
  const auto pair = m.unsqueeze(2) * m.unsqueeze(1);  // real-real pairs
  GraphBatchInput in;
  in.fc = fc;
  in.mask = mask;
  in.adjacency = (fc > c.adjacencyThreshold).to(torch::kFloat32) * pair;
  in.features = torch::zeros({B, N, c.featureWidth}, fc.options());
  in.features.narrow(2, 0, N).copy_(fc * pair);
  if (rwse.defined()) {
    in.features.narrow(2, c.featureWidth - c.rwseSteps, c.rwseSteps).copy_(rwse * m.unsqueeze(-1));
    in.taskText = taskText.dim() == 1 ? taskText.unsqueeze(0).expand({B, -1}) : taskText;
    in.atlasText = atlasText.dim() == 1 ? atlasText.unsqueeze(0).expand({B, -1}) : atlasText;
    return in;
  }
  const auto p = in.adjacency / (in.adjacency.sum(-1, true) + 1e-6);
  auto pk = p;
  for (int k = 0; k < c.rwseSteps; ++k) {
    in.features.select(2, c.featureWidth - c.rwseSteps + k).copy_(pk.diagonal(0, 1, 2) * m);
    if (k + 1 < c.rwseSteps) pk = torch::bmm(pk, p);
  }
  in.taskText = taskText.dim() == 1 ? taskText.unsqueeze(0).expand({B, -1}) : taskText;
  in.atlasText = atlasText.dim() == 1 ? atlasText.unsqueeze(0).expand({B, -1}) : atlasText;
  return in;
}

torch::Tensor fastDropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0.0) return x;
  if (p >= 1.0) return torch::zeros_like(x);
  auto mask = torch::empty(x.sizes(), torch::TensorOptions(torch::kFloat32));
  const std::uint64_t seed = static_cast<std::uint64_t>(torch::randint(std::numeric_limits<std::int64_t>::max(), {1}, torch::kLong).item<std::int64_t>());
  const auto threshold = static_cast<std::uint32_t>(p * 65536.0);
  const float keep = static_cast<float>(1.0 / (1.0 - p));
  float* m = mask.data_ptr<float>();
  const std::int64_t n = mask.numel();
  for (std::int64_t i = 0; i < n; i += 4) {
    std::uint64_t z = seed + static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    for (std::int64_t k = 0; k < 4 && i + k < n; ++k) m[i + k] = ((z >> (16 * k)) & 0xFFFF) < threshold ? 0.0f : keep;
  }
  return x * mask.to(x.device());
}

SelfAttentionImpl::SelfAttentionImpl(int hidden, int heads, double dropout) : heads_(heads), dropout_(dropout) {
  qkv = register_module("qkv", torch::nn::Linear(hidden, 3 * hidden));
  out = register_module("out", torch::nn::Linear(hidden, hidden));
}

void SelfAttentionImpl::enableLora(int rank, double alpha) {
  if (rank < 1) throw Error(ErrorCode::Config, "LoRA rank must be at least 1");
  const auto h = qkv->weight.size(1);
  loraScale_ = alpha / rank;
  const double std = 1.0 / std::sqrt(static_cast<double>(h));
  loraQkvA = register_parameter("lora_qkv_a", torch::randn({rank, h}) * std);
  loraQkvB = register_parameter("lora_qkv_b", torch::zeros({3 * h, rank}));
  loraOutA = register_parameter("lora_out_a", torch::randn({rank, h}) * std);
  loraOutB = register_parameter("lora_out_b", torch::zeros({h, rank}));
}

void SelfAttentionImpl::enablePrefix(int length) {
  if (length < 1) throw Error(ErrorCode::Config, "prefix length must be at least 1");
  const auto h = qkv->weight.size(1), d = h / heads_;
  prefixKey = register_parameter("prefix_key", torch::randn({heads_, length, d}) * 0.02);
  prefixValue = register_parameter("prefix_value", torch::randn({heads_, length, d}) * 0.02);
}

std::vector<torch::Tensor> SelfAttentionImpl::adapterParameters() const {
  std::vector<torch::Tensor> params;
  for (const auto* t : {&loraQkvA, &loraQkvB, &loraOutA, &loraOutB, &prefixKey, &prefixValue})
    if (t->defined()) params.push_back(*t);
  return params;
}

torch::Tensor SelfAttentionImpl::project(torch::nn::Linear layer, const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& x) const {
  auto y = layer->forward(x);
  if (a.defined()) y = y + torch::matmul(torch::matmul(x, a.t()), b.t()) * loraScale_;
  return y;
}

torch::Tensor SelfAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& keyPadding) {
  const auto B = x.size(0), L = x.size(1), H = x.size(2), d = H / heads_;
  const auto parts = project(qkv, loraQkvA, loraQkvB, x).view({B, L, 3, heads_, d}).permute({2, 0, 3, 1, 4});  // [3, B, heads, L, d]
  // Scaling q (L x d) is cheaper than scaling the scores (L x L).
  const auto q = parts[0] * (1.0 / std::sqrt(static_cast<double>(d)));
  auto k = parts[1], v = parts[2];
  auto padding = keyPadding;
  if (prefixKey.defined()) {
    const auto P = prefixKey.size(1);
    k = torch::cat({prefixKey.unsqueeze(0).expand({B, -1, -1, -1}), k}, 2);
    v = torch::cat({prefixValue.unsqueeze(0).expand({B, -1, -1, -1}), v}, 2);
    padding = torch::cat({torch::zeros({B, P}, keyPadding.options()), keyPadding}, 1);
  }
  auto scores = torch::matmul(q, k.transpose(-2, -1));  // [B, heads, L, L(+P)]
  if (padding.any().item<bool>())                       // batches of one atlas (bucketed) have no padding at all
    scores = scores.masked_fill(padding.view({B, 1, 1, padding.size(1)}), -std::numeric_limits<float>::infinity());
  const auto attention = torch::softmax(scores, -1);
  if (recordAttention) lastAttention = attention.mean(1).detach();
  auto weights = fastDropout(attention, dropout_, is_training());
  return project(out, loraOutA, loraOutB, torch::matmul(weights, v).transpose(1, 2).reshape({B, L, H}));
}

BrainGfmEncoderImpl::BrainGfmEncoderImpl(const BrainGfmConfig& c) : config_(c) {
  inputProjection = register_module("input_projection", torch::nn::Linear(c.featureWidth, c.hidden));
  taskProjection = register_module("task_projection", torch::nn::Linear(c.textDimension, c.hidden));
  atlasProjection = register_module("atlas_projection", torch::nn::Linear(c.textDimension, c.hidden));
  const int layers = std::max(c.attentionLayers, c.gnnLayers);
  for (int l = 0; l < layers; ++l) {
    if (l < c.attentionLayers) {
      attention->push_back(SelfAttention(c.hidden, c.heads, c.dropout));
      attentionNorm->push_back(torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden})));
      feedForward->push_back(torch::nn::Sequential(torch::nn::Linear(c.hidden, c.ffn), torch::nn::ReLU()));
      feedForwardOut->push_back(torch::nn::Linear(c.ffn, c.hidden));
      feedForwardNorm->push_back(torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden})));
    }
    if (l < c.gnnLayers) {
      gcn->push_back(torch::nn::Linear(c.hidden, c.hidden));
      gcnNorm->push_back(torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden})));
    }
  }
  register_module("attention", attention);
  register_module("attention_norm", attentionNorm);
  register_module("feed_forward", feedForward);
  register_module("feed_forward_out", feedForwardOut);
  register_module("feed_forward_norm", feedForwardNorm);
  register_module("gcn", gcn);
  register_module("gcn_norm", gcnNorm);
  maskToken = register_parameter("mask_token", torch::zeros({c.hidden}));
}

std::int64_t BrainGfmEncoderImpl::parameterCount() const {
  std::int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

void BrainGfmEncoderImpl::enableLora(int rank, double alpha) {
  for (auto& m : *attention) m->as<SelfAttention>()->enableLora(rank, alpha);
}
void BrainGfmEncoderImpl::enablePrefix(int length) {
  for (auto& m : *attention) m->as<SelfAttention>()->enablePrefix(length);
}
std::vector<torch::Tensor> BrainGfmEncoderImpl::adapterParameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& m : *attention)
    for (auto& p : m->as<SelfAttention>()->adapterParameters()) out.push_back(p);
  return out;
}
void BrainGfmEncoderImpl::recordAttention(bool on) {
  for (auto& m : *attention) m->as<SelfAttention>()->recordAttention = on;
}
std::vector<torch::Tensor> BrainGfmEncoderImpl::attentionMaps() const {
  std::vector<torch::Tensor> out;
  for (const auto& m : *attention) out.push_back(m->as<SelfAttention>()->lastAttention);
  return out;
}

EncoderOutput BrainGfmEncoderImpl::forward(const GraphBatchInput& in) {
  const auto B = in.features.size(0), N = in.features.size(1);
  auto x = inputProjection->forward(in.features);  // [B, N, H]
  if (in.maskedNodes.defined()) x = torch::where(in.maskedNodes.unsqueeze(-1), maskToken.expand_as(x), x);
  auto t = taskProjection->forward(in.taskText).unsqueeze(1);    // [B, 1, H]
  auto a = atlasProjection->forward(in.atlasText).unsqueeze(1);  // [B, 1, H]
  auto h = torch::cat({t, a, x}, 1);                             // [B, N+2, H]
  const auto tokenMask = torch::ones({B, 2}, in.mask.options());
  const auto realMask = torch::cat({tokenMask, in.mask}, 1);  // [B, N+2]
  const auto realF = realMask.to(h.dtype()).unsqueeze(-1);

  // Expanded adjacency: the tokens connect to every real node and to themselves.
  auto adj = torch::zeros({B, N + 2, N + 2}, h.options());
  adj.narrow(1, 2, N).narrow(2, 2, N).copy_(in.adjacency);
  const auto nodeF = in.mask.to(h.dtype());
  for (int k = 0; k < 2; ++k) {
    adj.select(1, k).narrow(1, 2, N).copy_(nodeF);
    adj.select(2, k).narrow(1, 2, N).copy_(nodeF);
    adj.select(1, k).select(1, k).fill_(1.0);
  }
  const auto deg = adj.sum(-1).clamp_min(1e-6).pow(-0.5);
  const auto norm = deg.unsqueeze(2) * adj * deg.unsqueeze(1);  // D^-1/2 A D^-1/2
  const auto keyPadding = realMask.logical_not();               // true = ignore

  const int layers = std::max(config_.attentionLayers, config_.gnnLayers);
  for (int l = 0; l < layers; ++l) {
    if (l < config_.attentionLayers) {
      const auto li = static_cast<std::size_t>(l);
      auto att = attention[li]->as<SelfAttention>()->forward(attentionNorm[li]->as<torch::nn::LayerNorm>()->forward(h), keyPadding);
      h = h + fastDropout(att, config_.dropout, is_training());
      auto f = feedForward[li]->as<torch::nn::Sequential>()->forward(feedForwardNorm[li]->as<torch::nn::LayerNorm>()->forward(h));
      f = feedForwardOut[li]->as<torch::nn::Linear>()->forward(fastDropout(f, config_.dropout, is_training()));
      h = h + fastDropout(f, config_.dropout, is_training());
    }
    if (l < config_.gnnLayers) {
      auto g = torch::bmm(norm, gcn[static_cast<std::size_t>(l)]->as<torch::nn::Linear>()->forward(h));
      h = h + fastDropout(torch::relu(gcnNorm[static_cast<std::size_t>(l)]->as<torch::nn::LayerNorm>()->forward(g)), config_.dropout, is_training());
    }
    h = h * realF;  // padded positions stay exactly zero
  }
  EncoderOutput out;
  out.tokens = h.narrow(1, 0, 2);
  out.nodes = h.narrow(1, 2, N);
  out.graph = out.nodes.sum(1) / nodeF.sum(1, true).clamp_min(1.0);
  return out;
}

}  // namespace bg::model
