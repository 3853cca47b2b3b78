#include "train/Pretrainer.h"

#include <chrono>
#include <cstdlib>
#include <thread>

#include <spdlog/spdlog.h>

#include "errors/Error.h"
#include "io/JsonText.h"
#include "train/Distributed.h"
#include "train/ModelFile.h"

namespace bg::train {
using nlohmann::json;

Pretrainer::Pretrainer(const PretrainConfig& c, torch::Device device) : config_(c), device_(device) {
  torch::manual_seed(c.seed);
  encoder_ = model::BrainGfmEncoder(c.model);
  const int h = c.model.hidden;
  projection_ = torch::nn::Sequential(torch::nn::Linear(h, h), torch::nn::ReLU(), torch::nn::Linear(h, h));
  decoder_ = torch::nn::Sequential(torch::nn::Linear(h, h), torch::nn::ReLU(), torch::nn::Linear(h, c.model.featureWidth));
  nodeIdentity_ = torch::nn::Embedding(c.model.featureWidth, h);
  for (auto* m : std::initializer_list<torch::nn::Module*>{encoder_.get(), projection_.get(), decoder_.get(), nodeIdentity_.get()}) m->to(device_);
  taskText_ = torch::zeros({c.model.textDimension}, torch::TensorOptions(device_));
  atlasText_ = torch::zeros({c.model.textDimension}, torch::TensorOptions(device_));
  optimizer_ = std::make_unique<torch::optim::Adam>(parameters(), torch::optim::AdamOptions(c.learningRate));
}

std::vector<torch::Tensor> Pretrainer::parameters() const {
  std::vector<torch::Tensor> out;
  for (auto* m : std::initializer_list<const torch::nn::Module*>{encoder_.get(), projection_.get(), decoder_.get(), nodeIdentity_.get()})
    for (const auto& p : m->parameters()) out.push_back(p);
  return out;
}

bool Pretrainer::gclActive(int epoch) const {
  if (config_.mode == "gcl" || config_.mode == "sum") return true;
  if (config_.mode == "sequential") return epoch < static_cast<int>(config_.gclFraction * config_.epochs);
  return false;
}
bool Pretrainer::gmaeActive(int epoch) const {
  if (config_.mode == "gmae" || config_.mode == "sum") return true;
  if (config_.mode == "sequential") return !gclActive(epoch);
  return false;
}

double Pretrainer::scheduled(double start, double end, int epoch) const {
  const double t = config_.epochs > 1 ? static_cast<double>(epoch) / (config_.epochs - 1) : 0.0;
  return start + (end - start) * t;
}

void Pretrainer::setAtlasTexts(const std::map<std::string, torch::Tensor>& texts) {
  atlasTexts_.clear();
  for (const auto& [atlas, t] : texts) atlasTexts_[atlas] = t.to(device_);
  if (atlasTexts_.size() == 1) atlasText_ = atlasTexts_.begin()->second;  // a single-atlas corpus: every graph reads it
}

torch::Tensor Pretrainer::atlasTextsFor(const std::vector<std::string>& atlases, std::int64_t graphs) const {
  if (atlasTexts_.size() < 2 || static_cast<std::int64_t>(atlases.size()) != graphs) return atlasText_;
  std::vector<torch::Tensor> rows;
  for (const auto& a : atlases) {
    const auto it = atlasTexts_.find(a);
    rows.push_back(it == atlasTexts_.end() ? atlasText_ : it->second);
  }
  return torch::stack(rows);
}

model::GraphBatchInput Pretrainer::prepare(const GraphBatch& b) const {
  return model::makeGraphInput(b.fc.to(device_), b.mask.to(device_), taskText_, atlasTextsFor(b.atlases, b.fc.size(0)), config_.model);
}

namespace {
// One generator per (seed, epoch, item, purpose): the same choices whatever the batch or process.
at::Generator generatorFor(unsigned seed, int epoch, std::int64_t item, int purpose) {
  std::uint64_t s =
      seed * 0x9E3779B97F4A7C15ULL ^ (static_cast<std::uint64_t>(epoch) << 40) ^ (static_cast<std::uint64_t>(item) << 4) ^ static_cast<std::uint64_t>(purpose);
  return at::detail::createCPUGenerator(s);
}

torch::Tensor symmetricKeep(std::int64_t n, double drop, at::Generator& gen) {
  auto keep = (torch::rand({n, n}, gen) >= drop).to(torch::kFloat32).triu(1);
  return keep + keep.transpose(0, 1) + torch::eye(n);
}

torch::Tensor ntXent(const torch::Tensor& z1, const torch::Tensor& z2, double temperature) {
  const auto b = z1.size(0);
  auto z = torch::nn::functional::normalize(torch::cat({z1, z2}, 0), torch::nn::functional::NormalizeFuncOptions().dim(1));
  auto sim = torch::matmul(z, z.t()) / temperature;
  sim = sim - torch::eye(2 * b, sim.options()) * 1e9;  // a sample is not its own negative
  auto targets = torch::cat({torch::arange(b, 2 * b), torch::arange(0, b)}).to(z.device());
  return torch::nn::functional::cross_entropy(sim, targets);
}
}  // namespace

// (The same decoding as in step(), for inspection.)
torch::Tensor Pretrainer::reconstruct(const model::GraphBatchInput& input, const torch::Tensor& masked) {
  auto in = input;
  in.maskedNodes = masked;
  const auto out = encoder_->forward(in);
  const auto n = out.nodes.size(1);
  const auto identity = nodeIdentity_->forward(torch::arange(n, torch::TensorOptions(torch::kLong).device(device_)));
  const auto atlasToken = out.tokens.select(1, 1).unsqueeze(1);
  return decoder_->forward(out.nodes + identity.unsqueeze(0) + atlasToken);
}

PretrainLosses Pretrainer::step(const GraphBatch& batch, const std::vector<std::int64_t>& ids, int epoch) {
  encoder_->train();
  const auto base = prepare(batch);
  const auto B = base.features.size(0), N = base.features.size(1), D = base.features.size(2);
  const double edgeDrop = scheduled(config_.edgeDropStart, config_.edgeDropEnd, epoch);
  optimizer_->zero_grad();
  PretrainLosses losses;
  losses.graphs = static_cast<int>(B);
  torch::Tensor total = torch::zeros({}, torch::TensorOptions(device_));
  const bool gcl = gclActive(epoch), gmae = gmaeActive(epoch);
  // GCL's views: feature-column dropout with edge dropout. When GMAE runs too, its masked view
  // (mask tokens + dropped edges, itself an augmentation) serves as GCL's first view, so a step
  // costs two encoder passes instead of three.
  auto featureView = [&](const model::GraphBatchInput& from, int purpose) {
    std::vector<torch::Tensor> featureKeep, edgeKeep;
    const auto n = from.features.size(1);  // a cross-atlas view has its own node count
    for (std::int64_t k = 0; k < B; ++k) {
      auto gen = generatorFor(config_.seed, epoch, ids[static_cast<std::size_t>(k)], purpose);
      // Whole feature columns are dropped (one random number per column, not per value).
      featureKeep.push_back((torch::rand({1, D}, gen) >= config_.featureDrop).to(torch::kFloat32));
      edgeKeep.push_back(symmetricKeep(n, edgeDrop, gen));
    }
    auto in = from;
    in.features = from.features * torch::stack(featureKeep).to(device_);
    in.adjacency = from.adjacency * torch::stack(edgeKeep).to(device_);
    return in;
  };
  torch::Tensor firstView;  // graph embeddings of GCL's first view
  if (gmae) {
    const double ratio = scheduled(config_.maskRatioStart, config_.maskRatioEnd, epoch);
    auto masked = torch::zeros({B, N}, torch::kBool);
    std::vector<torch::Tensor> edgeKeep;
    const auto realCounts = batch.mask.sum(1);
    for (std::int64_t k = 0; k < B; ++k) {
      auto gen = generatorFor(config_.seed, epoch, ids[static_cast<std::size_t>(k)], 3);
      const auto n = realCounts[k].item<std::int64_t>();
      const auto m = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::llround(ratio * static_cast<double>(n))));
      masked[k].index_fill_(0, torch::randperm(n, gen, torch::kLong).narrow(0, 0, m), true);
      edgeKeep.push_back(symmetricKeep(N, edgeDrop, gen));
    }
    masked = masked.to(device_);
    auto in = base;
    in.adjacency = base.adjacency * torch::stack(edgeKeep).to(device_);
    in.maskedNodes = masked;
    const auto out = encoder_->forward(in);
    const auto identity = nodeIdentity_->forward(torch::arange(N, torch::TensorOptions(torch::kLong).device(device_)));
    const auto predicted = decoder_->forward(out.nodes + identity.unsqueeze(0) + out.tokens.select(1, 1).unsqueeze(1));
    const auto m = masked.unsqueeze(-1).to(torch::kFloat32);
    const auto loss = ((predicted - base.features).pow(2) * m).sum() / (m.sum() * static_cast<double>(D));
    losses.gmae = loss.item<double>();
    total = total + loss;
    if (gcl) firstView = projection_->forward(out.graph);
  }
  if (gcl) {
    if (!firstView.defined()) firstView = projection_->forward(encoder_->forward(featureView(base, 1)).graph);
    // Contrastive windows: the second view is another window of the same scans; cross-atlas views:
    // the same scans in another parcellation, with their own mask and atlas tokens.
    const auto secondBase = !batch.fcSecond.defined() ? base
                            : batch.maskSecond.defined()
                                ? model::makeGraphInput(batch.fcSecond.to(device_), batch.maskSecond.to(device_), taskText_,
                                                        atlasTextsFor(batch.atlasesSecond, batch.fcSecond.size(0)), config_.model)
                                : model::makeGraphInput(batch.fcSecond.to(device_), batch.mask.to(device_), taskText_, base.atlasText, config_.model);
    const auto second = projection_->forward(encoder_->forward(featureView(secondBase, 2)).graph);
    const auto loss = ntXent(firstView, second, config_.temperature);
    losses.gcl = loss.item<double>();
    total = total + loss;
  }
  total.backward();
  if (allReduceGradients) {
    auto params = parameters();
    allReduceGradients(params);
  }
  optimizer_->step();
  losses.total = losses.gcl + losses.gmae;
  return losses;
}

void Pretrainer::saveCheckpoint(const std::filesystem::path& file, int nextEpoch, const json& extra) const {
  torch::serialize::OutputArchive archive;
  const std::pair<const char*, const torch::nn::Module*> modules[] = {
      {"encoder", encoder_.get()}, {"projection", projection_.get()}, {"decoder", decoder_.get()}, {"node_identity", nodeIdentity_.get()}};
  for (const auto& [name, m] : modules) {
    torch::serialize::OutputArchive sub;
    m->save(sub);
    archive.write(name, sub);
  }
  torch::serialize::OutputArchive opt;
  optimizer_->save(opt);
  archive.write("optimizer", opt);
  archive.write("config_json", c10::IValue(config_.toJson().dump()));
  archive.write("extra_json", c10::IValue(extra.dump()));
  archive.write("next_epoch", c10::IValue(static_cast<std::int64_t>(nextEpoch)));
  saveArchiveAtomically(archive, file, "checkpoint");
}

std::pair<int, json> Pretrainer::loadCheckpoint(const std::filesystem::path& file) {
  return withContext("while loading checkpoint " + file.string(), [&] {
    torch::serialize::InputArchive archive;
    try {
      archive.load_from(file.string(), device_);
    } catch (const std::exception& e) {
      throw Error(ErrorCode::Data, "not a readable checkpoint (truncated, or not a pre-training checkpoint; delete it to start again): " +
                                       withoutBacktrace(e.what()).substr(0, 300));
    }
    c10::IValue v;
    archive.read("config_json", v);
    const auto saved = PretrainConfig::fromJson(json::parse(v.toStringRef()));
    if (saved.model.toJson() != config_.model.toJson()) throw Error(ErrorCode::Config, "the checkpoint was made with another model configuration");
    const std::pair<const char*, torch::nn::Module*> modules[] = {
        {"encoder", encoder_.get()}, {"projection", projection_.get()}, {"decoder", decoder_.get()}, {"node_identity", nodeIdentity_.get()}};
    for (const auto& [name, m] : modules) {
      torch::serialize::InputArchive sub;
      archive.read(name, sub);
      m->load(sub);
    }
    torch::serialize::InputArchive opt;
    archive.read("optimizer", opt);
    optimizer_->load(opt);
    archive.read("extra_json", v);
    const json extra = json::parse(v.toStringRef());
    archive.read("next_epoch", v);
    return std::make_pair(static_cast<int>(v.toInt()), extra);
  });
}

double Pretrainer::learningRate() const { return static_cast<const torch::optim::AdamOptions&>(optimizer_->param_groups().front().options()).lr(); }

PretrainRunResult runPretraining(const ArrayStore& store, const std::vector<DatasetItem>& items, const PretrainConfig& config,
                                 const std::filesystem::path& checkpoint, bool resume, const json& extra, ProgressDelegate& progress, torch::Device device,
                                 DataParallel* parallel, const AtlasTexts& atlasTexts) {
  PretrainRunResult result;
  const int rank = parallel ? parallel->rank() : 0, worldSize = parallel ? parallel->worldSize() : 1;
  Pretrainer trainer(config, device);
  trainer.setAtlasTexts(atlasTexts);
  if (resume && std::filesystem::exists(checkpoint)) {
    result.startEpoch = trainer.loadCheckpoint(checkpoint).first;
    spdlog::info("resuming pre-training at epoch {} from {}", result.startEpoch + 1, checkpoint.string());
  } else if (rank == 0) {
    trainer.saveCheckpoint(checkpoint, 0, extra);  // a cancel at any time leaves a checkpoint
  }
  if (parallel) {
    auto params = trainer.parameters();
    parallel->broadcastFromRankZero(params);
    trainer.allReduceGradients = [parallel](std::vector<torch::Tensor>& p) { parallel->averageGradients(p); };
  }
  GraphBatchLoader loader(store, items, config.batchSize, config.seed, config.bucketByNodes);
  loader.setShard(rank, worldSize);
  loader.setCropAugmentation(config.cropAugmentation);
  loader.setSecondWindow(config.contrastiveWindows);
  if (config.crossAtlasViews) {
    const auto paired = loader.setCrossAtlasViews(true);
    if (paired == 0)
      throw Error(ErrorCode::Config,
                  "cross_atlas_views pairs a scan's graphs in two atlases, and no scan of this corpus has graphs in two (create the corpus "
                  "with several atlases: corpus create --atlas cc200,ho)");
    spdlog::info("cross-atlas views: {} of {} graphs have the same scan in another atlas", paired, items.size());
  }
  const auto start = std::chrono::steady_clock::now();
  long graphs = 0;
  // For tests of the run controls (pause, resume, cancel): each step takes at least this long, so a
  // small run cannot end before the controls are tried. Not a user setting.
  const char* stepDelay = std::getenv("BRAINGRAPH_TEST_STEP_DELAY_MS");
  const auto minimumStep = std::chrono::milliseconds(stepDelay ? std::max(0, std::atoi(stepDelay)) : 0);
  for (int epoch = result.startEpoch; epoch < config.epochs; ++epoch) {
    // Dropout draws from the global generator: seeding it per epoch makes a resumed run
    // continue exactly as an uninterrupted one.
    torch::manual_seed(static_cast<std::uint64_t>(config.seed) * 1000003ULL + static_cast<std::uint64_t>(epoch));
    loader.startEpoch(epoch);
    PretrainLosses mean;
    int batches = 0;
    const auto perEpoch = static_cast<double>(loader.batchesPerEpoch());
    while (auto batch = loader.next()) {
      if (minimumStep.count() > 0) std::this_thread::sleep_for(minimumStep);
      std::vector<std::int64_t> ids;
      for (int i : batch->items) ids.push_back(items[static_cast<std::size_t>(i)].scanId);
      const auto l = trainer.step(*batch, ids, epoch);
      mean.gcl += l.gcl;
      mean.gmae += l.gmae;
      mean.total += l.total;
      graphs += l.graphs;
      ++batches;
      const double done = (epoch - result.startEpoch + batches / perEpoch) / std::max(1, config.epochs - result.startEpoch);
      // Curves for the dashboard, x in epochs.
      const double x = epoch + batches / perEpoch;
      progress.metric("loss/total", x, l.total);
      if (trainer.gclActive(epoch)) progress.metric("loss/gcl", x, l.gcl);
      if (trainer.gmaeActive(epoch)) progress.metric("loss/gmae", x, l.gmae);
      progress.metric("lr", x, trainer.learningRate());
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (secs > 0) progress.metric("graphs_per_s", x, static_cast<double>(graphs) / secs);
      if (progress.update("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(config.epochs) + ", loss " + std::to_string(l.total), done))
        throw CancelledError();  // the last epoch's checkpoint stays
    }
    if (batches) {
      mean.gcl /= batches;
      mean.gmae /= batches;
      mean.total /= batches;
    }
    result.epochLosses.push_back(mean);
    if (rank == 0) trainer.saveCheckpoint(checkpoint, epoch + 1, extra);
    spdlog::debug("epoch {}: gcl {:.5f} gmae {:.5f}", epoch + 1, mean.gcl, mean.gmae);
  }
  // Other ranks keep their final state beside the checkpoint, so agreement between ranks can be checked.
  if (rank != 0) {
    auto own = checkpoint;
    own += ".rank" + std::to_string(rank);
    trainer.saveCheckpoint(own, config.epochs, extra);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.graphsPerSecond = secs > 0 ? static_cast<double>(graphs) / secs : 0;
  return result;
}

}  // namespace bg::train
