#include "connectome/Connectivity.h"

#include <algorithm>
#include <cmath>

#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <spdlog/spdlog.h>

#include "errors/Error.h"

namespace bg {
namespace {

// Centres each column; returns the columns whose variance is (numerically) zero.
std::vector<int> centreColumns(Eigen::MatrixXd& x) {
  std::vector<int> zero;
  for (Eigen::Index c = 0; c < x.cols(); ++c) {
    const double mean = x.col(c).mean();
    x.col(c).array() -= mean;
    const double ss = x.col(c).squaredNorm();
    if (!(ss > 1e-20 * std::max(1.0, mean * mean) * static_cast<double>(x.rows()))) {
      zero.push_back(static_cast<int>(c));
      x.col(c).setZero();
    }
  }
  return zero;
}

void warnZero(const std::vector<int>& zero, const char* what) {
  if (!zero.empty())
    // Debug only: callers record the ROIs (QC files, derivatives) and batches would flood the log.
    spdlog::debug("{}: {} ROI(s) have zero variance (first: column {}); their connectivity is set to 0", what, zero.size(),
                 zero.front());
}

Eigen::MatrixXd applyToEigenvalues(const Eigen::MatrixXd& m, double (*f)(double)) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(0.5 * (m + m.transpose()));
  Eigen::VectorXd d = eig.eigenvalues();
  for (Eigen::Index i = 0; i < d.size(); ++i) d(i) = f(d(i));
  return eig.eigenvectors() * d.asDiagonal() * eig.eigenvectors().transpose();
}

}  // namespace

ConnectivityKind parseConnectivityKind(const std::string& name) {
  if (name == "pearson" || name == "correlation") return ConnectivityKind::Pearson;
  if (name == "partial" || name == "partial-correlation") return ConnectivityKind::PartialCorrelation;
  if (name == "tangent") return ConnectivityKind::Tangent;
  throw Error(ErrorCode::Usage, "connectivity '" + name + "' is not pearson, partial or tangent");
}

ConnectivityResult pearson(const Eigen::MatrixXd& series, bool fisherZ) {
  if (series.rows() < 2) throw Error(ErrorCode::Data, "correlation needs at least 2 time points");
  Eigen::MatrixXd x = series;
  ConnectivityResult out;
  out.zeroVarianceRois = centreColumns(x);
  warnZero(out.zeroVarianceRois, "Pearson correlation");
  Eigen::VectorXd norms = x.colwise().norm();
  for (Eigen::Index c = 0; c < x.cols(); ++c)
    if (norms(c) > 0) x.col(c) /= norms(c);
  out.matrix.noalias() = x.transpose() * x;
  for (Eigen::Index i = 0; i < out.matrix.rows(); ++i) out.matrix(i, i) = 1.0;
  out.matrix = out.matrix.cwiseMax(-1.0).cwiseMin(1.0);
  if (fisherZ) {
    out.matrix = out.matrix.unaryExpr([](double r) { return std::atanh(std::clamp(r, -1.0 + 1e-7, 1.0 - 1e-7)); });
    out.matrix.diagonal().setZero();
  }
  return out;
}

Eigen::MatrixXd ledoitWolfCovariance(const Eigen::MatrixXd& series, double* shrinkage) {
  // Ledoit & Wolf (2004), as in scikit-learn: shrink the sample covariance S (divided by n)
  // towards mu * I, mu = trace(S) / p, with the closed-form optimal weight.
  const auto n = static_cast<double>(series.rows());
  const auto p = static_cast<double>(series.cols());
  Eigen::MatrixXd x = series.rowwise() - series.colwise().mean();
  const Eigen::MatrixXd s = (x.transpose() * x) / n;
  const double mu = s.trace() / p;
  const Eigen::MatrixXd x2 = x.array().square().matrix();
  const double beta_ = ((x2.transpose() * x2).sum() / n - s.array().square().sum()) / n;
  const double delta_ = (s.array().square().sum() - 2.0 * mu * s.trace() + p * mu * mu);
  const double beta = std::min(beta_, delta_);
  const double shrink = delta_ > 0 ? beta / delta_ : 0.0;
  if (shrinkage) *shrinkage = shrink;
  Eigen::MatrixXd out = (1.0 - shrink) * s;
  out.diagonal().array() += shrink * mu;
  return out;
}

ConnectivityResult partialCorrelation(const Eigen::MatrixXd& series) {
  Eigen::MatrixXd x = series;
  ConnectivityResult out;
  out.zeroVarianceRois = centreColumns(x);
  warnZero(out.zeroVarianceRois, "partial correlation");
  // Zero-variance ROIs are left out of the inversion and get 0 rows.
  std::vector<Eigen::Index> keep;
  for (Eigen::Index c = 0; c < x.cols(); ++c)
    if (std::find(out.zeroVarianceRois.begin(), out.zeroVarianceRois.end(), static_cast<int>(c)) == out.zeroVarianceRois.end())
      keep.push_back(c);
  Eigen::MatrixXd xs(x.rows(), static_cast<Eigen::Index>(keep.size()));
  for (std::size_t k = 0; k < keep.size(); ++k) xs.col(static_cast<Eigen::Index>(k)) = x.col(keep[k]);
  // Standardise first so the estimate is a correlation-scale precision (nilearn does the same).
  for (Eigen::Index c = 0; c < xs.cols(); ++c) xs.col(c) /= std::sqrt(xs.col(c).squaredNorm() / static_cast<double>(xs.rows()));
  const Eigen::MatrixXd prec = ledoitWolfCovariance(xs).inverse();
  out.matrix = Eigen::MatrixXd::Zero(x.cols(), x.cols());
  for (std::size_t a = 0; a < keep.size(); ++a)
    for (std::size_t b = 0; b < keep.size(); ++b) {
      const auto ia = static_cast<Eigen::Index>(a), ib = static_cast<Eigen::Index>(b);
      out.matrix(keep[a], keep[b]) = a == b ? 1.0 : -prec(ia, ib) / std::sqrt(prec(ia, ia) * prec(ib, ib));
    }
  for (Eigen::Index i = 0; i < out.matrix.rows(); ++i) out.matrix(i, i) = 1.0;
  return out;
}

Eigen::MatrixXd spdSqrt(const Eigen::MatrixXd& m) {
  return applyToEigenvalues(m, [](double v) { return std::sqrt(std::max(v, 0.0)); });
}
Eigen::MatrixXd spdInvSqrt(const Eigen::MatrixXd& m) {
  return applyToEigenvalues(m, [](double v) { return 1.0 / std::sqrt(std::max(v, 1e-12)); });
}
Eigen::MatrixXd spdLog(const Eigen::MatrixXd& m) {
  return applyToEigenvalues(m, [](double v) { return std::log(std::max(v, 1e-12)); });
}
Eigen::MatrixXd spdExp(const Eigen::MatrixXd& m) {
  return applyToEigenvalues(m, [](double v) { return std::exp(v); });
}

Eigen::MatrixXd geometricMean(const std::vector<Eigen::MatrixXd>& spd, int maxIterations, double tolerance) {
  if (spd.empty()) throw Error(ErrorCode::Usage, "geometric mean of no matrices");
  Eigen::MatrixXd g = Eigen::MatrixXd::Zero(spd[0].rows(), spd[0].cols());
  for (const auto& m : spd) g += m;
  g /= static_cast<double>(spd.size());
  for (int it = 0; it < maxIterations; ++it) {
    const Eigen::MatrixXd s = spdSqrt(g), si = spdInvSqrt(g);
    Eigen::MatrixXd t = Eigen::MatrixXd::Zero(g.rows(), g.cols());
    for (const auto& m : spd) t += spdLog(si * m * si);
    t /= static_cast<double>(spd.size());
    g = s * spdExp(t) * s;
    if (t.norm() < tolerance) break;
  }
  return 0.5 * (g + g.transpose());
}

void TangentSpace::fit(const std::vector<Eigen::MatrixXd>& seriesPerSubject) {
  std::vector<Eigen::MatrixXd> covs;
  for (const auto& s : seriesPerSubject) covs.push_back(ledoitWolfCovariance(s));
  fitCovariances(covs);
}

void TangentSpace::fitCovariances(const std::vector<Eigen::MatrixXd>& covariances) {
  reference_ = geometricMean(covariances);
  whitening_ = spdInvSqrt(reference_);
}

Eigen::MatrixXd TangentSpace::transformCovariance(const Eigen::MatrixXd& covariance) const {
  if (!fitted()) throw Error(ErrorCode::Usage, "tangent space has no group reference: fit it on a group first");
  if (covariance.rows() != reference_.rows()) throw Error(ErrorCode::Data, "covariance size does not match the tangent reference");
  return spdLog(whitening_ * covariance * whitening_);
}

ConnectivityResult TangentSpace::transform(const Eigen::MatrixXd& series) const {
  ConnectivityResult out;
  out.matrix = transformCovariance(ledoitWolfCovariance(series));
  return out;
}

}  // namespace bg
