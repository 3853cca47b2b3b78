#include "eval/SiteAdaptation.h"

#include <algorithm>

#include "connectome/GraphInputTransform.h"
#include "errors/Error.h"
#include "model/ModelBackend.h"
#include "platform/Clock.h"

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

double adaptationPositiveFraction(const json& card) {
  const auto counts = card.value("class_counts", json::array());
  if (counts.size() != 2 || !counts[0].is_number() || !counts[1].is_number()) return 0.5;
  const double n0 = counts[0].get<double>(), n1 = counts[1].get<double>();
  return n0 > 0 && n1 > 0 ? n1 / (n0 + n1) : 0.5;
}

namespace {
// Class indices (0 negative, 1 positive) of the batch's labels, by the model's class names.
std::vector<int> classIndices(const std::vector<std::string>& labels, const std::vector<std::string>& classes, std::size_t scans) {
  if (labels.empty()) return {};
  if (labels.size() != scans)
    throw Error(ErrorCode::Usage, std::to_string(labels.size()) + " labels for " + std::to_string(scans) + " scans: give one per scan, in the same order");
  if (classes.size() != 2) throw Error(ErrorCode::Data, "the model does not name two classes");
  std::vector<int> out;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == classes[0])
      out.push_back(0);
    else if (labels[i] == classes[1])
      out.push_back(1);
    else
      throw Error(ErrorCode::Usage,
                  "label '" + labels[i] + "' of scan " + std::to_string(i + 1) + " is not one of the model's classes (" + classes[0] + ", " + classes[1] + ")");
  }
  return out;
}
}  // namespace

json adaptModelToSite(const SiteAdaptationRequest& req) {
  return withContext("while adapting " + req.model.string() + " to site '" + req.site + "'", [&] {
    if (req.site.empty()) throw Error(ErrorCode::Usage, "name the site (--site)");
    if (std::filesystem::exists(req.out) && std::filesystem::equivalent(req.out, req.model))
      throw Error(ErrorCode::Usage, "write the adapted model to a new file (--out), not over the trained one");
    const auto info = ModelCard::read(req.model);
    if (info.baseline || !info.stored.contains("input_transform"))
      throw Error(ErrorCode::Usage,
                  "the model's input is not standardised per site (train it with --input fc-site, fc-combat, tangent-site or tangent-combat)");
    auto transform = GraphInputTransform::fromJson(info.stored.at("input_transform"));
    if (transform.knowsSite(req.site) && !transform.siteAdapted(req.site))
      throw Error(ErrorCode::Usage, "the model was trained on scans of site '" + req.site + "' and has its statistics already");
    std::vector<Eigen::MatrixXd> fc, series;
    json files = json::array();
    for (const auto& s : req.scans) {
      fc.push_back(s.fc);
      series.push_back(s.series);
      files.push_back(s.file.filename().string());
    }
    const auto classes = classIndices(req.labels, info.classes, req.scans.size());
    const double positiveFraction = adaptationPositiveFraction(info.stored);
    transform.adaptSite(req.site, fc, series, classes, positiveFraction);
    json adaptations = info.stored.value("site_adaptations", json::array());
    json record = {{"site", req.site},
                   {"scans", req.scans.size()},
                   {"files", files},
                   {"adapted_at", nowIso8601()},
                   {"source_model", std::filesystem::absolute(req.model).lexically_normal().string()}};
    if (!classes.empty()) {
      const auto positives = std::count(classes.begin(), classes.end(), 1);
      record["labelled"] = true;
      record["class_counts"] = {static_cast<long>(classes.size()) - positives, positives};
      record["weighted_positive_fraction"] = positiveFraction;
    }
    adaptations.push_back(record);
    const json patch = {{"input_transform", transform.toJson()}, {"site_adaptations", adaptations}};
    const auto card = json::parse(model::modelBackend().rewriteModelCard(req.model.string(), req.out.string(), patch.dump()));
    auto summary = modelCardSummary(card);
    if (const auto advice = siteAdaptationAdvice(static_cast<int>(req.scans.size()), transform.siteStandardizer().empiricalBayes()); !advice.empty())
      summary["advice"] = advice;
    return summary;
  });
}

}  // namespace bg
