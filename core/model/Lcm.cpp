#include "model/Lcm.h"

#include "errors/Error.h"

namespace bg::model {
using nlohmann::json;

json LcmVariables::toJson() const {
  json out = json::array();
  for (const auto& v : list)
    out.push_back({{"name", v.name},
                   {"phenotype", v.phenotype},
                   {"dataset", v.dataset},
                   {"regression", v.regression},
                   {"classes", v.classes},
                   {"mean", v.mean},
                   {"sd", v.sd}});
  return out;
}

LcmVariables LcmVariables::fromJson(const json& j) {
  LcmVariables out;
  if (j.is_null()) return out;
  for (const auto& e : j) {
    LcmVariable v;
    v.name = e.at("name").get<std::string>();
    v.phenotype = e.value("phenotype", v.name);
    v.dataset = e.value("dataset", "");
    v.regression = e.value("regression", false);
    v.classes = e.value("classes", std::vector<std::string>{});
    v.mean = e.value("mean", 0.0);
    v.sd = e.value("sd", 1.0);
    if (!v.regression && v.classes.size() < 2) throw Error(ErrorCode::Data, "LCM variable '" + v.name + "' needs at least two classes");
    out.list.push_back(std::move(v));
  }
  return out;
}

int LcmVariables::indexOf(const std::string& phenotype) const {
  for (std::size_t i = 0; i < list.size(); ++i)
    if (list[i].phenotype == phenotype) return static_cast<int>(i);
  return -1;
}

LcmDecoderLayerImpl::LcmDecoderLayerImpl(int hidden, int heads, int ffn, double dropout) : dropout_(dropout) {
  selfAttention = register_module("self_attention", MultiHeadAttention(hidden, heads, dropout));
  crossAttention = register_module("cross_attention", MultiHeadAttention(hidden, heads, dropout));
  norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden})));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden})));
  norm3 = register_module("norm3", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden})));
  ffn1 = register_module("ffn1", torch::nn::Linear(hidden, ffn));
  ffn2 = register_module("ffn2", torch::nn::Linear(ffn, hidden));
}

torch::Tensor LcmDecoderLayerImpl::forward(const torch::Tensor& queries, const torch::Tensor& memory, const torch::Tensor& memoryPadding) {
  const bool t = is_training();
  auto q = norm1->forward(queries + fastDropout(selfAttention->forward(queries, queries, {}), dropout_, t));
  q = norm2->forward(q + fastDropout(crossAttention->forward(q, memory, memoryPadding), dropout_, t));
  const auto f = ffn2->forward(fastDropout(torch::gelu(ffn1->forward(q)), dropout_, t));
  return norm3->forward(q + fastDropout(f, dropout_, t));
}

LcmClassifierImpl::LcmClassifierImpl(const ZooConfig& c, const AdaptationSpec& spec, int classes, int maxNodes, LcmVariables variables)
    : ZooClassifierImpl("lcm", c, spec, classes, maxNodes), variables_(std::move(variables)) {
  memoryInput = register_module("memory_input", torch::nn::Linear(maxNodes, c.hidden));
  roiEmbedding = register_parameter("roi_embedding", torch::randn({maxNodes, c.hidden}) * 0.02);
  memoryNorm = register_module("memory_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden})));
  const auto v = static_cast<std::int64_t>(variables_.list.size());
  if (v > 0) variableQueries = register_parameter("variable_queries", torch::randn({v, c.hidden}) * 0.02);
  taskQuery = register_parameter("task_query", torch::randn({1, c.hidden}) * 0.02);
  layers = register_module("layers", torch::nn::ModuleList());
  for (int l = 0; l < c.layers; ++l) layers->push_back(LcmDecoderLayer(c.hidden, c.heads, c.ffn, c.dropout));
  variableHeads = register_module("variable_heads", torch::nn::ModuleList());
  for (const auto& var : variables_.list) variableHeads->push_back(torch::nn::Linear(c.hidden, var.outputs()));
  head = register_module("head", torch::nn::Sequential(torch::nn::Linear(c.hidden, classes)));
}

json LcmClassifierImpl::describe() const {
  auto j = ZooClassifierImpl::describe();
  j["lcm_variables"] = variables_.toJson();
  return j;
}

void LcmClassifierImpl::initialiseTaskQueryFromDiagnosis() {
  const int d = variables_.indexOf("diagnosis");
  if (d < 0) return;
  torch::NoGradGuard ng;
  taskQuery.copy_(variableQueries.narrow(0, d, 1));
}

std::vector<torch::Tensor> LcmClassifierImpl::decode(const torch::Tensor& fc, const torch::Tensor& mask) {
  const auto B = fc.size(0), n = fc.size(1);
  const auto memory = memoryNorm->forward(memoryInput->forward(padColumns(fc, maxNodes_)) + roiEmbedding.narrow(0, 0, n));
  auto q = variableQueries.defined() ? torch::cat({variableQueries, taskQuery}, 0) : taskQuery;
  q = q.unsqueeze(0).expand({B, -1, -1});
  const auto pad = mask.logical_not();
  std::vector<torch::Tensor> out;
  for (auto& layer : *layers) {
    q = layer->as<LcmDecoderLayerImpl>()->forward(q, memory, pad);
    out.push_back(q);
  }
  return out;
}

std::vector<torch::Tensor> LcmClassifierImpl::taskLogitsPerLayer(const GraphBatchInput& in) {
  std::vector<torch::Tensor> out;
  for (const auto& q : decode(in.fc, in.mask)) out.push_back(head->forward(q.select(1, q.size(1) - 1)));
  return out;
}

torch::Tensor LcmClassifierImpl::forward(const GraphBatchInput& in, const FastWeights&) { return taskLogitsPerLayer(in).back(); }

torch::Tensor LcmClassifierImpl::embed(const GraphBatchInput& in) {
  const auto q = decode(in.fc, in.mask).back();
  return q.select(1, q.size(1) - 1);
}

std::vector<std::vector<torch::Tensor>> LcmClassifierImpl::variableOutputsPerLayer(const torch::Tensor& fc, const torch::Tensor& mask) {
  const auto perLayer = decode(fc, mask);
  std::vector<std::vector<torch::Tensor>> out(variables_.list.size());
  for (std::size_t v = 0; v < variables_.list.size(); ++v) {
    auto* h = variableHeads[v]->as<torch::nn::LinearImpl>();
    for (const auto& q : perLayer) out[v].push_back(h->forward(q.select(1, static_cast<std::int64_t>(v))));
  }
  return out;
}

std::vector<torch::Tensor> LcmClassifierImpl::pretrainingOnly() const { return variableHeads->parameters(); }

}  // namespace bg::model
