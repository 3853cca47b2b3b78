#include "model/BrainGfmPublic.h"

#include <algorithm>
#include <cmath>

#include "errors/Error.h"

namespace bg::model {
using nlohmann::json;

// ---- configuration

// ---- modules

PublicExpertImpl::PublicExpertImpl(int hidden, int ffn) {
  fc1 = register_module("fc1", torch::nn::Linear(hidden, ffn));
  fc2 = register_module("fc2", torch::nn::Linear(ffn, hidden));
}

PublicLayerImpl::PublicLayerImpl(const PublicGfmConfig& c) {
  attention = register_module("attention", SelfAttention(c.hidden, c.heads, c.dropout));
  norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden})));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden})));
  router = register_module("router", torch::nn::Linear(c.hidden, c.experts));
  experts = register_module("experts", torch::nn::ModuleList());
  for (int e = 0; e < c.experts; ++e) experts->push_back(PublicExpert(c.hidden, c.ffn));
}

PublicGfmClassifierImpl::PublicGfmClassifierImpl(const PublicGfmConfig& c, const AdaptationSpec& spec, int classes) : config_(c), spec_(spec) {
  static const char* methods[] = {"scratch", "finetune", "linear", "prompt", "lora"};
  if (std::none_of(std::begin(methods), std::end(methods), [&](const char* m) { return spec.method == m; }))
    throw Error(ErrorCode::Usage, std::string(kPublicArchitecture) +
                                      " adapts with finetune, linear (the head), prompt (its graph prompt), lora or scratch, not '" + spec.method + "'");
  if (spec.hasEdgeReadout() || spec.readout != "mean")
    throw Error(ErrorCode::Usage, std::string(kPublicArchitecture) + " reads out the public code's masked mean: no per-ROI readout or edge readout");
  const int H = c.hidden, Dm = c.featureWidth;
  projection = register_module("projection", torch::nn::Linear(Dm, H));
  diseaseProjection = register_module("disease_projection", torch::nn::Linear(c.textDimension, H));
  atlasTable = register_parameter("atlas_table", torch::randn({static_cast<std::int64_t>(c.atlasTokens.size()), Dm}));
  diseaseTable = register_parameter("disease_table", torch::randn({static_cast<std::int64_t>(c.diseaseTokens.size()), c.textDimension}));
  nodePrompt = register_parameter("node_prompt", torch::randn({c.maxNodes, Dm}) * 1e-2);
  edgePrompt = register_parameter("edge_prompt", torch::randn({c.maxNodes, c.maxNodes}) * 1e-2);
  cond1 = register_module("cond1", torch::nn::Linear(2 * H, H));
  cond2 = register_module("cond2", torch::nn::Linear(H, 4));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int l = 0; l < c.attentionLayers; ++l) layers->push_back(PublicLayer(c));
  gcnRouter = register_module("gcn_router", torch::nn::Linear(H, c.experts));
  const double bound = 1.0 / std::sqrt(static_cast<double>(H));
  gcnWeight = register_parameter("gcn_weight", torch::empty({c.experts, H, H}).uniform_(-bound, bound));
  gcnNorm = register_module("gcn_norm", torch::nn::ModuleList());
  for (int e = 0; e < c.experts; ++e) gcnNorm->push_back(torch::nn::BatchNorm1d(H));
  head = register_module("head", torch::nn::Linear(H, classes));
  setTokens(c.atlasToken, c.diseaseToken);
}

void PublicGfmClassifierImpl::setTokens(const std::string& atlasToken, const std::string& diseaseToken) {
  auto index = [](const std::vector<std::string>& v, const std::string& s, const char* what) {
    const auto it = std::find(v.begin(), v.end(), s);
    if (it == v.end()) {
      std::string known;
      for (const auto& k : v) known += (known.empty() ? "" : ", ") + k;
      throw Error(ErrorCode::Usage, std::string("the model has no ") + what + " token '" + s + "' (it has " + known + ")");
    }
    return static_cast<int>(it - v.begin());
  };
  atlasIndex_ = index(config_.atlasTokens, atlasToken, "atlas");
  diseaseIndex_ = index(config_.diseaseTokens, diseaseToken, "disease");
  config_.atlasToken = atlasToken;
  config_.diseaseToken = diseaseToken;
}

void PublicGfmClassifierImpl::attachAdapters() {
  if (spec_.method != "lora") return;
  for (auto& m : *layers) m->as<PublicLayerImpl>()->attention->enableLora(spec_.loraRank, spec_.loraAlpha);
}

std::vector<torch::Tensor> PublicGfmClassifierImpl::configureTrainable() {
  for (auto& p : parameters()) p.set_requires_grad(false);
  std::vector<torch::Tensor> trainable;
  const auto& m = spec_.method;
  if (m == "scratch" || m == "finetune") {
    trainable = parameters();
  } else {
    trainable = head->parameters();
    if (m == "prompt")
      for (const auto& p : {nodePrompt, edgePrompt, cond1->weight, cond1->bias, cond2->weight, cond2->bias}) trainable.push_back(p);
    if (m == "lora")
      for (auto& l : *layers)
        for (const auto& p : l->as<PublicLayerImpl>()->attention->adapterParameters()) trainable.push_back(p);
  }
  for (auto& p : trainable) p.set_requires_grad(true);
  return trainable;
}

void PublicGfmClassifierImpl::train(bool on) {
  torch::nn::Module::train(on);
  if (!fitting_)  // Monte Carlo dropout, not fitting: BatchNorm keeps its running statistics
    for (auto& bn : *gcnNorm) bn->eval();
}

void PublicGfmClassifierImpl::setTraining(bool on) {
  const bool frozen = spec_.method == "linear" || spec_.method == "prompt" || spec_.method == "lora";
  fitting_ = on && !frozen;
  train(on && !frozen);  // a frozen encoder runs as in evaluation (no dropout, BatchNorm's running statistics)
  if (on && frozen) head->train();
}

json PublicGfmClassifierImpl::describe() const {
  return {{"architecture", kPublicArchitecture}, {"model", config_.toJson()}, {"adaptation", spec_.toJson()}, {"max_nodes", config_.maxNodes}};
}

void PublicGfmClassifierImpl::recordAttention(bool on) {
  for (auto& l : *layers) l->as<PublicLayerImpl>()->attention->recordAttention = on;
}

std::vector<torch::Tensor> PublicGfmClassifierImpl::attentionMaps() const {
  std::vector<torch::Tensor> maps;
  for (const auto& l : *layers) maps.push_back(l->as<PublicLayerImpl>()->attention->lastAttention);
  return maps;
}

// ---- forward

torch::Tensor PublicGfmClassifierImpl::moeFfn(PublicLayerImpl& layer, const torch::Tensor& x) {
  auto expert = [&](int e, const torch::Tensor& in) {
    auto& ex = *layer.experts[static_cast<std::size_t>(e)]->as<PublicExpertImpl>();
    return ex.fc2->forward(fastDropout(torch::relu(ex.fc1->forward(in)), config_.dropout, is_training()));
  };
  if (config_.experts == 1) return expert(0, x);                 // top-1 of one expert: the router cannot change anything
  const auto top = layer.router->forward(x.mean(1)).argmax(-1);  // per graph, on its mean token (padding included, as written)
  auto out = torch::zeros_like(x);
  for (int e = 0; e < config_.experts; ++e) {
    const auto idx = (top == e).nonzero().squeeze(1);
    if (idx.numel() == 0) continue;
    out = out.index_copy(0, idx, expert(e, x.index_select(0, idx)));
  }
  return out;
}

torch::Tensor PublicGfmClassifierImpl::moeGcn(const torch::Tensor& x, const torch::Tensor& adjacency) {
  const auto B = x.size(0), N = x.size(1), H = x.size(2);
  auto expert = [&](int e, const torch::Tensor& in, const torch::Tensor& adj) {
    const auto support = torch::matmul(in, gcnWeight[e]);
    const auto out = torch::bmm(adj, support);
    auto& bn = *gcnNorm[static_cast<std::size_t>(e)]->as<torch::nn::BatchNorm1dImpl>();
    return torch::relu(bn.forward(out.reshape({-1, H})).view({in.size(0), N, H}));
  };
  if (config_.experts == 1) return expert(0, x, adjacency);
  const auto top = gcnRouter->forward(x.mean(1)).argmax(-1);
  auto out = torch::zeros({B, N, H}, x.options());
  for (int e = 0; e < config_.experts; ++e) {
    const auto idx = (top == e).nonzero().squeeze(1);
    if (idx.numel() == 0) continue;
    out = out.index_copy(0, idx, expert(e, x.index_select(0, idx), adjacency.index_select(0, idx)));
  }
  return out;
}

torch::Tensor PublicGfmClassifierImpl::embed(const GraphBatchInput& input) {
  const auto& c = config_;
  const auto fc = input.fc.to(torch::kFloat32);
  const auto A = input.adjacency.to(torch::kFloat32);
  const auto mask = input.mask;
  const auto B = fc.size(0), N = fc.size(1);
  if (N > c.maxNodes)
    throw Error(ErrorCode::Data, "a graph of " + std::to_string(N) + " nodes is larger than the model's " + std::to_string(c.maxNodes) + " (max_nodes)");
  if (N + c.rwseSteps > c.featureWidth)
    throw Error(ErrorCode::Data, "a graph of " + std::to_string(N) + " nodes and " + std::to_string(c.rwseSteps) + " RWSE steps does not fit the model's " +
                                     std::to_string(c.featureWidth) + " input features");
  // RWSE on the binary adjacency (diagonal kept), right after the FC row, then zero padding.
  const auto P = A / (A.sum(-1, true) + 1e-6);
  std::vector<torch::Tensor> diagonals;
  auto walk = P;
  for (int k = 0; k < c.rwseSteps; ++k) {
    diagonals.push_back(walk.diagonal(0, 1, 2));
    if (k + 1 < c.rwseSteps) walk = torch::bmm(walk, P);
  }
  // Columns past the FC row and RWSE are zero padding up to Dm: they add nothing to the projection
  // (nor receive any gradient), so only the first N + K columns are multiplied.
  const auto features = torch::cat({fc, torch::stack(diagonals, -1)}, -1);  // [B, N, N + K]
  const auto width = features.size(-1);

  const auto atlas = projection->forward(atlasTable[atlasIndex_]).view({1, 1, -1});               // [1, 1, H]
  const auto disease = diseaseProjection->forward(diseaseTable[diseaseIndex_]).view({1, 1, -1});  // [1, 1, H]
  // The prompt's gate depends on the two tokens alone: one value for the whole batch.
  const auto gate = cond2->forward(torch::relu(cond1->forward(torch::cat({disease.view({-1}), atlas.view({-1})}))));
  const auto alphaNode = gate[0], betaNode = gate[1], alphaEdge = gate[2], betaEdge = gate[3];
  // Node prompt: padded rows are zero features, so masking the prompt there changes nothing.
  const auto scale = torch::tanh(alphaNode * nodePrompt.narrow(0, 0, N).narrow(1, 0, width) + betaNode);  // [N, N + K]
  const auto prompted = features * (1.0 + scale);
  // Edge prompt: symmetric, zero diagonal, zero on padded nodes (before the sigmoid, as written).
  const auto eye = torch::eye(N, fc.options());
  auto edge = edgePrompt.narrow(0, 0, N).narrow(1, 0, N);
  edge = 0.5 * (edge + edge.t());
  edge = edge * (1.0 - eye);
  const auto m = mask.to(torch::kFloat32);
  const auto pair = m.unsqueeze(2) * m.unsqueeze(1);
  const auto edgeAdd = torch::sigmoid(alphaEdge * (edge.unsqueeze(0) * pair) + betaEdge);
  auto soft = torch::clamp(A + 0.3 * edgeAdd * (1.0 - A), 0.0, 1.0);
  soft = 0.5 * (soft + soft.transpose(1, 2));
  soft = soft * (1.0 - eye);

  const auto projected = torch::nn::functional::linear(prompted, projection->weight.narrow(1, 0, width), projection->bias);
  auto x = torch::cat({disease.expand({B, 1, -1}), atlas.expand({B, 1, -1}), projected}, 1);  // [B, N + 2, H]
  const auto padding = torch::cat({torch::zeros({B, 2}, mask.options()), mask.logical_not()}, 1);
  for (auto& module : *layers) {
    auto& layer = *module->as<PublicLayerImpl>();
    x = layer.norm1->forward(x + fastDropout(layer.attention->forward(x, padding), c.dropout, is_training()));
    x = layer.norm2->forward(x + fastDropout(moeFfn(layer, x), c.dropout, is_training()));
  }
  const auto nodes = moeGcn(x.narrow(1, 2, N), soft);
  const auto w = m.unsqueeze(-1);
  return (nodes * w).sum(1) / w.sum(1).clamp_min(1e-6);
}

torch::Tensor PublicGfmClassifierImpl::forward(const GraphBatchInput& input, const FastWeights&) { return head->forward(embed(input)); }

}  // namespace bg::model
