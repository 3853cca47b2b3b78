#include "eval/Prediction.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include "atlas/AtlasRegistry.h"
#include "atlas/RoiPlacement.h"
#include "settings/DataPaths.h"
#include "connectome/ConnectomePipeline.h"
#include "errors/Error.h"
#include "io/TimeSeriesFile.h"
#include "workspace/ContentHash.h"
#include "workspace/Derivation.h"
#include "workspace/Workspace.h"

namespace bg {
using nlohmann::json;

bool isNiftiPath(const std::filesystem::path& p) {
  const auto s = p.filename().string();
  auto ends = [&](const std::string& suffix) { return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0; };
  return ends(".nii") || ends(".nii.gz");
}

PredictionInput loadPredictionInput(const std::filesystem::path& file, const json& card, const AtlasRegistry* registry, double tr,
                                    ProgressDelegate& progress) {
  return withContext("while preparing " + file.string(), [&] {
    if (!std::filesystem::exists(file)) throw Error(ErrorCode::NoInput, "no such file");
    const auto atlas = card.value("atlas", std::string());
    const auto pre = card.contains("preprocessing") && !card["preprocessing"].empty() ? card["preprocessing"].dump() : std::string();
    PipelineOptions options = pre.empty() ? PipelineOptions{} : pipelineOptionsFromJson(pre);
    PredictionInput in;
    in.file = file;
    if (isNiftiPath(file)) {
      in.kind = "bold";
      if (!registry || !registry->contains(atlas))
        throw Error(ErrorCode::Config, "the model was trained on '" + atlas +
                                           "', which is not a registered parcellation, so BOLD volumes cannot be parcellated for it; give ROI "
                                           "time series in that parcellation instead");
      auto data = computeConnectomes(*registry, file, std::nullopt, {atlas}, options, progress);
      in.fc = data.at(0).fc;
      in.roiNames = data[0].roiNames;
      in.networks = data[0].networks;
      if (!data[0].emptyRois.empty())
        throw Error(ErrorCode::Data, std::to_string(data[0].emptyRois.size()) + " ROI(s) of " + atlas + " hold no voxels of this scan (e.g. " +
                                         data[0].emptyRois.front() + "): the field of view does not cover the atlas");
    } else {
      in.kind = "timeseries";
      const auto ts = readRoiTimeSeries(file);
      const int expected = card.value("nodes", 0);
      if (expected > 0 && ts.series.cols() != expected)
        throw Error(ErrorCode::Data, "has " + std::to_string(ts.series.cols()) + " columns but the model expects " + std::to_string(expected) +
                                         " ROIs (" + atlas + ")");
      if (options.clean && options.cleaning.bandpass && tr <= 0)
        throw Error(ErrorCode::Usage, "the model's preprocessing band-passes the signals: give the repetition time with --tr");
      auto data = computeFromTimeSeries(atlas, ts.series, ts.roiNames, tr, std::nullopt, options);
      in.fc = data.fc;
      in.roiNames = ts.roiNames;
      try {  // names and networks of the model's atlas, when known, make explanations readable
        const auto placement = roiPlacement(registry, registry ? registry->dataPaths() : DataPaths({}), atlas, static_cast<int>(ts.series.cols()));
        in.roiNames = placement.names;
        in.networks = placement.networks;
      } catch (const Error&) {
      }
    }
    if (!in.fc.allFinite()) throw Error(ErrorCode::Data, "its connectivity matrix holds NaN or infinite values");
    return in;
  });
}

std::int64_t recordPrediction(Workspace& ws, const PredictionInput& input, const std::filesystem::path& modelFile, const json& card,
                              const std::string& label, double probability, const json& explanation) {
  SQLite::Transaction tx(ws.db());
  const auto modelHash = hashFile(modelFile);
  std::int64_t modelId = 0;
  {
    SQLite::Statement q(ws.db(), "SELECT id FROM models WHERE hash = ?");
    q.bind(1, modelHash);
    if (q.executeStep()) {
      modelId = q.getColumn(0).getInt64();
    } else {
      SQLite::Statement ins(ws.db(), "INSERT INTO models (hash, config_json, card_json, path) VALUES (?, ?, ?, ?)");
      ins.bind(1, modelHash);
      ins.bind(2, card.value("model", json::object()).dump());
      ins.bind(3, card.dump());
      ins.bind(4, std::filesystem::absolute(modelFile).string());
      ins.exec();
      modelId = ws.db().getLastInsertRowid();
    }
  }
  const auto scanHash = hashFile(input.file);
  std::int64_t scanId = 0;
  {
    SQLite::Statement q(ws.db(), "SELECT id FROM scans WHERE content_hash = ?");
    q.bind(1, scanHash);
    if (q.executeStep()) {
      scanId = q.getColumn(0).getInt64();
    } else {
      auto stem = input.file.filename().string();
      stem = stem.substr(0, stem.find('.'));
      const auto session = ws.ensureSession(ws.ensureSubject("predictions", stem), "1");
      SQLite::Statement ins(ws.db(), "INSERT INTO scans (session_id, kind, path, content_hash, atlas) VALUES (?, ?, ?, ?, ?)");
      ins.bind(1, session);
      ins.bind(2, input.kind);
      ins.bind(3, std::filesystem::absolute(input.file).string());
      ins.bind(4, scanHash);
      if (input.kind == "timeseries") ins.bind(5, card.value("atlas", std::string()));
      ins.exec();
      scanId = ws.db().getLastInsertRowid();
    }
  }
  SQLite::Statement ins(ws.db(), "INSERT INTO predictions (scan_id, model_id, label, probability, explanation_json) VALUES (?, ?, ?, ?, ?)");
  ins.bind(1, scanId);
  ins.bind(2, modelId);
  ins.bind(3, label);
  ins.bind(4, probability);
  ins.bind(5, explanation.dump());
  ins.exec();
  const auto id = ws.db().getLastInsertRowid();
  tx.commit();
  return id;
}

}  // namespace bg
