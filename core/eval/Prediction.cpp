#include "eval/Prediction.h"

#include <fstream>
#include <sstream>
#include <map>

#include "atlas/AtlasRegistry.h"
#include "atlas/RoiPlacement.h"
#include "settings/DataPaths.h"
#include "connectome/ConnectomePipeline.h"
#include "errors/Error.h"
#include "io/JsonText.h"
#include "eval/BaselineModel.h"
#include "model/ModelBackend.h"
#include "io/NiftiImage.h"
#include "io/TimeSeriesFile.h"
#include "workspace/ContentHash.h"
#include "workspace/Derivation.h"
#include "workspace/ReportStore.h"
#include "workspace/Workspace.h"

namespace bg {
using nlohmann::json;

bool isNiftiPath(const std::filesystem::path& p) {
  const auto s = p.filename().string();
  auto ends = [&](const std::string& suffix) { return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0; };
  return ends(".nii") || ends(".nii.gz");
}

std::optional<std::filesystem::path> siblingConfounds(const std::filesystem::path& bold) {
  auto name = bold.filename().string();
  for (const char* suffix : {"_bold.nii.gz", "_bold.nii"}) {
    const std::string s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      const auto stem = name.substr(0, name.size() - s.size());
      // fMRIPrep names the confounds after the entities before space-/desc-.
      std::string base = stem;
      for (const char* cut : {"_space-", "_desc-"})
        if (const auto at = base.find(cut); at != std::string::npos) base = base.substr(0, at);
      for (const char* kind : {"_desc-confounds_timeseries.tsv", "_desc-confounds_regressors.tsv"}) {
        auto candidate = bold.parent_path() / base;
        candidate += kind;
        if (std::filesystem::exists(candidate)) return candidate;
      }
    }
  }
  return std::nullopt;
}

namespace {
// A BOLD scan's input from its connectome in one atlas (shared by the one- and the several-atlas loaders).
void fillBoldInput(PredictionInput& in, const ConnectomeData& data, const std::filesystem::path& file, double tr, const PredictionInputOptions& opts) {
  in.fc = data.fc;
  in.series = data.series;
  in.roiNames = data.roiNames;
  in.networks = data.networks;
  in.emptyRois = data.emptyRois;
  in.qc = json::parse(data.qcJson);
  const auto header = readNiftiHeader(file);
  in.volumes = static_cast<int>(header.dim[3]);
  in.tr = header.repetitionTime > 0 ? header.repetitionTime : tr;
  if (opts.requireFullCoverage && !data.emptyRois.empty())
    throw Error(ErrorCode::Data, std::to_string(data.emptyRois.size()) + " ROI(s) of " + data.atlasId + " hold no voxels of this scan (e.g. " +
                                     data.emptyRois.front() + "): the field of view does not cover the atlas");
}
}  // namespace

PredictionInput loadPredictionInput(const std::filesystem::path& file, const ModelCard& card, const AtlasRegistry* registry, double tr,
                                    ProgressDelegate& progress) {
  PredictionInputOptions o;
  o.tr = tr;
  return loadPredictionInput(file, card, registry, o, progress);
}

PredictionInput loadPredictionInput(const std::filesystem::path& file, const ModelCard& card, const AtlasRegistry* registry, const PredictionInputOptions& opts,
                                    ProgressDelegate& progress) {
  if (card.kind == ModelKind::PublicImport)
    throw Error(ErrorCode::Usage,
                "the model is a published checkpoint as imported (model import), not yet adapted to a task: train it first "
                "(train --method prompt|finetune|lora|linear --pretrained FILE)");
  if (card.inputs.empty()) throw Error(ErrorCode::Usage, "the model's card names no atlas: it is not a model that classifies scans");
  return loadPredictionInput(file, card.inputs.front(), registry, opts, progress);
}

PredictionInput loadPredictionInput(const std::filesystem::path& file, const ModelAtlasInput& model, const AtlasRegistry* registry,
                                    const PredictionInputOptions& opts, ProgressDelegate& progress) {
  const double tr = opts.tr;
  return withContext("while preparing " + file.string(), [&] {
    if (!std::filesystem::exists(file)) throw Error(ErrorCode::NoInput, "no such file");
    const auto& atlas = model.atlas;
    const PipelineOptions& options = model.pipeline;
    PredictionInput in;
    in.file = file;
    in.contentHash = hashFile(file);
    if (isNiftiPath(file)) {
      in.kind = "bold";
      if (!registry || !registry->contains(atlas))
        throw Error(ErrorCode::Config, "the model was trained on '" + atlas +
                                           "', which is not a registered parcellation, so BOLD volumes cannot be parcellated for it; give ROI "
                                           "time series in that parcellation instead");
      // The model was trained on cleaned signals: fMRIPrep's confounds beside the file take part too.
      in.confounds = opts.confounds ? opts.confounds : siblingConfounds(file);
      auto data = computeConnectomes(*registry, file, in.confounds, {atlas}, options, progress);
      fillBoldInput(in, data.at(0), file, tr, opts);
    } else {
      in.kind = "timeseries";
      const auto ts = readRoiTimeSeries(file);
      const int expected = model.nodes;
      if (expected > 0 && ts.series.cols() != expected)
        throw Error(ErrorCode::Data,
                    "has " + std::to_string(ts.series.cols()) + " columns but the model expects " + std::to_string(expected) + " ROIs (" + atlas + ")");
      if (options.clean && options.cleaning.bandpass && tr <= 0)
        throw Error(ErrorCode::Usage, "the model's preprocessing band-passes the signals: give the repetition time with --tr");
      in.confounds = opts.confounds;
      auto data = computeFromTimeSeries(atlas, ts.series, ts.roiNames, tr, in.confounds, options);
      in.fc = data.fc;
      in.series = data.series;
      in.roiNames = ts.roiNames;
      in.volumes = static_cast<int>(ts.series.rows());
      in.tr = tr;
      in.qc = json::parse(data.qcJson);
      for (Eigen::Index c = 0; c < ts.series.cols(); ++c) {
        const auto col = ts.series.col(c);
        if (!col.allFinite() || (col.array() - col.mean()).abs().maxCoeff() == 0.0)
          in.emptyRois.push_back(c < static_cast<Eigen::Index>(ts.roiNames.size()) ? ts.roiNames[static_cast<std::size_t>(c)]
                                                                                   : "column " + std::to_string(c + 1));
      }
      try {  // names and networks of the model's atlas, when known, make explanations readable
        const auto placement = roiPlacement(registry, atlas, static_cast<int>(ts.series.cols()));
        in.roiNames = placement.names;
        in.networks = placement.networks;
      } catch (const Error&) {
      }
    }
    if (!in.fc.allFinite()) throw Error(ErrorCode::Data, "its connectivity matrix holds NaN or infinite values");
    return in;
  });
}

std::map<std::string, PredictionInput> loadBoldPredictionInputs(const std::filesystem::path& file, const std::vector<ModelAtlasInput>& models,
                                                                const AtlasRegistry* registry, const PredictionInputOptions& opts, ProgressDelegate& progress) {
  if (!isNiftiPath(file)) throw Error(ErrorCode::Usage, file.string() + " is not a BOLD NIfTI file");
  if (models.empty()) throw Error(ErrorCode::Internal, "no atlas to parcellate " + file.string() + " with");
  std::vector<std::string> atlases;
  bool samePreprocessing = true;
  for (const auto& m : models) {
    atlases.push_back(m.atlas);
    samePreprocessing = samePreprocessing && m.preprocessing == models.front().preprocessing;
  }
  std::map<std::string, PredictionInput> out;
  if (!samePreprocessing) {  // members cleaned differently: one pass each
    for (std::size_t k = 0; k < models.size(); ++k) {
      ProgressRange part(progress, static_cast<double>(k) / static_cast<double>(models.size()),
                         static_cast<double>(k + 1) / static_cast<double>(models.size()));
      out.emplace(atlases[k], loadPredictionInput(file, models[k], registry, opts, part));
    }
    return out;
  }
  return withContext("while preparing " + file.string(), [&] {
    if (!std::filesystem::exists(file)) throw Error(ErrorCode::NoInput, "no such file");
    for (const auto& atlas : atlases)
      if (!registry || !registry->contains(atlas))
        throw Error(ErrorCode::Config, "the model reads '" + atlas + "', which is not a registered parcellation, so BOLD volumes cannot be parcellated for it");
    const PipelineOptions& options = models.front().pipeline;
    const auto confounds = opts.confounds ? opts.confounds : siblingConfounds(file);
    const auto hash = hashFile(file);
    // Every atlas in the one pass over the volume.
    const auto data = computeConnectomes(*registry, file, confounds, atlases, options, progress);
    for (std::size_t k = 0; k < data.size(); ++k) {
      PredictionInput in;
      in.file = file;
      in.contentHash = hash;
      in.kind = "bold";
      in.confounds = confounds;
      fillBoldInput(in, data.at(k), file, opts.tr, opts);
      if (!in.fc.allFinite()) throw Error(ErrorCode::Data, "its " + data[k].atlasId + " connectivity matrix holds NaN or infinite values");
      out.emplace(data[k].atlasId, std::move(in));
    }
    for (const auto& atlas : atlases)
      if (!out.count(atlas)) throw Error(ErrorCode::Internal, "the parcellation gave no connectome for " + atlas);
    return out;
  });
}

json modelCardSummary(json card) {
  for (const char* big : {"mean", "scale", "weights"}) card.erase(big);
  if (card.contains("tangent_reference") && card["tangent_reference"].is_array())
    card["tangent_reference"] = std::to_string(card["tangent_reference"].size()) + " x " + std::to_string(card["tangent_reference"].size()) +
                                " geometric mean of the training scans' covariances";
  const auto shrinkOod = [](json& ood) {
    if (ood.is_object())
      for (const char* big : {"mean", "scale", "distances", "template_distances", "axes", "axis_sd"}) ood.erase(big);
  };
  if (card.contains("ood")) shrinkOod(card["ood"]);
  if (card.contains("ensemble") && card["ensemble"].is_array())
    for (auto& member : card["ensemble"])
      if (member.contains("ood")) shrinkOod(member["ood"]);
  if (card.contains("input_transform") && card["input_transform"].is_object()) {
    auto& transform = card["input_transform"];
    for (const char* big : {"reference", "mean", "scale"}) transform.erase(big);
    if (transform.contains("site_standardisation") && transform["site_standardisation"].contains("sites")) {
      json sites = json::object();  // the site names and their scan counts, without the statistics
      json adapted = json::array();
      for (const auto& [name, stats] : transform["site_standardisation"]["sites"].items()) {
        sites[name] = stats.value("scans", 0);
        if (stats.value("adapted", false)) adapted.push_back(name);
      }
      transform["site_standardisation"] = {{"sites", sites}};
      if (!adapted.empty()) transform["site_standardisation"]["adapted_sites"] = adapted;
    }
  }
  if (card.contains("training_scans") && card["training_scans"].contains("hashes"))
    card["training_scans"] = std::to_string(card["training_scans"].value("count", 0)) + " scans (content hashes kept in the file)";
  if (card.contains("fold_models") && card["fold_models"].is_array()) card["fold_models"] = std::to_string(card["fold_models"].size()) + " fold models";
  return card;
}

namespace {
model::GraphInput graphInputOf(const PredictionInput& input) {
  model::GraphInput g;
  g.file = input.file.string();
  g.nodes = static_cast<int>(input.fc.rows());
  const Eigen::MatrixXf f = input.fc.cast<float>();
  g.fc.resize(static_cast<std::size_t>(f.size()));
  Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(g.fc.data(), f.rows(), f.cols()) = f;
  g.roiNames = input.roiNames;
  g.networks = input.networks;
  g.site = input.site;
  if (input.series.size() > 0) {
    const Eigen::MatrixXf s = input.series.cast<float>();
    g.timepoints = static_cast<int>(s.rows());
    g.series.resize(static_cast<std::size_t>(s.size()));
    Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(g.series.data(), s.rows(), s.cols()) = s;
  }
  return g;
}

// A scan the model learned from (or was calibrated on) is no independent test of it.
void markTrainingScan(const ModelCard& card, const PredictionInput& input, json& row) {
  if (!card.trainingScanHashes.empty() && !input.contentHash.empty()) {
    const bool found = card.learnedFrom(input.contentHash);
    row["in_training_set"] = found;
    if (found) row["training_set_warning"] = "this scan was used to train the model: the result is not an independent test";
  }
}
}  // namespace

json predictInput(const std::filesystem::path& modelFile, const ModelCard& model, const PredictionInput& input, const std::string& device, int threads,
                  ProgressDelegate& progress) {
  json row;
  if (model.baseline) {
    auto p = predictBaseline(model.stored, input.fc, input.roiNames, 10, input.series);
    for (auto& r : p.topRois) {
      const auto i = r["index"].get<std::size_t>();
      r["network"] = i < input.networks.size() && !input.networks[i].empty() ? input.networks[i] : "unassigned";
    }
    row = {{"file", input.file.string()},  {"label", p.label},
           {"probability", p.probability}, {"positive_class", model.positiveClass},
           {"top_rois", p.topRois},        {"model", modelFile.string()},
           {"interval", p.interval},       {"ood", p.ood}};
    std::map<std::string, double> perNetwork;
    for (std::size_t i = 0; i < p.roiSaliency.size(); ++i)
      perNetwork[i < input.networks.size() && !input.networks[i].empty() ? input.networks[i] : "unassigned"] += p.roiSaliency[i];
    json networks = json::object();
    for (const auto& [net, v] : perNetwork) networks[net] = {{"saliency", v}};
    row["explanation"] = {{"method", {{"saliency", "abs(weight x standardised feature), summed per ROI"}}},
                          {"roi_saliency", p.roiSaliency},
                          {"top_rois", p.topRois},
                          {"networks", networks}};
    progress.update("predicted", 1.0);
  } else {
    row = json::parse(model::modelBackend().predict(modelFile.string(), {graphInputOf(input)}, true, device, threads, progress)).at(0);
  }
  markTrainingScan(model, input, row);
  return row;
}

json predictFusedInput(const std::filesystem::path& modelFile, const ModelCard& model, const std::map<std::string, PredictionInput>& inputs,
                       const std::string& device, int threads, ProgressDelegate& progress) {
  const auto atlases = model.atlases();
  const auto inputOf = [&](const std::string& atlas) -> const PredictionInput& {
    const auto found = inputs.find(atlas);
    if (found == inputs.end()) throw Error(ErrorCode::Usage, modelFile.string() + " reads each scan in " + atlas + " too; no " + atlas + " input was given");
    return found->second;
  };
  auto g = graphInputOf(inputOf(atlases.front()));
  for (std::size_t k = 1; k < atlases.size(); ++k) g.views.push_back(graphInputOf(inputOf(atlases[k])));
  auto row = json::parse(model::modelBackend().predict(modelFile.string(), {g}, true, device, threads, progress)).at(0);
  for (auto& t : row["top_rois"]) t["name"] = t.value("name", std::string()) + " [" + t.value("atlas", std::string()) + "]";
  row["atlases"] = atlases;
  markTrainingScan(model, inputOf(atlases.front()), row);
  return row;
}

std::int64_t registerModel(Workspace& ws, const std::filesystem::path& modelFile, const ModelCard& card) {
  return storeModel(ws, hashFile(modelFile), card.stored.value("model", json::object()).dump(), modelCardSummary(card.stored).dump(),
                    std::filesystem::absolute(modelFile).string());
}

std::int64_t recordPrediction(Workspace& ws, const PredictionInput& input, const std::filesystem::path& modelFile, const ModelCard& card,
                              const std::string& label, double probability, const json& explanation) {
  PredictionToStore p;
  p.modelHash = hashFile(modelFile);
  p.modelConfigJson = card.stored.value("model", json::object()).dump();
  p.modelCardJson = modelCardSummary(card.stored).dump();
  p.modelPath = std::filesystem::absolute(modelFile).string();
  p.scanHash = input.contentHash.empty() ? hashFile(input.file) : input.contentHash;
  p.scanPath = std::filesystem::absolute(input.file).string();
  p.scanKind = input.kind;
  if (input.kind == "timeseries") p.scanAtlas = card.atlas();
  const auto stem = input.file.filename().string();
  p.looseSubject = stem.substr(0, stem.find('.'));
  p.label = label;
  p.probability = probability;
  p.explanationJson = explanation.dump();
  return storePrediction(ws, p);
}

}  // namespace bg
