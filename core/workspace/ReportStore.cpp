#include "workspace/ReportStore.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include "workspace/Workspace.h"

namespace bg {
using nlohmann::json;

void saveReportRecord(Workspace& ws, const json& record) {
  SQLite::Statement s(ws.db(),
                      "INSERT INTO reports (id, prediction_id, record_json, signed_by) VALUES (?, ?, ?, ?) "
                      "ON CONFLICT(id) DO UPDATE SET record_json = excluded.record_json, signed_by = excluded.signed_by, "
                      "updated_at = datetime('now')");
  s.bind(1, record.at("report_id").get<std::string>());
  if (record.contains("prediction_id") && record["prediction_id"].is_number())
    s.bind(2, record["prediction_id"].get<std::int64_t>());
  else
    s.bind(2);
  s.bind(3, record.dump());
  s.bind(4, record.contains("signoff") && record["signoff"].is_object() ? record["signoff"].value("clinician", std::string()) : std::string());
  s.exec();
}

std::optional<json> loadReportRecord(Workspace& ws, const std::string& reportId) {
  SQLite::Statement q(ws.db(), "SELECT record_json FROM reports WHERE id = ?");
  q.bind(1, reportId);
  if (!q.executeStep()) return std::nullopt;
  return json::parse(q.getColumn(0).getString());
}

std::optional<json> loadReportForPrediction(Workspace& ws, std::int64_t predictionId) {
  SQLite::Statement q(ws.db(), "SELECT record_json FROM reports WHERE prediction_id = ? ORDER BY updated_at DESC, rowid DESC LIMIT 1");
  q.bind(1, predictionId);
  if (!q.executeStep()) return std::nullopt;
  return json::parse(q.getColumn(0).getString());
}

void setReportPdf(Workspace& ws, const std::string& reportId, const std::string& pdfPath) {
  SQLite::Statement s(ws.db(), "UPDATE reports SET pdf_path = ?, updated_at = datetime('now') WHERE id = ?");
  s.bind(1, pdfPath);
  s.bind(2, reportId);
  s.exec();
}

std::vector<StoredReport> listReports(Workspace& ws) {
  SQLite::Statement q(ws.db(), "SELECT id, record_json, signed_by, pdf_path, created_at FROM reports ORDER BY created_at DESC, rowid DESC");
  std::vector<StoredReport> out;
  while (q.executeStep()) {
    StoredReport r;
    r.id = q.getColumn(0).getString();
    r.record = json::parse(q.getColumn(1).getString());
    r.signedBy = q.getColumn(2).getString();
    r.pdfPath = q.getColumn(3).getString();
    r.createdAt = q.getColumn(4).getString();
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<StoredPrediction> loadPrediction(Workspace& ws, std::int64_t predictionId) {
  SQLite::Statement q(ws.db(),
                      "SELECT p.label, p.probability, p.explanation_json, p.created_at, s.path, s.kind, s.content_hash, m.path, m.hash, m.card_json "
                      "FROM predictions p JOIN scans s ON s.id = p.scan_id JOIN models m ON m.id = p.model_id WHERE p.id = ?");
  q.bind(1, predictionId);
  if (!q.executeStep()) return std::nullopt;
  StoredPrediction p;
  p.label = q.getColumn(0).getString();
  p.probability = q.getColumn(1).getDouble();
  p.explanation = json::parse(q.getColumn(2).getString());
  p.createdAt = q.getColumn(3).getString();
  p.scanPath = q.getColumn(4).getString();
  p.scanKind = q.getColumn(5).getString();
  p.scanHash = q.getColumn(6).getString();
  p.modelPath = q.getColumn(7).getString();
  p.modelHash = q.getColumn(8).getString();
  p.card = json::parse(q.getColumn(9).getString());
  return p;
}

std::int64_t storeModel(Workspace& ws, const std::string& hash, const std::string& configJson, const std::string& cardJson, const std::string& path) {
  SQLite::Statement q(ws.db(), "SELECT id FROM models WHERE hash = ?");
  q.bind(1, hash);
  if (q.executeStep()) return q.getColumn(0).getInt64();
  SQLite::Statement ins(ws.db(), "INSERT INTO models (hash, config_json, card_json, path) VALUES (?, ?, ?, ?)");
  ins.bind(1, hash);
  ins.bind(2, configJson);
  ins.bind(3, cardJson);
  ins.bind(4, path);
  ins.exec();
  return ws.db().getLastInsertRowid();
}

std::vector<StoredModel> listModels(Workspace& ws) {
  SQLite::Statement q(ws.db(), "SELECT path, card_json FROM models ORDER BY id DESC");
  std::vector<StoredModel> out;
  while (q.executeStep()) out.push_back({q.getColumn(0).getString(), json::parse(q.getColumn(1).getString())});
  return out;
}

std::int64_t storePrediction(Workspace& ws, const PredictionToStore& p) {
  SQLite::Transaction tx(ws.db());
  const std::int64_t modelId = storeModel(ws, p.modelHash, p.modelConfigJson, p.modelCardJson, p.modelPath);
  std::int64_t scanId = 0;
  {
    SQLite::Statement q(ws.db(), "SELECT id FROM scans WHERE content_hash = ?");
    q.bind(1, p.scanHash);
    if (q.executeStep()) {
      scanId = q.getColumn(0).getInt64();
    } else {
      const auto session = ws.ensureSession(ws.ensureSubject("predictions", p.looseSubject), "1");
      SQLite::Statement ins(ws.db(), "INSERT INTO scans (session_id, kind, path, content_hash, atlas) VALUES (?, ?, ?, ?, ?)");
      ins.bind(1, session);
      ins.bind(2, p.scanKind);
      ins.bind(3, p.scanPath);
      ins.bind(4, p.scanHash);
      if (!p.scanAtlas.empty())
        ins.bind(5, p.scanAtlas);
      else
        ins.bind(5);
      ins.exec();
      scanId = ws.db().getLastInsertRowid();
    }
  }
  SQLite::Statement ins(ws.db(), "INSERT INTO predictions (scan_id, model_id, label, probability, explanation_json) VALUES (?, ?, ?, ?, ?)");
  ins.bind(1, scanId);
  ins.bind(2, modelId);
  ins.bind(3, p.label);
  ins.bind(4, p.probability);
  ins.bind(5, p.explanationJson);
  ins.exec();
  const auto id = ws.db().getLastInsertRowid();
  tx.commit();
  return id;
}

}  // namespace bg
