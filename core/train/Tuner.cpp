#include "train/Tuner.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <set>

#include <spdlog/spdlog.h>

#include "errors/Error.h"
#include "io/JsonText.h"
#include "eval/Calibration.h"
#include "eval/Metrics.h"
#include "train/EdgeReadoutFit.h"
#include "train/GraphBatchLoader.h"
#include "train/ModelFile.h"
#include "train/Pretrainer.h"
#include "workspace/Corpus.h"
#include "model/ModelZoo.h"

namespace bg::train {
using nlohmann::json;

json TuningHistory::toJson() const {
  return {{"train_loss", trainLoss},   {"validation_loss", validationLoss}, {"validation_auc", validationAuc},     {"best_epoch", bestEpoch + 1},
          {"best_score", bestScore},   {"temperature", temperature},        {"calibration_bias", calibrationBias}, {"seconds", seconds},
          {"train_items", trainItems}, {"pseudo_labelled", pseudoLabelled}};
}

std::vector<DatasetItem> subsampleLabels(const std::vector<DatasetItem>& items, double fraction, unsigned seed) {
  if (fraction >= 1.0) return items;
  std::vector<int> labels;
  for (const auto& it : items) labels.push_back(it.label);
  std::vector<DatasetItem> out;
  for (auto i : stratifiedLabelShare(labels, fraction, seed)) out.push_back(items[i]);
  return out;
}

std::vector<DatasetItem> subsampleShots(const std::vector<DatasetItem>& items, int perClass, unsigned seed) {
  std::map<int, std::vector<std::size_t>> byClass;
  for (std::size_t i = 0; i < items.size(); ++i) byClass[items[i].label].push_back(i);
  std::mt19937 rng(seed * 7919u + 29u);
  std::vector<std::size_t> keep;
  for (auto& [label, idx] : byClass) {
    std::shuffle(idx.begin(), idx.end(), rng);
    keep.insert(keep.end(), idx.begin(), idx.begin() + static_cast<long>(std::min<std::size_t>(idx.size(), static_cast<std::size_t>(perClass))));
  }
  std::sort(keep.begin(), keep.end());
  std::vector<DatasetItem> out;
  for (auto i : keep) out.push_back(items[i]);
  return out;
}

Tuner::Tuner(const TuningConfig& config, model::GraphClassifier m, TaskTexts texts, torch::Device device)
    : config_(config), model_(std::move(m)), texts_(std::move(texts)), device_(device) {
  model_->to(device_);
  if (!model_->readsNodeFeatures()) fcThreshold_ = model_->describe().at("model").value("adjacency_threshold", 0.3);
  if (texts_.task.defined()) texts_.task = texts_.task.to(device_);
  if (texts_.atlas.defined()) texts_.atlas = texts_.atlas.to(device_);
  for (auto& t : texts_.viewAtlases)
    if (t.defined()) t = t.to(device_);
}

model::GraphBatchInput Tuner::prepare(const GraphBatch& batch, const std::vector<DatasetItem>& items) {
  const auto& item = [&](std::int64_t b) -> const DatasetItem& { return items[static_cast<std::size_t>(batch.items[static_cast<std::size_t>(b)])]; };
  auto in = prepareGraphs(batch, item, texts_.atlas);
  for (std::size_t v = 0; v < batch.views.size(); ++v) {
    if (v >= texts_.viewAtlases.size() && model_->readsNodeFeatures()) throw Error(ErrorCode::Data, "a fused model's batch has more atlases than its texts");
    in.views.push_back(prepareGraphs(
        batch.views[v], [&](std::int64_t b) -> const DatasetItem& { return item(b).views[v]; },
        v < texts_.viewAtlases.size() ? texts_.viewAtlases[v] : torch::Tensor()));
  }
  return in;
}

model::GraphBatchInput Tuner::prepareGraphs(const GraphBatch& batch, const std::function<const DatasetItem&(std::int64_t)>& itemOf,
                                            const torch::Tensor& atlasText) {
  const auto fc = batch.fc.to(device_), mask = batch.mask.to(device_);
  if (!model_->readsNodeFeatures()) return model::makeFcInput(fc, mask, fcThreshold_);
  const auto B = fc.size(0), N = fc.size(1);
  bool cached = true;
  for (std::int64_t b = 0; b < B; ++b) cached = cached && rwseCache_.count(itemOf(b).fcArray);
  if (!cached) {
    const auto full = model::makeGraphInput(fc, mask, texts_.task, atlasText, config_.model);
    const auto k = config_.model.rwseSteps;
    const auto rwse = full.features.narrow(2, config_.model.featureWidth - k, k);
    for (std::int64_t b = 0; b < B; ++b) {
      const auto& item = itemOf(b);
      rwseCache_[item.fcArray] = rwse[b].narrow(0, 0, item.nodes).clone();
    }
    return full;
  }
  auto rwse = torch::zeros({B, N, config_.model.rwseSteps}, fc.options());
  for (std::int64_t b = 0; b < B; ++b) {
    const auto& r = rwseCache_.at(itemOf(b).fcArray);
    rwse[b].narrow(0, 0, r.size(0)).copy_(r);
  }
  return model::makeGraphInput(fc, mask, texts_.task, atlasText, config_.model, rwse);
}

std::vector<double> Tuner::margins(const ArrayStore& store, const std::vector<DatasetItem>& items) {
  torch::NoGradGuard noGrad;
  model_->setTraining(false);
  GraphBatchLoader loader(store, items, 64, 0, false, 0);
  std::vector<double> out;
  out.reserve(items.size());
  for (std::size_t s = 0; s < items.size(); s += 64) {
    std::vector<int> idx;
    for (std::size_t i = s; i < std::min(items.size(), s + 64); ++i) idx.push_back(static_cast<int>(i));
    const auto batch = loader.load(idx);
    const auto m = model::logitMargin(model_->forward(prepare(batch, items))).to(torch::kCPU).to(torch::kDouble).contiguous();
    out.insert(out.end(), m.data_ptr<double>(), m.data_ptr<double>() + m.numel());
  }
  return out;
}

torch::Tensor Tuner::embeddings(const ArrayStore& store, const std::vector<DatasetItem>& items) {
  torch::NoGradGuard noGrad;
  model_->setTraining(false);
  GraphBatchLoader loader(store, items, 64, 0, false, 0);
  std::vector<torch::Tensor> parts;
  for (std::size_t s = 0; s < items.size(); s += 64) {
    std::vector<int> idx;
    for (std::size_t i = s; i < std::min(items.size(), s + 64); ++i) idx.push_back(static_cast<int>(i));
    parts.push_back(model_->embed(prepare(loader.load(idx), items)).to(torch::kCPU).to(torch::kDouble));
  }
  return torch::cat(parts, 0).contiguous();
}

TuningHistory Tuner::fit(const ArrayStore& store, const std::vector<DatasetItem>& allTrain, const std::vector<DatasetItem>& validation,
                         ProgressDelegate& progress) {
  TuningHistory h;
  const auto start = std::chrono::steady_clock::now();
  auto train = config_.shotsPerClass > 0 ? subsampleShots(allTrain, config_.shotsPerClass, config_.seed)
                                         : subsampleLabels(allTrain, config_.labelFraction, config_.seed);
  h.trainItems = static_cast<int>(train.size());
  if (train.empty()) throw Error(ErrorCode::Data, "no training items");
  const int classes = model_->classes();
  std::vector<double> counts(static_cast<std::size_t>(classes), 0.0);
  for (const auto& it : train) {
    if (it.label < 0 || it.label >= classes) throw Error(ErrorCode::Data, "label " + std::to_string(it.label) + " outside the model's classes");
    counts[static_cast<std::size_t>(it.label)] += 1;
  }
  std::vector<float> weights;
  for (double c : counts) weights.push_back(c > 0 ? static_cast<float>(static_cast<double>(train.size()) / (classes * c)) : 0.0f);
  const auto classWeights = torch::tensor(weights).to(device_);

  // The "logreg" edge readout: the model starts as the regression exactly (the head's weights at zero,
  // the per-ROI term at zero already), and that start is a candidate for early stopping like any epoch.
  const auto downstream = std::dynamic_pointer_cast<model::DownstreamModelImpl>(model_);
  const bool linearStart = downstream && downstream->spec().edgeReadout == "logreg";
  if (linearStart) {
    progress.update("fitting the logistic-regression edge readout on " + std::to_string(train.size()) + " training scans", 0.0);
    fitEdgeReadout(*downstream, store, train);
    torch::NoGradGuard ng;
    downstream->head->weight.zero_();
  }
  torch::manual_seed(config_.runSeed());
  auto params = model_->configureTrainable();
  torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(config_.effectiveLearningRate()).weight_decay(config_.weightDecay));
  std::vector<int> valLabels;
  for (const auto& it : validation) valLabels.push_back(it.label);
  const bool aucUsable = std::count(valLabels.begin(), valLabels.end(), 1) > 0 && std::count(valLabels.begin(), valLabels.end(), 0) > 0;
  const bool byAuc = config_.selection == "auc" && aucUsable;

  std::vector<torch::Tensor> best;
  auto snapshot = [&] {
    best.clear();
    for (const auto& p : params) best.push_back(p.detach().clone());
  };
  snapshot();
  h.bestScore = -std::numeric_limits<double>::infinity();
  if (linearStart && !validation.empty()) {  // best epoch 0: the regression alone
    const auto m = margins(store, validation);
    std::vector<double> p;
    for (double x : m) p.push_back(sigmoid(x));
    h.bestScore = byAuc ? binaryMetrics(valLabels, p).auc : -negativeLogLikelihood(m, valLabels, 1.0);
    progress.metric("validation/auc", 0, aucUsable ? binaryMetrics(valLabels, p).auc : 0.5);
  }
  auto loader = std::make_unique<GraphBatchLoader>(store, train, config_.batchSize, config_.runSeed(), true);
  loader->setCropAugmentation(config_.cropAugmentation);
  int sinceBest = 0;
  long graphsSeen = 0;
  for (int epoch = 0; epoch < config_.epochs; ++epoch) {
    if (config_.pseudoLabelThreshold > 0 && epoch == config_.epochs / 2 && epoch > 0 && train.size() < allTrain.size()) {
      // Semi-supervised half: confident predictions on the training items without labels join as labels.
      std::set<std::int64_t> labelled;
      for (const auto& it : train) labelled.insert(it.scanId);
      std::vector<DatasetItem> unlabelled;
      for (const auto& it : allTrain)
        if (!labelled.count(it.scanId)) unlabelled.push_back(it);
      const auto m = margins(store, unlabelled);
      for (std::size_t i = 0; i < unlabelled.size(); ++i) {
        const double p = sigmoid(m[i]);
        if (p >= config_.pseudoLabelThreshold || p <= 1.0 - config_.pseudoLabelThreshold) {
          auto item = unlabelled[i];
          item.label = p >= 0.5 ? 1 : 0;
          train.push_back(item);
          ++h.pseudoLabelled;
        }
      }
      if (h.pseudoLabelled > 0) {
        loader = std::make_unique<GraphBatchLoader>(store, train, config_.batchSize, config_.runSeed(), true);
        loader->setCropAugmentation(config_.cropAugmentation);
      }
      spdlog::info("pseudo-labelled {} of {} unlabelled training scans", h.pseudoLabelled, unlabelled.size());
    }
    torch::manual_seed(static_cast<std::uint64_t>(config_.runSeed()) * 1000003ULL + static_cast<std::uint64_t>(epoch));
    loader->startEpoch(epoch);
    model_->setTraining(true);
    double lossSum = 0;
    int batches = 0;
    const double perEpoch = static_cast<double>(std::max<std::size_t>(1, loader->batchesPerEpoch()));
    while (auto batch = loader->next()) {
      optimizer.zero_grad();
      const auto labels = batch->labels.to(device_);
      const auto perLayer = model_->trainingLogits(prepare(*batch, train), static_cast<double>(epoch) / config_.epochs);
      auto loss = torch::zeros({}, labels.options().dtype(torch::kFloat32));
      for (const auto& logits : perLayer)
        loss = loss + torch::nn::functional::cross_entropy(logits, labels, torch::nn::functional::CrossEntropyFuncOptions().weight(classWeights));
      loss = loss / static_cast<double>(perLayer.size());
      loss.backward();
      optimizer.step();
      const double batchLoss = loss.item<double>();
      lossSum += batchLoss;
      ++batches;
      graphsSeen += batch->labels.size(0);
      const double x = epoch + batches / perEpoch;
      progress.metric("loss/train", x, batchLoss);
      progress.metric("lr", x, config_.effectiveLearningRate());
      if (const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); secs > 0)
        progress.metric("graphs_per_s", x, static_cast<double>(graphsSeen) / secs);
      if (progress.update("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(config_.epochs), (epoch + batches / perEpoch) / config_.epochs))
        throw CancelledError();
    }
    h.trainLoss.push_back(batches ? lossSum / batches : 0.0);
    if (validation.empty()) {  // nothing to select on: the last epoch wins
      h.bestEpoch = epoch;
      snapshot();
      continue;
    }
    const auto m = margins(store, validation);
    const double nll = negativeLogLikelihood(m, valLabels, 1.0);
    std::vector<double> p;
    for (double x : m) p.push_back(sigmoid(x));
    const double auc = aucUsable ? binaryMetrics(valLabels, p).auc : 0.5;
    h.validationLoss.push_back(nll);
    h.validationAuc.push_back(auc);
    progress.metric("validation/auc", epoch + 1, auc);
    progress.metric("validation/loss", epoch + 1, nll);
    const double score = byAuc ? auc : -nll;
    if (score > h.bestScore + 1e-9) {
      h.bestScore = score;
      h.bestEpoch = epoch;
      sinceBest = 0;
      snapshot();
    } else if (++sinceBest >= config_.patience) {
      spdlog::debug("early stop after epoch {} (best {})", epoch + 1, h.bestEpoch + 1);
      break;
    }
  }
  {
    torch::NoGradGuard noGrad;
    for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(best[i]);
  }
  calibration_ = {};
  if (!validation.empty()) calibration_ = fitCalibration(config_.calibration, margins(store, validation), valLabels);
  h.temperature = calibration_.temperature;
  h.calibrationBias = calibration_.bias;
  h.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return h;
}

namespace {
// A pre-training model file (pretrain --out): the archive and its configuration.
std::pair<torch::serialize::InputArchive, PretrainConfig> openPretrained(const std::filesystem::path& file) {
  auto archive = openModelArchive(file);
  c10::IValue v;
  if (!archive.try_read("config_json", v)) throw Error(ErrorCode::Data, "not a pre-training model file (no configuration)");
  auto config = PretrainConfig::fromJson(json::parse(v.toStringRef()));
  return {std::move(archive), std::move(config)};
}
}  // namespace

model::BrainGfmConfig pretrainedModelConfig(const std::filesystem::path& file) {
  return withContext("while reading the pre-trained model " + file.string(), [&] { return openPretrained(file).second.model; });
}

json pretrainedExtra(const std::filesystem::path& file) {
  return withContext("while reading the pre-trained model " + file.string(), [&] {
    auto [archive, saved] = openPretrained(file);
    c10::IValue v;
    return archive.try_read("extra_json", v) ? json::parse(v.toStringRef()) : json::object();
  });
}

json loadPretrainedEncoder(model::BrainGfmEncoder& encoder, const std::filesystem::path& file) {
  return withContext("while loading the pre-trained model " + file.string(), [&] {
    auto [archive, saved] = openPretrained(file);
    if (saved.model.toJson() != encoder->config().toJson())
      throw Error(ErrorCode::Config, "the pre-trained encoder has another configuration: " + saved.model.toJson().dump());
    torch::serialize::InputArchive sub;
    archive.read("encoder", sub);
    encoder->load(sub);
    json extra = json::object();
    c10::IValue v;
    if (archive.try_read("extra_json", v)) extra = json::parse(v.toStringRef());
    return extra;
  });
}

}  // namespace bg::train
