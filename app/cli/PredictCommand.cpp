// predict: BOLD NIfTI or ROI time-series files through a trained model (one model, or one per atlas).
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
#include <fmt/ranges.h>
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

// Prints each input's prediction as soon as it is made: a line of text, a JSON object per line, or
// CSV or Markdown rows under one header (file, label, probability, its 95% interval, top ROI, error).
class PredictionPrinter {
 public:
  PredictionPrinter(std::string format, std::string positiveClass) : format_(std::move(format)), positiveClass_(std::move(positiveClass)) {}
  // `note`: added inside the text line's parenthesis (a multi-atlas model's members).
  void row(const std::string& file, const json& row, const std::string& note = {}) {
    if (format_ == "json") {
      std::printf("%s\n", row.dump().c_str());
    } else if (format_ == "text") {
      const auto& top = row.value("top_rois", json::array());
      const std::string topRoi = top.empty() ? std::string() : ", top ROI " + top[0].value("name", std::string());
      std::printf("%s\n", fmt::format("{}: {} (p({}) = {:.3f}{}){}", file, row.value("label", std::string()), positiveClass_, row.value("probability", 0.0),
                                      note.empty() ? std::string() : "; " + note, topRoi)
                              .c_str());
    } else {
      const auto interval = row.value("interval", json());
      const auto& top = row.value("top_rois", json::array());
      cells({file, row.value("label", std::string()), fmt::format("{:.6f}", row.value("probability", 0.0)),
             interval.is_object() ? fmt::format("{:.6f}", interval.value("low", 0.0)) : std::string(),
             interval.is_object() ? fmt::format("{:.6f}", interval.value("high", 0.0)) : std::string(),
             top.empty() ? std::string() : top[0].value("name", std::string()), std::string()});
    }
    std::fflush(stdout);
  }
  // Called inside a catch block: the error is logged, and named on its own line or row.
  void failure(const std::string& file) {
    const Error e = currentExceptionAsError();
    spdlog::error("{}", e.what());
    if (format_ == "json")
      std::printf("%s\n", json{{"file", file}, {"error", e.what()}}.dump().c_str());
    else if (format_ != "text")
      cells({file, "", "", "", "", "", e.what()});
    std::fflush(stdout);
  }

 private:
  void cells(const std::vector<std::string>& c) {
    static const std::vector<std::string> header = {"file", "label", "probability", "interval_low", "interval_high", "top_roi", "error"};
    const bool csv = format_ == "csv";
    auto line = [csv](const std::vector<std::string>& v) {
      std::string out = csv ? "" : "|";
      for (std::size_t i = 0; i < v.size(); ++i) out += csv ? (i ? "," : "") + csvCell(v[i]) : " " + v[i] + " |";
      std::printf("%s\n", out.c_str());
    };
    if (!headed_) {
      line(header);
      if (!csv) line(std::vector<std::string>(header.size(), "---"));
      headed_ = true;
    }
    line(c);
  }
  std::string format_, positiveClass_;
  bool headed_ = false;
};

struct PredictArgs {
  std::string modelFile, dir;
  std::vector<std::string> inputs;
  double tr = 0;
  std::string site;
  OutputFormat format;
  bool explain = false, record = false;
};

// A multi-atlas model (an atlas ensemble or a fused model): each scan's files (one per atlas, or one BOLD
// file for all), each atlas's input loaded as its member's card requires, one row per scan.
int predictWithSeveralAtlases(CliContext& ctx, const PredictArgs& a, const ModelCard& model, const AtlasRegistry* registry, Workspace* ws) {
  const auto atlases = model.atlases();
  const bool fused = model.combination == AtlasCombination::Fused;
  const auto groups = groupAtlasInputs(a.inputs, atlases);
  PredictionPrinter printer(a.format.value, model.positiveClass);
  PredictionInputOptions options;
  options.tr = a.tr;
  int failures = 0;
  for (const auto& group : groups) {
    const std::string name = group.begin()->second.string();
    try {
      json row;
      std::map<std::string, PredictionInput> inputs;
      ctx.runJob("predict " + name, [&](JobContext& job) {
        for (std::size_t k = 0; k < atlases.size(); ++k) {
          ProgressRange part(job, 0.5 * static_cast<double>(k) / static_cast<double>(atlases.size()),
                             0.5 * static_cast<double>(k + 1) / static_cast<double>(atlases.size()));
          auto input = withContext("while reading " + group.at(atlases[k]).string() + " for the " + atlases[k] + " member",
                                   [&] { return loadPredictionInput(group.at(atlases[k]), model.inputs.at(k), registry, options, part); });
          input.site = a.site;
          inputs.emplace(atlases[k], std::move(input));
        }
        ProgressRange rest(job, 0.5, 1.0);
        row = fused ? predictFusedInput(a.modelFile, model, inputs, ctx.settings().device, ctx.settings().computeThreads, rest)
                    : predictAtlasEnsemble(a.modelFile, model, inputs, rest, ctx.settings().device, ctx.settings().computeThreads);
      });
      if (ws) {
        json recorded = {{"top_rois", row["top_rois"]}};
        if (row.contains("members")) recorded["members"] = row["members"];
        row["prediction_id"] =
            recordPrediction(*ws, inputs.at(atlases.front()), a.modelFile, model, row["label"].get<std::string>(), row["probability"].get<double>(), recorded);
      }
      if (!a.explain) row.erase("explanation");
      std::string note;  // the ensemble's members, or the fused model's atlases
      for (const auto& m : row.value("members", json::array()))
        note += fmt::format("{}{} {:.3f}", note.empty() ? "" : ", ", m["atlas"].get<std::string>(), m["probability"].get<double>());
      if (fused) note = fmt::format("one model over {}", fmt::join(atlases, " + "));
      printer.row(name, row, note);
    } catch (const CancelledError&) {
      throw;
    } catch (...) {
      ++failures;
      printer.failure(name);
    }
  }
  return failures ? static_cast<int>(ErrorCode::Data) : 0;
}

// Options shared by train and evaluate for the BrainGFM methods.
// ---- predict
}  // namespace

void addPredictCommand(CLI::App& app, Action& action) {
  using Args = PredictArgs;
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("predict", "Classify BOLD NIfTI or ROI time-series files with a trained model");
  cmd->add_option("--model", a->modelFile, "Model file (train --out)")->required();
  cmd->add_option("--in", a->inputs,
                  "Input files (.nii[.gz] BOLD, or .1D[.gz]/.csv/.tsv/.npy ROI time series). A multi-atlas model parcellates a BOLD file "
                  "with each of its atlases; its time-series inputs come one file per atlas (…_rois_cc200… and …_rois_ho… of one scan)")
      ->required();
  cmd->add_option("--tr", a->tr, "Repetition time (s) of time-series inputs, when the preprocessing band-passes");
  cmd->add_option("--site", a->site,
                  "Acquisition site of the inputs (as the training corpus names it), for models whose input is standardised per site "
                  "(--input fc-site, tangent-site); without it, or for a site the model has not seen, the pooled statistics serve");
  a->format.add(cmd);  // json: one object per line; csv, md: a row per input under one header
  cmd->add_flag("--explain", a->explain, "Include the full explanation (per-ROI and per-edge saliency, attention, networks)");
  cmd->add_flag("--record", a->record, "Store the predictions (with explanations) in the workspace");
  addWorkspaceOption(cmd, a->dir);
  cmd->callback([&action, a] {
    action = [a](CliContext& ctx) {
      const auto model = ModelCard::read(a->modelFile);
      const auto registry = optionalAtlasRegistry(ctx);
      std::unique_ptr<Workspace> ws;
      if (a->record) ws = Workspace::open(workspaceDir(ctx, a->dir));
      int failures = 0;
      if (model.readsSeveralAtlases()) return predictWithSeveralAtlases(ctx, *a, model, registry.get(), ws.get());
      PredictionPrinter printer(a->format.value, model.positiveClass);
      for (const auto& file : a->inputs) {
        try {
          PredictionInput input;
          json row;
          ctx.runJob("predict " + file, [&](JobContext& job) {
            input = loadPredictionInput(file, model, registry.get(), a->tr, job);
            input.site = a->site;
            row = predictInput(a->modelFile, model, input, ctx.settings().device, ctx.settings().computeThreads, job);
          });
          if (ws) {
            const auto explanation = row.contains("explanation") ? row["explanation"] : json{{"top_rois", row["top_rois"]}};
            row["prediction_id"] =
                recordPrediction(*ws, input, a->modelFile, model, row["label"].get<std::string>(), row["probability"].get<double>(), explanation);
          }
          if (!a->explain) row.erase("explanation");
          printer.row(file, row);
        } catch (const CancelledError&) {
          throw;
        } catch (...) {
          ++failures;
          printer.failure(file);
        }
      }
      return failures ? static_cast<int>(ErrorCode::Data) : 0;
    };
  });
}

}  // namespace bg::cli
