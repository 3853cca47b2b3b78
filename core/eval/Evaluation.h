#pragma once
// Cross-validated evaluation of the classical baselines on a corpus (issue 6 will add the models).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobs/Progress.h"

namespace bg {

class Workspace;

struct EvaluateRequest {
  std::string method = "logreg";    // logreg | svm
  std::string features = "fisher";  // fisher (Fisher-z FC upper triangle) | tangent (tangent-space FC, reference fitted per fold)
  double c = 0.01;
  // More than one value: C is chosen per fold from these by inner stratified cross-validation on the
  // fold's training part (chooseRegularisation, innerFolds folds), and `c` is ignored.
  std::vector<double> cGrid;
  int innerFolds = 5;
  std::string split = "corpus";  // corpus (its own split) | kfold | leave-site-out
  int folds = 10;
  unsigned seed = 0;
  std::string calibration = "temperature";  // logreg: temperature | platt on the validation part; svm: Platt on the training data
  bool harmoniseSites = false;              // features z-scored per acquisition site (SiteStandardizer) before the usual standardisation
  bool siteShrinkage = false;               // with harmoniseSites: ComBat's empirical-Bayes shrinkage of the site statistics
  bool adaptNewSites = false;               // with harmoniseSites: a test site the training part lacks gets statistics from its own unlabelled test scans
  int adaptScans = 0;                       // with adaptNewSites: from only this many of them (SiteStandardizer::adaptationSample; 0: all)
  // With adaptNewSites, to measure how a new site's batch mix matters: a batch with this share of the
  // positive class (SiteStandardizer::adaptationBatch; < 0: as the site comes), and, adaptLabelled, its
  // labels weighting the statistics to the training part's class mix (adapt-site --labels). A site
  // whose batch has fewer than SiteStandardizer::kMinScans scans (or, labelled, fewer than
  // kMinLabelledPerClass of a class) keeps the pooled statistics. All its scans are still scored.
  double adaptShare = -1;
  bool adaptLabelled = false;
  // A label regime (paper figure 2): the classifier learns from this share of the train part's labels
  // (stratifiedLabelShare, the same scans a graph model at this seed learns from) and the validation
  // part only calibrates it, as for the graph models. The features stay fitted on every training scan
  // (tangent reference, site statistics, standardisation): they use no labels.
  double labelFraction = 1.0;
};

// Features: the Fisher-z FC upper triangle, or the tangent-space embedding of each scan's Ledoit-Wolf
// covariance around the geometric mean of the training part's covariances (upper triangle with the
// diagonal); standardised on each training part (train + validation; the
// baselines need no early stopping), scored on the test part; with harmoniseSites, first z-scored
// within each site of the training part (a test scan from a site the training part lacks gets the
// pooled statistics). Labels: class 1 is the positive class.
nlohmann::json evaluateBaseline(Workspace& ws, const nlohmann::json& manifest, const EvaluateRequest& request, ProgressDelegate& progress);

}  // namespace bg
