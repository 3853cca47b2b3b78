#pragma once
// Which connectivity matrix a graph model reads (fitted and applied by GraphInputTransform).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bg {

struct GraphInputSpec {
  std::string kind = "fc";        // fc | tangent
  bool standardiseEdges = false;  // z-score every edge over the training scans
  bool perSite = false;           // ... over the training scans of the scan's own site (implies standardiseEdges)
  bool empiricalBayes = false;    // with perSite: ComBat's empirical-Bayes shrinkage of the per-site statistics
  bool identity() const { return kind == "fc" && !standardiseEdges; }
  bool needsSeries() const { return kind == "tangent"; }
  nlohmann::json toJson() const;
  static GraphInputSpec fromJson(const nlohmann::json& j);  // {"kind", "standardise_edges", "per_site"} or "kind"; validates
  // Every key a configuration's "input" object may hold, at its default (for the configuration readers' key check).
  static nlohmann::json configurationDefaults();
  // The command line's names: fc, fc-z, fc-site, fc-combat, tangent, tangent-z, tangent-site,
  // tangent-combat ("-z": edges z-scored; "-site": z-scored within each acquisition site; "-combat":
  // the same with ComBat's empirical-Bayes shrinkage of the site statistics).
  std::string name() const { return kind + (empiricalBayes ? "-combat" : perSite ? "-site" : standardiseEdges ? "-z" : ""); }
  bool operator==(const GraphInputSpec& o) const {
    return kind == o.kind && standardiseEdges == o.standardiseEdges && perSite == o.perSite && empiricalBayes == o.empiricalBayes;
  }
  bool operator!=(const GraphInputSpec& o) const { return !(*this == o); }
  static GraphInputSpec fromName(const std::string& name);
  // Every name fromName() takes, for the command line's checks.
  static const std::vector<std::string>& names();
  // For reports: how the model's connectivity matrix is computed from the cleaned ROI time series.
  std::string description() const;
};

// The input a model card names ("input_transform"; absent: Pearson FC).
GraphInputSpec graphInputOfCard(const nlohmann::json& card);

}  // namespace bg
