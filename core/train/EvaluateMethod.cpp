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
  // Opened once: the configuration, the checks and every fold's members read it from here.
  const auto requestPretrained = r.pretrained.empty() || !r.meta.empty() ? PretrainedFile{} : PretrainedFile::open(r.pretrained);
  auto config = tuningConfig(r, requestPretrained);
  checkFusionRequest(r, config);
  const bool fused = r.fusesAtlases();
  const auto atlases = fused ? fusedAtlases(manifest) : std::vector<std::string>{};
  if (fused) manifest["atlas_fusion"] = "embedding";
  if (r.adaptNewSites && !config.input.perSite)
    throw Error(ErrorCode::Usage,
                "adapting to new sites needs a per-site input (fc-site, fc-combat, tangent-site or tangent-combat), not " + config.input.name());
  const auto* info = findMethod(r.method);
  const bool zeroShot = (info && !info->learnsFromLabels) || r.labelFraction <= 0.0;
  if (zeroShot && r.meta.empty()) throw Error(ErrorCode::Usage, "zero-shot (0% labels) needs a meta-learned model: give --meta MODEL");
  if (zeroShot && r.ensemble > 1) throw Error(ErrorCode::Usage, "zero-shot trains nothing: an ensemble would repeat one model");
  if (!zeroShot) config.labelFraction = r.labelFraction;
  config.shotsPerClass = r.shots;
  const json publicTokens =
      choosePublicTokensFor(config, manifest, maxNodes(partItems(manifest, 0, {"train", "validation", "test"}, ws->arrays())), requestPretrained);
  // A bad pre-training configuration is named now, not after the first fold's input transform.
  if (r.pretrainInFolds && r.pretrained.empty() && r.meta.empty() && config.architecture == "braingfm" && config.adaptation.method != "scratch")
    (void)foldPretrainConfig(r, config);
  json texts;
  const auto taskTexts = corpusTaskTexts(manifest, config.model.textDimension, &texts);
  const auto& folds = manifest.at("split").at("folds");
  const int nFolds = static_cast<int>(folds.size());
  std::vector<double> bestEpochs, trainSeconds;
  double pretrainSeconds = 0, tuneSeconds = 0, inputSeconds = 0;
  std::vector<std::string> pretrainAtlases;  // the atlases the folds' pre-training read
  int pooledSiteScans = 0;                   // per-site input: test scans from a site the fold's training part lacks
  int adaptedSiteScans = 0;                  // ... and, with adaptNewSites, standardised with their own site's unlabelled test scans instead
  std::int64_t trainable = 0, total = 0;
  int membersUsed = 1;
  std::map<std::int64_t, const json*> itemOf;
  for (const auto& item : manifest.at("items")) itemOf[item.at("scan_id").get<std::int64_t>()] = &item;
  // Each fold's progress runs from 0 to 1 (crossValidate places it on the bar).
  const auto cv = crossValidate(nFolds, progress, 0.0, 1.0, [&](int f, ProgressDelegate& foldProgress) -> std::optional<FoldResult> {
    double from = 0.0;
    const double to = 1.0;
    auto train = corpusItems(manifest, f, "train", ws->arrays());
    auto validation = corpusItems(manifest, f, "validation", ws->arrays());
    auto test = corpusItems(manifest, f, "test", ws->arrays());
    if (test.empty()) return std::nullopt;
    std::vector<DatasetItem> trainingScans = train;  // the input transform is fitted on the training folds only
    trainingScans.insert(trainingScans.end(), validation.begin(), validation.end());
    const auto inputStart = std::chrono::steady_clock::now();
    // A fitted input takes the fold's first fifth of the bar: it costs about as much as training a small model.
    const double inputTo = config.input.identity() ? from : from + (to - from) * 0.2;
    const std::string inputStage = "fold " + std::to_string(f + 1) + " " + config.input.name() + " input: ";
    ProgressRange fitting(foldProgress, from, from + (inputTo - from) * 0.7, inputStage);
    ProgressRange remapping(foldProgress, from + (inputTo - from) * 0.7, inputTo, inputStage);
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
    if (fused) {  // the input is Pearson FC (checkFusionRequest): the stored graphs of every atlas
      train = withAtlasViews(manifest, train, ws->arrays());
      validation = withAtlasViews(manifest, validation, ws->arrays());
      test = withAtlasViews(manifest, test, ws->arrays());
    }
    from = inputTo;
    inputSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - inputStart).count();
    const ArrayStore& store = graphs.store();
    std::vector<DatasetItem> all = train;
    all.insert(all.end(), validation.begin(), validation.end());
    all.insert(all.end(), test.begin(), test.end());
    const PretrainedFile* pretrained = &requestPretrained;
    PretrainedFile foldPretrained;
    const bool needsEncoder = r.meta.empty() && config.adaptation.method != "scratch";
    if (needsEncoder && r.pretrainInFolds && !isPretrainableArchitecture(config.architecture))
      throw Error(ErrorCode::Usage, config.architecture + " has no pre-training");
    const bool pretrainHere = needsEncoder && r.pretrainInFolds && r.pretrained.empty();
    const double split = pretrainHere ? 0.5 : 0.0;
    if (pretrainHere) {
      std::vector<DatasetItem> unlabelled = train;  // the training folds only: never the test fold
      unlabelled.insert(unlabelled.end(), validation.begin(), validation.end());
      for (auto& it : unlabelled) it.views.clear();  // pre-training reads graphs one at a time (each atlas's through atlas_views)
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
      ProgressRange sub(foldProgress, from, from + (to - from) * split, "fold " + std::to_string(f + 1) + " pre-training: ", foldSeriesTag(f + 1));
      foldPretrained = PretrainedFile::open(pretrainForFold(*ws, store, manifest, unlabelled, r, config, device, sub, &pretrainSeconds));
      pretrained = &foldPretrained;
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
      auto init = initialiseFor(config, 2, all, r, *pretrained, atlases);
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
        ProgressRange sub(foldProgress, memberFrom, memberTo,
                          "fold " + std::to_string(f + 1) + (members > 1 ? ", member " + std::to_string(k + 1) : std::string()) + ": ",
                          foldSeriesTag(f + 1, members > 1 ? k + 1 : 0));
        history = tuner.fit(store, splits[static_cast<std::size_t>(k)].train, splits[static_cast<std::size_t>(k)].validation, sub);
        tuneSeconds += history.seconds;
        foldSeconds += history.seconds;
      } else if (foldProgress.update("fold " + std::to_string(f + 1) + ": zero-shot", from)) {
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
    FoldResult fold;
    for (const auto& it : test) fold.testItems.push_back(itemOf.at(it.scanId));
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
  });
  json result{{"method", zeroShot                                            ? std::string("zeroshot")
                         : config.architecture == model::kPublicArchitecture ? std::string(model::kPublicArchitecture) + "-" + config.adaptation.method
                         : config.architecture != "braingfm"                 ? r.method
                                                                             : config.adaptation.method},
              {"tokens", publicTokens},
              {"architecture", config.architecture},
              {"atlas_fusion", fused ? json("embedding") : json(nullptr)},
              {"fused_atlases", fused ? json(atlases) : json(nullptr)},
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
              {"metrics", cv.metricsJson()},
              {"calibration", cv.calibrationJson(config.calibration)},
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
              {"folds_detail", cv.foldsDetailJson()},
              {"predictions", cv.predictionsJson(manifest.at("classes"))},
              {"training_seconds", tuneSeconds},
              {"pretraining_seconds", pretrainSeconds},
              {"input_seconds", inputSeconds},  // fitting and applying the input transform (0 for Pearson FC)
              {"input_pooled_site_scans", config.input.perSite ? json(pooledSiteScans) : json(nullptr)},
              {"input_adapted_site_scans", r.adaptNewSites ? json(adaptedSiteScans) : json(nullptr)},
              {"input_adaptation_scans", r.adaptNewSites && r.adaptScans > 0 ? json(r.adaptScans) : json(nullptr)},
              {"input_adaptation_positive_share", r.adaptNewSites && r.adaptShare >= 0 ? json(r.adaptShare) : json(nullptr)},
              {"input_adaptation_labelled", r.adaptNewSites && r.adaptLabelled ? json(true) : json(nullptr)},
              {"device", device.str()}};
  if (fused) {
    std::string names;
    for (const auto& a : atlases) names += (names.empty() ? "" : " + ") + a;
    result["procedure"] =
        "one fused model over " + names + " (a network per atlas, one head over their representations); " + result["procedure"].get<std::string>();
  }
  return result;
}

}  // namespace bg::train
