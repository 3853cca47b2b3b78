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

struct Interval {
  double mean = 0, low = 0, high = 0, sd = 0;
};
// Mean and 95% t-interval over folds.
Interval interval95(const std::vector<double>& values);

nlohmann::json summarizeFolds(const std::vector<BinaryMetrics>& folds);

}  // namespace bg
