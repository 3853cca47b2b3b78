#include "eval/Metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "errors/Error.h"

namespace bg {

BinaryMetrics binaryMetrics(const std::vector<int>& labels, const std::vector<double>& p, double threshold) {
  if (labels.size() != p.size() || labels.empty()) throw Error(ErrorCode::Internal, "metrics need one probability per label");
  BinaryMetrics m;
  m.n = static_cast<int>(labels.size());
  // AUC: rank-sum with average ranks for ties.
  std::vector<std::size_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p[a] < p[b]; });
  std::vector<double> rank(p.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && p[order[j + 1]] == p[order[i]]) ++j;
    for (std::size_t k = i; k <= j; ++k) rank[order[k]] = 0.5 * static_cast<double>(i + j) + 1.0;
    i = j + 1;
  }
  double pos = 0, neg = 0, rankSum = 0;
  int tp = 0, tn = 0, fp = 0, fn = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const bool y = labels[i] == 1, yhat = p[i] >= threshold;
    if (y) {
      ++pos;
      rankSum += rank[i];
    } else {
      ++neg;
    }
    tp += y && yhat;
    tn += !y && !yhat;
    fp += !y && yhat;
    fn += y && !yhat;
  }
  m.auc = (pos > 0 && neg > 0) ? (rankSum - pos * (pos + 1) / 2.0) / (pos * neg) : 0.5;
  m.accuracy = static_cast<double>(tp + tn) / static_cast<double>(labels.size());
  m.sensitivity = tp + fn ? static_cast<double>(tp) / (tp + fn) : 0.0;
  m.specificity = tn + fp ? static_cast<double>(tn) / (tn + fp) : 0.0;
  const double precision = tp + fp ? static_cast<double>(tp) / (tp + fp) : 0.0;
  m.f1 = precision + m.sensitivity > 0 ? 2 * precision * m.sensitivity / (precision + m.sensitivity) : 0.0;
  m.balancedAccuracy = 0.5 * (m.sensitivity + m.specificity);
  return m;
}

std::vector<RocPoint> rocCurve(const std::vector<int>& labels, const std::vector<double>& scores) {
  if (labels.size() != scores.size()) throw Error(ErrorCode::Internal, "ROC curve: labels and scores differ in length");
  const auto positives = static_cast<double>(std::count(labels.begin(), labels.end(), 1));
  const auto negatives = static_cast<double>(labels.size()) - positives;
  if (positives == 0 || negatives == 0) throw Error(ErrorCode::Data, "a ROC curve needs scans of both classes");
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return scores[i] > scores[j]; });
  std::vector<RocPoint> curve = {{0, 0, std::numeric_limits<double>::infinity()}};
  double tp = 0, fp = 0;
  for (std::size_t k = 0; k < order.size();) {
    const double threshold = scores[order[k]];
    for (; k < order.size() && scores[order[k]] == threshold; ++k) (labels[order[k]] == 1 ? tp : fp) += 1;
    curve.push_back({fp / negatives, tp / positives, threshold});
  }
  return curve;
}

PairedAucTest delongTest(const std::vector<int>& labels, const std::vector<double>& a, const std::vector<double>& b) {
  if (labels.size() != a.size() || labels.size() != b.size()) throw Error(ErrorCode::Internal, "a paired AUC test needs two scores per label");
  std::vector<std::size_t> pos, neg;
  for (std::size_t i = 0; i < labels.size(); ++i) (labels[i] == 1 ? pos : neg).push_back(i);
  if (pos.size() < 2 || neg.size() < 2) throw Error(ErrorCode::Data, "a paired AUC test needs at least two scans of each class");
  const auto m = static_cast<double>(pos.size()), n = static_cast<double>(neg.size());
  // Structural components: v10[i] = P(score of positive i > a negative), v01[j] = P(a positive > negative j).
  const auto components = [&](const std::vector<double>& s, std::vector<double>& v10, std::vector<double>& v01) {
    v10.assign(pos.size(), 0.0);
    v01.assign(neg.size(), 0.0);
    for (std::size_t i = 0; i < pos.size(); ++i)
      for (std::size_t j = 0; j < neg.size(); ++j) {
        const double x = s[pos[i]], y = s[neg[j]];
        const double psi = x > y ? 1.0 : x == y ? 0.5 : 0.0;
        v10[i] += psi / n;
        v01[j] += psi / m;
      }
  };
  std::vector<double> a10, a01, b10, b01;
  components(a, a10, a01);
  components(b, b10, b01);
  PairedAucTest t;
  t.positives = static_cast<int>(pos.size());
  t.negatives = static_cast<int>(neg.size());
  t.aucA = std::accumulate(a10.begin(), a10.end(), 0.0) / m;
  t.aucB = std::accumulate(b10.begin(), b10.end(), 0.0) / m;
  t.difference = t.aucA - t.aucB;
  // Var(A - B) = S10(A-B)/m + S01(A-B)/n: the sample variance of the components' differences.
  const auto variance = [](const std::vector<double>& x, const std::vector<double>& y) {
    const double k = static_cast<double>(x.size());
    double mean = 0;
    for (std::size_t i = 0; i < x.size(); ++i) mean += (x[i] - y[i]) / k;
    double ss = 0;
    for (std::size_t i = 0; i < x.size(); ++i) ss += (x[i] - y[i] - mean) * (x[i] - y[i] - mean);
    return ss / (k - 1);
  };
  t.se = std::sqrt(std::max(0.0, variance(a10, b10) / m + variance(a01, b01) / n));
  if (t.se > 0) {
    t.z = t.difference / t.se;
    t.p = std::erfc(std::fabs(t.z) / std::sqrt(2.0));
  } else {
    t.p = t.difference == 0 ? 1.0 : 0.0;
  }
  return t;
}

Interval interval95(const std::vector<double>& v) {
  Interval r;
  if (v.empty()) return r;
  const double n = static_cast<double>(v.size());
  r.mean = std::accumulate(v.begin(), v.end(), 0.0) / n;
  double ss = 0;
  for (double x : v) ss += (x - r.mean) * (x - r.mean);
  r.sd = v.size() > 1 ? std::sqrt(ss / (n - 1)) : 0.0;
  // Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom, then the normal value.
  static const double t[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                             2.120,  2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  const std::size_t df = v.size() - 1;
  const double q = df == 0 ? 0.0 : df <= 30 ? t[df - 1] : 1.96;
  const double half = q * r.sd / std::sqrt(n);
  r.low = r.mean - half;
  r.high = r.mean + half;
  return r;
}

nlohmann::json intervalJson(const std::vector<double>& values) {
  const auto i = interval95(values);
  return {{"mean", i.mean}, {"sd", i.sd}, {"ci95", {i.low, i.high}}};
}

nlohmann::json summarizeFolds(const std::vector<BinaryMetrics>& folds) {
  nlohmann::json j;
  const std::pair<const char*, double BinaryMetrics::*> fields[] = {{"auc", &BinaryMetrics::auc},
                                                                    {"accuracy", &BinaryMetrics::accuracy},
                                                                    {"sensitivity", &BinaryMetrics::sensitivity},
                                                                    {"specificity", &BinaryMetrics::specificity},
                                                                    {"f1", &BinaryMetrics::f1},
                                                                    {"balanced_accuracy", &BinaryMetrics::balancedAccuracy}};
  for (const auto& [name, field] : fields) {
    std::vector<double> v;
    for (const auto& f : folds) v.push_back(f.*field);
    const auto i = interval95(v);
    // These metrics live in [0, 1]: a t-interval over few, spread-out folds can cross the bounds.
    j[name] = {{"mean", i.mean}, {"sd", i.sd}, {"ci95", {std::max(0.0, i.low), std::min(1.0, i.high)}}, {"folds", v}};
  }
  j["folds"] = folds.size();
  return j;
}

}  // namespace bg
