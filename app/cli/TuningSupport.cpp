// What train, evaluate, meta-train and compare share (TuningSupport.h).
#include "TuningSupport.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <tuple>
#include <utility>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "CliContext.h"
#include "Commands.h"
#include "atlas/AtlasRegistry.h"
#include "errors/Error.h"
#include "connectome/GraphInputSpec.h"
#include "connectome/SiteStandardizer.h"
#include "eval/BaselineModel.h"
#include "eval/ConfigurationChoice.h"
#include "eval/AtlasEnsemble.h"
#include "io/JsonText.h"
#include "methods/MethodCatalog.h"
#include "eval/Evaluation.h"
#include "eval/ModelComparison.h"
#include "settings/DataPaths.h"
#include "eval/Prediction.h"
#include "eval/RegularisationSearch.h"
#include "eval/Results.h"
#include "io/AtomicFile.h"
#include "model/ModelBackend.h"
#include "platform/Strings.h"
#include "workspace/ContentHash.h"
#include "workspace/Corpus.h"
#include "workspace/Workspace.h"

namespace bg::cli {
using nlohmann::json;

std::string readText(const std::string& file) {
  if (file.empty()) return {};
  std::ifstream in(file);
  if (!in) throw Error(ErrorCode::NoInput, "cannot open " + file);
  std::stringstream ss;
  ss << in.rdbuf();
  return parseJsonText(ss.str(), "configuration " + file).dump();
}

void printMetrics(const json& result) {
  std::string method = result.value("method", "");
  if (result.contains("prompt") && result["prompt"].is_string()) method += " (" + result["prompt"].get<std::string>() + ")";
  std::printf("%s on '%s' (%s, %zu folds, %lld scans, %.0f%% of training labels)\n", method.c_str(), result.value("corpus", "").c_str(),
              result["split"]["kind"].get<std::string>().c_str(), result["split"]["folds"].get<std::size_t>(),
              static_cast<long long>(result["items"].get<std::int64_t>()), 100.0 * result.value("label_fraction", 1.0));
  for (const char* m : {"auc", "accuracy", "sensitivity", "specificity", "f1", "balanced_accuracy"}) {
    const auto& v = result["metrics"][m];
    std::printf("  %-18s %.3f +/- %.3f  (95%% CI %.3f-%.3f)\n", m, v["mean"].get<double>(), v["sd"].get<double>(), v["ci95"][0].get<double>(),
                v["ci95"][1].get<double>());
  }
  if (result.contains("calibration")) std::printf("  %-18s %.3f\n", "ece", result["calibration"]["ece"]["mean"].get<double>());
  if (result.contains("trainable_parameters")) std::printf("  %-18s %s\n", "trainable params", result["trainable_parameters"].dump().c_str());
  if (result.contains("training_seconds")) std::printf("  %-18s %.1f s\n", "training time", result["training_seconds"].get<double>());
  if (result.contains("procedure")) std::printf("  %-18s %s\n", "procedure", result["procedure"].get<std::string>().c_str());
  if (result.contains("c_selection")) {  // how often each C was chosen, over the folds
    std::map<double, int> chosen;
    for (const auto& f : result["c_selection"]["folds"]) ++chosen[f.at("c").get<double>()];
    std::string text;
    for (const auto& [c, times] : chosen) text += (text.empty() ? "" : ", ") + fmt::format("{:g} in {} fold{}", c, times, times == 1 ? "" : "s");
    std::printf("  %-18s %s\n", "C chosen", text.c_str());
  }
  if (result.contains("config_selection")) {  // which configuration each fold kept
    std::string text;
    for (const auto& c : result["config_selection"]["candidates"]) {
      const int times = c.at("chosen_folds").get<int>();
      text += (text.empty() ? "" : ", ") + fmt::format("{} in {} fold{}", c.at("name").get<std::string>(), times, times == 1 ? "" : "s");
    }
    std::printf("  %-18s %s\n", "config chosen", text.c_str());
  }
  if (result.value("input_seconds", 0.0) > 0) std::printf("  %-18s %.1f s\n", "input transform", result["input_seconds"].get<double>());
}

// One evaluation (any --method), stored in the workspace: its run id, the request as recorded, the
// result, and the out-of-fold predictions (stored beside the result, kept out of the printed one: one row per scan).
// candidates: more than one (name, configuration JSON) has each fold keep the configuration with the
// best validation AUC (combineConfigurationChoice); rf.configJson is then ignored.
std::tuple<std::int64_t, json, json, json> runEvaluation(CliContext& ctx, Workspace& ws, const model::TuneRequest& rf, const std::vector<double>& cGrid,
                                                         const std::string& name, const Candidates& candidates) {
  const double fraction = rf.labelFraction;
  json result;
  json request = {{"method", rf.method},
                  {"prompt", rf.prompt},
                  {"split", rf.split},
                  {"folds", rf.folds},
                  {"seed", rf.seed},
                  {"label_fraction", fraction},
                  {"pretrained", rf.pretrained},
                  {"meta", rf.meta},
                  {"pretrain_in_folds", rf.pretrainInFolds},
                  {"config", rf.configJson.empty() ? json() : json::parse(rf.configJson)},
                  {"calibration", rf.calibration.empty() ? json() : json(rf.calibration)},
                  {"input", rf.input.empty() ? json() : json(rf.input)},
                  {"ensemble", rf.ensemble > 0 ? json(rf.ensemble) : json()}};
  if (!rf.ensembleValidation.empty()) request["ensemble_validation"] = rf.ensembleValidation;
  if (rf.adaptNewSites) request["adapt_new_sites"] = true;
  if (rf.adaptScans > 0) request["adapt_scans"] = rf.adaptScans;
  if (rf.adaptShare >= 0) request["adapt_share"] = rf.adaptShare;
  if (rf.adaptLabelled) request["adapt_labelled"] = true;
  if (!rf.atlasFusion.empty()) request["atlas_fusion"] = rf.atlasFusion;
  if (!name.empty()) request["name"] = name;  // the model's name in comparisons
  if (candidates.size() > 1) {
    request["config"] = nullptr;
    request["configs"] = json::array();
    for (const auto& [file, text] : candidates) request["configs"].push_back({{"name", file}, {"config", text.empty() ? json() : json::parse(text)}});
  }
  if (methodInfo(rf.method).isBaseline()) {
    if (fraction <= 0) throw Error(ErrorCode::Usage, "zero-shot (label fraction 0) needs a meta-learned BrainGFM: a baseline learns from labels");
    EvaluateRequest req;
    const auto& info = methodInfo(rf.method);
    req.method = info.classifier;
    req.features = info.features;
    const auto input = rf.input.empty() ? GraphInputSpec{} : GraphInputSpec::fromName(rf.input);  // validated in resolved()
    req.harmoniseSites = input.perSite;
    req.siteShrinkage = input.empiricalBayes;
    req.adaptNewSites = rf.adaptNewSites;
    req.adaptScans = rf.adaptScans;
    req.adaptShare = rf.adaptShare;
    req.adaptLabelled = rf.adaptLabelled;
    req.c = cGrid.front();
    if (cGrid.size() > 1) req.cGrid = cGrid;
    req.split = rf.split;
    req.folds = rf.folds;
    req.seed = rf.seed;
    req.labelFraction = fraction;
    if (!rf.calibration.empty()) req.calibration = rf.calibration;
    request["c"] = cGrid.size() > 1 ? json(cGrid) : json(req.c);
    const auto manifest = loadCorpus(ws, rf.corpus);
    if (corpusAtlases(manifest).size() > 1) {  // one regression per atlas, probabilities averaged
      if (!info.severalAtlases || req.harmoniseSites)
        throw Error(ErrorCode::Usage, "a multi-atlas corpus is evaluated with logreg or logreg-tangent (one pooled-standardised regression per atlas); " +
                                          rf.method + (req.harmoniseSites ? " with --input " + rf.input : std::string()) + " reads one atlas");
      ctx.runJob("evaluate " + rf.method, [&](JobContext& job) { result = evaluateAtlasEnsemble(ws, manifest, req, job); });
    } else {
      ctx.runJob("evaluate " + rf.method, [&](JobContext& job) { result = evaluateBaseline(ws, manifest, req, job); });
    }
    if (req.features == "tangent") result["method"] = rf.method;
  } else if (candidates.size() > 1) {
    if (corpusAtlases(loadCorpus(ws, rf.corpus)).size() > 1)
      throw Error(ErrorCode::Usage, "choosing among configurations is for one-atlas corpora; evaluate each configuration on the multi-atlas corpus alone");
    // Every candidate on the same folds; each fold then keeps one by its validation AUC.
    const auto& backend = model::modelBackend();
    std::vector<ConfigurationCandidate> evaluated;
    forEachCandidate(ctx, "evaluate " + rf.method, rf, candidates, [&](std::size_t k, const model::TuneRequest& rk, ProgressDelegate& part) {
      evaluated.push_back({candidates[k].first, json::parse(backend.evaluate(rk, part))});
    });
    result = combineConfigurationChoice(evaluated);
    // Each candidate is also stored as the evaluation it is on its own (named by its file), so that
    // comparisons can set the choice beside every candidate it chose from.
    for (std::size_t k = 0; k < evaluated.size(); ++k) {
      auto own = request;
      own.erase("configs");
      own["config"] = candidates[k].second.empty() ? json() : json::parse(candidates[k].second);
      own["name"] = (name.empty() ? rf.method : name) + ", " + candidates[k].first;
      auto candidateResult = evaluated[k].result;
      const auto rows = candidateResult.value("predictions", json::array());
      candidateResult.erase("predictions");
      result["config_selection"]["candidates"][k]["evaluation_id"] = recordEvaluation(ws, rf.corpus, own, candidateResult, rows);
    }
  } else if (const auto manifest = loadCorpus(ws, rf.corpus); corpusAtlases(manifest).size() > 1 && rf.fusesAtlases()) {
    // One fused model over every atlas: it reads the first atlas's part, each scan's other graphs as its views.
    auto rk = rf;
    rk.manifestJson = fusedModelManifest(manifest).dump();
    const auto& backend = model::modelBackend();
    ctx.runJob("evaluate " + rf.method, [&](JobContext& job) { result = json::parse(backend.evaluate(rk, job)); });
  } else if (corpusAtlases(manifest).size() > 1) {
    // A multi-atlas corpus: one graph model per atlas on the same subject folds, probabilities averaged
    // per acquisition (what train writes for such a corpus).
    const auto& backend = model::modelBackend();
    const AtlasEnsembleEvaluation e{
        rf.method, rf.split, rf.folds, rf.seed, rf.calibration, rf.labelFraction, "one " + rf.method + " model per atlas, trained as train trains it"};
    ctx.runJob("evaluate " + rf.method, [&](JobContext& job) {
      result = evaluateAtlasEnsemble(manifest, e, job, [&](const std::string&, const json& part, ProgressDelegate& p) {
        auto rk = rf;
        auto member = part;
        member["atlas_views"] = manifest.at("items");  // a fold's pre-training reads every atlas (pretrainInFolds)
        rk.manifestJson = member.dump();
        rk.split = "corpus";  // the whole corpus's subject folds, made once
        return json::parse(backend.evaluate(rk, p));
      });
    });
  } else {
    const auto& backend = model::modelBackend();
    ctx.runJob("evaluate " + rf.method, [&](JobContext& job) { result = json::parse(backend.evaluate(rf, job)); });
  }
  json predictions = {{"label_fraction", result.value("label_fraction", 1.0)}, {"predictions", result.value("predictions", json::array())}};
  result.erase("predictions");
  const auto id = recordEvaluation(ws, rf.corpus, request, result, predictions["predictions"]);
  return {id, request, result, predictions};
}

// train with several --config: every candidate is trained (the same validation split, the same
// seeds) into a file beside --out; the one with the best validation AUC becomes --out, its card
// recording the choice; the others are removed, also on failure or cancel.
json trainChoosingConfiguration(CliContext& ctx, const model::TuneRequest& r, const Candidates& candidates) {
  const auto& backend = model::modelBackend();
  std::vector<std::string> files;
  struct Cleanup {
    std::vector<std::string>& files;
    ~Cleanup() {
      std::error_code ec;
      for (const auto& f : files) std::filesystem::remove(f, ec);
    }
  } cleanup{files};
  std::vector<json> cards;
  forEachCandidate(ctx, "train " + r.method, r, candidates, [&](std::size_t k, const model::TuneRequest& candidate, ProgressDelegate& part) {
    auto rk = candidate;
    rk.out = r.out + ".candidate-" + std::to_string(k + 1);
    files.push_back(rk.out);
    cards.push_back(json::parse(backend.train(rk, part)));
  });
  std::size_t best = 0;
  json described = json::array();
  for (std::size_t k = 0; k < cards.size(); ++k) {
    const double auc = cards[k].at("validation").at("auc").get<double>();
    if (auc > cards[best].at("validation").at("auc").get<double>()) best = k;  // a tie keeps the earlier candidate
    described.push_back({{"name", candidates[k].first},
                         {"config", json::parse(candidates[k].second.empty() ? "{}" : candidates[k].second)},
                         {"validation_auc", auc},
                         {"trainable_parameters", cards[k].value("trainable_parameters", json())}});
  }
  const json patch = {{"config_selection",
                       {{"criterion", "validation AUC (the training corpus's own validation scans; members' calibrated mean)"},
                        {"candidates", described},
                        {"chosen", candidates[best].first}}}};
  spdlog::info("configuration {} has the best validation AUC ({:.3f}); writing it to {}", candidates[best].first,
               cards[best]["validation"]["auc"].get<double>(), r.out);
  return json::parse(backend.rewriteModelCard(files[best], r.out, patch.dump()));
}

json fusedModelManifest(const json& manifest) {
  auto part = atlasPart(manifest, corpusAtlases(manifest).front());
  part["atlas_views"] = manifest.at("items");
  return part;
}

// A multi-atlas corpus and a graph method: one model per atlas, each trained as train trains it on
// its atlas's part and written beside --out (STEM.ATLAS.pt); --out holds the ensemble's card, which
// names each member file with its SHA-256. The member files are removed when training fails.
json trainGraphAtlasEnsemble(CliContext& ctx, const model::TuneRequest& r, const json& manifest) {
  const auto& backend = model::modelBackend();
  const std::filesystem::path out(r.out);
  std::vector<std::filesystem::path> files;
  struct Cleanup {
    std::vector<std::filesystem::path>& files;
    bool keep = false;
    ~Cleanup() {
      std::error_code ec;
      if (!keep)
        for (const auto& f : files) std::filesystem::remove(f, ec);
    }
  } cleanup{files};
  json card;
  ctx.runJob("train " + r.method, [&](JobContext& job) {
    card = trainAtlasEnsemble(manifest, job, [&](const std::string& atlas, const json& part, ProgressDelegate& p) {
      auto rk = r;
      rk.manifestJson = part.dump();
      files.push_back(out.parent_path() / (out.stem().string() + "." + atlas + ".pt"));
      rk.out = files.back().string();
      return json::parse(backend.train(rk, p));
    });
  });
  json memberFiles = json::array();
  const auto atlases = card.at("atlases").get<std::vector<std::string>>();
  for (std::size_t k = 0; k < atlases.size(); ++k)
    memberFiles.push_back({{"atlas", atlases[k]}, {"file", files[k].filename().string()}, {"sha256", hashFile(files[k])}});
  card["member_files"] = memberFiles;
  cleanup.keep = true;
  for (const auto& f : files) spdlog::info("wrote the {} member {}", f.stem().extension().string().substr(1), f.string());
  return card;
}

// One input that could not be predicted: logged, and with --json a line naming it (the others go on).

}  // namespace bg::cli
