// train, evaluate, meta-train, predict, results, model: adapting BrainGFM (and the baselines) to
// a labelled corpus, measuring it, and using the resulting model files.
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
#include "OutputFormat.h"
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
namespace {
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

using Candidates = std::vector<std::pair<std::string, std::string>>;  // (name, configuration JSON)

// Runs `step(k, request with candidate k's configuration, candidate k's share of the job's progress)`
// for every candidate in turn, as one job.
template <class Step>
void forEachCandidate(CliContext& ctx, const std::string& title, const model::TuneRequest& r, const Candidates& candidates, Step step) {
  ctx.runJob(title + ", choosing among " + std::to_string(candidates.size()) + " configurations", [&](JobContext& job) {
    const double n = static_cast<double>(candidates.size());
    for (std::size_t k = 0; k < candidates.size(); ++k) {
      auto rk = r;
      rk.configJson = candidates[k].second;
      ProgressRange part(job, static_cast<double>(k) / n, static_cast<double>(k + 1) / n,
                         fmt::format("configuration {} of {} ({}): ", k + 1, candidates.size(), candidates[k].first));
      step(k, rk, part);
    }
  });
}

// One evaluation (any --method), stored in the workspace: its run id, the request as recorded, the
// result, and the out-of-fold predictions (stored beside the result, kept out of the printed one: one row per scan).
// candidates: more than one (name, configuration JSON) has each fold keep the configuration with the
// best validation AUC (combineConfigurationChoice); rf.configJson is then ignored.
std::tuple<std::int64_t, json, json, json> runEvaluation(CliContext& ctx, Workspace& ws, const model::TuneRequest& rf, const std::vector<double>& cGrid,
                                                         const std::string& name = {}, const Candidates& candidates = {}) {
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
  } else if (const auto manifest = loadCorpus(ws, rf.corpus); corpusAtlases(manifest).size() > 1) {
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
// Called inside a catch block.
struct ModelArgs {
  model::TuneRequest req;
  std::vector<std::string> configFiles;
  std::string pretrainConfigFile;
  std::string c = "0.01";
  CLI::Option* cOption = nullptr;  // to tell a --c given from the default
  void add(CLI::App* cmd) {
    cmd->add_option("--method", req.method, methodListText())->required();
    cmd->add_option("--prompt", req.prompt, "Graph prompt for --method prompt: node_mult, node_add, edge, node_mult+edge, node_add+edge")
        ->capture_default_str();
    cmd->add_option("--pretrained", req.pretrained, "Pre-trained encoder (pretrain --out)");
    cmd->add_option("--meta", req.meta, "Meta-learned prompt model (meta-train --out): few-shot start or zero-shot");
    cmd->add_option("--config", configFiles,
                    "Tuning configuration (JSON): model size, epochs, learning rate, patience, ... Given more than once, the configuration "
                    "is chosen by validation AUC: evaluate keeps the best one in each fold (on the fold's validation scans, inside its "
                    "training part), train keeps the best on its own validation split");
    cmd->add_option("--epochs", req.epochs, "Override the configuration's epochs (1 to 100000)")->check(CLI::Range(1, 100000));
    cmd->add_option("--calibration", req.calibration,
                    "Calibration fitted on the validation split: temperature (default), platt (temperature and bias) or auto "
                    "(Platt's bias only where a likelihood-ratio test on the validation split finds it, p < 0.05)")
        ->check(CLI::IsMember({"temperature", "platt", "auto"}));
    cmd->add_option("--input", req.input,
                    "What the model reads: fc (stored Pearson FC), tangent (tangent-space FC against the training scans' geometric "
                    "mean); -z: every edge z-scored over the training scans (tangent-z, fc-z); -site: z-scored over the training "
                    "scans of the scan's own acquisition site (fc-site, tangent-site: site harmonisation); -combat: the same with "
                    "ComBat's empirical-Bayes shrinkage of each site's statistics (fc-combat, tangent-combat). Other than fc: from scratch, "
                    "or evaluate with --pretrain-in-folds (BrainGFM pre-trains each fold's encoder on that input). The baselines take "
                    "the per-site inputs of their features (logreg: fc-site, fc-combat; logreg-tangent: tangent-site, tangent-combat)")
        ->check(CLI::IsMember(GraphInputSpec::names()));
    cmd->add_option("--ensemble", req.ensemble,
                    "Graph models: members per model, their calibrated probabilities averaged (predict, explanations and intervals "
                    "use every member). Default 5, cross-fitted: the labelled scans in 5 stratified folds, member k choosing its epoch "
                    "and calibration on fold k and learning from the rest, so the file learns from every label; evaluate measures the "
                    "same procedure inside each outer fold. 1: one model on a 15% validation split (about 4x quicker)")
        ->check(CLI::Range(1, 32));
    cmd->add_option("--ensemble-validation", req.ensembleValidation,
                    "Where each ensemble member selects its epoch and fits its calibration: folds (default: the training part in one "
                    "stratified fold per member; member k validates on fold k and trains on the rest) or shared (one 15% validation "
                    "split for all members, which none learns from)")
        ->check(CLI::IsMember({"shared", "folds"}));
    cmd->add_option("--shots", req.shots, "Only K labelled graphs per class (few-shot, e.g. adapting a --meta model)");
    cmd->add_option("--seed", req.seed, "Seed (splits, initialisation, batches)")->capture_default_str();
    cOption = cmd->add_option("--c", c,
                              "Baselines: inverse regularisation strength, or several (0.001,0.01,0.1) to choose from by 5-fold cross-validation "
                              "inside each training part")
                  ->capture_default_str();
  }
  // The request with the workspace, device and files read, refused (a usage error) when the
  // method cannot run it. kind: train or evaluate; labelFractions: evaluate's --regimes.
  model::TuneRequest resolved(CliContext& ctx, const std::string& dir, const std::string& kind, std::vector<double> labelFractions = {}) const {
    auto r = req;
    if (labelFractions.empty()) labelFractions = {r.labelFraction};
    r.workspace = workspaceDir(ctx, dir).string();
    r.device = ctx.settings().device;
    r.threads = ctx.settings().computeThreads;
    r.configJson = configFiles.empty() ? std::string() : readText(configFiles.front());
    MethodRequest check;
    check.kind = kind;
    check.method = r.method;
    check.hasPretrained = !r.pretrained.empty();
    check.hasMeta = !r.meta.empty();
    check.pretrainInFolds = r.pretrainInFolds;
    check.calibration = r.calibration;
    check.regularisationGiven = cOption->count() > 0;
    check.configurations = static_cast<int>(configFiles.size());
    check.ensemble = r.ensemble;
    check.ensembleValidationGiven = !r.ensembleValidation.empty();
    check.input = r.input;
    check.labelFractions = labelFractions;
    if (const auto problems = methodProblems(check); !problems.empty()) throw Error(ErrorCode::Usage, problems.front());
    for (std::size_t i = 0; i < configFiles.size() && configFiles.size() > 1; ++i) {
      (void)readText(configFiles[i]);  // a missing or broken file fails now, not after the first candidate's training
      for (std::size_t j = 0; j < i; ++j)
        if (std::filesystem::weakly_canonical(configFiles[i]) == std::filesystem::weakly_canonical(configFiles[j]))
          throw Error(ErrorCode::Usage, "--config " + configFiles[i] + " is given twice");
    }
    r.pretrainConfigJson = readText(pretrainConfigFile);
    parseRegularisationGrid(c);  // a bad --c fails here, before any work
    return r;
  }
  // (name, configuration JSON) per --config, when there is more than one to choose from.
  Candidates candidates() const {
    Candidates out;
    if (configFiles.size() < 2) return out;
    for (const auto& f : configFiles) out.emplace_back(std::filesystem::path(f).filename().string(), readText(f));
    for (std::size_t i = 0; i < out.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (out[i].first == out[j].first) out[i].first = configFiles[i];  // two files of one name: the full paths tell them apart
    return out;
  }
};

// ---- train
void addTrainCommand(CLI::App& app, Action& action) {
  struct Args {
    std::string dir;
    ModelArgs model;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("train", "Train on a whole corpus (validation split inside) and write a self-contained model file");
  addWorkspaceOption(cmd, a->dir);
  cmd->add_option("--corpus", a->model.req.corpus, "Corpus name")->required();
  cmd->add_option("--out", a->model.req.out, "Model file to write")->required();
  a->model.add(cmd);
  cmd->callback([&action, a] {
    action = [a](CliContext& ctx) {
      auto r = a->model.resolved(ctx, a->dir, "train");
      json card;
      if (const auto& info = methodInfo(r.method); info.isBaseline()) {
        if (!r.input.empty())
          throw Error(ErrorCode::Usage, "train writes the " + r.method + " baseline with pooled standardisation; per-site standardisation (--input " + r.input +
                                            ") is for evaluate, or for the graph models' files");
        auto ws = Workspace::open(r.workspace);
        const auto manifest = loadCorpus(*ws, r.corpus);
        const std::string calibration = r.calibration.empty() ? "temperature" : r.calibration;
        const std::string features = info.features;
        ctx.runJob("train " + r.method, [&](JobContext& job) {
          card = corpusAtlases(manifest).size() > 1  // one regression per atlas, probabilities averaged
                     ? trainAtlasEnsemble(*ws, manifest, parseRegularisationGrid(a->model.c), r.seed, job, calibration, features)
                     : trainBaselineModel(*ws, manifest, parseRegularisationGrid(a->model.c), r.seed, job, calibration, features);
        });
        writeTextAtomically(r.out, card.dump() + "\n");
      } else if (const auto manifest = loadCorpus(*Workspace::open(r.workspace), r.corpus); corpusAtlases(manifest).size() > 1) {
        if (a->model.candidates().size() > 1)
          throw Error(ErrorCode::Usage, "choosing among configurations is for one-atlas corpora; train each configuration on the multi-atlas corpus alone");
        card = trainGraphAtlasEnsemble(ctx, r, manifest);
        writeTextAtomically(r.out, card.dump() + "\n");
      } else if (const auto candidates = a->model.candidates(); candidates.size() > 1) {
        card = trainChoosingConfiguration(ctx, r, candidates);
      } else {
        const auto& backend = model::modelBackend();
        ctx.runJob("train " + r.method, [&](JobContext& job) { card = json::parse(backend.train(r, job)); });
      }
      ctx.recordEffectiveSettings(card);
      std::printf("wrote %s (%s, %s vs %s, %s trainable parameters, temperature %.3f)\n", r.out.c_str(), card.value("kind", "").c_str(),
                  card["classes"][1].get<std::string>().c_str(), card["classes"][0].get<std::string>().c_str(), card["trainable_parameters"].dump().c_str(),
                  card.value("temperature", 1.0));
      if (const auto sel = card.value("config_selection", json()); sel.is_object()) {
        std::string text;
        for (const auto& c : sel.at("candidates"))
          text += (text.empty() ? "" : ", ") + fmt::format("{} {:.3f}", c.at("name").get<std::string>(), c.at("validation_auc").get<double>());
        std::printf("configuration %s chosen by validation AUC (%s)\n", sel.at("chosen").get<std::string>().c_str(), text.c_str());
      }
      if (const auto d = card.value("deployment", json()); d.is_object())
        std::printf("%s\n", d.value("summary", std::string()).c_str());
      else if (const auto t = card.value("training", json()); t.is_object() && t.contains("refit"))
        std::printf("refitted on all %s labelled scans; calibrated on the out-of-fold scores of %s cross-fitted models\n",
                    t.value("scans", json()).dump().c_str(), t.value("cross_fit_folds", json()).dump().c_str());
      return 0;
    };
  });
}

// ---- evaluate
void addEvaluateCommand(CLI::App& app, Action& action) {
  struct Args {
    std::string dir, out, regimes, name;
    ModelArgs model;
    int cv = 0;
    bool lso = false, crossAtlasViews = false;
    OutputFormat format;  // text: each regime's summary; json: the full results; csv, md: the table PREFIX.csv/.md hold
  };
  auto a = std::make_shared<Args>();
  auto* ev = app.add_subcommand("evaluate", "Cross-validated AUC, accuracy, sensitivity, specificity, F1, ECE with 95% intervals");
  addWorkspaceOption(ev, a->dir);
  ev->add_option("--corpus", a->model.req.corpus, "Corpus name")->required();
  a->model.add(ev);
  ev->add_option("--cv", a->cv, "Stratified k-fold instead of the corpus's own split");
  ev->add_flag("--leave-site-out", a->lso, "Leave one site out per fold");
  ev->add_flag("--adapt-new-sites", a->model.req.adaptNewSites,
               "With a per-site input (fc-site, tangent-site): a test site the fold's training part lacks (every site, leaving sites out) gets "
               "statistics of its own from its test scans (at least 5; their connectivity only, never their labels) instead of the pooled ones");
  ev->add_option("--adapt-scans", a->model.req.adaptScans,
                 "With --adapt-new-sites: adapt each new site from only K of its test scans (a seeded choice per site; all of them are "
                 "still scored), to measure how many scans a new site must bring")
      ->check(CLI::Range(SiteStandardizer::kMinScans, 100000));
  ev->add_option("--adapt-share", a->model.req.adaptShare,
                 "With --adapt-new-sites: adapt each new site from a batch of its test scans with this share of the positive class (1: "
                 "patients only, 0: controls only; every scan of the class that runs out first), to measure how a batch's mix moves the "
                 "site's scores")
      ->check(CLI::Range(0.0, 1.0));
  ev->add_flag("--adapt-labelled", a->model.req.adaptLabelled,
               "With --adapt-new-sites: the batch's labels weight its statistics to the training part's class mix, as adapt-site --labels "
               "does (a site whose batch has fewer than 2 scans of a class keeps the pooled statistics)");
  ev->add_flag("--pretrain-in-folds", a->model.req.pretrainInFolds, "Pre-train on each fold's training part first (cached in the workspace)");
  ev->add_option("--pretrain-config", a->model.pretrainConfigFile,
                 "Pre-training configuration (JSON) for --pretrain-in-folds. On a corpus of several atlases, BrainGFM's fold pre-training "
                 "reads the training part's scans in every atlas (Pearson FC input)");
  ev->add_flag("--cross-atlas-views", a->crossAtlasViews,
               "With --pretrain-in-folds on a corpus of several atlases: the contrastive positive pair is one scan seen through two atlases "
               "(pre-training key cross_atlas_views)");
  ev->add_option("--label-fraction", a->model.req.labelFraction, "Share of the training labels used (0 = zero-shot)")->capture_default_str();
  ev->add_option("--regimes", a->regimes, "Several label fractions, e.g. 1,0.1,0.01,0 (paper figure 2)");
  ev->add_option("--out", a->out, "Also write PREFIX.json, PREFIX.csv, PREFIX.md and PREFIX-predictions.csv (out-of-fold, per scan)");
  a->format.add(ev);
  ev->add_option("--name", a->name,
                 "The model's name in comparisons (results --compare, the comparison window), e.g. to keep two configurations of one "
                 "method apart; default: the method");
  ev->callback([&action, a] {
    action = [a](CliContext& ctx) {
      std::vector<double> fractions = {a->model.req.labelFraction};
      if (!a->regimes.empty()) {
        fractions.clear();
        for (const auto& f : splitList(a->regimes)) fractions.push_back(std::stod(f));
      }
      // Options that need one another first: their own mistake, before the method's checks.
      if (a->crossAtlasViews && !a->model.req.pretrainInFolds)
        throw Error(ErrorCode::Usage, "--cross-atlas-views shapes the pre-training of --pretrain-in-folds: give both");
      if (a->model.req.adaptScans > 0 && !a->model.req.adaptNewSites) throw Error(ErrorCode::Usage, "--adapt-scans limits --adapt-new-sites: give both");
      if ((a->model.req.adaptShare >= 0 || a->model.req.adaptLabelled) && !a->model.req.adaptNewSites)
        throw Error(ErrorCode::Usage, "--adapt-share and --adapt-labelled shape --adapt-new-sites' batches: give --adapt-new-sites too");
      if (a->model.req.adaptLabelled && (a->model.req.adaptShare == 0 || a->model.req.adaptShare == 1))
        throw Error(ErrorCode::Usage, "a batch of one class cannot be weighted by its labels (--adapt-labelled needs an --adapt-share between 0 and 1)");
      auto r = a->model.resolved(ctx, a->dir, "evaluate", fractions);
      if (a->cv > 0) {
        r.split = "kfold";
        r.folds = a->cv;
      }
      if (a->lso) r.split = "leave-site-out";
      if (a->crossAtlasViews) {
        auto j = r.pretrainConfigJson.empty() ? json::object() : json::parse(r.pretrainConfigJson);
        j["cross_atlas_views"] = true;
        r.pretrainConfigJson = j.dump();
      }
      auto ws = Workspace::open(r.workspace);
      std::vector<EvaluationRecord> rows;
      std::vector<json> predictions;
      json all = json::array();
      for (double fraction : fractions) {
        auto rf = r;
        rf.labelFraction = fraction;
        if (fractions.size() > 1) ctx.setMetricSeriesSuffix(fmt::format(" ({:g}% labels)", 100 * fraction));
        auto [id, request, result, outOfFold] = runEvaluation(ctx, *ws, rf, parseRegularisationGrid(a->model.c), a->name, a->model.candidates());
        ctx.recordEffectiveSettings(result);
        predictions.push_back(outOfFold);
        rows.push_back({id, rf.corpus, "", request, result});
        all.push_back(result);
        if (a->format.value == "text") printMetrics(result);
      }
      if (a->format.json())
        std::printf("%s\n", (all.size() == 1 ? all[0] : all).dump(2).c_str());
      else if (a->format.value != "text")
        std::printf("%s", renderResults(rows, a->format.value).c_str());
      if (!a->out.empty()) {
        for (const char* f : {"json", "csv", "md"}) writeTextAtomically(a->out + "." + f, renderResults(rows, f));
        writeTextAtomically(a->out + "-predictions.csv", renderPredictionsCsv(predictions));
        spdlog::info("wrote {0}.json, {0}.csv, {0}.md and {0}-predictions.csv (out-of-fold, one row per scan)", a->out);
      }
      return 0;
    };
  });
}

// ---- meta-train
void addMetaTrainCommand(CLI::App& app, Action& action) {
  auto r = std::make_shared<model::MetaTrainRequest>();
  auto files = std::make_shared<std::pair<std::string, std::string>>();
  auto dir = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("meta-train", "MAML over tasks (one corpus each): learns graph prompts and head that adapt fast");
  addWorkspaceOption(cmd, *dir);
  cmd->add_option("--corpus", r->corpora, "A task: a two-class corpus (repeatable)")->required();
  cmd->add_option("--out", r->out, "Meta-learned model file")->required();
  cmd->add_option("--pretrained", r->pretrained, "Pre-trained encoder (pretrain --out)");
  cmd->add_option("--prompt", r->prompt, "Graph prompt kind")->capture_default_str();
  cmd->add_flag("--first-order", r->firstOrder, "First-order MAML (default: second order)");
  cmd->add_option("--meta-epochs", r->metaEpochs, "Override the configuration's meta-epochs");
  cmd->add_option("--config", files->first, "Meta-learning configuration (JSON; defaults: the paper's table 8)");
  cmd->add_option("--model-config", files->second, "Encoder configuration (JSON) when no --pretrained is given");
  cmd->callback([&action, r, files, dir] {
    action = [r, files, dir](CliContext& ctx) {
      auto req = *r;
      req.workspace = workspaceDir(ctx, *dir).string();
      req.device = ctx.settings().device;
      req.threads = ctx.settings().computeThreads;
      req.configJson = readText(files->first);
      req.modelConfigJson = readText(files->second);
      json card;
      const auto& backend = model::modelBackend();
      ctx.runJob("meta-train", [&](JobContext& job) { card = json::parse(backend.metaTrain(req, job)); });
      const auto& h = card["history"];
      std::printf("wrote %s: %zu tasks, %s trainable parameters, query loss %.4f -> %.4f (%.1f s)\n", req.out.c_str(), card["tasks"].size(),
                  card["trainable_parameters"].dump().c_str(), h["query_loss"].front().get<double>(), h["query_loss"].back().get<double>(),
                  h["seconds"].get<double>());
      return 0;
    };
  });
}

// ---- compare: every model on one corpus with the same split (the paper's table 1 on your data)
void addCompareCommand(CLI::App& app, Action& action) {
  struct Args {
    std::string dir, corpus, methods, configFile, out, reference;
    OutputFormat format;
    int cv = 5;
    bool lso = false;
    unsigned seed = 0;
    std::string c = "0.01";
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("compare",
                                 "Evaluate every model (baselines, BrainGFM, BrainMass, LCM) on one corpus with the same folds; "
                                 "each evaluation is stored, then the comparison table is printed");
  addWorkspaceOption(cmd, a->dir);
  cmd->add_option("--corpus", a->corpus, "Corpus name")->required();
  cmd->add_option("--methods", a->methods, "Comma-separated evaluate methods (NAME+pretrained: pre-train in folds); default: every model");
  cmd->add_option("--cv", a->cv, "Stratified k-fold")->capture_default_str();
  cmd->add_flag("--leave-site-out", a->lso, "Leave one site out per fold instead");
  cmd->add_option("--config", a->configFile,
                  "Comparison configuration (JSON: default, per-method tuning fields, pretrain per architecture); "
                  "default: the shipped configs/model-zoo-compare.json");
  cmd->add_option("--seed", a->seed, "Seed (splits, initialisation)")->capture_default_str();
  cmd->add_option("--c", a->c,
                  "Classical baselines: inverse regularisation strength, or several (0.001,0.01,0.1) to choose from by 5-fold "
                  "cross-validation inside each training part")
      ->capture_default_str();
  a->format.add(cmd);
  cmd->add_option("--reference", a->reference,
                  "The model the others are tested against (paired DeLong test on the pooled out-of-fold predictions); default: the first listed");
  cmd->add_option("--out", a->out,
                  "Also write PREFIX.md, PREFIX.csv and PREFIX.json (the table), PREFIX-paired.{md,csv,json} (the paired tests) and "
                  "PREFIX-predictions.csv (every model's out-of-fold predictions, one row per model and scan) and PREFIX-roc.csv (their ROC curves)");
  cmd->callback([&action, a] {
    action = [a](CliContext& ctx) {
      std::string configFile = a->configFile;
      if (configFile.empty()) {
        const auto shipped = DataPaths::resourceDir() / "configs" / "model-zoo-compare.json";
        if (std::filesystem::exists(shipped)) configFile = shipped.string();
      }
      const json config = configFile.empty() ? json::object() : json::parse(readText(configFile));
      std::vector<ComparisonEntry> entries;
      for (const auto& t : a->methods.empty() ? defaultComparisonMethods() : splitList(a->methods)) entries.push_back(parseComparisonEntry(t));
      model::TuneRequest base;
      base.workspace = workspaceDir(ctx, a->dir).string();
      base.corpus = a->corpus;
      base.device = ctx.settings().device;
      base.threads = ctx.settings().computeThreads;
      base.split = a->lso ? "leave-site-out" : "kfold";
      base.folds = a->cv;
      base.seed = a->seed;
      auto ws = Workspace::open(base.workspace);
      const std::string reference = a->reference.empty() ? entries.front().label() : a->reference;
      if (std::none_of(entries.begin(), entries.end(), [&](const ComparisonEntry& e) { return e.label() == reference; }))
        throw Error(ErrorCode::Usage, "--reference " + reference + " is not one of the compared models");
      std::vector<std::string> failed;
      std::vector<std::pair<std::string, json>> outOfFoldByModel;  // for the paired tests and PREFIX-predictions.csv
      std::string splitUsed;                                       // the folds every method ran on (leave-site-out: as many as sites)
      std::string referenceName;                                   // the reference as the table names it, once it ran
      for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto& e = entries[i];
        auto rf = base;
        rf.method = e.method;
        rf.pretrainInFolds = e.pretrainInFolds;
        const auto tuning = comparisonTuningConfig(config, e.method);
        if (!tuning.empty() && !methodInfo(e.method).isBaseline()) rf.configJson = tuning.dump();
        const auto pretrainedArch = methodInfo(e.method).pretrainedArchitecture();
        const std::string arch = pretrainedArch.empty() ? "braingfm" : pretrainedArch;
        if (const auto pre = comparisonPretrainConfig(config, arch); !pre.empty()) rf.pretrainConfigJson = pre.dump();
        spdlog::info("comparison {}/{}: {}", i + 1, entries.size(), e.label());
        try {
          const auto [id, request, result, outOfFold] = runEvaluation(ctx, *ws, rf, parseRegularisationGrid(a->c));
          spdlog::info("{}: AUC {:.3f} (evaluation {})", e.label(), result["metrics"]["auc"].value("mean", 0.0), id);
          splitUsed = splitId(result);
          // Named as the stored table names it (a prompt's row says which prompt).
          const auto name = comparisonModelName({id, a->corpus, {}, request, result});
          if (e.label() == reference || name == reference) referenceName = name;
          outOfFoldByModel.emplace_back(name, outOfFold);
        } catch (const CancelledError&) {
          throw;
        } catch (const Error& err) {
          if (err.code() == ErrorCode::Cancelled) throw;
          spdlog::error("{}: {}", e.label(), err.what());
          failed.push_back(e.label());
        }
      }
      const auto rows = comparisonTable(listEvaluations(*ws), a->corpus, splitUsed.empty() ? base.split : splitUsed);
      std::vector<PairedComparisonRow> paired;
      if (!referenceName.empty())
        paired = pairedAucComparison(outOfFoldByModel, referenceName);
      else
        spdlog::warn("the reference model {} failed: no paired tests", reference);
      std::printf("%s", renderComparison(rows, a->format.tableFormat()).c_str());  // csv and json: the table alone, which scripts read
      if (a->format.tableFormat() == "md") std::printf("%s", renderPairedComparison(paired, "md").c_str());
      if (!a->out.empty()) {
        writeComparisonFiles(a->out, rows, paired, outOfFoldByModel);
        spdlog::info("wrote {0}.md/.csv/.json, {0}-paired.md/.csv/.json, {0}-predictions.csv and {0}-roc.csv", a->out);
      }
      if (!failed.empty()) {
        std::string names;
        for (const auto& f : failed) names += (names.empty() ? "" : ", ") + f;
        throw Error(ErrorCode::Data, std::to_string(failed.size()) + " of the compared methods failed: " + names);
      }
      return 0;
    };
  });
}

}  // namespace

void addTuningCommands(CLI::App& app, Action& action) {
  addTrainCommand(app, action);
  addEvaluateCommand(app, action);
  addMetaTrainCommand(app, action);
  addCompareCommand(app, action);
}

}  // namespace bg::cli
