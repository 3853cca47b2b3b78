// train: a model file from every labelled scan of a corpus (any --method).
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
      } else if (const auto manifest = loadCorpus(*Workspace::open(r.workspace), r.corpus); corpusAtlases(manifest).size() > 1 && r.fusesAtlases()) {
        if (a->model.candidates().size() > 1)
          throw Error(ErrorCode::Usage, "choosing among configurations is for one-atlas corpora; train each configuration on the multi-atlas corpus alone");
        auto rk = r;  // one model file whose network reads every atlas
        rk.manifestJson = fusedModelManifest(manifest).dump();
        const auto& backend = model::modelBackend();
        ctx.runJob("train " + r.method, [&](JobContext& job) { card = json::parse(backend.train(rk, job)); });
      } else if (corpusAtlases(manifest).size() > 1) {
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

}  // namespace bg::cli
