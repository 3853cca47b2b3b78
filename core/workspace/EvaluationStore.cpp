#include "workspace/EvaluationStore.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include "errors/Error.h"
#include "workspace/Workspace.h"

namespace bg {
using nlohmann::json;

std::int64_t recordEvaluation(Workspace& ws, const std::string& corpus, const json& request, const json& result, const json& predictions) {
  if (!predictions.is_array()) throw Error(ErrorCode::Internal, "an evaluation's predictions must be a JSON array");
  SQLite::Transaction tx(ws.db());  // the evaluation and its predictions, or neither
  SQLite::Statement q(ws.db(),
                      "INSERT INTO runs (kind, corpus_id, config_json, state, metrics_json) "
                      "VALUES ('evaluation', (SELECT id FROM corpora WHERE name = ?), ?, 'completed', ?)");
  q.bind(1, corpus);
  q.bind(2, request.dump());
  q.bind(3, result.dump());
  q.exec();
  const auto id = ws.db().getLastInsertRowid();
  if (!predictions.empty()) {
    SQLite::Statement p(ws.db(), "INSERT INTO evaluation_predictions (run_id, predictions_json) VALUES (?, ?)");
    p.bind(1, id);
    p.bind(2, predictions.dump());
    p.exec();
  }
  tx.commit();
  return id;
}

json evaluationPredictions(Workspace& ws, std::int64_t evaluationId) {
  SQLite::Statement q(ws.db(), "SELECT predictions_json FROM evaluation_predictions WHERE run_id = ?");
  q.bind(1, evaluationId);
  if (!q.executeStep()) return json::array();
  try {
    return json::parse(q.getColumn(0).getString());
  } catch (const json::exception& e) {
    throw Error(ErrorCode::Data, "the stored predictions of evaluation " + std::to_string(evaluationId) + " are corrupt: " + e.what());
  }
}

std::vector<EvaluationRecord> listEvaluations(Workspace& ws) {
  std::vector<EvaluationRecord> out;
  SQLite::Statement q(ws.db(),
                      "SELECT r.id, coalesce(c.name, ''), r.created_at, r.config_json, r.metrics_json FROM runs r "
                      "LEFT JOIN corpora c ON c.id = r.corpus_id WHERE r.kind = 'evaluation' ORDER BY r.id");
  while (q.executeStep())
    out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getString(), json::parse(q.getColumn(3).getString()),
                   json::parse(q.getColumn(4).getString())});
  return out;
}

}  // namespace bg
