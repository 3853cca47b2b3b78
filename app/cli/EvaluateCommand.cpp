// evaluate: cross-validated metrics of a method on a corpus, stored in the workspace.
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

}  // namespace bg::cli
