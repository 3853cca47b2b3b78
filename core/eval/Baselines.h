#pragma once
// Classical baselines on connectivity features, so every table has them: L2 logistic regression
// and a linear SVM on standardised features (e.g. the Fisher-z FC upper triangle).
#include <Eigen/Core>

namespace bg {

// Upper triangle (without the diagonal) of Fisher z = atanh(r), r clipped to +-(1 - 1e-7).
Eigen::VectorXd fisherUpperTriangle(const Eigen::MatrixXd& fc);
// Upper triangle with the diagonal, row by row: the features of a tangent-space matrix.
Eigen::VectorXd upperTriangleWithDiagonal(const Eigen::MatrixXd& m);

// Column standardisation fitted on training data.
struct Standardizer {
  Eigen::RowVectorXd mean, scale;
  void fit(const Eigen::MatrixXd& x);
  Eigen::MatrixXd apply(const Eigen::MatrixXd& x) const;
};

// min  C * sum_i logloss(y_i, w.x_i + b) + 0.5 |w|^2   (scikit-learn's objective; b unpenalised)
// solved by Newton's method with the Woodbury identity, so the cost grows with the number of
// samples, not of features (p >> n for FC features).
class LogisticRegression {
 public:
  explicit LogisticRegression(double c = 0.01) : c_(c) {}
  void fit(const Eigen::MatrixXd& x, const Eigen::VectorXi& y, int maxIterations = 50);
  Eigen::VectorXd probability(const Eigen::MatrixXd& x) const;
  const Eigen::VectorXd& weights() const { return w_; }
  double intercept() const { return b_; }

 private:
  double c_;
  Eigen::VectorXd w_;
  double b_ = 0;
};

// L2-regularised hinge-loss SVM by dual coordinate descent (as LIBLINEAR); probabilities by a
// logistic map of the decision value fitted on the training data (Platt scaling).
class LinearSvm {
 public:
  explicit LinearSvm(double c = 0.01) : c_(c) {}
  void fit(const Eigen::MatrixXd& x, const Eigen::VectorXi& y, int maxEpochs = 200);
  Eigen::VectorXd decision(const Eigen::MatrixXd& x) const;
  Eigen::VectorXd probability(const Eigen::MatrixXd& x) const;

 private:
  double c_;
  Eigen::VectorXd w_;
  double b_ = 0, plattA_ = 1, plattB_ = 0;
};

}  // namespace bg
