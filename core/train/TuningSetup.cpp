#include "train/TuningSetup.h"

#include <algorithm>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "errors/Error.h"
#include "methods/MethodCatalog.h"
#include "model/AtlasFusion.h"
#include "model/BrainGfmPublic.h"
#include "model/DownstreamModel.h"
#include "model/ModelZoo.h"
#include "settings/DataPaths.h"
#include "train/Experiment.h"
#include "train/ModelFile.h"
#include "train/PublicCheckpoint.h"
#include "workspace/ArrayStore.h"
#include "workspace/Corpus.h"

namespace bg::train {
using nlohmann::json;

model::PromptTexts promptTexts() {
  try {
    return model::PromptTexts::load(DataPaths::resourceDir());
  } catch (const Error& e) {
    spdlog::warn("prompt texts unavailable ({}); tasks are described by their label definition", e.what());
    return {};
  }
}

torch::Tensor embedText(const std::string& key, const std::string& text, int dimension) {
  const auto v = model::HashedNgramEmbedder(dimension).embed(key, text);
  return torch::tensor(std::vector<float>(v.begin(), v.end()));
}

namespace {

// Another input than Pearson FC needs an encoder that learned that input: one trained from scratch,
// BrainGFM pre-trained inside each fold on the fold's own fitted transform (evaluate
// --pretrain-in-folds), or a BrainGFM file pre-trained on the same input (pretrain --input; this
// run fits its own transform of that kind on its own training scans). Meta-learned prompts and the
// zoo's encoders read Pearson FC. Checked before any fold's work starts.
void checkGraphInput(const TuningConfig& c, const model::TuneRequest& r, const PretrainedFile& pretrained) {
  if (c.input.identity() || c.adaptation.method == "scratch") return;
  if (r.pretrainInFolds && r.pretrained.empty() && r.meta.empty() && c.architecture == "braingfm") return;
  if (!r.pretrained.empty() && r.meta.empty() && c.architecture == "braingfm") {
    checkPretrainedInput(pretrained.extra(), c.input, r.pretrained);
    return;
  }
  throw Error(ErrorCode::Usage, "input '" + c.input.name() +
                                    "' needs an encoder that learned it: train from scratch (--method scratch), pre-train each fold's BrainGFM "
                                    "encoder on that input (evaluate --pretrain-in-folds), or give a BrainGFM file pre-trained on it "
                                    "(pretrain --input " +
                                    c.input.name() + "); meta-learned prompts and the other architectures read Pearson FC");
}

TuningConfig tuningConfigUnchecked(const model::TuneRequest& r, const PretrainedFile& pretrained) {
  auto j = r.configJson.empty() ? json::object() : json::parse(r.configJson);
  if (!r.calibration.empty()) j["calibration"] = r.calibration;
  if (!r.input.empty()) j["input"] = GraphInputSpec::fromName(r.input).toJson();
  if (r.ensemble > 0) j["ensemble"] = r.ensemble;
  if (!r.ensembleValidation.empty()) j["ensemble_validation"] = r.ensembleValidation;
  if (isPublicRequest(r, pretrained)) {
    // An imported public checkpoint (model import): adapted with BrainGFM's method names.
    if (!r.meta.empty()) throw Error(ErrorCode::Usage, "--meta is the workbench BrainGFM's meta-learned prompt; the public architecture cannot use it");
    j["architecture"] = model::kPublicArchitecture;
    if (!j.contains("model") && !pretrained.empty()) j["model"] = pretrained.info().model;
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
    if (!j.contains("model") && !pretrained.empty()) j["model"] = pretrained.info().model;
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
  else if (!j.contains("model") && !pretrained.empty())
    j["model"] = pretrained.encoderConfig().toJson();
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

}  // namespace

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

// `--method braingfm-public`, or BrainGFM's method names with a file from `model import`.
bool isPublicRequest(const model::TuneRequest& r, const PretrainedFile& pretrained) {
  if (r.method == model::kPublicArchitecture) return true;
  if (pretrained.empty() || !r.meta.empty() || architectureOf(r.method) != "braingfm") return false;
  return model::isPublicArchitecture(pretrained.architecture());
}

TuningConfig tuningConfig(const model::TuneRequest& r, const PretrainedFile& pretrained) {
  auto c = tuningConfigUnchecked(r, pretrained);
  checkGraphInput(c, r, pretrained);
  return c;
}

int maxNodes(const std::vector<DatasetItem>& items) {
  std::int64_t n = 0;
  for (const auto& it : items) n = std::max(n, it.nodes);
  return static_cast<int>(n);
}

namespace {
std::pair<int, std::int64_t> acquisitionOf(std::int64_t session, std::int64_t scan) {
  return session != 0 ? std::make_pair(0, session) : std::make_pair(1, scan);
}

DatasetItem viewItem(const json& item, const ArrayStore& store) {
  DatasetItem d;
  d.scanId = item.at("scan_id").get<std::int64_t>();
  d.session = item.value("session_id", std::int64_t{0});
  d.fcArray = item.at("fc_array").get<std::string>();
  d.seriesArray = item.value("series_array", std::string());
  d.site = item.value("site", std::string());
  d.label = item.at("class_index").get<int>();
  d.atlas = item.value("atlas", std::string());
  d.nodes = store.map(d.fcArray, false)->rows();
  return d;
}
}  // namespace

// A member of a multi-atlas evaluation (its manifest carries the whole corpus's items as
// "atlas_views"): the fold's pre-training reads the same acquisitions in every atlas of the corpus,
// which is what multi-atlas pre-training is for. The whole corpus's order is kept, so every atlas's
// member asks for the same items and shares one cached pre-training per fold.
std::vector<DatasetItem> sameAcquisitionsInEveryAtlas(const json& manifest, const std::vector<DatasetItem>& unlabelled, const ArrayStore& store) {
  std::set<std::pair<int, std::int64_t>> wanted;
  for (const auto& it : unlabelled) wanted.insert(acquisitionOf(it.session, it.scanId));
  std::vector<DatasetItem> out;
  for (const auto& item : manifest.at("atlas_views"))
    if (wanted.count(acquisitionOf(item.value("session_id", std::int64_t{0}), item.at("scan_id").get<std::int64_t>()))) out.push_back(viewItem(item, store));
  return out;
}

std::vector<std::string> fusedAtlases(const json& manifest) {
  std::vector<std::string> out{manifest.value("atlas", std::string())};
  if (manifest.contains("atlas_views"))
    for (const auto& item : manifest.at("atlas_views"))
      if (const auto a = item.value("atlas", std::string()); std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  if (out.size() < 2 || out.front().empty())
    throw Error(ErrorCode::Usage,
                "--atlas-fusion embedding combines the atlases of a multi-atlas corpus (corpus create --atlas cc200,ho); this corpus has one");
  return out;
}

std::vector<DatasetItem> withAtlasViews(const json& manifest, const std::vector<DatasetItem>& items, const ArrayStore& store) {
  const auto atlases = fusedAtlases(manifest);
  std::map<std::pair<std::string, std::pair<int, std::int64_t>>, const json*> byAcquisition;
  for (const auto& item : manifest.at("atlas_views"))
    byAcquisition[{item.value("atlas", std::string()), acquisitionOf(item.value("session_id", std::int64_t{0}), item.at("scan_id").get<std::int64_t>())}] =
        &item;
  std::vector<DatasetItem> out = items;
  for (auto& it : out) {
    it.views.clear();
    for (std::size_t k = 1; k < atlases.size(); ++k) {
      const auto found = byAcquisition.find({atlases[k], acquisitionOf(it.session, it.scanId)});
      if (found == byAcquisition.end())
        throw Error(ErrorCode::Data, "scan " + std::to_string(it.scanId) + " has no " + atlases[k] +
                                         " graph: a fused multi-atlas model needs every scan in every atlas of the corpus");
      it.views.push_back(viewItem(*found->second, store));
    }
  }
  return out;
}

void checkFusionRequest(const model::TuneRequest& r, const TuningConfig& config) {
  if (!r.fusesAtlases()) return;
  if (!config.input.identity())
    throw Error(ErrorCode::Usage,
                "a fused multi-atlas model reads the stored Pearson FC of each atlas; --input " + config.input.name() + " is fitted per atlas");
  if (!r.meta.empty()) throw Error(ErrorCode::Usage, "a fused multi-atlas model cannot start from a meta-learned model (--meta)");
  if (config.architecture == model::kPublicArchitecture)
    throw Error(ErrorCode::Usage, "the public BrainGFM architecture reads one atlas token: it cannot fuse atlases");
  if (r.shots > 0) throw Error(ErrorCode::Usage, "a fused multi-atlas model takes --label-fraction, not --shots");
}

std::vector<DatasetItem> partItems(const json& manifest, int fold, std::initializer_list<const char*> parts, const ArrayStore& store) {
  std::vector<DatasetItem> out;
  for (const char* p : parts) {
    auto some = corpusItems(manifest, fold, p, store);
    out.insert(out.end(), some.begin(), some.end());
  }
  return out;
}

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

Initialised initialise(const TuningConfig& config, int classes, int nodes, const model::TuneRequest& r, const PretrainedFile& pretrained) {
  Initialised out;
  if (config.architecture != "braingfm") {
    const bool scratch = config.adaptation.method == "scratch";
    if (!scratch && pretrained.empty())
      throw Error(ErrorCode::Usage, "method '" + r.method + "' adapts a pre-trained " + config.architecture + ": give --pretrained MODEL (pretrain --model " +
                                        config.architecture + ") or --pretrain-in-folds");
    json extra = json::object();
    if (!scratch) extra = pretrained.extra();
    out.model = model::makeClassifier(config.architecture, config.zooModel, config.adaptation, classes, nodes, extra.value("lcm_variables", json()));
    out.origin = {{"pretrained", nullptr}};
    if (!scratch) out.origin = {{"pretrained", pretrained.path()}, {"pretrained_info", pretrained.loadInto(*out.model)}};
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
    if (pretrained.empty())
      throw Error(ErrorCode::Usage, "method '" + config.adaptation.method +
                                        "' adapts a pre-trained encoder: give --pretrained MODEL or --pretrain-in-folds (or use --method scratch)");
    const auto extra = pretrained.loadEncoder(gfm->encoder);
    checkPretrainedInput(extra, config.input, pretrained.path());
    out.origin = {{"pretrained", pretrained.path()}, {"pretrained_info", extra}};
  }
  out.model->attachAdapters();
  return out;
}

Initialised initialiseFor(const TuningConfig& config, int classes, const std::vector<DatasetItem>& items, const model::TuneRequest& r,
                          const PretrainedFile& pretrained, const std::vector<std::string>& atlases) {
  if (!r.fusesAtlases()) return initialise(config, classes, maxNodes(items), r, pretrained);
  std::vector<model::GraphClassifier> members;
  json origin;
  for (std::size_t k = 0; k < atlases.size(); ++k) {
    int nodes = 0;
    for (const auto& it : items) nodes = std::max(nodes, static_cast<int>(k == 0 ? it.nodes : it.views.at(k - 1).nodes));
    auto member = initialise(config, classes, nodes, r, pretrained);
    members.push_back(member.model);
    origin = member.origin;
  }
  return {std::make_shared<model::AtlasFusionClassifierImpl>(atlases, std::move(members)), origin};
}

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
  if (manifest.contains("atlas_views") && manifest.value("atlas_fusion", std::string()) == "embedding") {
    json views = json::array();
    for (const auto& a : fusedAtlases(manifest))
      if (a != atlas) views.push_back({{"atlas", a}, {"atlas_text", texts.atlas(a)}});
    rec["view_atlases"] = views;
  }
  if (record) *record = rec;
  return taskTextsFromRecord(rec, dim);
}

TaskTexts taskTextsFromRecord(const json& rec, int dim) {
  const auto source = model::HashedNgramEmbedder(dim).source();
  if (rec.value("text_embeddings", source) != source)
    throw Error(ErrorCode::Config, "the model's text embeddings come from '" + rec.value("text_embeddings", "") + "', not available here");
  TaskTexts out{embedText(rec.at("task_key").get<std::string>(), rec.at("task_text").get<std::string>(), dim),
                embedText(rec.at("atlas").get<std::string>(), rec.at("atlas_text").get<std::string>(), dim),
                {}};
  for (const auto& v : rec.value("view_atlases", json::array()))
    out.viewAtlases.push_back(embedText(v.at("atlas").get<std::string>(), v.at("atlas_text").get<std::string>(), dim));
  return out;
}

// The public architecture reads the corpus's atlas and disorder as tokens of its checkpoint's
// tables (train/PublicCheckpoint.h says how they are chosen); null for other architectures.
json choosePublicTokensFor(TuningConfig& config, const json& manifest, int nodes, const PretrainedFile& pretrained) {
  if (config.architecture != model::kPublicArchitecture) return nullptr;
  const auto pc = model::PublicGfmConfig::fromJson(config.zooModel);
  const auto& classes = manifest.at("classes");
  const auto labelField = manifest.value("label_field", std::string("diagnosis"));
  std::string disorder = classes.size() == 2 ? promptTexts().disorder(labelField, classes[1].get<std::string>()) : std::string();
  if (disorder.empty() && classes.size() == 2) disorder = labelField + "=" + classes[1].get<std::string>();
  const json imported = pretrained.empty() ? json::object() : pretrained.extra();
  const auto t = choosePublicTokens(pc, imported, manifest.value("atlas", ""), nodes, disorder);
  config.zooModel["atlas_token"] = t.atlas;
  config.zooModel["disease_token"] = t.disease;
  for (const auto& n : t.notes) spdlog::warn("{}", n);
  return {{"atlas", t.atlas}, {"disease", t.disease}, {"notes", t.notes}};
}

}  // namespace bg::train
