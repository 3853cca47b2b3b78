#pragma once
// Releasing a trained model: a copy of its file whose card carries the cross-validated evaluation
// that backs it (and who released it, when, from which file), recorded in the workspace's models
// table so the diagnosis wizard offers it and its reports quote that evaluation.
#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "eval/Results.h"

namespace bg {

class Workspace;

// The card's "evaluation" block: corpus, method, split, folds, each metric's mean and 95% interval.
nlohmann::json evaluationForCard(const EvaluationRecord& evaluation);

struct ReleaseRequest {
  std::filesystem::path model, out;
  std::int64_t evaluationId = 0;
  std::string name, releasedBy;
};

// Writes request.out (atomically; never over request.model) and returns its card. Refuses an
// evaluation of another corpus than the model's, or of another label set.
nlohmann::json releaseModel(Workspace& ws, const ReleaseRequest& request);

}  // namespace bg
