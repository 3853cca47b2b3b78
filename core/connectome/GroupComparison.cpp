#include "connectome/GroupComparison.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <boost/math/distributions/students_t.hpp>

#include "errors/Error.h"

namespace bg {

void GroupMoments::add(const Eigen::MatrixXd& x) {
  if (n == 0) {
    mean = Eigen::MatrixXd::Zero(x.rows(), x.cols());
    m2 = Eigen::MatrixXd::Zero(x.rows(), x.cols());
  } else if (x.rows() != mean.rows() || x.cols() != mean.cols()) {
    throw Error(ErrorCode::Data, "the group mixes matrices of different sizes (" + std::to_string(mean.rows()) + " and " + std::to_string(x.rows()) + " ROIs)");
  }
  ++n;
  const Eigen::MatrixXd delta = x - mean;
  mean += delta / n;
  m2 += delta.cwiseProduct(x - mean);
}

Eigen::MatrixXd GroupMoments::variance() const { return n > 1 ? Eigen::MatrixXd(m2 / (n - 1)) : Eigen::MatrixXd::Zero(m2.rows(), m2.cols()); }

double studentTwoSidedP(double t, double df) {
  if (!std::isfinite(t) || !(df > 0)) return 1.0;
  const boost::math::students_t_distribution<double> dist(df);
  return std::min(1.0, 2.0 * boost::math::cdf(boost::math::complement(dist, std::abs(t))));
}

std::vector<double> benjaminiHochberg(const std::vector<double>& p) {
  const std::size_t m = p.size();
  std::vector<std::size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p[a] < p[b]; });
  std::vector<double> q(m);
  double running = 1.0;  // q_(k) = min over j >= k of p_(j) m / j
  for (std::size_t k = m; k-- > 0;) {
    running = std::min(running, p[order[k]] * static_cast<double>(m) / static_cast<double>(k + 1));
    q[order[k]] = std::min(1.0, running);
  }
  return q;
}

Eigen::MatrixXd fisherZ(const Eigen::MatrixXd& r) {
  return r.unaryExpr([](double v) { return std::atanh(std::clamp(v, -0.999999, 0.999999)); });
}

EdgeComparison welchEdgeComparison(const GroupMoments& a, const GroupMoments& b, double alpha) {
  if (a.n < 2 || b.n < 2)
    throw Error(ErrorCode::Data, "a group comparison needs at least two scans per group (have " + std::to_string(a.n) + " and " + std::to_string(b.n) + ")");
  if (a.mean.rows() != b.mean.rows()) throw Error(ErrorCode::Data, "the two groups' matrices differ in size");
  const auto n = a.mean.rows();
  EdgeComparison c;
  c.alpha = alpha;
  c.difference = a.mean - b.mean;
  c.t = Eigen::MatrixXd::Zero(n, n);
  c.df = Eigen::MatrixXd::Zero(n, n);
  c.p = Eigen::MatrixXd::Ones(n, n);
  c.q = Eigen::MatrixXd::Ones(n, n);
  const Eigen::MatrixXd va = a.variance() / a.n, vb = b.variance() / b.n;
  std::vector<double> ps;
  std::vector<std::pair<Eigen::Index, Eigen::Index>> edges;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j) {
      const double s2 = va(i, j) + vb(i, j);
      double t = 0, df = 0, p = 1;
      if (s2 > 0) {
        t = c.difference(i, j) / std::sqrt(s2);
        df = s2 * s2 / (va(i, j) * va(i, j) / (a.n - 1) + vb(i, j) * vb(i, j) / (b.n - 1));
        p = studentTwoSidedP(t, df);
      }
      c.t(i, j) = c.t(j, i) = t;
      c.df(i, j) = c.df(j, i) = df;
      c.p(i, j) = c.p(j, i) = p;
      ps.push_back(p);
      edges.emplace_back(i, j);
    }
  const auto q = benjaminiHochberg(ps);
  for (std::size_t k = 0; k < q.size(); ++k) {
    const auto [i, j] = edges[k];
    c.q(i, j) = c.q(j, i) = q[k];
    c.significant += q[k] < alpha;
  }
  c.tests = static_cast<int>(q.size());
  return c;
}

}  // namespace bg
