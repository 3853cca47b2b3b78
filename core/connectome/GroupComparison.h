#pragma once
// Edge-wise comparison of two groups of connectivity matrices: Welch's t per edge (unequal variances)
// on Fisher-z values, two-sided p from Student's t with the Welch-Satterthwaite degrees of freedom,
// and Benjamini-Hochberg false-discovery-rate q values over the n(n-1)/2 edges.
#include <vector>

#include <Eigen/Core>

namespace bg {

// Running mean and sum of squared deviations (Welford), element-wise.
struct GroupMoments {
  Eigen::MatrixXd mean, m2;
  int n = 0;
  void add(const Eigen::MatrixXd& x);  // throws bg::Error when the size differs from earlier ones
  Eigen::MatrixXd variance() const;    // sample variance (n - 1)
};

struct EdgeComparison {
  Eigen::MatrixXd difference;   // mean a - mean b (of the values given, e.g. Fisher z)
  Eigen::MatrixXd t, df, p, q;  // symmetric; the diagonal is 0 (t, df) and 1 (p, q)
  double alpha = 0.05;
  int tests = 0, significant = 0;  // edges tested, and those with q < alpha
};

// Throws bg::Error when a group has fewer than two members or the sizes differ.
EdgeComparison welchEdgeComparison(const GroupMoments& a, const GroupMoments& b, double alpha = 0.05);

// Two-sided p of Student's t with (real) df degrees of freedom.
double studentTwoSidedP(double t, double df);

// Benjamini-Hochberg adjusted p values (q), in the order given.
std::vector<double> benjaminiHochberg(const std::vector<double>& p);

// atanh(r), with |r| clamped below 1 so that the diagonal and perfect correlations stay finite.
Eigen::MatrixXd fisherZ(const Eigen::MatrixXd& r);

}  // namespace bg
