#pragma once
// Functional connectivity estimators over ROI time series (time points x ROIs).
#include <string>
#include <vector>

#include <Eigen/Core>

#include "jobs/Progress.h"

namespace bg {

enum class ConnectivityKind { Pearson, PartialCorrelation, Tangent };
ConnectivityKind parseConnectivityKind(const std::string& name);  // pearson | partial | tangent

struct ConnectivityResult {
  Eigen::MatrixXd matrix;             // ROIs x ROIs
  std::vector<int> zeroVarianceRois;  // their rows and columns are 0 (diagonal 1): defined, never NaN
};

// Pearson correlation; with fisherZ the off-diagonal values are atanh(r) (r clipped to +-(1-1e-7)) and
// the diagonal is 0, as nilearn does.
ConnectivityResult pearson(const Eigen::MatrixXd& series, bool fisherZ = false);

// Ledoit-Wolf shrunk covariance (shrinkage towards a scaled identity, the sklearn estimator).
Eigen::MatrixXd ledoitWolfCovariance(const Eigen::MatrixXd& series, double* shrinkage = nullptr);

// Partial correlation from the inverse of the Ledoit-Wolf covariance.
ConnectivityResult partialCorrelation(const Eigen::MatrixXd& series);

// Tangent-space embedding (Varoquaux et al. 2010): covariances are whitened by a group reference
// (their geometric mean) and mapped by the matrix logarithm.
class TangentSpace {
 public:
  // Fits the reference from every subject's Ledoit-Wolf covariance.
  void fit(const std::vector<Eigen::MatrixXd>& seriesPerSubject);
  // progress (optional): one step per fixed-point iteration of the geometric mean; a cancel request
  // throws bg::CancelledError between iterations.
  void fitCovariances(const std::vector<Eigen::MatrixXd>& covariances, ProgressDelegate* progress = nullptr);
  // A reference fitted elsewhere (a model file's): must be symmetric positive-definite.
  void setReference(const Eigen::MatrixXd& reference);
  ConnectivityResult transform(const Eigen::MatrixXd& series) const;
  Eigen::MatrixXd transformCovariance(const Eigen::MatrixXd& covariance) const;
  const Eigen::MatrixXd& reference() const { return reference_; }
  bool fitted() const { return reference_.size() > 0; }

 private:
  Eigen::MatrixXd reference_, whitening_;
};

// While alive, OpenBLAS runs single-threaded: loops over subjects are parallel themselves, and
// OpenBLAS's own threads inside them oversubscribe the cores (busy-waiting made a 10-fold
// tangent-space evaluation 5x slower). Restores the previous setting.
class SerialBlasScope {
 public:
  SerialBlasScope();
  ~SerialBlasScope();
  SerialBlasScope(const SerialBlasScope&) = delete;
  SerialBlasScope& operator=(const SerialBlasScope&) = delete;

 private:
  int previous_ = 0;
};

// Functions of symmetric positive-definite matrices through their eigen-decomposition.
Eigen::MatrixXd spdSqrt(const Eigen::MatrixXd& m);
Eigen::MatrixXd spdInvSqrt(const Eigen::MatrixXd& m);
Eigen::MatrixXd spdLog(const Eigen::MatrixXd& m);
Eigen::MatrixXd spdExp(const Eigen::MatrixXd& m);
// Geometric (Riemannian) mean by fixed-point iteration, started at the log-Euclidean mean; nilearn's
// limits (10 iterations, gradient norm 1e-7).
Eigen::MatrixXd geometricMean(const std::vector<Eigen::MatrixXd>& spd, int maxIterations = 10, double tolerance = 1e-7, ProgressDelegate* progress = nullptr);

}  // namespace bg
