#include "connectome/Connectivity.h"

#include <dlfcn.h>

#include <algorithm>
#include <cmath>

#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <spdlog/spdlog.h>

#include "errors/Error.h"

extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work, const int* lwork, int* iwork,
                        const int* liwork, int* info);

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
    spdlog::debug("{}: {} ROI(s) have zero variance (first: column {}); their connectivity is set to 0", what, zero.size(), zero.front());
}

// LAPACK's divide-and-conquer eigensolver (OpenBLAS provides it): 3-4x Eigen's QR iteration on
// 200 x 200 matrices, and the tangent space needs thousands of them per fit.
bool lapackSymmetricEigen(Eigen::MatrixXd& a, Eigen::VectorXd& w) {
  const int n = static_cast<int>(a.rows());
  w.resize(n);
  int lwork = -1, liwork = -1, info = 0, iworkSize = 0;
  double workSize = 0;
  dsyevd_("V", "L", &n, a.data(), &n, w.data(), &workSize, &lwork, &iworkSize, &liwork, &info);
  if (info != 0) return false;
  lwork = static_cast<int>(workSize);
  liwork = iworkSize;
  std::vector<double> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  dsyevd_("V", "L", &n, a.data(), &n, w.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  return info == 0;
}

Eigen::MatrixXd applyToEigenvalues(const Eigen::MatrixXd& m, double (*f)(double)) {
  Eigen::MatrixXd vectors = 0.5 * (m + m.transpose());
  Eigen::VectorXd d;
  if (!lapackSymmetricEigen(vectors, d)) {
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(0.5 * (m + m.transpose()));
    d = eig.eigenvalues();
    vectors = eig.eigenvectors();
  }
  for (Eigen::Index i = 0; i < d.size(); ++i) d(i) = f(d(i));
  return vectors * d.asDiagonal() * vectors.transpose();
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
    if (std::find(out.zeroVarianceRois.begin(), out.zeroVarianceRois.end(), static_cast<int>(c)) == out.zeroVarianceRois.end()) keep.push_back(c);
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

namespace {
// OpenBLAS's thread control, when the LAPACK in use is OpenBLAS's (the reference LAPACK has none).
using SetThreads = void (*)(int);
using GetThreads = int (*)();
SetThreads blasSetThreads() { return reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads")); }
GetThreads blasGetThreads() { return reinterpret_cast<GetThreads>(::dlsym(RTLD_DEFAULT, "openblas_get_num_threads")); }
}  // namespace

SerialBlasScope::SerialBlasScope() {
  const auto get = blasGetThreads();
  const auto set = blasSetThreads();
  if (get && set) {
    previous_ = get();
    set(1);
  }
}

SerialBlasScope::~SerialBlasScope() {
  if (const auto set = blasSetThreads(); set && previous_ > 0) set(previous_);
}

Eigen::MatrixXd geometricMean(const std::vector<Eigen::MatrixXd>& spd, int maxIterations, double tolerance, ProgressDelegate* progress) {
  if (spd.empty()) throw Error(ErrorCode::Usage, "geometric mean of no matrices");
  SerialBlasScope serialBlas;
  const auto n = static_cast<long>(spd.size());
  const auto r = spd[0].rows();
  // Sum of f(m) over the set, one eigen-decomposition per matrix: the whole cost, so spread over cores.
  const auto sumOver = [&](const auto& f) {
    Eigen::MatrixXd total = Eigen::MatrixXd::Zero(r, r);
#pragma omp parallel
    {
      Eigen::MatrixXd local = Eigen::MatrixXd::Zero(r, r);
#pragma omp for schedule(dynamic, 4) nowait
      for (long i = 0; i < n; ++i) local += f(spd[static_cast<std::size_t>(i)]);
#pragma omp critical
      total += local;
    }
    return Eigen::MatrixXd(total / static_cast<double>(n));
  };
  // Start at the log-Euclidean mean: already close to the Riemannian one, so the fixed point below
  // converges in a few steps instead of tens from the arithmetic mean.
  // Each pass costs one eigen-decomposition per matrix (seconds for hundreds of scans): report and
  // honour a cancel between passes. The bar assumes every iteration runs; convergence ends it early.
  const auto step = [&](int done) {
    if (progress && progress->update("geometric mean of " + std::to_string(n) + " covariances", static_cast<double>(done) / (maxIterations + 1)))
      throw CancelledError();
  };
  step(0);
  Eigen::MatrixXd g = spdExp(sumOver([](const Eigen::MatrixXd& m) { return spdLog(m); }));
  step(1);
  for (int it = 0; it < maxIterations; ++it) {
    const Eigen::MatrixXd s = spdSqrt(g), si = spdInvSqrt(g);
    const Eigen::MatrixXd t = sumOver([&si](const Eigen::MatrixXd& m) { return spdLog(si * m * si); });
    g = s * spdExp(t) * s;
    if (t.norm() / static_cast<double>(t.size()) < tolerance) break;  // nilearn's criterion
    step(it + 2);
  }
  return 0.5 * (g + g.transpose());
}

void TangentSpace::fit(const std::vector<Eigen::MatrixXd>& seriesPerSubject) {
  std::vector<Eigen::MatrixXd> covs;
  for (const auto& s : seriesPerSubject) covs.push_back(ledoitWolfCovariance(s));
  fitCovariances(covs);
}

void TangentSpace::fitCovariances(const std::vector<Eigen::MatrixXd>& covariances, ProgressDelegate* progress) {
  reference_ = geometricMean(covariances, 10, 1e-7, progress);
  whitening_ = spdInvSqrt(reference_);
}

void TangentSpace::setReference(const Eigen::MatrixXd& reference) {
  if (reference.rows() == 0 || reference.rows() != reference.cols()) throw Error(ErrorCode::Data, "a tangent reference must be a square matrix");
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(reference, Eigen::EigenvaluesOnly);
  if (!reference.allFinite() || !reference.isApprox(reference.transpose(), 1e-6) || eig.eigenvalues().minCoeff() <= 0)
    throw Error(ErrorCode::Data, "a tangent reference must be symmetric positive-definite");
  reference_ = reference;
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
