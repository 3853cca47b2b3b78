#pragma once
// The workspace's report records (table reports) and the predictions they come from: the only place
// that knows their SQL. What a record says is the diagnosis's business (report/Diagnosis.h).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bg {

class Workspace;

// Report records: the newest for a prediction, or by report id.
void saveReportRecord(Workspace& ws, const nlohmann::json& record);
std::optional<nlohmann::json> loadReportRecord(Workspace& ws, const std::string& reportId);
std::optional<nlohmann::json> loadReportForPrediction(Workspace& ws, std::int64_t predictionId);
// Where a report's PDF was last written.
void setReportPdf(Workspace& ws, const std::string& reportId, const std::string& pdfPath);

struct StoredReport {
  std::string id, signedBy, pdfPath, createdAt;
  nlohmann::json record;
};
// Every report, newest first.
std::vector<StoredReport> listReports(Workspace& ws);

// A stored prediction with its scan and model (a report's inputs).
struct StoredPrediction {
  std::string label, createdAt, scanPath, scanKind, scanHash, modelPath, modelHash;
  double probability = 0;
  nlohmann::json explanation, card;
};
std::optional<StoredPrediction> loadPrediction(Workspace& ws, std::int64_t predictionId);

// A model file known to the workspace (table models), registered once by its content hash; its id.
std::int64_t storeModel(Workspace& ws, const std::string& hash, const std::string& configJson, const std::string& cardJson, const std::string& path);

struct StoredModel {
  std::string path;
  nlohmann::json card;
};
// The registered model files, newest first.
std::vector<StoredModel> listModels(Workspace& ws);

// A prediction of a model on a scan, in one transaction: the model registered by its hash, the scan
// found by its content hash or added as a loose file (subject `looseSubject` of dataset "predictions").
struct PredictionToStore {
  std::string modelHash, modelConfigJson, modelCardJson, modelPath;
  std::string scanHash, scanPath, scanKind, scanAtlas, looseSubject;
  std::string label;
  double probability = 0;
  std::string explanationJson;
};
std::int64_t storePrediction(Workspace& ws, const PredictionToStore& p);

}  // namespace bg
