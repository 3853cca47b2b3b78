#include "eval/SiteAdaptation.h"

#include "connectome/GraphInputTransform.h"
#include "errors/Error.h"
#include "model/ModelBackend.h"
#include "report/Diagnosis.h"

namespace bg {
using nlohmann::json;

std::string siteAdaptationAdvice(int scans, bool shrinkage) {
  if (scans >= kRecommendedAdaptationScans) return {};
  const std::string n = std::to_string(scans), recommended = std::to_string(kRecommendedAdaptationScans);
  if (shrinkage)
    return "statistics from " + n + " scans are noisy; the model's ComBat shrinkage steadies them, but " + recommended + " or more scans are better";
  return "statistics from " + n + " scans are noisy: on ABIDE, adapting from fewer than " + recommended +
         " scans did no better than the pooled statistics unless the model shrinks them (train it with --input fc-combat or tangent-combat)";
}

json adaptModelToSite(const SiteAdaptationRequest& req) {
  return withContext("while adapting " + req.model.string() + " to site '" + req.site + "'", [&] {
    if (req.site.empty()) throw Error(ErrorCode::Usage, "name the site (--site)");
    if (std::filesystem::exists(req.out) && std::filesystem::equivalent(req.out, req.model))
      throw Error(ErrorCode::Usage, "write the adapted model to a new file (--out), not over the trained one");
    const auto info = readModelCardInfo(req.model);
    if (info.baseline || !info.card.contains("input_transform"))
      throw Error(ErrorCode::Usage, "the model's input is not standardised per site (train it with --input fc-site, fc-combat, tangent-site or tangent-combat)");
    auto transform = GraphInputTransform::fromJson(info.card.at("input_transform"));
    if (transform.knowsSite(req.site) && !transform.siteAdapted(req.site))
      throw Error(ErrorCode::Usage, "the model was trained on scans of site '" + req.site + "' and has its statistics already");
    std::vector<Eigen::MatrixXd> fc, series;
    json files = json::array();
    for (const auto& s : req.scans) {
      fc.push_back(s.fc);
      series.push_back(s.series);
      files.push_back(s.file.filename().string());
    }
    transform.adaptSite(req.site, fc, series);
    json adaptations = info.card.value("site_adaptations", json::array());
    adaptations.push_back({{"site", req.site}, {"scans", req.scans.size()}, {"files", files}, {"adapted_at", nowIso8601()},
                           {"source_model", std::filesystem::absolute(req.model).lexically_normal().string()}});
    const json patch = {{"input_transform", transform.toJson()}, {"site_adaptations", adaptations}};
    const auto card = json::parse(model::modelBackend().rewriteModelCard(req.model.string(), req.out.string(), patch.dump()));
    auto summary = modelCardSummary(card);
    if (const auto advice = siteAdaptationAdvice(static_cast<int>(req.scans.size()), transform.siteStandardizer().empiricalBayes()); !advice.empty())
      summary["advice"] = advice;
    return summary;
  });
}

}  // namespace bg
