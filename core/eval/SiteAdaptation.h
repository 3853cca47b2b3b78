#pragma once
// Adapting a per-site harmonised model (input fc-site or tangent-site) to an acquisition site it was
// not trained on: the site's statistics come from a batch of its own scans, unlabelled, and a copy of
// the model file carries them, so that `predict --site NAME` standardises that site's scans with its
// own mean and SD instead of the pooled ones. This is how ComBat is used on a new site's data; no
// label and no weight changes.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/Prediction.h"

namespace bg {

struct SiteAdaptationRequest {
  std::filesystem::path model, out;
  std::string site;
  std::vector<PredictionInput> scans;  // loaded for the model (loadPredictionInput), at least SiteStandardizer::kMinScans
  // Optional: each scan's known class (a name from the model's "classes"), in the order of `scans`.
  // The site's statistics are then weighted to the training corpus's class mix, so that a batch of
  // mostly patients (or controls) does not shift the site's scores; empty: unlabelled, as ComBat on
  // a new site usually is.
  std::vector<std::string> labels;
};

// The share of the positive class the labelled adaptation weights to: the model's training corpus's
// (its card's "class_counts"), or one half for a model file written before those were kept.
double adaptationPositiveFraction(const nlohmann::json& card);

// Leaving each ABIDE site out (docs/results/abide-cc200.md), a new site's statistics from 5 or 10 of its scans did
// no better than the pooled ones unless ComBat's shrinkage steadied them; from 20 they helped either way.
constexpr int kRecommendedAdaptationScans = 20;
// A caution for an adaptation from `scans` scans of a model whose site statistics are shrunk or not;
// empty when there is nothing to say.
std::string siteAdaptationAdvice(int scans, bool shrinkage);

// Writes request.out (atomically; never over request.model) and returns its card's summary. Throws
// bg::Error(Usage) for a model whose input is not standardised per site, a site it was trained on, or
// labels that are not one per scan or not the model's classes, and bg::Error(Data) for too few scans,
// scans of another parcellation, or a labelled batch with fewer than 2 scans of a class. The summary carries "advice" (siteAdaptationAdvice) when there
// is some; the card's "site_adaptations" entry records a labelled batch's class counts and the mix it
// was weighted to.
nlohmann::json adaptModelToSite(const SiteAdaptationRequest& request);

}  // namespace bg
