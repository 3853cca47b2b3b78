// pretrain: BrainGFM pre-training on a workspace corpus (runs in the model library); adapt-site: a
// per-site harmonised model file given a new acquisition site's statistics.
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "methods/MethodCatalog.h"
#include "CliContext.h"
#include "Commands.h"
#include "connectome/GraphInputSpec.h"
#include "io/JsonText.h"
#include "errors/Error.h"
#include "io/JsonText.h"
#include "io/AtomicFile.h"
#include "atlas/AtlasRegistry.h"
#include "eval/SiteAdaptation.h"
#include "model/ModelBackend.h"

namespace bg::cli {
using nlohmann::json;

void addModelCommands(CLI::App& app, Action& action) {
  auto r = std::make_shared<model::PretrainRequest>();
  auto configFile = std::make_shared<std::string>();
  auto crossAtlas = std::make_shared<bool>(false);
  auto* pre = app.add_subcommand("pretrain",
                                 "Foundation-model pre-training on a corpus: BrainGFM (GCL + GMAE; Ctrl-C keeps a checkpoint), "
                                 "BrainMass (BYOL + mask-ROI modelling) or LCM (multitask phenotypes)");
  pre->add_option("--model", r->architecture, "braingfm, brainmass or lcm")->capture_default_str()->check(CLI::IsMember(pretrainableArchitectures()));
  pre->add_option("--workspace,-w", r->workspace, "Workspace folder (default: the settings' workspace)");
  pre->add_option("--corpus", r->corpus, "Corpus name")->required();
  pre->add_option("--out", r->out, "Model file to write")->required();
  pre->add_option("--config", *configFile, "Pre-training configuration (JSON); default: the paper's settings");
  pre->add_option("--fold", r->fold, "Use this fold's training part")->capture_default_str();
  pre->add_flag("--all-items", r->allItems, "Use every item of the corpus (no held-out test data)");
  pre->add_option("--input", r->input,
                  "BrainGFM: the graph input the encoder learns (as train/evaluate --input: fc, fc-z, fc-site, fc-combat, tangent, tangent-z, "
                  "tangent-site, tangent-combat), fitted on the pre-training scans; fine-tune it with the same --input")
      ->check(CLI::IsMember(GraphInputSpec::names()));
  pre->add_option("--epochs", r->epochs, "Override the configuration's epochs (1 to 100000)")->check(CLI::Range(1, 100000));
  pre->add_option("--batch-size", r->batchSize, "Override the configuration's batch size (1 to 65536)")->check(CLI::Range(1, 65536));
  pre->add_flag("--resume", r->resume, "Continue from <out>.ckpt");
  pre->add_flag("--cross-atlas-views", *crossAtlas,
                "BrainGFM on a corpus of several atlases (corpus create --atlas cc200,ho): the contrastive positive pair is one scan seen "
                "through two atlases (configuration key cross_atlas_views). Without it, every atlas's graphs still pre-train together, "
                "each with its own atlas token");
  pre->add_option("--world-size", r->worldSize, "Processes in data-parallel training")->capture_default_str();
  pre->add_option("--rank", r->rank, "This process's rank")->capture_default_str();
  pre->add_option("--master", r->master, "Rank 0's HOST:PORT")->capture_default_str();
  pre->callback([&action, r, configFile, crossAtlas] {
    action = [r, configFile, crossAtlas](CliContext& ctx) {
      auto req = *r;
      if (req.workspace.empty()) req.workspace = ctx.settings().workspace.string();
      if (req.workspace.empty()) throw Error(ErrorCode::Usage, "no workspace: give --workspace DIR");
      req.device = ctx.settings().device;
      req.threads = ctx.settings().computeThreads;
      if (!configFile->empty()) {
        std::ifstream in(*configFile);
        if (!in) throw Error(ErrorCode::NoInput, "cannot open " + *configFile);
        std::stringstream ss;
        ss << in.rdbuf();
        req.configJson = parseJsonText(ss.str(), "configuration " + *configFile).dump();
      }
      if (*crossAtlas) {
        if (req.architecture != "braingfm")
          throw Error(ErrorCode::Usage, "--cross-atlas-views is BrainGFM's; " + req.architecture + " pre-trains on one atlas");
        auto j = req.configJson.empty() ? nlohmann::json::object() : nlohmann::json::parse(req.configJson);
        j["cross_atlas_views"] = true;
        req.configJson = j.dump();
      }
      const auto& backend = model::modelBackend();
      std::string summary;
      // An estimate writes nothing where the user looks: its checkpoint goes to a scratch folder.
      std::optional<TemporaryDirectory> scratch;
      if (ctx.options().estimate) {
        scratch.emplace("braingraph-estimate");
        req.out = (scratch->path() / "estimate.pt").string();
        req.resume = false;
      }
      try {
        ctx.runJob("pretrain", [&](JobContext& job) { summary = backend.pretrain(req, job); });
      } catch (const CancelledError&) {
        spdlog::warn("pre-training cancelled; the last epoch's checkpoint is {}.ckpt (continue with --resume)", req.out);
        throw;
      }
      std::printf("%s\n", summary.c_str());
      return 0;
    };
  });

  struct AdaptArgs {
    std::string model, out, site;
    std::vector<std::string> inputs, labels;
    double tr = 0;
  };
  auto a = std::make_shared<AdaptArgs>();
  auto* adapt =
      app.add_subcommand("adapt-site",
                         "Give a per-site harmonised model (--input fc-site, tangent-site, fc-combat, tangent-combat) a new acquisition site's statistics, "
                         "from unlabelled scans of that site; writes a copy of the model");
  adapt->add_option("--model", a->model, "Model file (train --out) whose input is standardised per site")->required();
  adapt->add_option("--site", a->site, "The new site's name, as predict --site will give it")->required();
  adapt->add_option("--in", a->inputs, "At least 5 scans of the site (BOLD NIfTI or ROI time-series files); their labels are not needed")->required();
  adapt->add_option("--labels", a->labels,
                    "Optional: each --in scan's known class (the model's class names, in the same order); the site's statistics are then weighted to the "
                    "training corpus's class mix, so that a batch of mostly patients or controls does not shift the site's scores (at least 2 of each class)");
  adapt->add_option("--tr", a->tr, "Repetition time (s) of time-series inputs, when the preprocessing band-passes");
  adapt->add_option("--out", a->out, "Adapted model file to write")->required();
  adapt->callback([&action, a] {
    action = [a](CliContext& ctx) {
      const auto info = ModelCard::read(a->model);
      const auto registry = optionalAtlasRegistry(ctx);
      SiteAdaptationRequest req;
      req.model = a->model;
      req.out = a->out;
      req.site = a->site;
      req.labels = a->labels;
      json card;
      ctx.runJob("adapt-site " + a->site, [&](JobContext& job) {
        for (std::size_t i = 0; i < a->inputs.size(); ++i) {
          ProgressRange part(job, 0.9 * static_cast<double>(i) / static_cast<double>(a->inputs.size()),
                             0.9 * static_cast<double>(i + 1) / static_cast<double>(a->inputs.size()));
          req.scans.push_back(
              withContext("while loading " + a->inputs[i], [&] { return loadPredictionInput(a->inputs[i], info, registry.get(), a->tr, part); }));
        }
        card = adaptModelToSite(req);
      });
      const auto& standardisation = card["input_transform"]["site_standardisation"];
      json out = {{"adapted", a->out},
                  {"site", a->site},
                  {"scans", a->inputs.size()},
                  {"sites", standardisation["sites"]},
                  {"adapted_sites", standardisation.value("adapted_sites", json::array())}};
      if (const auto& record = card["site_adaptations"].back(); record.value("labelled", false)) {
        out["class_counts"] = record["class_counts"];
        out["weighted_positive_fraction"] = record["weighted_positive_fraction"];
      }
      if (card.contains("advice")) {
        out["advice"] = card["advice"];
        spdlog::warn("{}", card["advice"].get<std::string>());
      }
      std::printf("%s\n", out.dump(2).c_str());
      return 0;
    };
  });
}

}  // namespace bg::cli
