#include "train/Experiment.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <set>

#include <spdlog/spdlog.h>
#include <torch/version.h>

#include "errors/Error.h"
#include "eval/Calibration.h"
#include "eval/Results.h"
#include "eval/Metrics.h"
#include "eval/OutOfDistribution.h"
#include "methods/MethodCatalog.h"
#include "model/TextEmbedding.h"
#include "platform/Versions.h"
#include "settings/DataPaths.h"
#include "train/Explainer.h"
#include "train/MetaLearner.h"
#include "train/ModelFile.h"
#include "train/Pretrainer.h"
#include "train/PublicCheckpoint.h"
#include "train/TransformedGraphs.h"
#include "train/ZooPretraining.h"
#include "model/BrainGfmPublic.h"
#include "model/ModelZoo.h"
#include "workspace/WorkspaceQueries.h"
#include "workspace/ContentHash.h"
#include "workspace/Corpus.h"
#include "workspace/Derivation.h"
#include "workspace/RunTracking.h"
#include "workspace/Workspace.h"

namespace bg::train {
using nlohmann::json;

namespace {

model::PromptTexts promptTexts() {
  try {
    return model::PromptTexts::load(DataPaths::resourceDir());
  } catch (const Error& e) {
    spdlog::warn("prompt texts unavailable ({}); tasks are described by their label definition", e.what());
    return {};
  }
}

torch::Tensor embed(const std::string& key, const std::string& text, int dimension) {
  const auto v = model::HashedNgramEmbedder(dimension).embed(key, text);
  return torch::tensor(std::vector<float>(v.begin(), v.end()));
}

// The architecture a --method trains: a zoo model's name (brainmass-probe: BrainMass's linear
// probe), or BrainGFM for its tuning methods.
std::string architectureOf(const std::string& method) {
  const auto* m = findMethod(method);
  return m && m->family == MethodFamily::Zoo ? m->architecture : "braingfm";
}

// An encoder pre-trained on another input than Pearson FC (a fold's cached pre-training, or
// pretrain --input) reads only that input.
void checkPretrainedInput(const json& extra, const GraphInputSpec& input, const std::string& file) {
  const auto learned = extra.contains("input") ? GraphInputSpec::fromJson(extra["input"]) : GraphInputSpec{};
  if (learned.name() != input.name())
    throw Error(ErrorCode::Usage, file + " was pre-trained on " + learned.name() + " input and this run reads " + input.name() + " (give --input " +
                                      learned.name() + ", or pre-train on " + input.name() + ": pretrain --input " + input.name() +
                                      ", or evaluate --pretrain-in-folds)");
}

// Another input than Pearson FC needs an encoder that learned that input: one trained from scratch,
// BrainGFM pre-trained inside each fold on the fold's own fitted transform (evaluate
// --pretrain-in-folds), or a BrainGFM file pre-trained on the same input (pretrain --input; this
// run fits its own transform of that kind on its own training scans). Meta-learned prompts and the
// zoo's encoders read Pearson FC. Checked before any fold's work starts.
void checkGraphInput(const TuningConfig& c, const model::TuneRequest& r) {
  if (c.input.identity() || c.adaptation.method == "scratch") return;
  if (r.pretrainInFolds && r.pretrained.empty() && r.meta.empty() && c.architecture == "braingfm") return;
  if (!r.pretrained.empty() && r.meta.empty() && c.architecture == "braingfm") {
    const auto extra = pretrainedExtra(r.pretrained);
    checkPretrainedInput(extra, c.input, r.pretrained);
    return;
  }
  throw Error(ErrorCode::Usage, "input '" + c.input.name() +
                                    "' needs an encoder that learned it: train from scratch (--method scratch), pre-train each fold's BrainGFM "
                                    "encoder on that input (evaluate --pretrain-in-folds), or give a BrainGFM file pre-trained on it "
                                    "(pretrain --input " +
                                    c.input.name() + "); meta-learned prompts and the other architectures read Pearson FC");
}

TuningConfig tuningConfigUnchecked(const model::TuneRequest& r);

// `--method braingfm-public`, or BrainGFM's method names with a file from `model import`.
bool isPublicRequest(const model::TuneRequest& r) {
  if (r.method == model::kPublicArchitecture) return true;
  if (r.pretrained.empty() || !r.meta.empty() || architectureOf(r.method) != "braingfm") return false;
  return model::isPublicArchitecture(readPretrainedInfo(r.pretrained).architecture);
}

TuningConfig tuningConfig(const model::TuneRequest& r) {
  auto c = tuningConfigUnchecked(r);
  checkGraphInput(c, r);
  return c;
}

TuningConfig tuningConfigUnchecked(const model::TuneRequest& r) {
  auto j = r.configJson.empty() ? json::object() : json::parse(r.configJson);
  if (!r.calibration.empty()) j["calibration"] = r.calibration;
  if (!r.input.empty()) j["input"] = GraphInputSpec::fromName(r.input).toJson();
  if (r.ensemble > 0) j["ensemble"] = r.ensemble;
  if (!r.ensembleValidation.empty()) j["ensemble_validation"] = r.ensembleValidation;
  if (isPublicRequest(r)) {
    // An imported public checkpoint (model import): adapted with BrainGFM's method names.
    if (!r.meta.empty()) throw Error(ErrorCode::Usage, "--meta is the workbench BrainGFM's meta-learned prompt; the public architecture cannot use it");
    j["architecture"] = model::kPublicArchitecture;
    if (!j.contains("model") && !r.pretrained.empty()) j["model"] = readPretrainedInfo(r.pretrained).model;
    auto c = TuningConfig::fromJson(j);
    json a = c.adaptation.toJson();
    a["method"] = r.method == model::kPublicArchitecture ? (r.pretrained.empty() ? "scratch" : "finetune") : r.method;
    c.adaptation = model::AdaptationSpec::fromJson(a);
    if (c.adaptation.method != "scratch" && r.pretrained.empty())
      throw Error(ErrorCode::Usage, "method '" + r.method + "' adapts an imported checkpoint: give --pretrained MODEL (model import --out)");
    if (r.pretrainInFolds)
      throw Error(ErrorCode::Usage, "the public BrainGFM architecture is imported, not pre-trained here: --pretrain-in-folds does not apply");
    (void)model::makeClassifier(model::kPublicArchitecture, c.zooModel, c.adaptation, 2, 2);  // names a method it cannot take now
    if (r.epochs > 0) c.epochs = r.epochs;
    c.seed = r.seed;
    return c;
  }
  if (const auto arch = architectureOf(r.method); arch != "braingfm") {
    if (!r.meta.empty()) throw Error(ErrorCode::Usage, "--meta is BrainGFM's meta-learned prompt; " + r.method + " cannot use it");
    j["architecture"] = arch;
    if (!j.contains("model") && !r.pretrained.empty()) j["model"] = readPretrainedInfo(r.pretrained).model;
    auto c = TuningConfig::fromJson(j);
    json a = c.adaptation.toJson();
    const auto& adaptation = methodInfo(r.method).adaptation;  // the probe's; the others' by whether there is an encoder
    a["method"] = !adaptation.empty() ? adaptation : (!r.pretrained.empty() || r.pretrainInFolds) ? "finetune" : "scratch";
    c.adaptation = model::AdaptationSpec::fromJson(a);
    if (arch == "lcm" && !j.contains("pseudo_label_threshold")) c.pseudoLabelThreshold = 0.9;
    if (r.epochs > 0) c.epochs = r.epochs;
    c.seed = r.seed;
    return c;
  }
  // Without an explicit model size, the pre-trained encoder's is the one to adapt.
  if (!r.meta.empty())
    j["model"] = readModelCard(r.meta).at("model");  // the meta-learned model decides its own size
  else if (!j.contains("model") && !r.pretrained.empty())
    j["model"] = pretrainedModelConfig(r.pretrained).toJson();
  auto c = TuningConfig::fromJson(j);
  json a = c.adaptation.toJson();
  const auto* info = findMethod(r.method);  // an unknown name reaches AdaptationSpec, which lists its methods
  a["method"] = info && !info->adaptation.empty() ? info->adaptation : r.method;
  a["prompt"] = r.prompt;
  c.adaptation = model::AdaptationSpec::fromJson(a);
  if (r.epochs > 0) c.epochs = r.epochs;
  c.seed = r.seed;
  return c;
}

int maxNodes(const std::vector<DatasetItem>& items) {
  std::int64_t n = 0;
  for (const auto& it : items) n = std::max(n, it.nodes);
  return static_cast<int>(n);
}

// A member of a multi-atlas evaluation (its manifest carries the whole corpus's items as
// "atlas_views"): the fold's pre-training reads the same acquisitions in every atlas of the corpus,
// which is what multi-atlas pre-training is for. The whole corpus's order is kept, so every atlas's
// member asks for the same items and shares one cached pre-training per fold.
std::vector<DatasetItem> sameAcquisitionsInEveryAtlas(const json& manifest, const std::vector<DatasetItem>& unlabelled, const ArrayStore& store) {
  const auto acquisition = [](std::int64_t session, std::int64_t scan) { return session != 0 ? std::make_pair(0, session) : std::make_pair(1, scan); };
  std::set<std::pair<int, std::int64_t>> wanted;
  for (const auto& it : unlabelled) wanted.insert(acquisition(it.session, it.scanId));
  std::vector<DatasetItem> out;
  for (const auto& item : manifest.at("atlas_views")) {
    DatasetItem d;
    d.scanId = item.at("scan_id").get<std::int64_t>();
    d.session = item.value("session_id", std::int64_t{0});
    if (!wanted.count(acquisition(d.session, d.scanId))) continue;
    d.fcArray = item.at("fc_array").get<std::string>();
    d.seriesArray = item.value("series_array", std::string());
    d.site = item.value("site", std::string());
    d.label = item.at("class_index").get<int>();
    d.atlas = item.value("atlas", std::string());
    d.nodes = store.map(d.fcArray, false)->rows();
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<DatasetItem> partItems(const json& manifest, int fold, std::initializer_list<const char*> parts, const ArrayStore& store) {
  std::vector<DatasetItem> out;
  for (const char* p : parts) {
    auto some = corpusItems(manifest, fold, p, store);
    out.insert(out.end(), some.begin(), some.end());
  }
  return out;
}

// A fresh downstream model: from a meta-learned model, a pre-trained encoder, or random weights.
struct Initialised {
  model::GraphClassifier model;
  json origin;
};

Initialised initialise(const TuningConfig& config, int classes, int nodes, const model::TuneRequest& r, const std::string& pretrainedFile) {
  Initialised out;
  if (config.architecture != "braingfm") {
    const bool scratch = config.adaptation.method == "scratch";
    if (!scratch && pretrainedFile.empty())
      throw Error(ErrorCode::Usage, "method '" + r.method + "' adapts a pre-trained " + config.architecture + ": give --pretrained MODEL (pretrain --model " +
                                        config.architecture + ") or --pretrain-in-folds");
    json extra = json::object();
    if (!scratch) extra = readPretrainedInfo(pretrainedFile).extra;
    out.model = model::makeClassifier(config.architecture, config.zooModel, config.adaptation, classes, nodes, extra.value("lcm_variables", json()));
    out.origin = {{"pretrained", nullptr}};
    if (!scratch) out.origin = {{"pretrained", pretrainedFile}, {"pretrained_info", loadPretrainedZoo(*out.model, pretrainedFile)}};
    out.model->attachAdapters();  // after the weights (LoRA on the public architecture)
    return out;
  }
  if (!r.meta.empty()) {
    auto loaded = loadModelFile(r.meta, torch::kCPU);
    if (loaded.card.value("kind", "") != kMetaKind) throw Error(ErrorCode::Usage, r.meta + " is not a meta-learned model (meta-train --out)");
    if (loaded.card.at("max_nodes").get<int>() < nodes)
      throw Error(ErrorCode::Data,
                  "the meta-learned edge prompt covers " + loaded.card.at("max_nodes").dump() + " nodes; this corpus has " + std::to_string(nodes));
    out.model = loaded.model;
    out.origin = {{"meta", r.meta}, {"meta_tasks", loaded.card.value("tasks", json::array())}};
    return out;
  }
  auto gfm = std::make_shared<model::DownstreamModelImpl>(config.model, config.adaptation, classes, nodes);
  out.model = gfm;
  if (config.adaptation.method == "scratch") {
    out.origin = {{"pretrained", nullptr}};
  } else {
    if (pretrainedFile.empty())
      throw Error(ErrorCode::Usage, "method '" + config.adaptation.method +
                                        "' adapts a pre-trained encoder: give --pretrained MODEL or --pretrain-in-folds (or use --method scratch)");
    const auto extra = loadPretrainedEncoder(gfm->encoder, pretrainedFile);
    checkPretrainedInput(extra, config.input, pretrainedFile);
    out.origin = {{"pretrained", pretrainedFile}, {"pretrained_info", extra}};
  }
  out.model->attachAdapters();
  return out;
}

// Pre-training on one fold's training part, cached in the workspace by (configuration, items).
std::string pretrainZooForFold(Workspace& ws, const json& manifest, const std::vector<DatasetItem>& items, const model::TuneRequest& r,
                               const TuningConfig& tuning, torch::Device device, ProgressDelegate& progress, double* seconds) {
  auto pj = r.pretrainConfigJson.empty() ? json::object() : json::parse(r.pretrainConfigJson);
  pj["model"] = model::ZooConfig::fromJson(tuning.architecture, tuning.zooModel).toJson();
  const auto config = ZooPretrainConfig::fromJson(tuning.architecture, pj);
  std::string key = config.toJson().dump();
  for (const auto& it : items) key.append(",").append(std::to_string(it.scanId));
  {
    // The module's structure too: a cached file from a version with other parameters must not be reused.
    model::AdaptationSpec scratch;
    scratch.method = "scratch";
    const auto probe = model::makeClassifier(tuning.architecture, config.model, scratch, 2, maxNodes(items));
    for (const auto& kv : probe->named_parameters(true)) key.append(";").append(kv.key()).append(std::to_string(kv.value().numel()));
    for (const auto& kv : probe->named_buffers(true)) key.append(";").append(kv.key()).append(std::to_string(kv.value().numel()));
  }
  const auto file = ws.dir() / "models" / "cache" / ("pretrain-" + tuning.architecture + "-" + hashBytes(key.data(), key.size()).substr(0, 16) + ".pt");
  if (std::filesystem::exists(file)) {
    spdlog::info("using the cached fold pre-training {}", file.string());
    return file.string();
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::map<std::string, std::string>> phenotypes;
  std::vector<std::string> datasets;
  const auto labelField = manifest.value("label_field", std::string("diagnosis"));
  if (tuning.architecture == "lcm") phenotypesOfItems(ws, items, {labelField, "sex", "age", "site"}, phenotypes, datasets);
  const json extra = {{"corpus", manifest.value("name", "")}, {"items", items.size()}, {"code_version", braingraphVersion()}, {"torch_version", TORCH_VERSION}};
  runZooPretraining(ws.arrays(), items, config, phenotypes, datasets, labelField, file, extra, progress, device);
  if (seconds) *seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return file.string();
}

// BrainGFM's pre-training configuration inside the folds: the request's, with the tuning's encoder.
PretrainConfig foldPretrainConfig(const model::TuneRequest& r, const TuningConfig& tuning) {
  auto pj = r.pretrainConfigJson.empty() ? json::object() : json::parse(r.pretrainConfigJson);
  pj["model"] = tuning.model.toJson();
  auto config = PretrainConfig::fromJson(pj);
  if (config.cropAugmentation > 0 && !tuning.input.identity())
    throw Error(ErrorCode::Config,
                "the pre-training's crop_augmentation recomputes Pearson FC from the time series: it does not combine with input " + tuning.input.name());
  return config;
}

// `store` and `items`: the fold's graphs as the tuning reads them (transformed when the input is not
// Pearson FC; the transform is fitted on these same training scans, so the key below names it fully).
std::string pretrainForFold(Workspace& ws, const ArrayStore& store, const json& manifest, const std::vector<DatasetItem>& items, const model::TuneRequest& r,
                            const TuningConfig& tuning, torch::Device device, ProgressDelegate& progress, double* seconds) {
  if (tuning.architecture != "braingfm") return pretrainZooForFold(ws, manifest, items, r, tuning, device, progress, seconds);
  const auto config = foldPretrainConfig(r, tuning);
  std::string key = config.toJson().dump();
  if (!tuning.input.identity()) key.append(";input=").append(tuning.input.toJson().dump());  // Pearson FC keeps the keys cached before
  for (const auto& it : items) key.append(",").append(std::to_string(it.scanId));
  const auto hash = hashBytes(key.data(), key.size()).substr(0, 16);
  std::string name = "pretrain-";
  name.append(hash).append(".pt");
  const auto file = ws.dir() / "models" / "cache" / name;
  if (std::filesystem::exists(file)) {
    spdlog::info("using the cached fold pre-training {}", file.string());
    return file.string();
  }
  const auto start = std::chrono::steady_clock::now();
  json record;
  const auto texts = corpusTaskTexts(manifest, config.model.textDimension, &record);
  json extra = {{"kind", "braingfm-pretrained"},       {"corpus", manifest.value("name", "")}, {"items", items.size()},
                {"code_version", braingraphVersion()}, {"torch_version", TORCH_VERSION},       {"texts", record}};
  if (!tuning.input.identity()) extra["input"] = tuning.input.toJson();
  auto ckpt = file;
  ckpt += ".ckpt";
  AtlasTexts atlasTexts{{manifest.value("atlas", std::string()), texts.atlas}};
  const auto prompts = promptTexts();
  for (const auto& it : items)
    if (!atlasTexts.count(it.atlas)) atlasTexts[it.atlas] = embed(it.atlas, prompts.atlas(it.atlas), config.model.textDimension);
  runPretraining(store, items, config, ckpt, true, extra, progress, device, nullptr, atlasTexts);
  std::filesystem::rename(ckpt, file);
  if (seconds) *seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return file.string();
}

// Scales a child's progress into [from, to] of the parent's.
class SubProgress final : public ProgressDelegate {
 public:
  // seriesTag: appended to this part's curve names (foldSeriesTag: each fold's curves apart, from its epoch 1).
  SubProgress(ProgressDelegate& parent, double from, double to, std::string prefix, std::string seriesTag = {})
      : parent_(parent), from_(from), to_(to), prefix_(std::move(prefix)), seriesTag_(std::move(seriesTag)) {}
  bool update(std::string_view stage, double fraction) override {
    return parent_.update(prefix_ + std::string(stage), from_ + (to_ - from_) * std::clamp(fraction, 0.0, 1.0));
  }
  bool cancelRequested() const override { return parent_.cancelRequested(); }
  void metric(std::string_view series, double x, double value) override {
    if (seriesTag_.empty())
      parent_.metric(series, x, value);
    else
      parent_.metric(std::string(series) + seriesTag_, x, value);
  }
  void note(std::string_view key, std::string_view value) override { parent_.note(key, value); }

 private:
  ProgressDelegate& parent_;
  double from_, to_;
  std::string prefix_;
  std::string seriesTag_;
};

std::vector<int> labelsOf(const std::vector<DatasetItem>& items) {
  std::vector<int> y;
  for (const auto& it : items) y.push_back(it.label);
  return y;
}

// Scans per class (negative, positive): adapt-site weights a labelled batch to this mix.
json classCounts(const std::vector<DatasetItem>& items) {
  int n[2] = {0, 0};
  for (const auto& it : items) ++n[it.label == 1 ? 1 : 0];
  return json::array({n[0], n[1]});
}

// Each member's training and validation scans (TuningConfig::ensembleValidation): all the same, or the
// labelled scans of the training part (train + validation) in one stratified fold per member. A label
// regime (--label-fraction, --shots) draws its labelled scans once, before the folds, so every member
// sees the same labels and validation uses no label beyond them. `labelled`: set to true when the split
// itself applied the regime (the members' Tuners then take their training scans as they are).
struct MemberSplit {
  std::vector<DatasetItem> train, validation;
};
std::vector<MemberSplit> memberSplits(const TuningConfig& c, int members, const std::vector<DatasetItem>& train, const std::vector<DatasetItem>& validation,
                                      unsigned seed, bool* labelled = nullptr) {
  if (labelled) *labelled = false;
  if (c.ensembleValidation != "folds" || members < 2) return std::vector<MemberSplit>(static_cast<std::size_t>(members), MemberSplit{train, validation});
  std::vector<DatasetItem> pool = train;
  pool.insert(pool.end(), validation.begin(), validation.end());
  if (c.shotsPerClass > 0 || c.labelFraction < 1.0) {
    pool = c.shotsPerClass > 0 ? subsampleShots(pool, c.shotsPerClass, c.seed) : subsampleLabels(pool, c.labelFraction, c.seed);
    if (labelled) *labelled = true;
  }
  const auto labels = labelsOf(pool);
  const auto smallest = std::min(std::count(labels.begin(), labels.end(), 0), std::count(labels.begin(), labels.end(), 1));
  if (smallest < 2)
    throw Error(ErrorCode::Data, "cross-fitting needs at least 2 labelled scans of each class and has " + std::to_string(smallest) +
                                     ": give more labels, or train one model on a shared validation split (--ensemble 1)");
  // A small labelled set gets as many folds as its smaller class allows, so every fold validates both classes.
  const int folds = static_cast<int>(std::min<std::int64_t>(members, smallest));
  if (folds < members) spdlog::warn("{} labelled scans of the smaller class: the cross-fitted ensemble has {} members, not {}", smallest, folds, members);
  std::vector<MemberSplit> out;
  for (const auto& h : stratifiedFolds(labels, folds, seed)) {
    MemberSplit s;
    for (auto i : h.train) s.train.push_back(pool[i]);
    for (auto i : h.validation) s.validation.push_back(pool[i]);
    out.push_back(std::move(s));
  }
  return out;
}

// What the deployed file learned from: the card's "deployment" block.
json deploymentRecord(const TuningConfig& c, const std::vector<MemberSplit>& splits, std::size_t corpusScans) {
  json learned = json::array(), validated = json::array();
  std::map<std::int64_t, bool> used;  // learned from by at least one member (validation scans are not learned from)
  for (const auto& s : splits) {
    learned.push_back(s.train.size());
    validated.push_back(s.validation.size());
    for (const auto& it : s.train) used[it.scanId] = true;
  }
  const bool folds = c.ensembleValidation == "folds" && splits.size() > 1;
  const std::size_t trainScans = splits.empty() ? 0 : splits.front().train.size();
  return {{"procedure", folds               ? "cross-fitted ensemble"
                        : splits.size() > 1 ? "ensemble on one validation split"
                                            : "single model, held-out validation split"},
          {"members", splits.size()},
          {"learned_from", learned},
          {"validated_on", validated},
          {"scans_learned_from", used.size()},
          {"corpus_scans", corpusScans},
          {"summary", folds ? std::to_string(splits.size()) + " fold models, each learned from about " + std::to_string(trainScans) +
                                  " scans and chose its epoch and calibration on the other " + std::to_string(splits.front().validation.size()) +
                                  "; together they learned from all " + std::to_string(used.size()) + " labelled scans"
                            : std::to_string(splits.size()) + (splits.size() > 1 ? " members" : " model") + " learned from " + std::to_string(trainScans) +
                                  " scans; " + std::to_string(splits.empty() ? 0 : splits.front().validation.size()) +
                                  " scans were kept aside for the epoch choice and the calibration and never learned from"}};
}

// Each validation scan's calibrated probability, averaged over the members that validated it (all of
// them when the split is shared, its fold's member alone when cross-fitted).
class PooledValidation {
 public:
  void add(const std::vector<DatasetItem>& items, const std::vector<double>& p) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      auto& s = given_[items[i].scanId];
      s.sum += p[i];
      ++s.members;
      s.label = items[i].label;
    }
  }
  std::size_t scans() const { return given_.size(); }
  bool hasBothClasses() const {
    bool seen[2] = {false, false};
    for (const auto& [scan, s] : given_) seen[s.label == 1 ? 1 : 0] = true;
    return seen[0] && seen[1];
  }
  BinaryMetrics metrics() const {
    std::vector<int> labels;
    std::vector<double> p;
    for (const auto& [scan, s] : given_) {
      labels.push_back(s.label);
      p.push_back(s.sum / s.members);
    }
    return binaryMetrics(labels, p);
  }

 private:
  struct Given {
    double sum = 0;
    int members = 0, label = 0;
  };
  std::map<std::int64_t, Given> given_;
};

}  // namespace

TaskTexts corpusTaskTexts(const json& manifest, int dim, json* record) {
  const auto texts = promptTexts();
  const auto& classes = manifest.at("classes");
  if (classes.size() != 2)
    throw Error(ErrorCode::Data, "BrainGFM tasks are two-class (negative, positive); this corpus has " + std::to_string(classes.size()) + " classes");
  const auto [key, description] = texts.task(manifest.value("label_field", "diagnosis"), classes[1].get<std::string>(), manifest.value("task_text", ""));
  const auto atlas = manifest.value("atlas", "");
  json rec = {{"task_key", key},
              {"task_text", description},
              {"atlas", atlas},
              {"atlas_text", texts.atlas(atlas)},
              {"text_embeddings", model::HashedNgramEmbedder(dim).source()}};
  if (record) *record = rec;
  return taskTextsFromRecord(rec, dim);
}

TaskTexts taskTextsFromRecord(const json& rec, int dim) {
  const auto source = model::HashedNgramEmbedder(dim).source();
  if (rec.value("text_embeddings", source) != source)
    throw Error(ErrorCode::Config, "the model's text embeddings come from '" + rec.value("text_embeddings", "") + "', not available here");
  return {embed(rec.at("task_key").get<std::string>(), rec.at("task_text").get<std::string>(), dim),
          embed(rec.at("atlas").get<std::string>(), rec.at("atlas_text").get<std::string>(), dim)};
}

namespace {
// The public architecture reads the corpus's atlas and disorder as tokens of its checkpoint's
// tables (train/PublicCheckpoint.h says how they are chosen); null for other architectures.
json choosePublicTokensFor(TuningConfig& config, const json& manifest, int nodes, const model::TuneRequest& r) {
  if (config.architecture != model::kPublicArchitecture) return nullptr;
  const auto pc = model::PublicGfmConfig::fromJson(config.zooModel);
  const auto& classes = manifest.at("classes");
  const auto labelField = manifest.value("label_field", std::string("diagnosis"));
  std::string disorder = classes.size() == 2 ? promptTexts().disorder(labelField, classes[1].get<std::string>()) : std::string();
  if (disorder.empty() && classes.size() == 2) disorder = labelField + "=" + classes[1].get<std::string>();
  const json imported = r.pretrained.empty() ? json::object() : readPretrainedInfo(r.pretrained).extra;
  const auto t = choosePublicTokens(pc, imported, manifest.value("atlas", ""), nodes, disorder);
  config.zooModel["atlas_token"] = t.atlas;
  config.zooModel["disease_token"] = t.disease;
  for (const auto& n : t.notes) spdlog::warn("{}", n);
  return {{"atlas", t.atlas}, {"disease", t.disease}, {"notes", t.notes}};
}
}  // namespace

json trainModel(const model::TuneRequest& r, ProgressDelegate& progress, torch::Device device) {
  if (r.out.empty()) throw Error(ErrorCode::Usage, "train needs --out MODEL");
  if (const auto* m = findMethod(r.method); m && !m->learnsFromLabels)
    throw Error(ErrorCode::Usage, "zero-shot uses a meta-learned model as it is: nothing to train");
  auto ws = Workspace::open(r.workspace);
  const auto manifest = r.manifestJson.empty() ? loadCorpus(*ws, r.corpus) : json::parse(r.manifestJson);
  auto config = tuningConfig(r);
  config.shotsPerClass = r.shots;
  // The whole corpus, with a stratified 15% validation split (selection + calibration) inside, or
  // (ensemble_validation folds) one fold of it per member.
  std::vector<DatasetItem> all = partItems(manifest, 0, {"train", "validation", "test"}, ws->arrays());
  const json publicTokens = choosePublicTokensFor(config, manifest, maxNodes(all), r);
  const bool crossFitted = config.ensembleValidation == "folds";
  std::vector<DatasetItem> train, validation;
  if (crossFitted) {
    train = all;
  } else {
    const auto holdout = stratifiedHoldout(labelsOf(all), 0.15, r.seed);
    for (auto i : holdout.train) train.push_back(all[i]);
    for (auto i : holdout.validation) validation.push_back(all[i]);
  }
  // A fitted input takes the first tenth of the bar (about a minute for ABIDE's 739 scans).
  const double inputShare = config.input.identity() ? 0.0 : 0.1;
  SubProgress inputProgress(progress, 0.0, inputShare, config.input.name() + " input: ");
  ProgressRange fitting(inputProgress, 0.0, 0.7), remapping(inputProgress, 0.7, 1.0);
  TransformedGraphs graphs(ws->arrays(), fitGraphInput(config.input, ws->arrays(), all, &fitting), ws->dir() / "tmp");
  {
    ProgressRange trainPart(remapping, 0.0, 0.85), validationPart(remapping, 0.85, 1.0);
    train = graphs.remap(train, &trainPart);
    validation = graphs.remap(validation, &validationPart);
  }
  const ArrayStore& store = graphs.store();
  json texts;
  const auto taskTexts = corpusTaskTexts(manifest, config.model.textDimension, &texts);
  const int nodes = maxNodes(all);
  // Every member from its own initial weights on the same split; member 0 is what a single model is.
  std::vector<Initialised> inits;
  std::vector<std::unique_ptr<Tuner>> tuners;
  std::vector<TuningHistory> histories;
  bool splitLabelled = false;
  const auto splits = memberSplits(config, config.ensemble, train, validation, r.seed, &splitLabelled);
  const int members = static_cast<int>(splits.size());
  for (int k = 0; k < members; ++k) {
    torch::manual_seed(static_cast<std::uint64_t>(r.seed) + 7919ULL * static_cast<std::uint64_t>(k));
    inits.push_back(initialise(config, 2, nodes, r, r.pretrained));
    if (!r.meta.empty()) config.adaptation = std::dynamic_pointer_cast<model::DownstreamModelImpl>(inits.back().model)->spec();
    auto memberConfig = config;
    memberConfig.member = k;
    if (splitLabelled) {  // the split drew the labelled scans already
      memberConfig.labelFraction = 1.0;
      memberConfig.shotsPerClass = 0;
    }
    tuners.push_back(std::make_unique<Tuner>(memberConfig, inits.back().model, taskTexts, device));
    SubProgress sub(progress, inputShare + (1 - inputShare) * k / members, inputShare + (1 - inputShare) * (k + 1) / members,
                    members > 1 ? "member " + std::to_string(k + 1) + " of " + std::to_string(members) + ": " : std::string());
    histories.push_back(tuners.back()->fit(store, splits[static_cast<std::size_t>(k)].train, splits[static_cast<std::size_t>(k)].validation, sub));
  }
  const auto& init = inits.front();
  auto& tuner = *tuners.front();
  const auto& history = histories.front();
  const auto& first = manifest.at("items").at(0);
  // Each member embeds in its own space, so each gets its own reference (predict combines them).
  const auto oodReference = [&](int k) {
    const auto e = tuners[static_cast<std::size_t>(k)]->embeddings(store, splits[static_cast<std::size_t>(k)].train);
    return fitOodReference(Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(e.data_ptr<double>(), e.size(0), e.size(1)),
                           init.model->architecture() + " pooled graph embedding", true);
  };
  const json ood = oodReference(0);
  json card = {
      {"kind", kDownstreamKind},
      {"format", 1},
      {"model", config.model.toJson()},
      {"adaptation", config.adaptation.toJson()},
      {"tuning", config.toJson()},
      {"classes", manifest.at("classes")},
      {"class_counts", classCounts(all)},
      {"positive_class", manifest.at("classes")[1]},
      {"label_field", manifest.value("label_field", "")},
      {"atlas", manifest.value("atlas", "")},
      {"nodes", nodes},
      {"max_nodes", nodes},
      {"preprocessing",
       json::parse(derivationParamsJson(*ws, first.value("params_hash", "")).empty() ? "{}" : derivationParamsJson(*ws, first.value("params_hash", "")))},
      {"texts", texts},
      {"temperature", tuner.temperature()},
      {"calibration_bias", tuner.calibration().bias},
      {"calibration", config.calibration},
      {"origin", init.origin},
      {"training", history.toJson()},
      {"corpus", {{"name", r.corpus}, {"items", all.size()}, {"train", splits.front().train.size()}, {"validation", splits.front().validation.size()}}},
      {"trainable_parameters", init.model->trainableCount()},
      {"total_parameters", init.model->totalCount()},
      {"code_version", braingraphVersion()},
      {"torch_version", TORCH_VERSION}};
  card["ood"] = ood;
  card["deployment"] = deploymentRecord(config, splits, all.size());
  card["training_scans"] = corpusTrainingScans(manifest);  // every corpus scan: learned from, or calibrated on
  if (!publicTokens.is_null()) card["tokens"] = publicTokens;
  if (!graphs.transform().identity()) card["input_transform"] = graphs.transform().toJson();  // fitted on this corpus; predict applies it
  card.update(init.model->describe());  // architecture, model, adaptation, max_nodes (and LCM's variables)
  {
    PooledValidation pooled;
    json memberCards = json::array();
    for (int k = 0; k < members; ++k) {
      const auto& v = splits[static_cast<std::size_t>(k)].validation;
      auto& t = *tuners[static_cast<std::size_t>(k)];
      const auto pk = calibratedProbabilities(t.margins(store, v), t.calibration());
      pooled.add(v, pk);
      const auto& h = histories[static_cast<std::size_t>(k)];
      memberCards.push_back({{"temperature", t.temperature()},
                             {"calibration_bias", t.calibration().bias},
                             {"best_epoch", h.bestEpoch + 1},
                             {"validation_auc", binaryMetrics(labelsOf(v), pk).auc},
                             {"validation", v.size()},
                             {"seconds", h.seconds}});
      if (k > 0) memberCards.back()["ood"] = oodReference(k);  // member 1's is the card's own
    }
    if (members > 1) card["ensemble"] = memberCards;  // member 0's calibration is also the card's own (older readers use it alone)
    const auto m = pooled.metrics();
    card["validation"] = {{"auc", m.auc},       {"accuracy", m.accuracy}, {"balanced_accuracy", m.balancedAccuracy}, {"n", pooled.scans()},
                          {"calibrated", true}, {"members", members},     {"split", config.ensembleValidation}};
  }
  std::vector<model::GraphClassifier> further;
  for (int k = 1; k < members; ++k) further.push_back(inits[static_cast<std::size_t>(k)].model);
  saveModelFile(r.out, *init.model, card, further);
  return card;
}

json evaluateMethod(const model::TuneRequest& r, ProgressDelegate& progress, torch::Device device) {
  auto ws = Workspace::open(r.workspace);
  auto manifest = r.manifestJson.empty() ? loadCorpus(*ws, r.corpus) : json::parse(r.manifestJson);
  if (r.split != "corpus") {
    std::vector<int> classIndex;
    std::vector<std::string> sites;
    for (const auto& item : manifest.at("items")) {
      classIndex.push_back(item.at("class_index").get<int>());
      sites.push_back(item.value("site", std::string()));
    }
    SplitSpec spec;
    spec.kind = r.split;
    spec.folds = r.folds;
    spec.seed = r.seed;
    manifest["split"] = makeSplit(classIndex, sites, spec);
  }
  auto config = tuningConfig(r);
  if (r.adaptNewSites && !config.input.perSite)
    throw Error(ErrorCode::Usage,
                "adapting to new sites needs a per-site input (fc-site, fc-combat, tangent-site or tangent-combat), not " + config.input.name());
  const auto* info = findMethod(r.method);
  const bool zeroShot = (info && !info->learnsFromLabels) || r.labelFraction <= 0.0;
  if (zeroShot && r.meta.empty()) throw Error(ErrorCode::Usage, "zero-shot (0% labels) needs a meta-learned model: give --meta MODEL");
  if (zeroShot && r.ensemble > 1) throw Error(ErrorCode::Usage, "zero-shot trains nothing: an ensemble would repeat one model");
  if (!zeroShot) config.labelFraction = r.labelFraction;
  config.shotsPerClass = r.shots;
  const json publicTokens = choosePublicTokensFor(config, manifest, maxNodes(partItems(manifest, 0, {"train", "validation", "test"}, ws->arrays())), r);
  // A bad pre-training configuration is named now, not after the first fold's input transform.
  if (r.pretrainInFolds && r.pretrained.empty() && r.meta.empty() && config.architecture == "braingfm" && config.adaptation.method != "scratch")
    (void)foldPretrainConfig(r, config);
  json texts;
  const auto taskTexts = corpusTaskTexts(manifest, config.model.textDimension, &texts);
  const auto& folds = manifest.at("split").at("folds");
  const int nFolds = static_cast<int>(folds.size());
  std::vector<BinaryMetrics> metrics;
  std::vector<double> ece, eceRaw, temperatures, biases, bestEpochs, trainSeconds;
  double pretrainSeconds = 0, tuneSeconds = 0, inputSeconds = 0;
  std::vector<std::string> pretrainAtlases;  // the atlases the folds' pre-training read
  int pooledSiteScans = 0;                   // per-site input: test scans from a site the fold's training part lacks
  int adaptedSiteScans = 0;                  // ... and, with adaptNewSites, standardised with their own site's unlabelled test scans instead
  std::int64_t trainable = 0, total = 0;
  int membersUsed = 1;
  json perFold = json::array();
  json predictions = json::array();  // out-of-fold, one per test item: for the user's own analyses
  std::map<std::int64_t, const json*> itemOf;
  for (const auto& item : manifest.at("items")) itemOf[item.at("scan_id").get<std::int64_t>()] = &item;
  for (int f = 0; f < nFolds; ++f) {
    double from = static_cast<double>(f) / nFolds;
    const double to = static_cast<double>(f + 1) / nFolds;
    auto train = corpusItems(manifest, f, "train", ws->arrays());
    auto validation = corpusItems(manifest, f, "validation", ws->arrays());
    auto test = corpusItems(manifest, f, "test", ws->arrays());
    if (test.empty()) continue;
    std::vector<DatasetItem> trainingScans = train;  // the input transform is fitted on the training folds only
    trainingScans.insert(trainingScans.end(), validation.begin(), validation.end());
    const auto inputStart = std::chrono::steady_clock::now();
    // A fitted input takes the fold's first fifth of the bar: it costs about as much as training a small model.
    const double inputTo = config.input.identity() ? from : from + (to - from) * 0.2;
    const std::string inputStage = "fold " + std::to_string(f + 1) + " " + config.input.name() + " input: ";
    SubProgress fitting(progress, from, from + (inputTo - from) * 0.7, inputStage);
    SubProgress remapping(progress, from + (inputTo - from) * 0.7, inputTo, inputStage);
    auto transform = fitGraphInput(config.input, ws->arrays(), trainingScans, &fitting);
    if (r.adaptNewSites) {
      const auto trainingLabels = labelsOf(trainingScans);
      const double trainingShare = static_cast<double>(std::count(trainingLabels.begin(), trainingLabels.end(), 1)) /
                                   static_cast<double>(std::max<std::size_t>(1, trainingLabels.size()));
      adaptedSiteScans += adaptNewSites(transform, ws->arrays(), test, r.adaptScans, r.seed, r.adaptShare, r.adaptLabelled, trainingShare);
    }
    TransformedGraphs graphs(ws->arrays(), std::move(transform), ws->dir() / "tmp");
    for (const auto& it : test) pooledSiteScans += graphs.transform().knowsSite(it.site) ? 0 : 1;
    {
      ProgressRange trainPart(remapping, 0.0, 0.8), validationPart(remapping, 0.8, 0.9), testPart(remapping, 0.9, 1.0);
      train = graphs.remap(train, &trainPart);
      validation = graphs.remap(validation, &validationPart);
      test = graphs.remap(test, &testPart);
    }
    from = inputTo;
    inputSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - inputStart).count();
    const ArrayStore& store = graphs.store();
    std::vector<DatasetItem> all = train;
    all.insert(all.end(), validation.begin(), validation.end());
    all.insert(all.end(), test.begin(), test.end());
    std::string pretrained = r.pretrained;
    const bool needsEncoder = r.meta.empty() && config.adaptation.method != "scratch";
    if (needsEncoder && r.pretrainInFolds && !isPretrainableArchitecture(config.architecture))
      throw Error(ErrorCode::Usage, config.architecture + " has no pre-training");
    const double split = needsEncoder && r.pretrainInFolds && pretrained.empty() ? 0.5 : 0.0;
    if (needsEncoder && r.pretrainInFolds && pretrained.empty()) {
      std::vector<DatasetItem> unlabelled = train;  // the training folds only: never the test fold
      unlabelled.insert(unlabelled.end(), validation.begin(), validation.end());
      if (manifest.contains("atlas_views") && config.architecture == "braingfm") {
        if (config.input.identity())
          unlabelled = sameAcquisitionsInEveryAtlas(manifest, unlabelled, ws->arrays());
        else if (f == 0)
          spdlog::warn("input {} is fitted per atlas: each fold pre-trains on the {} graphs only", config.input.name(), manifest.value("atlas", std::string()));
      }
      if (f == 0) {
        std::set<std::string> read;
        for (const auto& it : unlabelled) read.insert(it.atlas);
        pretrainAtlases = std::vector<std::string>(read.begin(), read.end());
      }
      SubProgress sub(progress, from, from + (to - from) * split, "fold " + std::to_string(f + 1) + " pre-training: ", foldSeriesTag(f + 1));
      pretrained = pretrainForFold(*ws, store, manifest, unlabelled, r, config, device, sub, &pretrainSeconds);
    }
    // Each member from its own initial weights (member 0 is what a single model is); the fold's
    // probability is the mean of the members' calibrated probabilities.
    bool splitLabelled = false;
    const auto y = labelsOf(test);
    std::vector<double> margins(test.size(), 0.0), p(test.size(), 0.0), pRaw(test.size(), 0.0);
    double temperature = 0, bias = 0, bestEpoch = 0, foldSeconds = 0;
    int trainLabels = 0;
    json memberDetail = json::array();
    PooledValidation pooledValidation;  // the fold's validation AUC, on which a configuration can be chosen (ConfigurationChoice)
    const auto splits = memberSplits(config, zeroShot ? 1 : config.ensemble, train, validation, r.seed * 1009u + static_cast<unsigned>(f), &splitLabelled);
    const int members = static_cast<int>(splits.size());
    membersUsed = std::max(membersUsed, members);
    for (int k = 0; k < members; ++k) {
      torch::manual_seed(static_cast<std::uint64_t>(r.seed) * 1009ULL + static_cast<std::uint64_t>(f) +
                         1000033ULL * static_cast<std::uint64_t>(k));  // initial weights per fold and member
      auto init = initialise(config, 2, maxNodes(all), r, pretrained);
      auto foldConfig = config;
      foldConfig.member = k;
      if (splitLabelled) {
        foldConfig.labelFraction = 1.0;
        foldConfig.shotsPerClass = 0;
      }
      if (!r.meta.empty()) foldConfig.adaptation = std::dynamic_pointer_cast<model::DownstreamModelImpl>(init.model)->spec();
      Tuner tuner(foldConfig, init.model, taskTexts, device);
      TuningHistory history;
      if (!zeroShot) {
        const double memberFrom = from + (to - from) * (split + (1 - split) * k / members);
        const double memberTo = from + (to - from) * (split + (1 - split) * (k + 1) / members);
        SubProgress sub(progress, memberFrom, memberTo,
                        "fold " + std::to_string(f + 1) + (members > 1 ? ", member " + std::to_string(k + 1) : std::string()) + ": ",
                        foldSeriesTag(f + 1, members > 1 ? k + 1 : 0));
        history = tuner.fit(store, splits[static_cast<std::size_t>(k)].train, splits[static_cast<std::size_t>(k)].validation, sub);
        tuneSeconds += history.seconds;
        foldSeconds += history.seconds;
      } else if (progress.update("fold " + std::to_string(f + 1) + ": zero-shot", from)) {
        throw CancelledError();
      }
      trainable = zeroShot ? 0 : init.model->trainableCount();  // zero-shot trains nothing (per member)
      total = init.model->totalCount();
      if (const auto& v = splits[static_cast<std::size_t>(k)].validation; !v.empty())
        pooledValidation.add(v, calibratedProbabilities(tuner.margins(store, v), tuner.calibration()));
      const auto mk = tuner.margins(store, test);
      const auto pk = calibratedProbabilities(mk, tuner.calibration());
      const auto rawK = calibratedProbabilities(mk, 1.0);
      for (std::size_t i = 0; i < test.size(); ++i) {
        margins[i] += mk[i] / members;
        p[i] += pk[i] / members;
        pRaw[i] += rawK[i] / members;
      }
      temperature += tuner.temperature() / members;
      bias += tuner.calibration().bias / members;
      bestEpoch += static_cast<double>(history.bestEpoch + 1) / members;
      trainLabels = history.trainItems;
      if (members > 1)
        memberDetail.push_back({{"auc", binaryMetrics(y, pk).auc},
                                {"temperature", tuner.temperature()},
                                {"calibration_bias", tuner.calibration().bias},
                                {"best_epoch", history.bestEpoch + 1}});
    }
    if (!zeroShot) {
      trainSeconds.push_back(foldSeconds);
      bestEpochs.push_back(bestEpoch);
    }
    metrics.push_back(binaryMetrics(y, p));
    for (std::size_t i = 0; i < test.size(); ++i)
      predictions.push_back(outOfFoldPrediction(f + 1, *itemOf.at(test[i].scanId), manifest.at("classes"), y[i], margins[i], p[i]));
    progress.metric("test/auc", static_cast<double>(f + 1), metrics.back().auc);
    progress.metric("test/accuracy", static_cast<double>(f + 1), metrics.back().accuracy);
    ece.push_back(expectedCalibrationError(p, y));
    eceRaw.push_back(expectedCalibrationError(pRaw, y));
    temperatures.push_back(temperature);
    biases.push_back(bias);
    const json validationAuc = pooledValidation.hasBothClasses() ? json(pooledValidation.metrics().auc) : json(nullptr);
    perFold.push_back({{"fold", f + 1},
                       {"test", test.size()},
                       {"train_labels", trainLabels},
                       {"auc", metrics.back().auc},
                       {"temperature", temperature},
                       {"calibration_bias", bias},
                       {"ece", ece.back()},
                       {"ece_uncalibrated", eceRaw.back()},
                       {"best_epoch", bestEpoch},
                       {"seconds", foldSeconds},
                       {"validation_auc", validationAuc},
                       {"validation", pooledValidation.scans()}});
    if (members > 1) perFold.back()["members"] = memberDetail;
    spdlog::info("fold {}/{}: AUC {:.3f}, accuracy {:.3f}", f + 1, nFolds, metrics.back().auc, metrics.back().accuracy);
  }
  if (metrics.empty()) throw Error(ErrorCode::Data, "no fold has test items");
  auto interval = [](const std::vector<double>& v) {
    const auto i = interval95(v);
    return json{{"mean", i.mean}, {"sd", i.sd}, {"ci95", {i.low, i.high}}};
  };
  return json{{"method", zeroShot                                            ? std::string("zeroshot")
                         : config.architecture == model::kPublicArchitecture ? std::string(model::kPublicArchitecture) + "-" + config.adaptation.method
                         : config.architecture != "braingfm"                 ? r.method
                                                                             : config.adaptation.method},
              {"tokens", publicTokens},
              {"architecture", config.architecture},
              {"adaptation", config.adaptation.method},
              {"prompt", config.adaptation.method == "prompt" && config.architecture == "braingfm" ? json(config.adaptation.prompt) : json(nullptr)},
              {"corpus", r.corpus},
              {"positive_class", manifest.at("classes")[1]},
              {"items", manifest.at("items").size()},
              {"label_fraction", zeroShot ? 0.0 : r.labelFraction},
              {"shots_per_class", zeroShot      ? json(nullptr)
                                  : r.shots > 0 ? json(r.shots)
                                                : json(nullptr)},
              {"split", {{"kind", manifest.at("split").at("kind")}, {"seed", manifest.at("split").value("seed", 0u)}, {"folds", nFolds}}},
              {"metrics", summarizeFolds(metrics)},
              {"calibration",
               {{"method", config.calibration},
                {"ece", interval(ece)},
                {"ece_uncalibrated", interval(eceRaw)},
                {"temperature", interval(temperatures)},
                {"bias", interval(biases)}}},
              {"trainable_parameters", trainable},
              {"total_parameters", total},
              {"ensemble", membersUsed},
              {"procedure", zeroShot ? std::string("zero-shot")
                            : membersUsed > 1 && config.ensembleValidation == "folds"
                                ? "inside each outer fold, a cross-fitted ensemble of " + std::to_string(membersUsed) + " inner-fold models (what train writes)"
                            : membersUsed > 1 ? std::to_string(membersUsed) + " members on one validation split"
                                              : std::string("one model on a 15% validation split of each outer fold's training part")},
              {"pretrained", r.pretrained.empty() ? (r.pretrainInFolds ? json("in-folds") : json(nullptr)) : json(r.pretrained)},
              {"meta", r.meta.empty() ? json(nullptr) : json(r.meta)},
              {"texts", texts},
              {"config", config.toJson()},
              {"pretrain_config", r.pretrainInFolds ? json::parse(r.pretrainConfigJson.empty() ? "{}" : r.pretrainConfigJson) : json(nullptr)},
              {"pretrain_atlases", pretrainAtlases.empty() ? json(nullptr) : json(pretrainAtlases)},
              {"best_epochs", bestEpochs},
              {"folds_detail", perFold},
              {"predictions", predictions},
              {"training_seconds", tuneSeconds},
              {"pretraining_seconds", pretrainSeconds},
              {"input_seconds", inputSeconds},  // fitting and applying the input transform (0 for Pearson FC)
              {"input_pooled_site_scans", config.input.perSite ? json(pooledSiteScans) : json(nullptr)},
              {"input_adapted_site_scans", r.adaptNewSites ? json(adaptedSiteScans) : json(nullptr)},
              {"input_adaptation_scans", r.adaptNewSites && r.adaptScans > 0 ? json(r.adaptScans) : json(nullptr)},
              {"input_adaptation_positive_share", r.adaptNewSites && r.adaptShare >= 0 ? json(r.adaptShare) : json(nullptr)},
              {"input_adaptation_labelled", r.adaptNewSites && r.adaptLabelled ? json(true) : json(nullptr)},
              {"device", device.str()}};
}

json metaTrain(const model::MetaTrainRequest& r, ProgressDelegate& progress, torch::Device device) {
  if (r.out.empty()) throw Error(ErrorCode::Usage, "meta-train needs --out MODEL");
  if (r.corpora.empty()) throw Error(ErrorCode::Usage, "meta-train needs at least one --corpus (one task each)");
  auto ws = Workspace::open(r.workspace);
  auto config = MetaConfig::fromJson(r.configJson.empty() ? json::object() : json::parse(r.configJson));
  if (r.firstOrder) config.secondOrder = false;
  if (r.metaEpochs > 0) config.metaEpochs = r.metaEpochs;
  auto modelConfig = !r.modelConfigJson.empty() ? model::BrainGfmConfig::fromJson(json::parse(r.modelConfigJson))
                     : !r.pretrained.empty()    ? pretrainedModelConfig(r.pretrained)
                                                : model::BrainGfmConfig{};
  std::vector<MetaTask> tasks;
  json taskRecords = json::array();
  int nodes = 0;
  for (const auto& name : r.corpora) {
    const auto manifest = loadCorpus(*ws, name);
    MetaTask t;
    t.name = name;
    t.items = partItems(manifest, 0, {"train", "validation", "test"}, ws->arrays());
    json rec;
    t.texts = corpusTaskTexts(manifest, modelConfig.textDimension, &rec);
    rec["corpus"] = name;
    rec["items"] = t.items.size();
    taskRecords.push_back(rec);
    nodes = std::max(nodes, maxNodes(t.items));
    tasks.push_back(std::move(t));
  }
  model::AdaptationSpec spec;
  spec.method = "prompt";
  spec.prompt = r.prompt;
  spec = model::AdaptationSpec::fromJson(spec.toJson());
  torch::manual_seed(config.seed);
  model::DownstreamModel m(modelConfig, spec, 2, nodes);
  json origin = {{"pretrained", nullptr}};
  if (!r.pretrained.empty()) {
    origin = {{"pretrained", r.pretrained}, {"pretrained_info", loadPretrainedEncoder(m->encoder, r.pretrained)}};
    checkPretrainedInput(origin["pretrained_info"], GraphInputSpec{}, r.pretrained);  // prompts are meta-learned on Pearson FC
  } else {
    spdlog::warn("meta-training prompts on a randomly initialised backbone (give --pretrained MODEL for the paper's setting)");
  }
  MetaLearner learner(config, modelConfig, m, device);
  const auto history = learner.train(ws->arrays(), tasks, progress);
  const json card = {{"kind", kMetaKind},
                     {"format", 1},
                     {"model", modelConfig.toJson()},
                     {"adaptation", spec.toJson()},
                     {"meta", config.toJson()},
                     {"classes", {"negative", "positive"}},
                     {"max_nodes", nodes},
                     {"tasks", taskRecords},
                     {"origin", origin},
                     {"history", history.toJson()},
                     {"temperature", 1.0},
                     {"class_decision", "p(positive) = softmax(head([g ; g * t]))[1], t = the [T/D] token's output for the task's text"},
                     {"trainable_parameters",
                      [&] {
                        std::int64_t n = 0;
                        for (const auto& p : m->promptAndHeadParameters()) n += p.numel();
                        return n;
                      }()},
                     {"code_version", braingraphVersion()},
                     {"torch_version", TORCH_VERSION}};
  saveModelFile(r.out, m, card);
  return card;
}

namespace {

// Monte Carlo dropout (Gal & Ghahramani 2016): the spread of the calibrated probability over
// stochastic forward passes. Seeded, so a prediction and its report can be reproduced exactly.
// An ensemble pools the passes of all its members.
json monteCarloInterval(const std::vector<model::GraphClassifier>& members, const std::vector<Calibration>& calibrations, const model::GraphBatchInput& in,
                        double dropout) {
  if (dropout <= 0) return nullptr;
  constexpr int kPasses = 30;
  torch::NoGradGuard ng;
  torch::manual_seed(20240601);
  std::vector<double> p;
  for (std::size_t j = 0; j < members.size(); ++j) {
    auto& m = *members[j];
    m.train();
    for (int k = 0; k < kPasses; ++k) p.push_back(calibrations[j].probability(model::logitMargin(m.forward(in)).item<double>()));
    m.eval();
  }
  std::sort(p.begin(), p.end());
  auto quantile = [&](double q) {
    const double pos = q * static_cast<double>(p.size() - 1);
    const auto lo = static_cast<std::size_t>(pos);
    const auto hi = std::min(lo + 1, p.size() - 1);
    return p[lo] + (pos - static_cast<double>(lo)) * (p[hi] - p[lo]);
  };
  return {
      {"low", quantile(0.025)},
      {"high", quantile(0.975)},
      {"method", members.size() > 1 ? "95% interval over 30 Monte Carlo dropout passes of each of the " + std::to_string(members.size()) + " ensemble members"
                                    : std::string("95% interval over 30 Monte Carlo dropout passes")}};
}

}  // namespace

json predictGraphs(const std::string& modelFile, const std::vector<model::GraphInput>& inputs, bool explainToo, ProgressDelegate& progress,
                   torch::Device device) {
  auto loaded = loadModelFile(modelFile, device);
  const auto& card = loaded.card;
  if (card.value("kind", "") != kDownstreamKind) throw Error(ErrorCode::Usage, modelFile + " is not a trained model (train --out)");
  const bool features = loaded.model->readsNodeFeatures();
  const auto config = features ? model::BrainGfmConfig::fromJson(card.at("model")) : model::BrainGfmConfig{};
  const auto texts = features ? taskTextsFromRecord(card.at("texts"), config.textDimension) : TaskTexts{};
  const double threshold = card.at("model").value("adjacency_threshold", 0.3);
  std::vector<Calibration> calibrations;
  if (card.contains("ensemble") && card["ensemble"].is_array())
    for (const auto& member : card["ensemble"]) calibrations.push_back(cardCalibration(member));
  else
    calibrations.push_back(cardCalibration(card));
  if (calibrations.size() != loaded.members.size()) throw Error(ErrorCode::Data, modelFile + ": the card's ensemble does not match the stored members");
  const int expected = card.at("nodes").get<int>();
  const auto inputTransform = card.contains("input_transform") ? GraphInputTransform::fromJson(card["input_transform"]) : GraphInputTransform{};
  json out = json::array();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& g = inputs[i];
    withContext("while predicting " + g.file, [&] {
      if (g.nodes != expected)
        throw Error(ErrorCode::Data, "has " + std::to_string(g.nodes) + " ROIs but the model was trained on " + card.value("atlas", "") + " (" +
                                         std::to_string(expected) + " ROIs)");
      for (float v : g.fc)
        if (!std::isfinite(v)) throw Error(ErrorCode::Data, "its connectivity matrix holds NaN or infinite values");
      auto fc = torch::from_blob(const_cast<float*>(g.fc.data()), {1, g.nodes, g.nodes}, torch::kFloat32).clone();
      if (!inputTransform.identity()) {
        using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
        if (inputTransform.spec().needsSeries() && g.series.size() != static_cast<std::size_t>(g.timepoints) * static_cast<std::size_t>(g.nodes))
          throw Error(ErrorCode::Data, "the model reads tangent-space connectivity, which needs the scan's ROI time series");
        Eigen::MatrixXd series;
        if (inputTransform.spec().needsSeries()) series = Eigen::Map<const RowMajorF>(g.series.data(), g.timepoints, g.nodes).cast<double>();
        const Eigen::MatrixXf t = inputTransform.apply(Eigen::Map<const RowMajorF>(g.fc.data(), g.nodes, g.nodes).cast<double>(), series, g.site).cast<float>();
        if (!inputTransform.knowsSite(g.site))
          spdlog::warn("{}: the model standardises its input per acquisition site and {}; the statistics pooled over its training sites serve", g.file,
                       g.site.empty() ? std::string("no site was given (predict --site)")
                                      : "site '" + g.site + "' is not one of them (adapt-site gives a new site its own from a few of its scans)");
        Eigen::Map<RowMajorF>(fc.data_ptr<float>(), g.nodes, g.nodes) = t;
      }
      fc = fc.to(device);
      auto mask = torch::ones({1, g.nodes}, torch::kBool).to(device);
      const auto in =
          features ? model::makeGraphInput(fc, mask, texts.task.to(device), texts.atlas.to(device), config) : model::makeFcInput(fc, mask, threshold);
      double p = 0;  // an ensemble's: the mean of its members' calibrated probabilities
      {
        torch::NoGradGuard ng;
        for (std::size_t k = 0; k < loaded.members.size(); ++k)
          p += calibrations[k].probability(model::logitMargin(loaded.members[k]->forward(in)).item<double>()) / static_cast<double>(loaded.members.size());
      }
      const auto& classes = card.at("classes");
      json row = {{"file", g.file}, {"label", p >= 0.5 ? classes[1] : classes[0]}, {"probability", p}, {"positive_class", classes[1]}, {"model", modelFile}};
      row["interval"] = monteCarloInterval(loaded.members, calibrations, in, loaded.model->dropoutRate());
      if (loaded.members.size() > 1) row["ensemble"] = loaded.members.size();
      row["architecture"] = loaded.model->architecture();
      if (inputTransform.spec().perSite)
        row["site_statistics"] = {{"site", g.site}, {"own", inputTransform.knowsSite(g.site)}, {"adapted", inputTransform.siteAdapted(g.site)}};
      if (card.contains("ood") && !card["ood"].is_null()) {
        torch::NoGradGuard ng;
        std::vector<json> assessments;
        for (std::size_t k = 0; k < loaded.members.size(); ++k) {
          const json& reference = k == 0 ? card["ood"] : card["ensemble"][k].value("ood", json());
          if (reference.is_null()) continue;  // a file from before members had their own
          const auto e = loaded.members[k]->embed(in).to(torch::kCPU).to(torch::kDouble).contiguous();
          assessments.push_back(assessOod(reference, Eigen::Map<const Eigen::VectorXd>(e.data_ptr<double>(), e.numel())));
        }
        row["ood"] = combineOod(assessments);
      }
      auto e = explain(loaded.model, in, 1);
      for (std::size_t k = 1; k < loaded.members.size(); ++k) {  // an ensemble's: the members' explanations averaged
        const auto ek = explain(loaded.members[k], in, 1);
        const double w = 1.0 / static_cast<double>(k + 1);
        auto blend = [w](std::vector<double>& mean, const std::vector<double>& next) {
          for (std::size_t n = 0; n < mean.size() && n < next.size(); ++n) mean[n] += w * (next[n] - mean[n]);
        };
        blend(e.roiAttention, ek.roiAttention);
        blend(e.roiSaliency, ek.roiSaliency);
        blend(e.edgeSaliency, ek.edgeSaliency);
      }
      auto ej = e.toJson(g.roiNames, g.networks);
      row["top_rois"] = ej["top_rois"];
      if (explainToo) row["explanation"] = ej;
      out.push_back(row);
    });
    if (progress.update("predicted " + std::to_string(i + 1) + " of " + std::to_string(inputs.size()),
                        static_cast<double>(i + 1) / static_cast<double>(inputs.size())))
      throw CancelledError();
  }
  return out;
}

}  // namespace bg::train
