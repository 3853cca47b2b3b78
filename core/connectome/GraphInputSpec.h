#pragma once
// Which connectivity matrix a graph model reads (fitted and applied by GraphInputTransform).
#include <string>

#include <nlohmann/json.hpp>

namespace bg {

struct GraphInputSpec {
  std::string kind = "fc";        // fc | tangent
  bool standardiseEdges = false;  // z-score every edge over the training scans
  bool identity() const { return kind == "fc" && !standardiseEdges; }
  bool needsSeries() const { return kind == "tangent"; }
  nlohmann::json toJson() const;
  static GraphInputSpec fromJson(const nlohmann::json& j);  // {"kind", "standardise_edges"} or "kind"; validates
  // The command line's names: fc, fc-z, tangent, tangent-z ("-z": edges z-scored).
  std::string name() const { return kind + (standardiseEdges ? "-z" : ""); }
  static GraphInputSpec fromName(const std::string& name);
  // For reports: how the model's connectivity matrix is computed from the cleaned ROI time series.
  std::string description() const;
};

// The input a model card names ("input_transform"; absent: Pearson FC).
GraphInputSpec graphInputOfCard(const nlohmann::json& card);

}  // namespace bg
