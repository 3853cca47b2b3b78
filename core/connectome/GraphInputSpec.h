#pragma once
// Which connectivity matrix a graph model reads (fitted and applied by GraphInputTransform).
#include <string>

#include <nlohmann/json.hpp>

namespace bg {

struct GraphInputSpec {
  std::string kind = "fc";        // fc | tangent
  bool standardiseEdges = false;  // z-score every edge over the training scans
  bool perSite = false;           // ... over the training scans of the scan's own site (implies standardiseEdges)
  bool identity() const { return kind == "fc" && !standardiseEdges; }
  bool needsSeries() const { return kind == "tangent"; }
  nlohmann::json toJson() const;
  static GraphInputSpec fromJson(const nlohmann::json& j);  // {"kind", "standardise_edges", "per_site"} or "kind"; validates
  // The command line's names: fc, fc-z, fc-site, tangent, tangent-z, tangent-site ("-z": edges
  // z-scored; "-site": z-scored within each acquisition site).
  std::string name() const { return kind + (perSite ? "-site" : standardiseEdges ? "-z" : ""); }
  bool operator==(const GraphInputSpec& o) const { return kind == o.kind && standardiseEdges == o.standardiseEdges && perSite == o.perSite; }
  bool operator!=(const GraphInputSpec& o) const { return !(*this == o); }
  static GraphInputSpec fromName(const std::string& name);
  // For reports: how the model's connectivity matrix is computed from the cleaned ROI time series.
  std::string description() const;
};

// The input a model card names ("input_transform"; absent: Pearson FC).
GraphInputSpec graphInputOfCard(const nlohmann::json& card);

}  // namespace bg
