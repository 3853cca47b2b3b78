#include "train/ZooPretraining.h"

#include <chrono>
#include <cmath>
#include <set>

#include <spdlog/spdlog.h>

#include "errors/Error.h"
#include "model/ModelZoo.h"
#include "train/GraphBatchLoader.h"
#include "train/ModelFile.h"
#include "train/PublicCheckpoint.h"
#include "workspace/ArrayStore.h"
#include "workspace/WorkspaceQueries.h"

namespace bg::train {
using nlohmann::json;

torch::Tensor pseudoFc(const torch::Tensor& series, double drop, torch::Generator& generator) {
  const auto T = series.size(0);
  const auto keep = std::max<std::int64_t>(3, static_cast<std::int64_t>(std::llround((1.0 - drop) * static_cast<double>(T))));
  const auto idx = std::get<0>(torch::randperm(T, generator, torch::kLong).narrow(0, 0, std::min(keep, T)).sort());
  auto x = series.index_select(0, idx.to(series.device()));
  x = x - x.mean(0, true);
  x = x / x.pow(2).sum(0, true).sqrt().clamp_min(1e-8);
  auto fc = torch::matmul(x.t(), x);
  fc.fill_diagonal_(1.0);
  return fc;
}

namespace {

// Pads [N_i, N_i] matrices into [B, N, N] with a [B, N] mask.
std::pair<torch::Tensor, torch::Tensor> padBatch(const std::vector<torch::Tensor>& fcs, torch::Device device) {
  std::int64_t n = 0;
  for (const auto& f : fcs) n = std::max(n, f.size(0));
  auto fc = torch::zeros({static_cast<std::int64_t>(fcs.size()), n, n});
  auto mask = torch::zeros({static_cast<std::int64_t>(fcs.size()), n}, torch::kBool);
  for (std::size_t b = 0; b < fcs.size(); ++b) {
    const auto k = fcs[b].size(0);
    fc[static_cast<std::int64_t>(b)].narrow(0, 0, k).narrow(1, 0, k).copy_(fcs[b]);
    mask[static_cast<std::int64_t>(b)].narrow(0, 0, k).fill_(true);
  }
  return {fc.to(device), mask.to(device)};
}

torch::Tensor byolLoss(const torch::Tensor& prediction, const torch::Tensor& target) {
  return (2.0 - 2.0 * torch::cosine_similarity(prediction, target.detach(), 1)).mean();
}

}  // namespace

// ---- BrainMass

BrainMassPretrainer::BrainMassPretrainer(const ZooPretrainConfig& config, int maxNodes, torch::Device device) : config_(config), device_(device) {
  model::AdaptationSpec spec;
  spec.method = "scratch";
  torch::manual_seed(config.seed);
  online_ = std::make_shared<model::BrainMassClassifierImpl>(config.zoo(), spec, 2, maxNodes);
  target_ = std::make_shared<model::BrainMassClassifierImpl>(config.zoo(), spec, 2, maxNodes);
  online_->to(device);
  target_->to(device);
  {
    torch::NoGradGuard ng;
    const auto src = online_->targetTrackedParameters();
    auto dst = target_->targetTrackedParameters();
    for (std::size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
  }
  for (auto& p : target_->parameters()) p.set_requires_grad(false);
  // Everything but the classification head (which pre-training does not use) trains, the mask
  // embedding and the MRM head included.
  const auto headParams = online_->head->parameters();
  for (auto& p : online_->parameters())
    if (std::none_of(headParams.begin(), headParams.end(), [&](const torch::Tensor& h) { return h.is_same(p); })) trainable_.push_back(p);
  optimizer_ = std::make_unique<torch::optim::AdamW>(trainable_, torch::optim::AdamWOptions(config.learningRate).weight_decay(config.weightDecay));
}

ObjectiveLosses BrainMassPretrainer::step(const std::vector<torch::Tensor>& series, torch::Generator& generator) {
  if (series.size() < 2) throw Error(ErrorCode::Data, "BrainMass pre-training needs at least two scans per batch (InfoNCE contrasts them)");
  std::vector<torch::Tensor> view1, view2;
  for (const auto& s : series) {
    view1.push_back(pseudoFc(s, config_.dropTimepoints, generator));
    view2.push_back(pseudoFc(s, config_.dropTimepoints, generator));
  }
  const auto [fc1, mask] = padBatch(view1, device_);
  const auto fc2 = padBatch(view2, device_).first;
  // Masked ROIs: a share of each scan's real ROIs (at least one).
  const auto scores = torch::rand(mask.sizes(), generator).to(device_).masked_fill(mask.logical_not(), 2.0);
  const auto rank = model::rowRanks(scores, false).to(torch::kFloat32);
  const auto limit = (mask.sum(1).to(torch::kFloat32) * config_.maskRatio).ceil().clamp_min(1).unsqueeze(1);
  const auto masked = (rank < limit).logical_and(mask);

  online_->setTraining(true);
  const auto e1 = online_->encode(fc1, mask, masked);
  const auto e2 = online_->encode(fc2, mask);
  const auto p1 = online_->predictor->forward(online_->projector->forward(e1.representation));
  const auto p2 = online_->predictor->forward(online_->projector->forward(e2.representation));
  torch::Tensor z1, z2;
  {
    torch::NoGradGuard ng;
    target_->train();
    z1 = target_->projector->forward(target_->encode(fc1, mask).representation);
    z2 = target_->projector->forward(target_->encode(fc2, mask).representation);
  }
  const auto byol = byolLoss(p1, z2) + byolLoss(p2, z1);

  // Mask-ROI modelling: predict each masked ROI's FC row (of the unmasked view 1).
  const auto maxNodes = online_->maxNodes();
  const auto predicted = online_->mrmHead->forward(e1.tokens.index({masked}));  // [M, maxNodes]
  const auto truth = model::padColumns(fc1, maxNodes).index({masked});          // [M, maxNodes]
  const auto columns = model::padColumns(mask.to(torch::kFloat32), maxNodes).unsqueeze(1).expand({-1, fc1.size(1), -1}).index({masked});
  const auto mse = ((predicted - truth).pow(2) * columns).sum() / columns.sum().clamp_min(1.0);
  // InfoNCE on rows centred on the batch's mean row of the same ROI: raw FC rows of one ROI are
  // nearly parallel across scans, so only the deviations can tell a scan's own row from the others'.
  const auto padded = model::padColumns(fc1, maxNodes);
  const auto realRows = mask.to(torch::kFloat32).unsqueeze(-1);
  const auto rowMean = (padded * realRows).sum(0) / realRows.sum(0).clamp_min(1.0);  // [N, maxNodes]
  const auto centre = rowMean.unsqueeze(0).expand_as(padded).index({masked});
  const auto pn = torch::nn::functional::normalize((predicted - centre) * columns, torch::nn::functional::NormalizeFuncOptions().dim(1));
  const auto tn = torch::nn::functional::normalize((truth - centre) * columns, torch::nn::functional::NormalizeFuncOptions().dim(1));
  const auto logits = torch::matmul(pn, tn.t()) / config_.temperature;
  const auto infoNce = torch::nn::functional::cross_entropy(logits, torch::arange(logits.size(0), torch::TensorOptions().dtype(torch::kLong).device(device_)));
  const auto total = byol + config_.infoNceWeight * infoNce + config_.mseWeight * mse;
  optimizer_->zero_grad();
  total.backward();
  optimizer_->step();
  {
    torch::NoGradGuard ng;
    const auto src = online_->targetTrackedParameters();
    auto dst = target_->targetTrackedParameters();
    for (std::size_t i = 0; i < src.size(); ++i) dst[i].mul_(config_.momentum).add_(src[i], 1.0 - config_.momentum);
  }
  // Collapse monitor (BYOL's failure mode): the spread across the batch of the L2-normalised
  // representations, about 1/sqrt(width) when healthy and 0 when every scan maps to one point.
  const auto spread =
      torch::nn::functional::normalize(e2.representation.detach(), torch::nn::functional::NormalizeFuncOptions().dim(1)).std(0).mean().item<double>();
  return {{"byol", byol.item<double>()},
          {"infonce", infoNce.item<double>()},
          {"mse", mse.item<double>()},
          {"total", total.item<double>()},
          {"representation_std", spread}};
}

// ---- LCM

LcmPretrainer::LcmPretrainer(const ZooPretrainConfig& config, int maxNodes, model::LcmVariables variables, torch::Device device)
    : config_(config), device_(device) {
  if (variables.list.empty()) throw Error(ErrorCode::Data, "LCM pre-training needs phenotypes to predict (diagnosis, sex, age, site): none found");
  model::AdaptationSpec spec;
  spec.method = "scratch";
  torch::manual_seed(config.seed);
  model_ = std::make_shared<model::LcmClassifierImpl>(config.zoo(), spec, 2, maxNodes, std::move(variables));
  model_->to(device);
  // The task query and head are downstream parts: pre-training leaves them out.
  std::vector<torch::Tensor> params;
  const auto headParams = model_->head->parameters();
  for (auto& p : model_->parameters())
    if (!p.is_same(model_->taskQuery) && std::none_of(headParams.begin(), headParams.end(), [&](const torch::Tensor& h) { return h.is_same(p); }))
      params.push_back(p);
  sgd_ = std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(config.sgdLearningRate).momentum(config.sgdMomentum));
  adam_ = std::make_unique<torch::optim::AdamW>(params, torch::optim::AdamWOptions(config.learningRate).weight_decay(config.weightDecay));
}

ObjectiveLosses LcmPretrainer::step(const torch::Tensor& fc, const torch::Tensor& mask, const LcmTargets& targets, bool stageOne) {
  model_->train();
  const auto outputs = model_->variableOutputsPerLayer(fc.to(device_), mask.to(device_));
  const auto& vars = model_->variables().list;
  ObjectiveLosses losses;
  auto total = torch::zeros({}, torch::TensorOptions().device(device_));
  int used = 0;
  for (std::size_t v = 0; v < vars.size(); ++v) {
    const auto& values = targets.values[v];
    std::vector<std::int64_t> rows;
    std::vector<double> y;
    for (std::size_t b = 0; b < values.size(); ++b)
      if (std::isfinite(values[b]) && (vars[v].regression || values[b] >= 0)) {
        rows.push_back(static_cast<std::int64_t>(b));
        y.push_back(values[b]);
      }
    if (rows.empty()) continue;  // nobody in this batch has the variable
    const auto index = torch::tensor(rows, torch::kLong).to(device_);
    const auto& layerOutputs = outputs[v];
    auto loss = torch::zeros({}, torch::TensorOptions().device(device_));
    const std::size_t first = stageOne ? 0 : layerOutputs.size() - 1;
    for (std::size_t l = first; l < layerOutputs.size(); ++l) {
      const auto out = layerOutputs[l].index_select(0, index);
      if (vars[v].regression) {
        loss = loss + torch::mse_loss(out.squeeze(1), torch::tensor(y, torch::kDouble).to(torch::kFloat32).to(device_));
      } else {
        std::vector<std::int64_t> cls(y.begin(), y.end());
        loss = loss + torch::nn::functional::cross_entropy(out, torch::tensor(cls, torch::kLong).to(device_));
      }
    }
    loss = loss / static_cast<double>(layerOutputs.size() - first);
    losses[vars[v].name] = loss.item<double>();
    total = total + loss;
    ++used;
  }
  if (used == 0) return {{"total", 0.0}};
  total = total / used;
  auto& opt = stageOne ? static_cast<torch::optim::Optimizer&>(*sgd_) : static_cast<torch::optim::Optimizer&>(*adam_);
  opt.zero_grad();
  total.backward();
  torch::nn::utils::clip_grad_norm_(model_->parameters(), 5.0);
  opt.step();
  losses["total"] = total.item<double>();
  return losses;
}

model::LcmVariables lcmVariablesFrom(const std::vector<std::map<std::string, std::string>>& phenotypes, const std::vector<std::string>& datasets,
                                     const std::string& labelField) {
  model::LcmVariables out;
  auto categorical = [&](const std::string& name, const std::string& field, const std::string& dataset) {
    std::set<std::string> values;
    for (std::size_t i = 0; i < phenotypes.size(); ++i) {
      if (!dataset.empty() && datasets[i] != dataset) continue;
      if (auto it = phenotypes[i].find(field); it != phenotypes[i].end() && !it->second.empty()) values.insert(it->second);
    }
    if (values.size() < 2 || values.size() > 64) return;  // nothing to learn, or not a category
    model::LcmVariable v;
    v.name = name;
    v.phenotype = field;
    v.dataset = dataset;
    v.classes.assign(values.begin(), values.end());
    out.list.push_back(v);
  };
  for (const auto& d : std::set<std::string>(datasets.begin(), datasets.end())) categorical(labelField + "@" + d, labelField, d);
  if (labelField != "sex") categorical("sex", "sex", "");
  if (labelField != "site") categorical("site", "site", "");
  // Age: standardised.
  std::vector<double> ages;
  for (const auto& p : phenotypes)
    if (auto it = p.find("age"); it != p.end()) {
      try {
        ages.push_back(std::stod(it->second));
      } catch (const std::exception&) {
      }
    }
  if (ages.size() >= 2) {
    double mean = 0, var = 0;
    for (double a : ages) mean += a;
    mean /= static_cast<double>(ages.size());
    for (double a : ages) var += (a - mean) * (a - mean);
    model::LcmVariable v;
    v.name = v.phenotype = "age";
    v.regression = true;
    v.mean = mean;
    v.sd = std::max(1e-6, std::sqrt(var / static_cast<double>(ages.size() - 1)));
    out.list.push_back(v);
  }
  return out;
}

LcmTargets lcmTargets(const model::LcmVariables& variables, const std::vector<const std::map<std::string, std::string>*>& phenotypes,
                      const std::vector<const std::string*>& datasets) {
  LcmTargets t;
  for (const auto& v : variables.list) {
    std::vector<double> col;
    for (std::size_t b = 0; b < phenotypes.size(); ++b) {
      double value = v.regression ? std::nan("") : -1.0;
      const auto& p = *phenotypes[b];
      if (auto it = p.find(v.phenotype); it != p.end() && (v.dataset.empty() || *datasets[b] == v.dataset)) {
        if (v.regression) {
          try {
            value = (std::stod(it->second) - v.mean) / v.sd;
          } catch (const std::exception&) {
          }
        } else if (auto c = std::find(v.classes.begin(), v.classes.end(), it->second); c != v.classes.end()) {
          value = static_cast<double>(c - v.classes.begin());
        }
      }
      col.push_back(value);
    }
    t.values.push_back(std::move(col));
  }
  return t;
}

void phenotypesOfItems(Workspace& ws, const std::vector<DatasetItem>& items, const std::vector<std::string>& fields,
                       std::vector<std::map<std::string, std::string>>& phenotypes, std::vector<std::string>& datasets) {
  std::map<std::int64_t, const ScanListing*> byId;
  const auto scans = listScans(ws, fields);
  for (const auto& s : scans) byId[s.id] = &s;
  phenotypes.clear();
  datasets.clear();
  for (const auto& it : items) {
    const auto found = byId.find(it.scanId);
    phenotypes.push_back(found == byId.end() ? std::map<std::string, std::string>{} : found->second->phenotypes);
    datasets.push_back(found == byId.end() ? std::string() : found->second->dataset);
  }
}

// ---- running and files

namespace {

torch::Tensor matrixTensor(const Eigen::MatrixXd& m) {
  const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> f = m.cast<float>();
  return torch::from_blob(const_cast<float*>(f.data()), {f.rows(), f.cols()}, torch::kFloat32).clone();
}

void savePretrained(const std::filesystem::path& out, torch::nn::Module& m, const ZooPretrainConfig& config, const json& extra) {
  torch::serialize::OutputArchive archive, sub;
  m.save(sub);
  archive.write("model", sub);
  archive.write("config_json", c10::IValue(config.toJson().dump()));
  archive.write("extra_json", c10::IValue(extra.dump()));
  saveArchiveAtomically(archive, out, "pre-trained model");
}

}  // namespace

ZooPretrainResult runZooPretraining(const ArrayStore& store, const std::vector<DatasetItem>& items, const ZooPretrainConfig& config,
                                    const std::vector<std::map<std::string, std::string>>& phenotypes, const std::vector<std::string>& datasets,
                                    const std::string& labelField, const std::filesystem::path& out, json extra, ProgressDelegate& progress,
                                    torch::Device device) {
  if (items.size() < 2) throw Error(ErrorCode::Data, "pre-training needs at least two scans");
  int maxNodes = 0;
  for (const auto& it : items) maxNodes = std::max(maxNodes, static_cast<int>(it.nodes));
  const bool brainMass = config.architecture == "brainmass";
  if (brainMass)
    for (const auto& it : items)
      if (it.seriesArray.empty())
        throw Error(ErrorCode::Data, "BrainMass pre-training draws pseudo-FC views from ROI time series, and scan " + std::to_string(it.scanId) +
                                         " has none in this corpus (re-derive it)");
  std::unique_ptr<BrainMassPretrainer> bm;
  std::unique_ptr<LcmPretrainer> lcm;
  std::unique_ptr<GraphBatchLoader> fcLoader;  // LCM reads the FC matrices; batches are planned below
  model::LcmVariables variables;
  if (brainMass) {
    bm = std::make_unique<BrainMassPretrainer>(config, maxNodes, device);
  } else {
    if (phenotypes.size() != items.size() || datasets.size() != items.size()) throw Error(ErrorCode::Internal, "LCM needs phenotypes per item");
    variables = lcmVariablesFrom(phenotypes, datasets, labelField);
    lcm = std::make_unique<LcmPretrainer>(config, maxNodes, variables, device);
    fcLoader = std::make_unique<GraphBatchLoader>(store, items, config.batchSize, config.seed, true, 0);
    json names = json::array();
    for (const auto& v : variables.list) names.push_back(v.name);
    spdlog::info("LCM pre-training predicts {}", names.dump());
  }
  ZooPretrainResult result;
  const auto start = std::chrono::steady_clock::now();
  long graphs = 0;
  const int stageOneEpochs = static_cast<int>(std::lround(config.stageOneFraction * config.epochs));
  for (int epoch = 0; epoch < config.epochs; ++epoch) {
    torch::manual_seed(static_cast<std::uint64_t>(config.seed) * 1000003ULL + static_cast<std::uint64_t>(epoch));
    auto generator = at::detail::createCPUGenerator(static_cast<std::uint64_t>(config.seed) * 7919ULL + static_cast<std::uint64_t>(epoch));
    const auto plan = planBatches(items, config.batchSize, config.seed, epoch, true);
    ObjectiveLosses sums;
    int batches = 0;
    for (const auto& batch : plan) {
      if (batch.size() < 2) continue;  // a lone scan has nothing to contrast with
      ObjectiveLosses l;
      if (bm) {
        std::vector<torch::Tensor> series;
        for (int i : batch) series.push_back(matrixTensor(store.read(items[static_cast<std::size_t>(i)].seriesArray)).to(device));
        l = bm->step(series, generator);
      } else {
        std::vector<const std::map<std::string, std::string>*> p;
        std::vector<const std::string*> d;
        for (int i : batch) {
          p.push_back(&phenotypes[static_cast<std::size_t>(i)]);
          d.push_back(&datasets[static_cast<std::size_t>(i)]);
        }
        const auto loaded = fcLoader->load(batch);  // memory-mapped FC, padded, with its node mask
        l = lcm->step(loaded.fc.to(device), loaded.mask.to(device), lcmTargets(variables, p, d), epoch < stageOneEpochs);
      }
      graphs += static_cast<long>(batch.size());
      for (const auto& [k, v] : l) sums[k] += v;
      ++batches;
      const double x = epoch + static_cast<double>(batches) / static_cast<double>(plan.size());
      for (const auto& [k, v] : l) progress.metric(k == "representation_std" ? std::string("representation/std") : "loss/" + k, x, v);
      if (progress.update(config.architecture + " epoch " + std::to_string(epoch + 1) + "/" + std::to_string(config.epochs), x / config.epochs))
        throw CancelledError();
    }
    for (auto& [k, v] : sums) v /= std::max(1, batches);
    result.epochs.push_back(sums);
    if (sums.count("representation_std"))
      spdlog::info("{} pre-training epoch {}/{}: loss {:.4f} (BYOL {:.4f}, InfoNCE {:.4f}, MSE {:.4f}; representation spread {:.4f})", config.architecture,
                   epoch + 1, config.epochs, sums["total"], sums["byol"], sums["infonce"], sums["mse"], sums["representation_std"]);
    else
      spdlog::info("{} pre-training epoch {}/{}: loss {:.4f}", config.architecture, epoch + 1, config.epochs, sums["total"]);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.graphsPerSecond = secs > 0 ? static_cast<double>(graphs) / secs : 0;
  extra["kind"] = config.architecture + "-pretrained";
  extra["architecture"] = config.architecture;
  extra["max_nodes"] = maxNodes;
  if (lcm) extra["lcm_variables"] = variables.toJson();
  result.extra = extra;
  if (bm)
    savePretrained(out, *bm->online(), config, extra);
  else
    savePretrained(out, *lcm->model(), config, extra);
  return result;
}

PretrainedInfo readPretrainedInfo(torch::serialize::InputArchive& archive) {
  c10::IValue v;
  if (!archive.try_read("config_json", v)) throw Error(ErrorCode::Data, "not a pre-training model file (no configuration)");
  PretrainedInfo info;
  const auto config = json::parse(v.toStringRef());
  info.model = config.value("model", json::object());
  if (archive.try_read("extra_json", v)) info.extra = json::parse(v.toStringRef());
  info.architecture = info.extra.value("architecture", std::string("braingfm"));
  info.maxNodes = info.extra.value("max_nodes", 0);
  return info;
}

PretrainedInfo readPretrainedInfo(const std::filesystem::path& file) {
  return withContext("while reading the pre-trained model " + file.string(), [&] {
    auto archive = openModelArchive(file);
    return readPretrainedInfo(archive);
  });
}

json loadPretrainedZoo(model::GraphClassifierImpl& target, const std::filesystem::path& file) {
  return withContext("while loading the pre-trained model " + file.string(), [&] {
    auto archive = openModelArchive(file);  // opened once: the configuration, then the weights
    return loadPretrainedZoo(target, archive, readPretrainedInfo(archive), file);
  });
}

json loadPretrainedZoo(model::GraphClassifierImpl& target, torch::serialize::InputArchive& archive, const PretrainedInfo& info,
                       const std::filesystem::path& file) {
  const auto desc = target.describe();
  if (info.architecture != target.architecture())
    throw Error(ErrorCode::Usage, "it is a " + info.architecture + " model; this run trains " + target.architecture());
  if (model::isPublicArchitecture(info.architecture)) return loadPublicPretrained(target, archive, info.model, file);
  if (info.maxNodes != desc.at("max_nodes").get<int>())
    throw Error(ErrorCode::Data, "it was pre-trained on " + std::to_string(info.maxNodes) + "-ROI graphs; this corpus has " + desc.at("max_nodes").dump());
  if (model::ZooConfig::fromJson(info.architecture, info.model).toJson() != desc.at("model"))
    throw Error(ErrorCode::Config, "the pre-trained model has another configuration: " + info.model.dump());
  model::AdaptationSpec spec;
  spec.method = "scratch";
  // The file's weights in a model of their own (sharing the archive's tensors, never trained), copied
  // into the target's: the archive stays as read for the next member that starts from it.
  auto source = model::makeClassifier(info.architecture, info.model, spec, 2, info.maxNodes, info.extra.value("lcm_variables", json()));
  torch::serialize::InputArchive sub;
  archive.read("model", sub);
  source->load(sub);
  torch::NoGradGuard ng;
  auto dst = target.named_parameters(true);
  int copied = 0;
  for (const auto& kv : source->named_parameters(true)) {
    if (kv.key().rfind("head.", 0) == 0) continue;  // the downstream head is new
    if (auto* t = dst.find(kv.key()); t && t->sizes() == kv.value().sizes()) {
      t->copy_(kv.value());
      ++copied;
    }
  }
  if (copied == 0) throw Error(ErrorCode::Data, "no weights of it fit this model");
  if (auto* lcm = dynamic_cast<model::LcmClassifierImpl*>(&target)) lcm->initialiseTaskQueryFromDiagnosis();
  spdlog::debug("copied {} pre-trained tensors from {}", copied, file.string());
  return info.extra;
}

}  // namespace bg::train
