#include "model/BrainGfm.h"

#include <algorithm>

#include "errors/Error.h"

namespace bg::model {

nlohmann::json BrainGfmConfig::toJson() const {
  return {{"feature_width", featureWidth}, {"hidden", hidden},       {"heads", heads},
          {"attention_layers", attentionLayers}, {"gnn_layers", gnnLayers}, {"ffn", ffn},
          {"dropout", dropout},          {"rwse_steps", rwseSteps}, {"text_dimension", textDimension},
          {"adjacency_threshold", adjacencyThreshold}};
}

BrainGfmConfig BrainGfmConfig::fromJson(const nlohmann::json& j) {
  BrainGfmConfig c;
  c.featureWidth = j.value("feature_width", c.featureWidth);
  c.hidden = j.value("hidden", c.hidden);
  c.heads = j.value("heads", c.heads);
  c.attentionLayers = j.value("attention_layers", c.attentionLayers);
  c.gnnLayers = j.value("gnn_layers", c.gnnLayers);
  c.ffn = j.value("ffn", c.ffn);
  c.dropout = j.value("dropout", c.dropout);
  c.rwseSteps = j.value("rwse_steps", c.rwseSteps);
  c.textDimension = j.value("text_dimension", c.textDimension);
  c.adjacencyThreshold = j.value("adjacency_threshold", c.adjacencyThreshold);
  if (c.hidden % c.heads != 0) throw Error(ErrorCode::Config, "hidden size must be a multiple of the number of heads");
  return c;
}

GraphBatchInput makeGraphInput(const torch::Tensor& fc, const torch::Tensor& mask, const torch::Tensor& taskText,
                               const torch::Tensor& atlasText, const BrainGfmConfig& c) {
  const auto B = fc.size(0), N = fc.size(1);
  if (N + c.rwseSteps > c.featureWidth)
    throw Error(ErrorCode::Config, std::to_string(N) + " nodes + RWSE do not fit the feature width " + std::to_string(c.featureWidth));
  const auto m = mask.to(torch::kFloat32);
  const auto pair = m.unsqueeze(2) * m.unsqueeze(1);  // real-real pairs
  GraphBatchInput in;
  in.mask = mask;
  in.adjacency = (fc > c.adjacencyThreshold).to(torch::kFloat32) * pair;
  const auto p = in.adjacency / (in.adjacency.sum(-1, true) + 1e-6);
  in.features = torch::zeros({B, N, c.featureWidth}, fc.options());
  in.features.narrow(2, 0, N).copy_(fc * pair);
  auto pk = p;
  for (int k = 0; k < c.rwseSteps; ++k) {
    in.features.select(2, c.featureWidth - c.rwseSteps + k).copy_(pk.diagonal(0, 1, 2) * m);
    if (k + 1 < c.rwseSteps) pk = torch::bmm(pk, p);
  }
  in.taskText = taskText.dim() == 1 ? taskText.unsqueeze(0).expand({B, -1}) : taskText;
  in.atlasText = atlasText.dim() == 1 ? atlasText.unsqueeze(0).expand({B, -1}) : atlasText;
  return in;
}

BrainGfmEncoderImpl::BrainGfmEncoderImpl(const BrainGfmConfig& c) : config_(c) {
  inputProjection = register_module("input_projection", torch::nn::Linear(c.featureWidth, c.hidden));
  taskProjection = register_module("task_projection", torch::nn::Linear(c.textDimension, c.hidden));
  atlasProjection = register_module("atlas_projection", torch::nn::Linear(c.textDimension, c.hidden));
  const int layers = std::max(c.attentionLayers, c.gnnLayers);
  for (int l = 0; l < layers; ++l) {
    if (l < c.attentionLayers) {
      attention->push_back(torch::nn::MultiheadAttention(torch::nn::MultiheadAttentionOptions(c.hidden, c.heads).dropout(c.dropout)));
      attentionNorm->push_back(torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden})));
      feedForward->push_back(torch::nn::Sequential(torch::nn::Linear(c.hidden, c.ffn), torch::nn::ReLU(),
                                                   torch::nn::Dropout(c.dropout), torch::nn::Linear(c.ffn, c.hidden)));
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
  register_module("feed_forward_norm", feedForwardNorm);
  register_module("gcn", gcn);
  register_module("gcn_norm", gcnNorm);
  dropout = register_module("dropout", torch::nn::Dropout(c.dropout));
  maskToken = register_parameter("mask_token", torch::zeros({c.hidden}));
}

std::int64_t BrainGfmEncoderImpl::parameterCount() const {
  std::int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

EncoderOutput BrainGfmEncoderImpl::forward(const GraphBatchInput& in) {
  const auto B = in.features.size(0), N = in.features.size(1);
  auto x = inputProjection->forward(in.features);                       // [B, N, H]
  if (in.maskedNodes.defined()) x = torch::where(in.maskedNodes.unsqueeze(-1), maskToken.expand_as(x), x);
  auto t = taskProjection->forward(in.taskText).unsqueeze(1);            // [B, 1, H]
  auto a = atlasProjection->forward(in.atlasText).unsqueeze(1);          // [B, 1, H]
  auto h = torch::cat({t, a, x}, 1);                                     // [B, N+2, H]
  const auto tokenMask = torch::ones({B, 2}, in.mask.options());
  const auto realMask = torch::cat({tokenMask, in.mask}, 1);             // [B, N+2]
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
  const auto norm = deg.unsqueeze(2) * adj * deg.unsqueeze(1);          // D^-1/2 A D^-1/2
  const auto keyPadding = realMask.logical_not();                        // true = ignore

  const int layers = std::max(config_.attentionLayers, config_.gnnLayers);
  for (int l = 0; l < layers; ++l) {
    if (l < config_.attentionLayers) {
      auto q = attentionNorm[static_cast<std::size_t>(l)]->as<torch::nn::LayerNorm>()->forward(h).transpose(0, 1);  // [L, B, H]
      auto att = std::get<0>(attention[static_cast<std::size_t>(l)]->as<torch::nn::MultiheadAttention>()->forward(
          q, q, q, keyPadding, /*need_weights=*/false));
      h = h + dropout->forward(att.transpose(0, 1));
      auto f = feedForward[static_cast<std::size_t>(l)]->as<torch::nn::Sequential>()->forward(
          feedForwardNorm[static_cast<std::size_t>(l)]->as<torch::nn::LayerNorm>()->forward(h));
      h = h + dropout->forward(f);
    }
    if (l < config_.gnnLayers) {
      auto g = torch::bmm(norm, gcn[static_cast<std::size_t>(l)]->as<torch::nn::Linear>()->forward(h));
      h = h + dropout->forward(torch::relu(gcnNorm[static_cast<std::size_t>(l)]->as<torch::nn::LayerNorm>()->forward(g)));
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
