#include "eval/ModelRelease.h"

#include <fstream>

#include "errors/Error.h"
#include "eval/BaselineModel.h"
#include "eval/Prediction.h"
#include "io/AtomicFile.h"
#include "model/ModelBackend.h"
#include "platform/Clock.h"
#include "workspace/ContentHash.h"
#include "workspace/Workspace.h"

namespace bg {
using nlohmann::json;

json evaluationForCard(const EvaluationRecord& e) {
  const auto& r = e.result;
  json metrics = json::object();
  for (const char* m : {"auc", "accuracy", "sensitivity", "specificity", "f1", "balanced_accuracy"}) {
    if (!r.contains("metrics") || !r["metrics"].contains(m)) continue;
    const auto& v = r["metrics"][m];
    metrics[m] = {{"mean", v.value("mean", 0.0)}, {"sd", v.value("sd", 0.0)}, {"ci95", v.value("ci95", json::array())}};
  }
  const auto split = r.value("split", json::object());
  return {{"evaluation_run", e.id},
          {"corpus", e.corpus},
          {"method", r.value("method", std::string())},
          {"split", split.value("kind", std::string())},
          {"folds", split.value("folds", 0)},
          {"items", r.value("items", 0)},
          {"metrics", metrics},
          {"recorded_at", e.createdAt}};
}

json releaseModel(Workspace& ws, const ReleaseRequest& req) {
  return withContext("while releasing " + req.model.string(), [&] {
    if (req.name.empty()) throw Error(ErrorCode::Usage, "a release needs a name");
    if (std::filesystem::exists(req.out) && std::filesystem::equivalent(req.out, req.model))
      throw Error(ErrorCode::Usage, "write the release to a new file (--out), not over the trained model");
    const auto info = ModelCard::read(req.model);
    const EvaluationRecord* evaluation = nullptr;
    const auto all = listEvaluations(ws);
    for (const auto& e : all)
      if (e.id == req.evaluationId) evaluation = &e;
    if (!evaluation) throw Error(ErrorCode::NoInput, "the workspace has no evaluation " + std::to_string(req.evaluationId));
    const auto& corpus = info.corpusName;
    if (!corpus.empty() && corpus != evaluation->corpus)
      throw Error(ErrorCode::Data,
                  "evaluation " + std::to_string(req.evaluationId) + " is of corpus '" + evaluation->corpus + "', the model was trained on '" + corpus + "'");
    json patch = {{"evaluation", evaluationForCard(*evaluation)},
                  {"release",
                   {{"name", req.name},
                    {"released_by", req.releasedBy.empty() ? std::string("unspecified") : req.releasedBy},
                    {"released_at", nowIso8601()},
                    {"source_model", std::filesystem::absolute(req.model).lexically_normal().string()},
                    {"source_hash", hashFile(req.model)}}}};
    json card;
    if (info.baseline) {
      std::ifstream in(req.model);
      card = json::parse(in);
      card.merge_patch(patch);
      writeTextAtomically(req.out, card.dump() + "\n");
    } else {
      card = json::parse(model::modelBackend().rewriteModelCard(req.model.string(), req.out.string(), patch.dump()));
    }
    registerModel(ws, req.out, ModelCard::fromJson(card, req.out.string()));
    return modelCardSummary(card);
  });
}

}  // namespace bg
