#include "eval/Baselines.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include <Eigen/Cholesky>

#include "errors/Error.h"

namespace bg {

Eigen::VectorXd fisherUpperTriangle(const Eigen::MatrixXd& fc) {
  const Eigen::Index n = fc.rows();
  Eigen::VectorXd out(n * (n - 1) / 2);
  Eigen::Index k = 0;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j) out(k++) = std::atanh(std::clamp(fc(i, j), -1.0 + 1e-7, 1.0 - 1e-7));
  return out;
}

Eigen::VectorXd upperTriangleWithDiagonal(const Eigen::MatrixXd& m) {
  Eigen::VectorXd out(m.rows() * (m.rows() + 1) / 2);
  Eigen::Index k = 0;
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = i; j < m.rows(); ++j) out(k++) = m(i, j);
  return out;
}

void Standardizer::fit(const Eigen::MatrixXd& x) {
  mean = x.colwise().mean();
  scale = ((x.rowwise() - mean).array().square().colwise().sum() / std::max<double>(1.0, static_cast<double>(x.rows()))).sqrt();
  for (Eigen::Index c = 0; c < scale.size(); ++c)
    if (scale(c) < 1e-12) scale(c) = 1.0;  // constant features stay 0
}

Eigen::MatrixXd Standardizer::apply(const Eigen::MatrixXd& x) const { return (x.rowwise() - mean).array().rowwise() / scale.array(); }

namespace {
double sigmoid(double z) { return z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z)); }
}  // namespace

void LogisticRegression::fit(const Eigen::MatrixXd& x, const Eigen::VectorXi& y, int maxIterations) {
  const Eigen::Index n = x.rows(), p = x.cols();
  if (n == 0 || y.size() != n) throw Error(ErrorCode::Data, "logistic regression needs one label per sample");
  // The intercept is unpenalised: handle it with a large-variance constant column (prior sd 1000).
  constexpr double interceptScale = 1000.0;
  Eigen::MatrixXd xa(n, p + 1);
  xa.leftCols(p) = x;
  xa.col(p).setConstant(interceptScale);
  const Eigen::MatrixXd gram = xa * xa.transpose();  // n x n, reused every iteration
  Eigen::VectorXd w = Eigen::VectorXd::Zero(p + 1);
  const Eigen::VectorXd yd = y.cast<double>();
  for (int it = 0; it < maxIterations; ++it) {
    const Eigen::VectorXd z = xa * w;
    Eigen::VectorXd mu(n), d(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      mu(i) = sigmoid(z(i));
      d(i) = std::max(mu(i) * (1 - mu(i)), 1e-10);
    }
    const Eigen::VectorXd grad = w + c_ * xa.transpose() * (mu - yd);
    // (I + C X' D X)^-1 g = g - X' (D^-1 / C + X X')^-1 X g
    Eigen::MatrixXd inner = gram;
    inner.diagonal().array() += (1.0 / (c_ * d.array()));
    const Eigen::VectorXd step = grad - xa.transpose() * inner.ldlt().solve(xa * grad);
    w -= step;
    if (step.norm() < 1e-8 * std::max(1.0, w.norm())) break;
  }
  w_ = w.head(p);
  b_ = w(p) * interceptScale;
}

Eigen::VectorXd LogisticRegression::probability(const Eigen::MatrixXd& x) const {
  Eigen::VectorXd z = (x * w_).array() + b_;
  return z.unaryExpr([](double v) { return sigmoid(v); });
}

void LinearSvm::fit(const Eigen::MatrixXd& x, const Eigen::VectorXi& y, int maxEpochs) {
  const Eigen::Index n = x.rows(), p = x.cols();
  // Labels in {-1, +1}; the bias is a constant feature (LIBLINEAR's convention).
  Eigen::VectorXd s(n);
  for (Eigen::Index i = 0; i < n; ++i) s(i) = y(i) == 1 ? 1.0 : -1.0;
  Eigen::VectorXd alpha = Eigen::VectorXd::Zero(n), w = Eigen::VectorXd::Zero(p);
  double b = 0;
  const Eigen::VectorXd qii = x.rowwise().squaredNorm().array() + 1.0;
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 rng(1);
  for (int epoch = 0; epoch < maxEpochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    double maxChange = 0;
    for (Eigen::Index i : order) {
      const double g = s(i) * (x.row(i).dot(w) + b) - 1.0;
      const double old = alpha(i);
      alpha(i) = std::clamp(old - g / qii(i), 0.0, c_);
      const double delta = (alpha(i) - old) * s(i);
      if (delta != 0) {
        w += delta * x.row(i).transpose();
        b += delta;
        maxChange = std::max(maxChange, std::fabs(alpha(i) - old));
      }
    }
    if (maxChange < 1e-6) break;
  }
  w_ = w;
  b_ = b;
  // Platt scaling on the training decisions (a one-dimensional logistic fit).
  const Eigen::VectorXd f = decision(x);
  double a = 1, c = 0;
  for (int it = 0; it < 100; ++it) {
    double ga = 0, gc = 0, haa = 1e-9, hac = 0, hcc = 1e-9;
    for (Eigen::Index i = 0; i < n; ++i) {
      const double pr = sigmoid(a * f(i) + c), r = pr - (y(i) == 1 ? 1.0 : 0.0), wgt = pr * (1 - pr);
      ga += r * f(i);
      gc += r;
      haa += wgt * f(i) * f(i);
      hac += wgt * f(i);
      hcc += wgt;
    }
    const double det = haa * hcc - hac * hac;
    if (std::fabs(det) < 1e-18) break;
    const double da = (hcc * ga - hac * gc) / det, dc = (haa * gc - hac * ga) / det;
    a -= da;
    c -= dc;
    if (std::fabs(da) + std::fabs(dc) < 1e-10) break;
  }
  plattA_ = a;
  plattB_ = c;
}

Eigen::VectorXd LinearSvm::decision(const Eigen::MatrixXd& x) const { return (x * w_).array() + b_; }

Eigen::VectorXd LinearSvm::probability(const Eigen::MatrixXd& x) const {
  const Eigen::VectorXd f = decision(x);
  return f.unaryExpr([&](double v) { return sigmoid(plattA_ * v + plattB_); });
}

}  // namespace bg
