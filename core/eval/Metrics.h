#pragma once
// Classification metrics from probabilities, and their spread over folds.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bg {

struct BinaryMetrics {
  double auc = 0, accuracy = 0, sensitivity = 0, specificity = 0, f1 = 0, balancedAccuracy = 0;
  int n = 0;
};

// AUC by the Mann-Whitney statistic (ties count one half); the others at `threshold`.
BinaryMetrics binaryMetrics(const std::vector<int>& labels, const std::vector<double>& probability, double threshold = 0.5);

// Two correlated AUCs on the same scans (two models' pooled out-of-fold probabilities): DeLong, DeLong
// & Clarke-Pearson (1988). The variance of the difference comes from the structural components
// (each positive's and each negative's share of the Mann-Whitney statistic); z = difference / SE and
// the p-value is two-sided. Identical scores give difference 0, SE 0 and p 1.
struct PairedAucTest {
  double aucA = 0, aucB = 0, difference = 0, se = 0, z = 0, p = 1;
  int positives = 0, negatives = 0;
};
PairedAucTest delongTest(const std::vector<int>& labels, const std::vector<double>& a, const std::vector<double>& b);

// The empirical ROC curve of scores against labels (1 = positive): one point per distinct score,
// from the highest (threshold +inf: (0, 0)) down to (1, 1). Tied scores move diagonally, so the
// trapezoidal area under the points is the Mann-Whitney AUC. Needs both classes.
struct RocPoint {
  double falsePositiveRate = 0, truePositiveRate = 0, threshold = 0;
};
std::vector<RocPoint> rocCurve(const std::vector<int>& labels, const std::vector<double>& scores);

struct Interval {
  double mean = 0, low = 0, high = 0, sd = 0;
};
// Mean and 95% t-interval over folds.
Interval interval95(const std::vector<double>& values);
// The same as {"mean", "sd", "ci95": [low, high]}, as results store it.
nlohmann::json intervalJson(const std::vector<double>& values);

nlohmann::json summarizeFolds(const std::vector<BinaryMetrics>& folds);

}  // namespace bg
