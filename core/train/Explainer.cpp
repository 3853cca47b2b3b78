#include "train/Explainer.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "errors/Error.h"

namespace bg::train {
using nlohmann::json;

namespace {
std::vector<double> normalised(const torch::Tensor& t) {
  auto d = t.to(torch::kCPU).to(torch::kDouble).contiguous();
  std::vector<double> v(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
  const double s = std::accumulate(v.begin(), v.end(), 0.0);
  if (s > 0)
    for (auto& x : v) x /= s;
  return v;
}
}  // namespace

Explanation explain(model::GraphClassifierImpl& m, const model::GraphBatchInput& input, int targetClass) {
  if (input.mask.size(0) != 1) throw Error(ErrorCode::Internal, "explain() takes one graph at a time");
  Explanation e;
  e.targetClass = targetClass;
  const auto n = input.mask.sum().item<std::int64_t>();
  e.nodes = static_cast<int>(n);
  m.eval();
  auto in = input;
  const bool features = m.readsNodeFeatures();
  auto& x = features ? in.features : in.fc;
  x = x.detach().clone().set_requires_grad(true);
  m.recordAttention(true);
  const auto logits = m.forward(in);
  m.recordAttention(false);
  const auto grad = torch::autograd::grad({logits[0][targetClass]}, {x})[0];
  const auto gx = (grad * x).detach().abs()[0];  // [N, Dm] or [N, N]
  e.roiSaliency = normalised(gx.narrow(0, 0, n).sum(1));
  const auto edges = gx.narrow(0, 0, n).narrow(1, 0, n);
  auto sym = (edges + edges.t()).clone();
  sym.fill_diagonal_(0.0);
  auto ev = normalised(sym);
  for (auto& v : ev) v *= 2.0;  // each edge appears twice in the symmetric matrix
  e.edgeSaliency = std::move(ev);

  // Rollout over the attention layers: A = (W + I) / 2, row-normalised, multiplied in order.
  const auto maps = m.attentionMaps();
  if (maps.empty() || !maps.front().defined()) return e;
  const auto lead = m.leadingTokens();
  const auto L = input.mask.size(1) + lead;
  auto rollout = torch::eye(L, torch::kDouble);
  for (const auto& w : maps) {
    if (!w.defined()) continue;
    auto a = w[0].to(torch::kCPU).to(torch::kDouble);
    a = a.narrow(1, a.size(1) - L, L);  // drop prefix-tuning columns: they are not inputs
    a = 0.5 * a + 0.5 * torch::eye(L, torch::kDouble);
    a = a / a.sum(1, true);
    rollout = torch::matmul(a, rollout);
  }
  const auto nodeRows = rollout.narrow(0, lead, n).narrow(1, lead, n);  // readout rows -> node inputs
  const auto contributions = m.readoutContributions(targetClass);
  if (contributions.defined()) {
    // A readout that weighs nodes unequally reads each row by its node's share of the logit.
    const auto share = contributions[0].narrow(0, 0, n).to(torch::kCPU).to(torch::kDouble).abs();
    e.roiAttention = normalised(torch::matmul(share / share.sum().clamp_min(1e-300), nodeRows));
  } else {
    e.roiAttention = normalised(nodeRows.mean(0));
  }
  return e;
}

json Explanation::toJson(const std::vector<std::string>& roiNames, const std::vector<std::string>& networks, int topRois, int topEdges) const {
  auto name = [&](int i) { return i < static_cast<int>(roiNames.size()) ? roiNames[static_cast<std::size_t>(i)] : "roi_" + std::to_string(i + 1); };
  auto network = [&](int i) {
    return i < static_cast<int>(networks.size()) && !networks[static_cast<std::size_t>(i)].empty() ? networks[static_cast<std::size_t>(i)]
                                                                                                   : std::string("unassigned");
  };
  const bool hasAttention = roiAttention.size() == static_cast<std::size_t>(nodes);
  std::vector<int> order(static_cast<std::size_t>(nodes));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return roiSaliency[static_cast<std::size_t>(a)] > roiSaliency[static_cast<std::size_t>(b)]; });
  json top = json::array();
  for (int k = 0; k < std::min(topRois, nodes); ++k) {
    const int i = order[static_cast<std::size_t>(k)];
    json roi = {{"index", i}, {"name", name(i)}, {"network", network(i)}, {"saliency", roiSaliency[static_cast<std::size_t>(i)]}};
    if (hasAttention) roi["attention"] = roiAttention[static_cast<std::size_t>(i)];
    top.push_back(roi);
  }
  std::vector<std::pair<double, std::pair<int, int>>> edges;
  for (int i = 0; i < nodes; ++i)
    for (int j = i + 1; j < nodes; ++j) edges.push_back({edgeSaliency[static_cast<std::size_t>(i * nodes + j)], {i, j}});
  const auto k = std::min<std::size_t>(static_cast<std::size_t>(topEdges), edges.size());
  std::partial_sort(edges.begin(), edges.begin() + static_cast<long>(k), edges.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  json topE = json::array();
  for (std::size_t q = 0; q < k; ++q) {
    const auto [i, j] = edges[q].second;
    topE.push_back({{"a", i}, {"b", j}, {"names", {name(i), name(j)}}, {"networks", {network(i), network(j)}}, {"saliency", edges[q].first}});
  }
  std::map<std::string, std::pair<double, double>> byNetwork;
  for (int i = 0; i < nodes; ++i) {
    auto& acc = byNetwork[network(i)];
    acc.first += roiSaliency[static_cast<std::size_t>(i)];
    if (hasAttention) acc.second += roiAttention[static_cast<std::size_t>(i)];
  }
  json nets = json::object();
  for (const auto& [net, v] : byNetwork) {
    nets[net] = {{"saliency", v.first}};
    if (hasAttention) nets[net]["attention"] = v.second;
  }
  json out = {{"target_class", targetClass}, {"method", {{"attention", hasAttention ? "rollout" : "none"}, {"saliency", "gradient_x_input"}}},
              {"roi_saliency", roiSaliency}, {"top_rois", top},
              {"top_edges", topE},           {"networks", nets}};
  if (hasAttention) out["roi_attention"] = roiAttention;
  return out;
}

}  // namespace bg::train
