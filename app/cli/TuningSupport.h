#pragma once
// What train, evaluate, meta-train and compare share: the model option group (ModelArgs: method,
// pre-trained file, configurations, calibration, input, ensemble, C, and their checks), a stored
// evaluation of any method, training that chooses among configurations or trains one model per
// atlas, and the printed summary of an evaluation.
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "CliContext.h"
#include "errors/Error.h"
#include "connectome/GraphInputSpec.h"
#include "eval/RegularisationSearch.h"
#include "io/JsonText.h"
#include "methods/MethodCatalog.h"
#include "model/ModelBackend.h"
#include "platform/Strings.h"

namespace bg {
class Workspace;
}

namespace bg::cli {

// A configuration file's JSON, checked ("" for no file).
std::string readText(const std::string& file);
// An evaluation's metrics as the terminal shows them.
void printMetrics(const nlohmann::json& result);

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
// result, and the out-of-fold predictions (stored beside the result, kept out of the printed one).
// candidates: more than one (name, configuration JSON) has each fold keep the configuration with the
// best validation AUC (combineConfigurationChoice); rf.configJson is then ignored.
std::tuple<std::int64_t, nlohmann::json, nlohmann::json, nlohmann::json> runEvaluation(CliContext& ctx, Workspace& ws, const model::TuneRequest& rf,
                                                                                       const std::vector<double>& cGrid, const std::string& name = {},
                                                                                       const Candidates& candidates = {});
// train with several --config: the candidate with the best validation AUC becomes --out.
nlohmann::json trainChoosingConfiguration(CliContext& ctx, const model::TuneRequest& r, const Candidates& candidates);
// A multi-atlas corpus and a graph method: one model per atlas beside --out, the ensemble's card in it.
nlohmann::json trainGraphAtlasEnsemble(CliContext& ctx, const model::TuneRequest& r, const nlohmann::json& manifest);
// What a fused multi-atlas model (--atlas-fusion embedding) reads of a multi-atlas corpus: its first
// atlas's part (whose folds are the corpus's subject folds), every atlas's items as "atlas_views".
nlohmann::json fusedModelManifest(const nlohmann::json& manifest);

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
    cmd->add_option("--atlas-fusion", req.atlasFusion,
                    "Multi-atlas corpora, graph models: how the atlases are combined. probability (default): one model per atlas, "
                    "trained apart, their calibrated probabilities averaged; embedding: one model, a network per atlas reading that "
                    "atlas's graph of the scan and one head over all their representations, trained with one loss")
        ->check(CLI::IsMember({"probability", "embedding"}));
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
    if (r.fusesAtlases() && methodInfo(r.method).isBaseline())
      throw Error(ErrorCode::Usage, "--atlas-fusion embedding is for the graph models; a multi-atlas " + r.method + " averages one regression per atlas");
    if (r.atlasFusion == "probability") r.atlasFusion.clear();  // the default
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

}  // namespace bg::cli
