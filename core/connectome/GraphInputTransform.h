#pragma once
// What a graph model reads as a scan's connectivity matrix: the stored Pearson FC as it is, or the
// tangent-space embedding of the scan's Ledoit-Wolf covariance against a group reference (Dadi et al.
// 2019 found it the best FC representation for diagnosis on ABIDE), optionally z-scored per edge
// over the training scans. Everything fitted comes from the training scans only, and travels with the
// model so that prediction applies the same map.
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "connectome/Connectivity.h"
#include "connectome/GraphInputSpec.h"
#include "connectome/SiteStandardizer.h"

namespace bg {

class GraphInputTransform {
 public:
  GraphInputTransform() = default;  // the identity
  // Fits the transform on training scans: their stored FC matrices, (for tangent) their cleaned ROI
  // time series and (for per-site standardisation) their acquisition sites, one per scan in the same
  // order. Throws bg::Error(Data) on mismatched sizes, and bg::CancelledError when `progress` asks to
  // cancel (checked every few dozen scans).
  static GraphInputTransform fit(const GraphInputSpec& spec, const std::vector<Eigen::MatrixXd>& fc, const std::vector<Eigen::MatrixXd>& series,
                                 ProgressDelegate* progress = nullptr, const std::vector<std::string>& sites = {});

  const GraphInputSpec& spec() const { return spec_; }
  bool identity() const { return spec_.identity(); }
  int nodes() const { return nodes_; }
  // The model's input for one scan. `series` is needed for tangent (may be empty otherwise); `site`
  // chooses the per-site statistics (a site the transform does not know gets the pooled ones).
  Eigen::MatrixXd apply(const Eigen::MatrixXd& fc, const Eigen::MatrixXd& series, const std::string& site = {}) const;
  // Per-site standardisation: whether `site` has statistics of its own. True for other inputs.
  bool knowsSite(const std::string& site) const { return !spec_.perSite || sites_.knows(site); }
  const SiteStandardizer& siteStandardizer() const { return sites_; }
  // Per-site standardisation only: gives a site the training scans lacked statistics of its own from
  // its unlabelled scans (FC and, for tangent, time series, one per scan), in this transform's
  // feature space (after the tangent map). Throws as SiteStandardizer::adapt, and bg::Error(Usage)
  // for a transform that does not standardise per site. With `labels` (one 0/1 class per scan), the
  // statistics are weighted to `positiveFraction` of the positive class (SiteStandardizer::adapt).
  void adaptSite(const std::string& site, const std::vector<Eigen::MatrixXd>& fc, const std::vector<Eigen::MatrixXd>& series,
                 const std::vector<int>& labels = {}, double positiveFraction = 0.5);
  bool siteAdapted(const std::string& site) const { return spec_.perSite && sites_.adapted(site); }

  // The fitted parameters, for a model file (matrices as flat row-major arrays).
  nlohmann::json toJson() const;
  static GraphInputTransform fromJson(const nlohmann::json& j);

 private:
  Eigen::MatrixXd base(const Eigen::MatrixXd& fc, const Eigen::MatrixXd& series) const;
  GraphInputSpec spec_;
  int nodes_ = 0;
  TangentSpace tangent_;
  Eigen::MatrixXd mean_, scale_;  // per edge, when standardising (pooled over sites)
  SiteStandardizer sites_;        // per site and edge, when standardising per site
};

}  // namespace bg
