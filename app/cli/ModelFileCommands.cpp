// model FILE | model import | model check-reference: a model file's card; published checkpoints.
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

// ---- model FILE | model import | model check-reference

// The card's main facts as field/value rows: what the file predicts, from what, and how it learned.
ResultTable cardFacts(const ModelCard& card) {
  ResultTable t{{"field", "value"}, {}};
  const auto add = [&](const std::string& field, const std::string& v) {
    if (!v.empty()) t.rows.push_back({field, v});
  };
  const auto& stored = card.stored;  // what the type does not keep: a pre-training's corpus name, a summary sentence
  add("kind", card.kindName);
  add("architecture", card.architecture);
  add("method", !card.adaptation.empty() ? card.adaptation : stored.value("method", std::string()));
  add(card.readsSeveralAtlases() ? "atlases" : "atlas", card.atlasLabel());
  std::string nodes;
  for (const auto& in : card.inputs)
    if (in.nodes > 0) nodes += (nodes.empty() ? "" : " + ") + std::to_string(in.nodes);
  add("nodes", nodes);
  if (card.classes.size() == 2) add("classes", card.classes[0] + " (negative), " + card.classes[1] + " (positive)");
  add("corpus", !card.corpusName.empty() ? card.corpusName : stored.value("corpus", json()).is_string() ? stored["corpus"].get<std::string>() : "");
  if (stored.contains("calibration")) add("calibration", card.calibration);
  if (stored.contains("temperature")) add("temperature", json(card.temperature).dump());
  if (card.validation && card.validation->auc) add("validation AUC", json(*card.validation->auc).dump());
  if (stored.contains("deployment") && stored["deployment"].is_object()) add("learned from", stored["deployment"].value("summary", std::string()));
  if (stored.contains("trainable_parameters")) add("trainable parameters", std::to_string(card.trainableParameters));
  add("code version", card.codeVersion);
  return t;
}
}  // namespace

void addModelFileCommands(CLI::App& app, Action& action) {
  auto file = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("model",
                                 "Show a model file's card (what it predicts, from what, how it was trained); import or verify "
                                 "a published checkpoint");
  cmd->add_option("file", *file, "Model file");
  auto format = std::make_shared<OutputFormat>();
  format->value = "json";  // the card itself, as before
  format->add(cmd);        // text, md, csv: its main facts as a field/value table
  cmd->require_subcommand(0, 1);

  auto imp = std::make_shared<model::ImportRequest>();
  auto* importCmd = cmd->add_subcommand("import",
                                        "A published BrainGFM checkpoint (torch.save of the public code's state_dict: pre-training or "
                                        "classifier) as a model file for train/evaluate --pretrained; nothing in it is executed");
  importCmd->add_option("--format", imp->format, "Checkpoint format")->capture_default_str()->check(CLI::IsMember({std::string(model::kPublicArchitecture)}));
  importCmd->add_option("state", imp->state, "The .pt state dict")->required();
  importCmd->add_option("--out", imp->out, "Model file to write")->required();
  importCmd->add_option("--atlas-token", imp->atlasToken,
                        "Its [A/P] token for parcellations it does not know (e.g. CC200): schaefer, schaefer200, ... "
                        "(default: the nearest atlas by ROI count, with a warning)");
  importCmd->add_option("--disease", imp->disease, "Its [T/D] disease token for tasks it does not know (default: none)");
  importCmd->add_option("--heads", imp->heads, "Attention heads (a state dict does not store them; default 8, the published checkpoint's)")
      ->check(CLI::Range(1, 1024));
  importCmd->add_option("--rwse-steps", imp->rwseSteps, "Random-walk steps of its RWSE (default 5)")->check(CLI::Range(1, 64));
  importCmd->callback([&action, imp] {
    action = [imp](CliContext& ctx) {
      json card;
      ctx.runJob("import " + imp->state, [&](JobContext&) { card = json::parse(model::modelBackend().importCheckpoint(*imp)); });
      spdlog::info("imported {} ({} tensors of {}; sha256 {}) as {}", imp->state, card["imported_tensors"].get<int>(), card["source"]["tensors"].get<int>(),
                   card["source"]["sha256"].get<std::string>(), imp->out);
      std::printf("%s\n", card.dump(2).c_str());
      return 0;
    };
  });

  auto dir = std::make_shared<std::string>();
  auto state = std::make_shared<std::string>();
  auto tolerance = std::make_shared<double>(1e-4);
  auto imported = std::make_shared<std::string>();
  auto* check = cmd->add_subcommand("check-reference",
                                    "Run a state dict on outputs exported from the public code (a folder laid out like "
                                    "fixtures/braingfm-public: manifest.json, batchK_*.npy) and print the largest differences; "
                                    "exit 0 within the tolerance, 65 otherwise");
  check->add_option("dir", *dir, "The folder")->required()->check(CLI::ExistingDirectory);
  check->add_option("--state", *state, "The state dict (default: the folder's classifier_state.pt, else pretrain_state.pt)");
  check->add_option("--model", *imported, "A file model import wrote: run its weights (with the state dict's sizes) instead of the state dict's");
  check->add_option("--tolerance", *tolerance, "Largest absolute difference accepted")->capture_default_str()->check(CLI::PositiveNumber);
  check->callback([&action, dir, state, imported, tolerance] {
    action = [dir, state, imported, tolerance](CliContext& ctx) {
      json result;
      ctx.runJob("check-reference " + *dir,
                 [&](JobContext&) { result = json::parse(model::modelBackend().checkReference(*dir, *state, *imported, *tolerance)); });
      std::printf("%s\n", result.dump(2).c_str());
      if (result["within_tolerance"].get<bool>()) return 0;
      spdlog::error("{}: the largest absolute difference, {:.3g}, exceeds the tolerance {:.3g}", *dir, result["max_abs"].get<double>(), *tolerance);
      return static_cast<int>(ErrorCode::Data);
    };
  });

  cmd->callback([&action, file, cmd, importCmd, check, format] {
    if (importCmd->parsed() || check->parsed()) return;
    if (file->empty()) throw CLI::RequiredError("model FILE, model import or model check-reference");
    action = [file, format](CliContext&) {
      const auto card = ModelCard::read(*file);
      if (format->json())
        std::printf("%s\n", modelCardSummary(card.stored).dump(2).c_str());
      else
        std::printf("%s", cardFacts(card).render(format->tableFormat()).c_str());
      return 0;
    };
  });
}

}  // namespace bg::cli
