// meta-train: BrainGFM's prompts meta-learned over several corpora.
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

}  // namespace bg::cli
