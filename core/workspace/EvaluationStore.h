#pragma once
// Evaluations kept in the workspace (the runs table, kind "evaluation", and their out-of-fold
// predictions): the only place that knows their SQL.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bg {

class Workspace;

// Stores one evaluation (the request that produced it and its result) and, when given, its
// out-of-fold predictions (outOfFoldPrediction rows), so that stored evaluations can be tested
// against each other later; returns the run id.
std::int64_t recordEvaluation(Workspace& ws, const std::string& corpus, const nlohmann::json& request, const nlohmann::json& result,
                              const nlohmann::json& predictions = nlohmann::json::array());
// The out-of-fold predictions stored with an evaluation; an empty array where none were (evaluations
// recorded before schema version 4, or by a method that gives none).
nlohmann::json evaluationPredictions(Workspace& ws, std::int64_t evaluationId);

struct EvaluationRecord {
  std::int64_t id = 0;
  std::string corpus, createdAt;
  nlohmann::json request, result;
};
std::vector<EvaluationRecord> listEvaluations(Workspace& ws);

}  // namespace bg
