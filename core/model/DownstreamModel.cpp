#include "model/DownstreamModel.h"

#include "errors/Error.h"

namespace bg::model {
namespace {
// Node-sized parameters (edge prompt, per-ROI readout) serve graphs up to the size they were made for.
void requireFits(std::int64_t nodes, std::int64_t capacity, const char* what) {
  if (nodes > capacity)
    throw Error(ErrorCode::Data, "a graph of " + std::to_string(nodes) + " nodes is larger than the " + what + " (" + std::to_string(capacity) + ")");
}
}  // namespace

DownstreamModelImpl::DownstreamModelImpl(const BrainGfmConfig& config, const AdaptationSpec& spec, int classes, int maxNodes)
    : spec_(spec), maxNodes_(maxNodes) {
  encoder = register_module("encoder", BrainGfmEncoder(config));
  head = register_module("head", torch::nn::Linear(2 * config.hidden, classes));
  if (spec.nodeMultiplicative()) nodeMul = register_parameter("node_prompt_mul", torch::ones({config.featureWidth}));
  if (spec.nodeAdditive()) nodeAdd = register_parameter("node_prompt_add", torch::zeros({config.featureWidth}));
  if (spec.edgePrompt()) edge = register_parameter("edge_prompt", torch::ones({maxNodes, maxNodes}));
  if (spec.readout == "roi") roiHead = register_parameter("roi_head", torch::zeros({classes, maxNodes, config.hidden}));
  if (spec.hasEdgeReadout()) edgeHead = register_parameter("edge_head", torch::zeros({classes, maxNodes, maxNodes}));
}

void DownstreamModelImpl::attachAdapters() {
  if (adaptersAttached_) return;
  adaptersAttached_ = true;
  if (spec_.method == "lora") encoder->enableLora(spec_.loraRank, spec_.loraAlpha);
  if (spec_.method == "prefix") encoder->enablePrefix(spec_.prefixLength);
}

FastWeights DownstreamModelImpl::ownWeights() const { return {nodeMul, nodeAdd, edge, head->weight, head->bias}; }

GraphBatchInput DownstreamModelImpl::prompted(const GraphBatchInput& in, const FastWeights& f) const {
  auto out = in;
  const auto mul = f.nodeMul.defined() ? f.nodeMul : nodeMul;
  const auto add = f.nodeAdd.defined() ? f.nodeAdd : nodeAdd;
  const auto e = f.edge.defined() ? f.edge : edge;
  if (mul.defined()) out.features = out.features * mul;
  if (add.defined()) out.features = out.features + add * in.mask.to(out.features.dtype()).unsqueeze(-1);
  if (e.defined()) {
    const auto n = in.adjacency.size(1);
    requireFits(n, e.size(0), "edge prompt");
    const auto block = e.narrow(0, 0, n).narrow(1, 0, n);
    out.adjacency = in.adjacency * (0.5 * (block + block.t()));
  }
  return out;
}

torch::Tensor DownstreamModelImpl::forward(const GraphBatchInput& in, const FastWeights& f) {
  const auto p = prompted(in, f);
  const auto o = encoder->forward(p);
  const auto t = o.tokens.select(1, 0);
  const auto features = torch::cat({o.graph, o.graph * t}, 1);
  const auto w = f.headWeight.defined() ? f.headWeight : head->weight;
  const auto b = f.headBias.defined() ? f.headBias : head->bias;
  auto logits = torch::nn::functional::linear(features, w, b);
  if (!roiHead.defined() && !edgeHead.defined()) return logits;
  const auto n = o.nodes.size(1);
  const auto nodes = o.nodes * in.mask.to(o.nodes.dtype()).unsqueeze(-1);
  torch::Tensor perRoi, perEdgeRow;  // [B, C, N]: each node's term
  if (roiHead.defined()) {
    requireFits(n, roiHead.size(1), "per-ROI readout");
    const auto roi = roiHead.narrow(1, 0, n);
    logits = logits + torch::einsum("bnh,cnh->bc", {nodes, roi});
    if (recordReadout_) perRoi = torch::einsum("bnh,cnh->bcn", {nodes, roi});
  }
  if (edgeHead.defined()) {
    // The input edges as the encoder read them (the FC rows of the prompted features, zero off the
    // real nodes), so that gradient x input on the features also explains this term.
    requireFits(n, edgeHead.size(1), "edge readout");
    const auto x = p.features.narrow(2, 0, n);
    const auto v = edgeHead.narrow(1, 0, n).narrow(2, 0, n);
    const auto vSym = 0.5 * (v + v.transpose(1, 2));
    logits = logits + torch::einsum("bnm,cnm->bc", {x, vSym});
    if (recordReadout_) perEdgeRow = torch::einsum("bnm,cnm->bcn", {x, vSym});
  }
  if (recordReadout_) {
    // features = [g ; g * t] with g = sum_i h_i / n_real, so node i adds (W_a + W_b * t) . h_i / n_real.
    const auto hidden = nodes.size(2);
    const auto perNode = w.narrow(1, 0, hidden).unsqueeze(0) + w.narrow(1, hidden, hidden).unsqueeze(0) * t.unsqueeze(1);  // [B, C, H]
    const auto count = in.mask.to(nodes.dtype()).sum(1).clamp_min(1.0).view({-1, 1, 1});
    auto c = torch::einsum("bnh,bch->bcn", {nodes, perNode}) / count;
    if (perRoi.defined()) c = c + perRoi;
    if (perEdgeRow.defined()) c = c + perEdgeRow;
    contributions_ = c.detach();
  }
  return logits;
}

torch::Tensor DownstreamModelImpl::readoutContributions(int targetClass) const {
  if (!contributions_.defined()) return {};
  return contributions_.select(1, targetClass);
}

torch::Tensor DownstreamModelImpl::embed(const GraphBatchInput& in) { return encoder->forward(prompted(in)).graph; }

std::vector<torch::Tensor> DownstreamModelImpl::promptAndHeadParameters() const {
  std::vector<torch::Tensor> out;
  for (const auto* t : {&nodeMul, &nodeAdd, &edge})
    if (t->defined()) out.push_back(*t);
  out.push_back(head->weight);
  out.push_back(head->bias);
  return out;
}

std::vector<torch::Tensor> DownstreamModelImpl::configureTrainable() {
  for (auto& p : parameters()) p.set_requires_grad(false);
  std::vector<torch::Tensor> trainable;
  const auto& m = spec_.method;
  if (m == "finetune" || m == "scratch") {
    // The GMAE mask token has no role downstream: leaving it frozen keeps Adam's state honest.
    for (auto& p : encoder->parameters())
      if (!p.is_same(encoder->maskToken)) trainable.push_back(p);
  } else if (m == "lora" || m == "prefix") {
    trainable = encoder->adapterParameters();
  } else if (m == "prompt") {
    for (const auto* t : {&nodeMul, &nodeAdd, &edge})
      if (t->defined()) trainable.push_back(*t);
  }
  trainable.push_back(head->weight);
  trainable.push_back(head->bias);
  if (roiHead.defined()) trainable.push_back(roiHead);
  if (edgeHead.defined() && spec_.edgeReadout == "learned") trainable.push_back(edgeHead);  // "logreg": fitted once, then fixed
  for (auto& p : trainable) p.set_requires_grad(true);
  return trainable;
}

nlohmann::json DownstreamModelImpl::describe() const {
  return {{"architecture", "braingfm"}, {"model", encoder->config().toJson()}, {"adaptation", spec_.toJson()}, {"max_nodes", maxNodes_}};
}

void DownstreamModelImpl::setTraining(bool on) {
  train(on);
  if (on && (spec_.method == "linear" || spec_.method == "prompt")) encoder->eval();
}

}  // namespace bg::model
