// compare: every model on one corpus with the same split (the paper's table 1 on your data).
#include <cstdio>
#include <filesystem>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "CliContext.h"
#include "Commands.h"
#include "TuningSupport.h"
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
using nlohmann::json;

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

}  // namespace bg::cli
