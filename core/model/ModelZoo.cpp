#include "model/ModelZoo.h"

#include <cmath>

#include "errors/Error.h"
#include "model/AtlasFusion.h"
#include "model/BaselineNetworks.h"
#include "model/BrainGfmPublic.h"
#include "model/BrainMass.h"
#include "model/Lcm.h"

namespace bg::model {
using nlohmann::json;

std::string describeArchitecture(const std::string& name) {
  if (name == kPublicArchitecture) return "the public BrainGFM code's architecture (graph prompt, MoE transformer and GCN), for imported checkpoints";
  if (name == "braingfm") return "BrainGFM graph transformer (RWSE, text tokens, graph prompts)";
  if (name == "brainmass") return "BrainMass ROI transformer (BYOL + mask-ROI modelling pre-training; linear probe)";
  if (name == "lcm") return "LCM query decoder over FC memory (multitask phenotype pre-training)";
  if (name == "gcn") return "vanilla GCN on the thresholded FC graph";
  if (name == "braingnn") return "BrainGNN-style ROI-aware GNN with top-k pooling";
  if (name == "transformer") return "vanilla transformer over ROI tokens";
  if (name == "graph_transformer") return "graph transformer (attention along FC graph edges)";
  if (name == "brainnettf") return "BrainNetTF-style transformer with orthonormal cluster readout";
  return name;
}

torch::Tensor padColumns(const torch::Tensor& x, std::int64_t width) {
  const auto n = x.size(-1);
  if (n > width) throw Error(ErrorCode::Data, "a graph of " + std::to_string(n) + " nodes is larger than the model's " + std::to_string(width));
  if (n == width) return x;
  return torch::constant_pad_nd(x, {0, width - n});
}

torch::Tensor maskedMean(const torch::Tensor& x, const torch::Tensor& mask) {
  const auto m = mask.to(x.dtype()).unsqueeze(-1);
  return (x * m).sum(1) / m.sum(1).clamp_min(1.0);
}

torch::Tensor maskedMax(const torch::Tensor& x, const torch::Tensor& mask) { return x.masked_fill(mask.logical_not().unsqueeze(-1), -1e9).amax(1); }

torch::Tensor rowRanks(const torch::Tensor& x, bool descending) {
  const auto order = std::get<1>(x.sort(1, descending));
  return std::get<1>(order.sort(1, false));
}

GraphBatchInput makeFcInput(const torch::Tensor& fc, const torch::Tensor& mask, double threshold) {
  const auto m = mask.to(torch::kFloat32);
  const auto pair = m.unsqueeze(2) * m.unsqueeze(1);
  GraphBatchInput in;
  in.fc = fc * pair;
  in.mask = mask;
  in.adjacency = (fc > threshold).to(torch::kFloat32) * pair;
  return in;
}

// ---- attention

MultiHeadAttentionImpl::MultiHeadAttentionImpl(int hidden, int heads, double dropout) : heads_(heads), dropout_(dropout) {
  q = register_module("q", torch::nn::Linear(hidden, hidden));
  k = register_module("k", torch::nn::Linear(hidden, hidden));
  v = register_module("v", torch::nn::Linear(hidden, hidden));
  o = register_module("o", torch::nn::Linear(hidden, hidden));
}

torch::Tensor MultiHeadAttentionImpl::forward(const torch::Tensor& query, const torch::Tensor& memory, const torch::Tensor& keyPadding,
                                              const torch::Tensor& blocked) {
  const auto B = query.size(0), Lq = query.size(1), Lk = memory.size(1), H = query.size(2), d = H / heads_;
  auto split = [&](const torch::Tensor& t, std::int64_t L) { return t.view({B, L, heads_, d}).transpose(1, 2); };
  const auto qh = split(q->forward(query), Lq), kh = split(k->forward(memory), Lk), vh = split(v->forward(memory), Lk);
  auto scores = torch::matmul(qh, kh.transpose(-2, -1)) / std::sqrt(static_cast<double>(d));  // [B, h, Lq, Lk]
  if (keyPadding.defined()) scores = scores.masked_fill(keyPadding.view({B, 1, 1, Lk}), -1e9);
  if (blocked.defined()) scores = scores.masked_fill(blocked.unsqueeze(1), -1e9);
  auto w = torch::softmax(scores, -1);
  if (record) lastAttention = w.mean(1).detach();
  w = fastDropout(w, dropout_, is_training());
  const auto out = torch::matmul(w, vh).transpose(1, 2).reshape({B, Lq, H});
  return o->forward(out);
}

RunningStandardizerImpl::RunningStandardizerImpl(int width) {
  mean = register_buffer("mean", torch::zeros({width}));
  var = register_buffer("var", torch::ones({width}));
}

torch::Tensor RunningStandardizerImpl::forward(const torch::Tensor& x) {
  if (is_training() && x.size(0) > 1) {
    const auto m = x.mean(0), v = x.var(0, false);
    {
      torch::NoGradGuard ng;
      mean.mul_(0.9).add_(m.detach(), 0.1);
      var.mul_(0.9).add_(v.detach(), 0.1);
    }
    return (x - m) / (v + 1e-5).sqrt();
  }
  return (x - mean) / (var + 1e-5).sqrt();
}

TransformerBlockImpl::TransformerBlockImpl(int hidden, int heads, int ffn, double dropout) : dropout_(dropout) {
  attention = register_module("attention", MultiHeadAttention(hidden, heads, dropout));
  norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden})));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden})));
  ffn1 = register_module("ffn1", torch::nn::Linear(hidden, ffn));
  ffn2 = register_module("ffn2", torch::nn::Linear(ffn, hidden));
}

torch::Tensor TransformerBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& keyPadding, const torch::Tensor& blocked) {
  auto h = norm1->forward(x + fastDropout(attention->forward(x, x, keyPadding, blocked), dropout_, is_training()));
  const auto f = ffn2->forward(fastDropout(torch::gelu(ffn1->forward(h)), dropout_, is_training()));
  return norm2->forward(h + fastDropout(f, dropout_, is_training()));
}

// ---- shared classifier behaviour

ZooClassifierImpl::ZooClassifierImpl(std::string architecture, const ZooConfig& config, const AdaptationSpec& spec, int classes, int maxNodes)
    : config_(config), spec_(spec), classes_(classes), maxNodes_(maxNodes), architecture_(std::move(architecture)) {
  if (spec.method != "scratch" && spec.method != "finetune" && spec.method != "linear")
    throw Error(ErrorCode::Usage, architecture_ + " trains with scratch, finetune or linear (probe), not '" + spec.method + "'");
  if (maxNodes < 2) throw Error(ErrorCode::Data, "a model needs graphs of at least 2 nodes");
}

std::vector<torch::Tensor> ZooClassifierImpl::headParameters() const { return head->parameters(); }

std::vector<torch::Tensor> ZooClassifierImpl::configureTrainable() {
  for (auto& p : parameters()) p.set_requires_grad(false);
  std::vector<torch::Tensor> trainable;
  if (spec_.method == "linear") {
    trainable = headParameters();
  } else {
    const auto skip = pretrainingOnly();
    for (auto& p : parameters())
      if (std::none_of(skip.begin(), skip.end(), [&](const torch::Tensor& s) { return s.is_same(p); })) trainable.push_back(p);
  }
  for (auto& p : trainable) p.set_requires_grad(true);
  return trainable;
}

void ZooClassifierImpl::setTraining(bool on) {
  train(on);
  if (on && spec_.method == "linear") {
    eval();
    head->train();
  }
}

json ZooClassifierImpl::describe() const {
  return {{"architecture", architecture_}, {"model", config_.toJson()}, {"adaptation", spec_.toJson()}, {"max_nodes", maxNodes_}};
}

// ---- factory

GraphClassifier makeClassifier(const std::string& architecture, const json& config, const AdaptationSpec& spec, int classes, int maxNodes, const json& extra) {
  if (architecture == "braingfm" || architecture.empty()) {
    auto m = std::make_shared<DownstreamModelImpl>(BrainGfmConfig::fromJson(config.is_null() ? json::object() : config), spec, classes, maxNodes);
    return m;
  }
  if (isPublicArchitecture(architecture)) {
    const auto pc = PublicGfmConfig::fromJson(config);
    if (maxNodes > pc.maxNodes)
      throw Error(ErrorCode::Data,
                  "graphs of " + std::to_string(maxNodes) + " nodes exceed the public model's " + std::to_string(pc.maxNodes) + " (max_nodes)");
    return std::make_shared<PublicGfmClassifierImpl>(pc, spec, classes);
  }
  const auto c = ZooConfig::fromJson(architecture, config);
  if (architecture == "gcn") return std::make_shared<GcnClassifierImpl>(c, spec, classes, maxNodes);
  if (architecture == "braingnn") return std::make_shared<BrainGnnClassifierImpl>(c, spec, classes, maxNodes);
  if (architecture == "transformer") return std::make_shared<TransformerClassifierImpl>(c, spec, classes, maxNodes, false);
  if (architecture == "graph_transformer") return std::make_shared<TransformerClassifierImpl>(c, spec, classes, maxNodes, true);
  if (architecture == "brainnettf") return std::make_shared<BrainNetTfClassifierImpl>(c, spec, classes, maxNodes);
  if (architecture == "brainmass") return std::make_shared<BrainMassClassifierImpl>(c, spec, classes, maxNodes);
  if (architecture == "lcm") return std::make_shared<LcmClassifierImpl>(c, spec, classes, maxNodes, LcmVariables::fromJson(extra));
  throw Error(ErrorCode::Usage, "unknown model architecture '" + architecture + "'");
}

GraphClassifier classifierFromCard(const json& card) {
  const auto architecture = card.value("architecture", std::string("braingfm"));
  if (architecture == kAtlasFusionArchitecture) return atlasFusionFromCard(card);
  const auto spec = AdaptationSpec::fromJson(card.at("adaptation"));
  auto m = makeClassifier(architecture, card.at("model"), spec, static_cast<int>(card.at("classes").size()), card.at("max_nodes").get<int>(),
                          card.value("lcm_variables", json()));
  m->attachAdapters();
  return m;
}

}  // namespace bg::model
