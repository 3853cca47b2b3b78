// train: one model file from every labelled scan of a corpus (a cross-fitted ensemble, or one model
// with a held-out validation split), with the card prediction and the report read.
#include "train/Experiment.h"

#include <memory>

#include <spdlog/spdlog.h>
#include <torch/version.h>

#include "errors/Error.h"
#include "eval/Calibration.h"
#include "eval/Metrics.h"
#include "eval/OutOfDistribution.h"
#include "methods/MethodCatalog.h"
#include "model/DownstreamModel.h"
#include "platform/Versions.h"
#include "train/MemberSplits.h"
#include "train/ModelFile.h"
#include "train/TransformedGraphs.h"
#include "train/TuningSetup.h"
#include "workspace/Corpus.h"
#include "workspace/Derivation.h"
#include "workspace/Workspace.h"

namespace bg::train {
using nlohmann::json;

json trainModel(const model::TuneRequest& r, ProgressDelegate& progress, torch::Device device) {
  if (r.out.empty()) throw Error(ErrorCode::Usage, "train needs --out MODEL");
  if (const auto* m = findMethod(r.method); m && !m->learnsFromLabels)
    throw Error(ErrorCode::Usage, "zero-shot uses a meta-learned model as it is: nothing to train");
  auto ws = Workspace::open(r.workspace);
  auto manifest = r.manifestJson.empty() ? loadCorpus(*ws, r.corpus) : json::parse(r.manifestJson);
  const auto pretrained = r.pretrained.empty() || !r.meta.empty() ? PretrainedFile{} : PretrainedFile::open(r.pretrained);
  auto config = tuningConfig(r, pretrained);
  config.shotsPerClass = r.shots;
  checkFusionRequest(r, config);
  const bool fused = r.fusesAtlases();
  const auto atlases = fused ? fusedAtlases(manifest) : std::vector<std::string>{};
  if (fused) manifest["atlas_fusion"] = "embedding";
  // The whole corpus, with a stratified 15% validation split (selection + calibration) inside, or
  // (ensemble_validation folds) one fold of it per member.
  std::vector<DatasetItem> all = partItems(manifest, 0, {"train", "validation", "test"}, ws->arrays());
  const json publicTokens = choosePublicTokensFor(config, manifest, maxNodes(all), pretrained);
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
  ProgressRange inputProgress(progress, 0.0, inputShare, config.input.name() + " input: ");
  ProgressRange fitting(inputProgress, 0.0, 0.7), remapping(inputProgress, 0.7, 1.0);
  TransformedGraphs graphs(ws->arrays(), fitGraphInput(config.input, ws->arrays(), all, &fitting), ws->dir() / "tmp");
  {
    ProgressRange trainPart(remapping, 0.0, 0.85), validationPart(remapping, 0.85, 1.0);
    train = graphs.remap(train, &trainPart);
    validation = graphs.remap(validation, &validationPart);
  }
  if (fused) {  // Pearson FC (checkFusionRequest): every atlas's stored graph of each scan
    all = withAtlasViews(manifest, all, ws->arrays());
    train = withAtlasViews(manifest, train, ws->arrays());
    validation = withAtlasViews(manifest, validation, ws->arrays());
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
    inits.push_back(initialiseFor(config, 2, all, r, pretrained, atlases));
    if (!r.meta.empty()) config.adaptation = std::dynamic_pointer_cast<model::DownstreamModelImpl>(inits.back().model)->spec();
    auto memberConfig = config;
    memberConfig.member = k;
    if (splitLabelled) {  // the split drew the labelled scans already
      memberConfig.labelFraction = 1.0;
      memberConfig.shotsPerClass = 0;
    }
    tuners.push_back(std::make_unique<Tuner>(memberConfig, inits.back().model, taskTexts, device));
    ProgressRange sub(progress, inputShare + (1 - inputShare) * k / members, inputShare + (1 - inputShare) * (k + 1) / members,
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
  card.update(init.model->describe());  // architecture, model, adaptation, max_nodes (and LCM's variables; a fused model's atlases and members)
  if (fused) {
    json nodesPerAtlas = json::array();
    for (std::size_t k = 0; k < atlases.size(); ++k) {
      auto& member = card.at("members").at(k);
      nodesPerAtlas.push_back(member.at("max_nodes"));
      // What reading a scan for this atlas needs (prediction inputs are loaded per atlas, as for an atlas ensemble's members).
      member["atlas"] = atlases[k];
      member["nodes"] = member.at("max_nodes");
      member["preprocessing"] = card.at("preprocessing");
      member["classes"] = card.at("classes");
    }
    card["atlas_nodes"] = nodesPerAtlas;  // the graph each atlas's input must have, in "atlases" order
  }
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

}  // namespace bg::train
