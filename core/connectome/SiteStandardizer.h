#pragma once
// Site harmonisation of connectivity features: every feature (an edge) is z-scored with the mean and
// SD of the training scans from the same acquisition site. This is ComBat's location/scale model
// without covariates; on ABIDE it removes the site offsets that a linear classifier otherwise spends
// weight on. With empirical-Bayes shrinkage (ComBat proper, Johnson et al. 2007; Fortin et al. 2017
// for connectivity) each site's per-feature location and scale are pulled toward that site's
// distribution over all features, which steadies the estimates of small sites. Fitted on training rows only. A row whose site had
// fewer than kMinScans training scans, or none (a new site, an unnamed scan), gets the statistics
// pooled over all training scans: the same as plain per-feature standardisation.
// A new site can be adapted to afterwards from its own unlabelled scans (adapt()): ComBat's usual
// answer to a site that brings no training data, transductive but label-free.
#include <map>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

namespace bg {

class SiteStandardizer {
 public:
  static constexpr int kMinScans = 5;

  // empiricalBayes: ComBat's shrinkage of the per-site statistics (see above); off, each site's own
  // per-feature mean and SD.
  explicit SiteStandardizer(bool empiricalBayes = false) : empiricalBayes_(empiricalBayes) {}
  bool empiricalBayes() const { return empiricalBayes_; }

  // Accumulates one training row (not thread-safe; callers serialise). Every row must have the
  // length of the first; throws bg::Error(Data) otherwise.
  void add(const Eigen::Ref<const Eigen::RowVectorXd>& row, const std::string& site);
  // Turns the sums into statistics; throws bg::Error(Data) when no row was added.
  void finish();
  // add() for every row, then finish().
  void fit(const Eigen::MatrixXd& x, const std::vector<std::string>& sites);

  // Gives `site` statistics of its own from unlabelled rows of that site (no labels are used): for a
  // site the training scans lacked. Throws bg::Error(Usage) when the site already has training
  // statistics, and bg::Error(Data) for fewer than kMinScans rows or rows of the wrong length.
  void adapt(const Eigen::MatrixXd& rows, const std::string& site);
  // The same from a batch whose classes are known (labels[i] 0 or 1 for rows.row(i), at least
  // kMinLabelledPerClass of each): the statistics are those of a batch with `positiveFraction` of the
  // positive class, whatever the batch's own mix. A site's batch of mostly patients otherwise moves
  // the site's zero toward patients and its scores toward controls (docs/results/abide-cc200.md: a one-class batch
  // moved ABIDE sites' mean probability by about 0.08). ComBat keeps diagnosis as a covariate for
  // the same reason. Throws bg::Error(Data) for labels that do not match the rows or lack a class.
  void adapt(const Eigen::MatrixXd& rows, const std::string& site, const std::vector<int>& labels, double positiveFraction);
  static constexpr int kMinLabelledPerClass = 2;
  // Which of a new site's `available` scans an adaptation limited to `wanted` of them uses: a sorted,
  // seeded random choice that depends on the site's name too, so that sites draw apart and a rerun
  // draws alike; all of them when wanted <= 0 or wanted >= available. For evaluations that ask how
  // many scans a new site must bring.
  static std::vector<std::size_t> adaptationSample(std::size_t available, int wanted, unsigned seed, const std::string& site);
  // The same for evaluations that ask how a new site's batch mix matters: the site's scans have the
  // classes `labels` (0/1). positiveShare < 0: adaptationSample(). Otherwise a batch with that share of
  // the positive class (1: positives only, 0: negatives only): every scan of the class that runs out
  // first and a seeded choice of the other, then at most `wanted` of them (when > 0) at the same share.
  static std::vector<std::size_t> adaptationBatch(const std::vector<int>& labels, int wanted, double positiveShare, unsigned seed, const std::string& site);
  // Whether a batch with these classes can be adapted from: kMinScans scans, and, `labelled`,
  // kMinLabelledPerClass of each class. Evaluations leave a site with an unusable batch on the pooled statistics.
  static bool adaptableBatch(const std::vector<int>& batchLabels, bool labelled);
  // Whether `site`'s statistics came from adapt() rather than from training scans.
  bool adapted(const std::string& site) const;

  // Standardises in place with the site's statistics (the pooled ones for a site it does not know).
  void applyRow(Eigen::Ref<Eigen::RowVectorXd, 0, Eigen::InnerStride<>> row, const std::string& site) const;
  Eigen::MatrixXd apply(const Eigen::MatrixXd& x, const std::vector<std::string>& sites) const;

  // Whether `site` has statistics of its own (otherwise the pooled ones are used).
  bool knows(const std::string& site) const { return perSite_.count(site) > 0; }
  std::vector<std::string> sites() const;
  int features() const { return static_cast<int>(pooled_.mean.size()); }
  const Eigen::RowVectorXd& pooledMean() const { return pooled_.mean; }
  const Eigen::RowVectorXd& pooledScale() const { return pooled_.scale; }

  // {"pooled": {"mean", "scale", "scans"}, "sites": {NAME: {..., "adapted": true when so}}}; features as
  // flat arrays. With shrinkage also "shrinkage": "empirical-bayes" and "combat": {"mean", "scale"},
  // the grand mean and pooled within-site SD that ComBat standardises by (a later adapt() needs them);
  // the site statistics stored are the shrunk ones.
  nlohmann::json toJson() const;
  static SiteStandardizer fromJson(const nlohmann::json& j);

 private:
  struct Stats {
    Eigen::RowVectorXd mean, scale;  // after finish(); before it, the sums of x and x^2
    Eigen::RowVectorXd sumSq;
    int scans = 0;
    bool adapted = false;  // from a new site's unlabelled scans, not from training scans
  };
  static void accumulate(Stats& s, const Eigen::Ref<const Eigen::RowVectorXd>& row);
  static void finalise(Stats& s);
  // 0..available-1 in a random order that depends on the seed and the site's name.
  static std::vector<std::size_t> seededOrder(std::size_t available, unsigned seed, const std::string& site);
  static Stats classWeighted(const Eigen::MatrixXd& rows, const std::string& site, const std::vector<int>& labels, double positiveFraction);
  const Stats& statsFor(const std::string& site) const;
  // ComBat's empirical-Bayes estimates for one site whose mean and (biased) SD are final, written
  // back as the equivalent mean and scale in the feature's own units.
  void shrink(Stats& s) const;
  std::map<std::string, Stats> perSite_;
  Stats pooled_;
  bool empiricalBayes_ = false;
  Eigen::RowVectorXd combatMean_, combatScale_;  // with shrinkage, after finish()
};

}  // namespace bg
