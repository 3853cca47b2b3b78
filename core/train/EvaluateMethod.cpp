// evaluate for the graph models: cross-validation of a method over a corpus's folds, each fold
// fitting its input transform, pre-training (--pretrain-in-folds) and ensemble on its training part
// only, with out-of-fold predictions and calibration per fold.
#include "train/Experiment.h"

#include <chrono>
#include <map>
#include <optional>
#include <set>

#include <spdlog/spdlog.h>

#include "errors/Error.h"
#include "eval/Calibration.h"
#include "eval/CrossValidation.h"
#include "eval/Metrics.h"
#include "eval/Results.h"
#include "methods/MethodCatalog.h"
#include "model/BrainGfmPublic.h"
#include "model/DownstreamModel.h"
#include "train/FoldPretraining.h"
#include "train/MemberSplits.h"
#include "train/TransformedGraphs.h"
#include "train/TuningSetup.h"
#include "workspace/Corpus.h"
#include "workspace/RunTracking.h"
#include "workspace/Workspace.h"

namespace bg::train {
using nlohmann::json;

namespace {

// The request's own split of the corpus's items (kfold, leave-site-out) in place of the corpus's.
void applyRequestedSplit(json& manifest, const model::TuneRequest& r) {
  if (r.split == "corpus") return;
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

// What the folds add up, for the result beside the cross-validation's own record.
struct EvaluationTally {
  std::vector<double> bestEpochs, trainSeconds;
  double pretrainSeconds = 0, tuneSeconds = 0, inputSeconds = 0;
  std::vector<std::string> pretrainAtlases;  // the atlases the folds' pre-training read
  int pooledSiteScans = 0;                   // per-site input: test scans from a site the fold's training part lacks
  int adaptedSiteScans = 0;                  // ... and, with adaptNewSites, standardised with their own site's unlabelled test scans instead
  std::int64_t trainable = 0, total = 0;
  int membersUsed = 1;
};

// What every fold of one request shares: resolved once, before the first fold.
struct MethodEvaluation {
  MethodEvaluation(const model::TuneRequest& request, Workspace& workspace, json corpus, TuningConfig tuning, const PretrainedFile& pretrained,
                   torch::Device on)
      : r(request), ws(workspace), manifest(std::move(corpus)), config(std::move(tuning)), requestPretrained(pretrained), device(on) {}
  const model::TuneRequest& r;
  Workspace& ws;
  json manifest;
  TuningConfig config;
  const PretrainedFile& requestPretrained;
  torch::Device device;
  bool zeroShot = false, fused = false;
  std::vector<std::string> atlases;  // a fused model's
  TaskTexts taskTexts;
  std::map<std::int64_t, const json*> itemOf;
  EvaluationTally tally;
};

struct FoldItems {
  std::vector<DatasetItem> train, validation, test;
};

// The fold's input transform, fitted on its training part only and applied to all three parts (a
// fused model's items also carry their other atlases' graphs).
std::unique_ptr<TransformedGraphs> foldGraphs(MethodEvaluation& e, int f, FoldItems& items, ProgressDelegate& progress, double from, double to) {
  const auto inputStart = std::chrono::steady_clock::now();
  std::vector<DatasetItem> trainingScans = items.train;  // the input transform is fitted on the training folds only
  trainingScans.insert(trainingScans.end(), items.validation.begin(), items.validation.end());
  const std::string inputStage = "fold " + std::to_string(f + 1) + " " + e.config.input.name() + " input: ";
  ProgressRange fitting(progress, from, from + (to - from) * 0.7, inputStage);
  ProgressRange remapping(progress, from + (to - from) * 0.7, to, inputStage);
  auto transform = fitGraphInput(e.config.input, e.ws.arrays(), trainingScans, &fitting);
  if (e.r.adaptNewSites) {
    const auto trainingLabels = labelsOf(trainingScans);
    const double trainingShare =
        static_cast<double>(std::count(trainingLabels.begin(), trainingLabels.end(), 1)) / static_cast<double>(std::max<std::size_t>(1, trainingLabels.size()));
    e.tally.adaptedSiteScans += adaptNewSites(transform, e.ws.arrays(), items.test, e.r.adaptScans, e.r.seed, e.r.adaptShare, e.r.adaptLabelled, trainingShare);
  }
  auto graphs = std::make_unique<TransformedGraphs>(e.ws.arrays(), std::move(transform), e.ws.dir() / "tmp");
  for (const auto& it : items.test) e.tally.pooledSiteScans += graphs->transform().knowsSite(it.site) ? 0 : 1;
  {
    ProgressRange trainPart(remapping, 0.0, 0.8), validationPart(remapping, 0.8, 0.9), testPart(remapping, 0.9, 1.0);
    items.train = graphs->remap(items.train, &trainPart);
    items.validation = graphs->remap(items.validation, &validationPart);
    items.test = graphs->remap(items.test, &testPart);
  }
  if (e.fused) {  // the input is Pearson FC (checkFusionRequest): the stored graphs of every atlas
    items.train = withAtlasViews(e.manifest, items.train, e.ws.arrays());
    items.validation = withAtlasViews(e.manifest, items.validation, e.ws.arrays());
    items.test = withAtlasViews(e.manifest, items.test, e.ws.arrays());
  }
  e.tally.inputSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - inputStart).count();
  return graphs;
}

// --pretrain-in-folds: an encoder pre-trained on the fold's training part (never its test part).
PretrainedFile pretrainFold(MethodEvaluation& e, int f, const FoldItems& items, const ArrayStore& store, ProgressDelegate& progress) {
  std::vector<DatasetItem> unlabelled = items.train;  // the training folds only: never the test fold
  unlabelled.insert(unlabelled.end(), items.validation.begin(), items.validation.end());
  for (auto& it : unlabelled) it.views.clear();  // pre-training reads graphs one at a time (each atlas's through atlas_views)
  if (e.manifest.contains("atlas_views") && e.config.architecture == "braingfm") {
    if (e.config.input.identity())
      unlabelled = sameAcquisitionsInEveryAtlas(e.manifest, unlabelled, e.ws.arrays());
    else if (f == 0)
      spdlog::warn("input {} is fitted per atlas: each fold pre-trains on the {} graphs only", e.config.input.name(), e.manifest.value("atlas", std::string()));
  }
  if (f == 0) {
    std::set<std::string> read;
    for (const auto& it : unlabelled) read.insert(it.atlas);
    e.tally.pretrainAtlases = std::vector<std::string>(read.begin(), read.end());
  }
  return PretrainedFile::open(pretrainForFold(e.ws, store, e.manifest, unlabelled, e.r, e.config, e.device, progress, &e.tally.pretrainSeconds));
}

// The fold's members, each from its own initial weights (member 0 is what a single model is), and
// their test scores: the fold's probability is the mean of the members' calibrated probabilities.
FoldResult trainFoldMembers(MethodEvaluation& e, int f, const FoldItems& items, const std::vector<DatasetItem>& all, const ArrayStore& store,
                            const PretrainedFile& pretrained, ProgressDelegate& progress, double from, double to) {
  const auto& [train, validation, test] = items;
  bool splitLabelled = false;
  const auto y = labelsOf(test);
  std::vector<double> margins(test.size(), 0.0), p(test.size(), 0.0), pRaw(test.size(), 0.0);
  double temperature = 0, bias = 0, bestEpoch = 0, foldSeconds = 0;
  int trainLabels = 0;
  json memberDetail = json::array();
  PooledValidation pooledValidation;  // the fold's validation AUC, on which a configuration can be chosen (ConfigurationChoice)
  const auto splits =
      memberSplits(e.config, e.zeroShot ? 1 : e.config.ensemble, train, validation, e.r.seed * 1009u + static_cast<unsigned>(f), &splitLabelled);
  const int members = static_cast<int>(splits.size());
  e.tally.membersUsed = std::max(e.tally.membersUsed, members);
  for (int k = 0; k < members; ++k) {
    torch::manual_seed(static_cast<std::uint64_t>(e.r.seed) * 1009ULL + static_cast<std::uint64_t>(f) +
                       1000033ULL * static_cast<std::uint64_t>(k));  // initial weights per fold and member
    auto init = initialiseFor(e.config, 2, all, e.r, pretrained, e.atlases);
    auto foldConfig = e.config;
    foldConfig.member = k;
    if (splitLabelled) {
      foldConfig.labelFraction = 1.0;
      foldConfig.shotsPerClass = 0;
    }
    if (!e.r.meta.empty()) foldConfig.adaptation = std::dynamic_pointer_cast<model::DownstreamModelImpl>(init.model)->spec();
    Tuner tuner(foldConfig, init.model, e.taskTexts, e.device);
    TuningHistory history;
    if (!e.zeroShot) {
      const double memberFrom = from + (to - from) * k / members;
      const double memberTo = from + (to - from) * (k + 1) / members;
      ProgressRange sub(progress, memberFrom, memberTo,
                        "fold " + std::to_string(f + 1) + (members > 1 ? ", member " + std::to_string(k + 1) : std::string()) + ": ",
                        foldSeriesTag(f + 1, members > 1 ? k + 1 : 0));
      history = tuner.fit(store, splits[static_cast<std::size_t>(k)].train, splits[static_cast<std::size_t>(k)].validation, sub);
      e.tally.tuneSeconds += history.seconds;
      foldSeconds += history.seconds;
    } else if (progress.update("fold " + std::to_string(f + 1) + ": zero-shot", from)) {
      throw CancelledError();
    }
    e.tally.trainable = e.zeroShot ? 0 : init.model->trainableCount();  // zero-shot trains nothing (per member)
    e.tally.total = init.model->totalCount();
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
  if (!e.zeroShot) {
    e.tally.trainSeconds.push_back(foldSeconds);
    e.tally.bestEpochs.push_back(bestEpoch);
  }
  FoldResult fold;
  for (const auto& it : test) fold.testItems.push_back(e.itemOf.at(it.scanId));
  fold.labels = y;
  fold.margins = margins;
  fold.probabilities = p;
  fold.uncalibrated = pRaw;
  fold.temperature = temperature;
  fold.bias = bias;
  fold.trainLabels = trainLabels;
  fold.detail = {{"best_epoch", bestEpoch},
                 {"seconds", foldSeconds},
                 {"validation_auc", pooledValidation.hasBothClasses() ? json(pooledValidation.metrics().auc) : json(nullptr)},
                 {"validation", pooledValidation.scans()}};
  if (members > 1) fold.detail["members"] = memberDetail;
  return fold;
}

std::optional<FoldResult> evaluateFold(MethodEvaluation& e, int f, ProgressDelegate& foldProgress) {
  FoldItems items{corpusItems(e.manifest, f, "train", e.ws.arrays()), corpusItems(e.manifest, f, "validation", e.ws.arrays()),
                  corpusItems(e.manifest, f, "test", e.ws.arrays())};
  if (items.test.empty()) return std::nullopt;
  // A fitted input takes the fold's first fifth of the bar: it costs about as much as training a small model.
  const double from = e.config.input.identity() ? 0.0 : 0.2;
  const auto graphs = foldGraphs(e, f, items, foldProgress, 0.0, from);
  const ArrayStore& store = graphs->store();
  std::vector<DatasetItem> all = items.train;
  all.insert(all.end(), items.validation.begin(), items.validation.end());
  all.insert(all.end(), items.test.begin(), items.test.end());
  const bool needsEncoder = e.r.meta.empty() && e.config.adaptation.method != "scratch";
  if (needsEncoder && e.r.pretrainInFolds && !isPretrainableArchitecture(e.config.architecture))
    throw Error(ErrorCode::Usage, e.config.architecture + " has no pre-training");
  if (!(needsEncoder && e.r.pretrainInFolds && e.r.pretrained.empty()))
    return trainFoldMembers(e, f, items, all, store, e.requestPretrained, foldProgress, from, 1.0);
  const double middle = from + (1.0 - from) * 0.5;  // pre-training takes the first half of what is left
  ProgressRange sub(foldProgress, from, middle, "fold " + std::to_string(f + 1) + " pre-training: ", foldSeriesTag(f + 1));
  const auto foldPretrained = pretrainFold(e, f, items, store, sub);
  return trainFoldMembers(e, f, items, all, store, foldPretrained, foldProgress, middle, 1.0);
}

std::string procedureOf(const MethodEvaluation& e) {
  const int members = e.tally.membersUsed;
  std::string procedure = e.zeroShot ? std::string("zero-shot")
                          : members > 1 && e.config.ensembleValidation == "folds"
                              ? "inside each outer fold, a cross-fitted ensemble of " + std::to_string(members) + " inner-fold models (what train writes)"
                          : members > 1 ? std::to_string(members) + " members on one validation split"
                                        : std::string("one model on a 15% validation split of each outer fold's training part");
  if (!e.fused) return procedure;
  std::string names;
  for (const auto& a : e.atlases) names += (names.empty() ? "" : " + ") + a;
  return "one fused model over " + names + " (a network per atlas, one head over their representations); " + procedure;
}

json evaluationResult(const MethodEvaluation& e, const EvaluationResult& cv, const json& publicTokens, const json& texts) {
  const auto& r = e.r;
  const auto& config = e.config;
  const auto& t = e.tally;
  const bool zeroShot = e.zeroShot;
  return {
      {"method", zeroShot                                            ? std::string("zeroshot")
                 : config.architecture == model::kPublicArchitecture ? std::string(model::kPublicArchitecture) + "-" + config.adaptation.method
                 : config.architecture != "braingfm"                 ? r.method
                                                                     : config.adaptation.method},
      {"tokens", publicTokens},
      {"architecture", config.architecture},
      {"atlas_fusion", e.fused ? json("embedding") : json(nullptr)},
      {"fused_atlases", e.fused ? json(e.atlases) : json(nullptr)},
      {"adaptation", config.adaptation.method},
      {"prompt", config.adaptation.method == "prompt" && config.architecture == "braingfm" ? json(config.adaptation.prompt) : json(nullptr)},
      {"corpus", r.corpus},
      {"positive_class", e.manifest.at("classes")[1]},
      {"items", e.manifest.at("items").size()},
      {"label_fraction", zeroShot ? 0.0 : r.labelFraction},
      {"shots_per_class", zeroShot      ? json(nullptr)
                          : r.shots > 0 ? json(r.shots)
                                        : json(nullptr)},
      {"split",
       {{"kind", e.manifest.at("split").at("kind")}, {"seed", e.manifest.at("split").value("seed", 0u)}, {"folds", e.manifest.at("split").at("folds").size()}}},
      {"metrics", cv.metricsJson()},
      {"calibration", cv.calibrationJson(config.calibration)},
      {"trainable_parameters", t.trainable},
      {"total_parameters", t.total},
      {"ensemble", t.membersUsed},
      {"procedure", procedureOf(e)},
      {"pretrained", r.pretrained.empty() ? (r.pretrainInFolds ? json("in-folds") : json(nullptr)) : json(r.pretrained)},
      {"meta", r.meta.empty() ? json(nullptr) : json(r.meta)},
      {"texts", texts},
      {"config", config.toJson()},
      {"pretrain_config", r.pretrainInFolds ? json::parse(r.pretrainConfigJson.empty() ? "{}" : r.pretrainConfigJson) : json(nullptr)},
      {"pretrain_atlases", t.pretrainAtlases.empty() ? json(nullptr) : json(t.pretrainAtlases)},
      {"best_epochs", t.bestEpochs},
      {"folds_detail", cv.foldsDetailJson()},
      {"predictions", cv.predictionsJson(e.manifest.at("classes"))},
      {"training_seconds", t.tuneSeconds},
      {"pretraining_seconds", t.pretrainSeconds},
      {"input_seconds", t.inputSeconds},  // fitting and applying the input transform (0 for Pearson FC)
      {"input_pooled_site_scans", config.input.perSite ? json(t.pooledSiteScans) : json(nullptr)},
      {"input_adapted_site_scans", r.adaptNewSites ? json(t.adaptedSiteScans) : json(nullptr)},
      {"input_adaptation_scans", r.adaptNewSites && r.adaptScans > 0 ? json(r.adaptScans) : json(nullptr)},
      {"input_adaptation_positive_share", r.adaptNewSites && r.adaptShare >= 0 ? json(r.adaptShare) : json(nullptr)},
      {"input_adaptation_labelled", r.adaptNewSites && r.adaptLabelled ? json(true) : json(nullptr)},
      {"device", e.device.str()}};
}

}  // namespace

json evaluateMethod(const model::TuneRequest& r, ProgressDelegate& progress, torch::Device device) {
  auto ws = Workspace::open(r.workspace);
  auto manifest = r.manifestJson.empty() ? loadCorpus(*ws, r.corpus) : json::parse(r.manifestJson);
  applyRequestedSplit(manifest, r);
  // Opened once: the configuration, the checks and every fold's members read it from here.
  const auto requestPretrained = r.pretrained.empty() || !r.meta.empty() ? PretrainedFile{} : PretrainedFile::open(r.pretrained);
  MethodEvaluation e(r, *ws, std::move(manifest), tuningConfig(r, requestPretrained), requestPretrained, device);
  auto& config = e.config;
  checkFusionRequest(r, config);
  e.fused = r.fusesAtlases();
  if (e.fused) {
    e.atlases = fusedAtlases(e.manifest);
    e.manifest["atlas_fusion"] = "embedding";
  }
  if (r.adaptNewSites && !config.input.perSite)
    throw Error(ErrorCode::Usage,
                "adapting to new sites needs a per-site input (fc-site, fc-combat, tangent-site or tangent-combat), not " + config.input.name());
  const auto* info = findMethod(r.method);
  e.zeroShot = (info && !info->learnsFromLabels) || r.labelFraction <= 0.0;
  if (e.zeroShot && r.meta.empty()) throw Error(ErrorCode::Usage, "zero-shot (0% labels) needs a meta-learned model: give --meta MODEL");
  if (e.zeroShot && r.ensemble > 1) throw Error(ErrorCode::Usage, "zero-shot trains nothing: an ensemble would repeat one model");
  if (!e.zeroShot) config.labelFraction = r.labelFraction;
  config.shotsPerClass = r.shots;
  const json publicTokens =
      choosePublicTokensFor(config, e.manifest, maxNodes(partItems(e.manifest, 0, {"train", "validation", "test"}, ws->arrays())), requestPretrained);
  // A bad pre-training configuration is named now, not after the first fold's input transform.
  if (r.pretrainInFolds && r.pretrained.empty() && r.meta.empty() && config.architecture == "braingfm" && config.adaptation.method != "scratch")
    (void)foldPretrainConfig(r, config);
  json texts;
  e.taskTexts = corpusTaskTexts(e.manifest, config.model.textDimension, &texts);
  for (const auto& item : e.manifest.at("items")) e.itemOf[item.at("scan_id").get<std::int64_t>()] = &item;
  const int nFolds = static_cast<int>(e.manifest.at("split").at("folds").size());
  // Each fold's progress runs from 0 to 1 (crossValidate places it on the bar).
  const auto cv = crossValidate(nFolds, progress, 0.0, 1.0, [&](int f, ProgressDelegate& foldProgress) { return evaluateFold(e, f, foldProgress); });
  return evaluationResult(e, cv, publicTokens, texts);
}

}  // namespace bg::train
