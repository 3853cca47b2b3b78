#include "train/MetaLearner.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <random>

#include <spdlog/spdlog.h>

#include "errors/Error.h"
#include "train/GraphBatchLoader.h"

namespace bg::train {
using nlohmann::json;

json MetaConfig::toJson() const {
  return {{"meta_epochs", metaEpochs},
          {"tasks_per_batch", tasksPerBatch},
          {"episodes_per_task", episodesPerTask},
          {"episode_size", episodeSize},
          {"support_fraction", supportFraction},
          {"inner_learning_rate", innerLearningRate},
          {"inner_steps", innerSteps},
          {"outer_learning_rate", outerLearningRate},
          {"second_order", secondOrder},
          {"seed", seed}};
}

MetaConfig MetaConfig::fromJson(const json& j) {
  MetaConfig c;
  c.metaEpochs = j.value("meta_epochs", c.metaEpochs);
  c.tasksPerBatch = j.value("tasks_per_batch", c.tasksPerBatch);
  c.episodesPerTask = j.value("episodes_per_task", c.episodesPerTask);
  c.episodeSize = j.value("episode_size", c.episodeSize);
  c.supportFraction = j.value("support_fraction", c.supportFraction);
  c.innerLearningRate = j.value("inner_learning_rate", c.innerLearningRate);
  c.innerSteps = j.value("inner_steps", c.innerSteps);
  c.outerLearningRate = j.value("outer_learning_rate", c.outerLearningRate);
  c.secondOrder = j.value("second_order", c.secondOrder);
  c.seed = j.value("seed", c.seed);
  if (c.metaEpochs < 1 || c.tasksPerBatch < 1 || c.episodesPerTask < 1 || c.innerSteps < 1 || c.episodeSize < 4)
    throw Error(ErrorCode::Config, "meta-learning needs at least 1 epoch, task, episode and inner step and 4 graphs per episode");
  if (c.supportFraction <= 0 || c.supportFraction >= 1) throw Error(ErrorCode::Config, "support_fraction must be in (0, 1)");
  return c;
}

json MetaHistory::toJson() const { return {{"query_loss", queryLoss}, {"query_loss_unadapted", queryLossUnadapted}, {"seconds", seconds}}; }

MetaLearner::MetaLearner(const MetaConfig& config, const model::BrainGfmConfig& modelConfig, model::DownstreamModel m, torch::Device device)
    : config_(config), modelConfig_(modelConfig), model_(std::move(m)), device_(device) {
  if (model_->spec().method != "prompt") throw Error(ErrorCode::Config, "meta-learning adapts graph prompts: the model's method must be prompt");
  if (model_->spec().readout != "mean" || model_->spec().hasEdgeReadout())
    throw Error(ErrorCode::Config, "meta-learning adapts the mean-readout head: readout '" + model_->spec().readout +
                                       (model_->spec().hasEdgeReadout() ? "' with edge readout" : "'") + " is for supervised tuning");
  model_->to(device_);
}

torch::Tensor MetaLearner::loss(const model::GraphBatchInput& in, const torch::Tensor& labels, const model::FastWeights& w) {
  return torch::nn::functional::cross_entropy(model_->forward(in, w), labels);
}

namespace {
std::vector<torch::Tensor> asList(const model::FastWeights& w) {
  std::vector<torch::Tensor> out;
  for (const auto* t : {&w.nodeMul, &w.nodeAdd, &w.edge, &w.headWeight, &w.headBias})
    if (t->defined()) out.push_back(*t);
  return out;
}
model::FastWeights fromList(const model::FastWeights& shape, const std::vector<torch::Tensor>& v) {
  model::FastWeights w;
  std::size_t i = 0;
  auto take = [&](const torch::Tensor& like, torch::Tensor& dst) {
    if (like.defined()) dst = v[i++];
  };
  take(shape.nodeMul, w.nodeMul);
  take(shape.nodeAdd, w.nodeAdd);
  take(shape.edge, w.edge);
  take(shape.headWeight, w.headWeight);
  take(shape.headBias, w.headBias);
  return w;
}
}  // namespace

model::FastWeights MetaLearner::adapt(const model::GraphBatchInput& support, const torch::Tensor& labels, bool createGraph) {
  auto fast = model_->ownWeights();
  for (int s = 0; s < config_.innerSteps; ++s) {
    const auto params = asList(fast);
    const auto l = loss(support, labels, fast);
    auto grads = torch::autograd::grad({l}, params, {}, /*retain_graph=*/true, /*create_graph=*/createGraph, /*allow_unused=*/true);
    std::vector<torch::Tensor> next;
    for (std::size_t k = 0; k < params.size(); ++k) {
      auto g = grads[k].defined() ? grads[k] : torch::zeros_like(params[k]);
      if (!createGraph) g = g.detach();
      next.push_back(params[k] - config_.innerLearningRate * g);
    }
    fast = fromList(fast, next);
  }
  return fast;
}

MetaHistory MetaLearner::train(const ArrayStore& store, const std::vector<MetaTask>& tasks, ProgressDelegate& progress) {
  if (tasks.empty()) throw Error(ErrorCode::Usage, "meta-learning needs at least one task");
  MetaHistory h;
  const auto start = std::chrono::steady_clock::now();
  for (auto& p : model_->parameters()) p.set_requires_grad(false);
  auto params = model_->promptAndHeadParameters();
  for (auto& p : params) p.set_requires_grad(true);
  model_->eval();  // frozen backbone, no dropout: the inner loop sees the same function as inference
  torch::optim::Adam optimizer(params, torch::optim::AdamOptions(config_.outerLearningRate));
  std::mt19937 rng(config_.seed * 2654435761u + 1u);
  std::vector<std::unique_ptr<GraphBatchLoader>> loaders;
  for (const auto& t : tasks) {
    int classes[2] = {0, 0};
    for (const auto& it : t.items)
      if (it.label == 0 || it.label == 1) ++classes[it.label];
    if (classes[0] < 2 || classes[1] < 2) throw Error(ErrorCode::Data, "task '" + t.name + "' needs at least two graphs of each class");
    loaders.push_back(std::make_unique<GraphBatchLoader>(store, t.items, 1, 0, false, 0));
  }
  // Episodes: (task, epoch-local index) pairs in a shuffled order, grouped into meta-batches.
  const int total = config_.metaEpochs;
  for (int epoch = 0; epoch < total; ++epoch) {
    std::vector<int> episodes;
    for (int t = 0; t < static_cast<int>(tasks.size()); ++t)
      for (int e = 0; e < config_.episodesPerTask; ++e) episodes.push_back(t);
    std::shuffle(episodes.begin(), episodes.end(), rng);
    double queryAfter = 0, queryBefore = 0;
    int counted = 0;
    for (std::size_t b = 0; b < episodes.size(); b += static_cast<std::size_t>(config_.tasksPerBatch)) {
      optimizer.zero_grad();
      const auto end = std::min(episodes.size(), b + static_cast<std::size_t>(config_.tasksPerBatch));
      torch::Tensor metaLoss;
      for (std::size_t e = b; e < end; ++e) {
        const auto& task = tasks[static_cast<std::size_t>(episodes[e])];
        // Stratified episode: shuffle each class, take its share, split support/query per class.
        std::map<int, std::vector<int>> byClass;
        for (int i = 0; i < static_cast<int>(task.items.size()); ++i) byClass[task.items[static_cast<std::size_t>(i)].label].push_back(i);
        std::vector<int> support, query;
        for (auto& [label, idx] : byClass) {
          std::shuffle(idx.begin(), idx.end(), rng);
          const auto share = std::max<std::size_t>(2, std::min(idx.size(), static_cast<std::size_t>(config_.episodeSize) / byClass.size()));
          const auto nSupport =
              std::clamp<std::size_t>(static_cast<std::size_t>(std::llround(config_.supportFraction * static_cast<double>(share))), 1, share - 1);
          support.insert(support.end(), idx.begin(), idx.begin() + static_cast<long>(nSupport));
          query.insert(query.end(), idx.begin() + static_cast<long>(nSupport), idx.begin() + static_cast<long>(share));
        }
        const auto& loader = *loaders[static_cast<std::size_t>(episodes[e])];
        const auto sb = loader.load(support), qb = loader.load(query);
        auto input = [&](const GraphBatch& gb) {
          return model::makeGraphInput(gb.fc.to(device_), gb.mask.to(device_), task.texts.task.to(device_), task.texts.atlas.to(device_), modelConfig_);
        };
        const auto sIn = input(sb), qIn = input(qb);
        const auto sy = sb.labels.to(device_), qy = qb.labels.to(device_);
        const auto fast = adapt(sIn, sy, config_.secondOrder);
        const auto lq = loss(qIn, qy, fast);
        {
          torch::NoGradGuard ng;
          queryBefore += loss(qIn, qy, model_->ownWeights()).item<double>();
        }
        queryAfter += lq.item<double>();
        ++counted;
        const auto scaled = lq / static_cast<double>(end - b);
        metaLoss = metaLoss.defined() ? metaLoss + scaled : scaled;
      }
      metaLoss.backward();
      optimizer.step();
      const double done = (epoch + static_cast<double>(end) / static_cast<double>(episodes.size())) / total;
      if (progress.update("meta-epoch " + std::to_string(epoch + 1) + "/" + std::to_string(total), done)) throw CancelledError();
    }
    h.queryLoss.push_back(queryAfter / std::max(1, counted));
    h.queryLossUnadapted.push_back(queryBefore / std::max(1, counted));
    progress.metric("loss/query", epoch + 1, h.queryLoss.back());
    progress.metric("loss/query_unadapted", epoch + 1, h.queryLossUnadapted.back());
    spdlog::debug("meta-epoch {}: query loss {:.4f} (unadapted {:.4f})", epoch + 1, h.queryLoss.back(), h.queryLossUnadapted.back());
  }
  h.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return h;
}

}  // namespace bg::train
