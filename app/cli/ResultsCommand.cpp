// results: the workspace's evaluations as a table (md), CSV or JSON.
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

// ---- results: the workspace's evaluations as JSON, CSV or Markdown
}  // namespace

void addResultsCommand(CLI::App& app, Action& action) {
  struct Args {
    std::string dir, out, compare, split, reference, predictions, roc;
    OutputFormat output;  // text prints the tables as Markdown
    bool paired = false, regimes = false;
    double labelFraction = 1.0;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("results", "Evaluations stored in the workspace, as a table (md), CSV or JSON");
  addWorkspaceOption(cmd, a->dir);
  cmd->add_option("--compare", a->compare, "Only the model comparison of this corpus: the latest evaluation per model (md adds the paired DeLong tests)");
  cmd->add_option("--split", a->split,
                  "With --compare: kfold, leave-site-out or corpus (their most recent folds), or an id such as "
                  "kfold/5-folds/seed-0 (default: the most recent)");
  cmd->add_flag("--paired", a->paired,
                "With --compare: print the paired DeLong tests of every model against --reference (from the stored out-of-fold predictions) "
                "instead of the table");
  cmd->add_option("--reference", a->reference, "With --compare: the model the others are tested against (default: logreg if compared, else the best)");
  cmd->add_option("--label-fraction", a->labelFraction,
                  "With --compare: the label regime compared (evaluate --regimes; the same labelled scans for every model)")
      ->capture_default_str();
  cmd->add_flag("--regimes", a->regimes,
                "With --compare: each model's AUC by label regime on the split (the paper's figure 2; evaluate --regimes) instead of the table");
  cmd->add_option("--predictions", a->predictions, "With --compare: also write every compared model's stored out-of-fold predictions to this CSV");
  cmd->add_option("--roc", a->roc, "With --compare: also write every compared model's pooled out-of-fold ROC curve to this CSV");
  a->output.add(cmd);
  cmd->add_option("--out", a->out, "Write to this file instead of standard output");
  cmd->callback([&action, a] {
    action = [a](CliContext& ctx) {
      auto ws = Workspace::open(workspaceDir(ctx, a->dir));
      if (a->compare.empty() && (a->paired || a->regimes || !a->reference.empty() || !a->predictions.empty() || !a->roc.empty() || a->labelFraction != 1.0))
        throw Error(ErrorCode::Usage, "--paired, --regimes, --reference, --label-fraction, --predictions and --roc need --compare CORPUS");
      if (a->regimes && (a->paired || !a->reference.empty() || !a->predictions.empty() || !a->roc.empty() || a->labelFraction != 1.0))
        throw Error(ErrorCode::Usage, "--regimes shows every regime's AUC; the paired tests, predictions and curves are per regime (--label-fraction)");
      const std::string format = a->output.tableFormat();
      std::string text;
      if (a->compare.empty()) {
        text = renderResults(listEvaluations(*ws), format);
      } else if (a->regimes) {
        const auto evaluations = listEvaluations(*ws);
        const auto split = resolveComparisonSplit(evaluations, a->compare, a->split);
        if (split.empty()) spdlog::warn("no evaluation of corpus '{}' on that split", a->compare);
        text = renderLabelRegimeCurves(labelRegimeCurves(evaluations, a->compare, split), format);
        if (format == "md") text = "AUC by label regime on " + split + " (mean over folds [95% interval]):\n\n" + text;
      } else {
        const auto rows = comparisonTable(listEvaluations(*ws), a->compare, a->split, a->labelFraction);
        if (rows.empty() && a->labelFraction != 1.0)
          spdlog::warn("no evaluation of corpus '{}' with {:g}% of the training labels on that split", a->compare, 100 * a->labelFraction);
        const std::string reference = a->reference.empty() ? defaultComparisonReference(rows) : a->reference;
        StoredPairedComparison paired;
        if (!rows.empty()) paired = storedPairedComparison(*ws, rows, reference);
        for (const auto& m : paired.missing)
          spdlog::warn("{}: its evaluation stored no out-of-fold predictions (recorded by an older version); evaluate it again to test it", m);
        if (a->paired) {
          text = renderPairedComparison(paired.rows, format);
        } else {
          text = renderComparison(rows, format);
          if (format == "md") text += renderPairedComparison(paired.rows, "md");
        }
        if (format == "md" && a->labelFraction != 1.0) text = fmt::format("Label regime: {:g}% of the training labels.\n\n", 100 * a->labelFraction) + text;
        if (!a->predictions.empty()) {
          std::vector<json> predictions;
          for (const auto& m : paired.outOfFold) predictions.push_back(m.second);
          writeTextAtomically(a->predictions, renderPredictionsCsv(predictions));
        }
        if (!a->roc.empty()) writeTextAtomically(a->roc, renderRocCurvesCsv(paired.outOfFold));
      }
      if (a->out.empty())
        std::printf("%s", text.c_str());
      else
        writeTextAtomically(a->out, text);
      return 0;
    };
  });
}

}  // namespace bg::cli
