#include "eval/OutOfDistribution.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <Eigen/Eigenvalues>

#include "errors/Error.h"

namespace bg {
using nlohmann::json;

namespace {

// Scores of z on the principal axes, each divided by its training standard deviation.
struct Pca {
  Eigen::MatrixXd axes;  // k x d, unit rows
  Eigen::VectorXd sd;    // k
  double distance(const Eigen::VectorXd& z) const {
    const Eigen::VectorXd s = (axes * z).cwiseQuotient(sd);
    return std::sqrt(s.squaredNorm() / static_cast<double>(s.size()));
  }
};

double correlation(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  const Eigen::ArrayXd x = a.array() - a.mean(), y = b.array() - b.mean();
  const double den = std::sqrt((x * x).sum() * (y * y).sum());
  return den > 0 ? (x * y).sum() / den : 0.0;
}

double percentileRank(const std::vector<double>& sorted, double v) {
  return 100.0 * static_cast<double>(std::lower_bound(sorted.begin(), sorted.end(), v) - sorted.begin()) / static_cast<double>(sorted.size());
}

double nearestRank99(const std::vector<double>& sorted) {
  const auto rank = static_cast<std::size_t>(std::ceil(0.99 * static_cast<double>(sorted.size()))) - 1;
  return sorted[std::min(rank, sorted.size() - 1)];
}

}  // namespace

json fitOodReference(const Eigen::MatrixXd& x, const std::string& space, bool standardise) {
  if (x.rows() < 4) return json(nullptr);
  const Eigen::Index n = x.rows();
  const Eigen::VectorXd mu = x.colwise().mean().transpose();
  Eigen::VectorXd sd = Eigen::VectorXd::Ones(x.cols());
  if (standardise) {
    sd = ((x.rowwise() - mu.transpose()).array().square().colwise().sum() / static_cast<double>(n - 1)).sqrt().transpose();
    for (auto& v : sd)
      if (!(v > 1e-12)) v = 1.0;  // constant features carry no distance
  }
  const Eigen::MatrixXd z = (x.rowwise() - mu.transpose()).array().rowwise() / sd.transpose().array();
  // Principal axes from the n x n Gram matrix (n << d for FC features).
  const Eigen::MatrixXd gram = z * z.transpose();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(gram);
  const Eigen::Index k = std::min<Eigen::Index>(10, n - 2);
  Pca pca;
  pca.axes.resize(k, z.cols());
  pca.sd.resize(k);
  Eigen::Index used = 0;
  for (Eigen::Index j = n - 1; j >= 0 && used < k; --j) {
    const double lambda = eig.eigenvalues()(j);
    if (lambda <= 1e-9 * std::max(1.0, eig.eigenvalues()(n - 1))) break;
    pca.axes.row(used) = (z.transpose() * eig.eigenvectors().col(j)).transpose() / std::sqrt(lambda);
    pca.sd(used) = std::sqrt(lambda / static_cast<double>(n - 1));
    ++used;
  }
  pca.axes.conservativeResize(used, Eigen::NoChange);
  pca.sd.conservativeResize(used);
  if (used == 0) return json(nullptr);
  std::vector<double> d;
  for (Eigen::Index r = 0; r < n; ++r) d.push_back(pca.distance(z.row(r).transpose()));
  std::sort(d.begin(), d.end());
  // Template dissimilarity, leave-one-out: 1 - corr(x_i, mean of the others).
  std::vector<double> t;
  for (Eigen::Index r = 0; r < n; ++r) {
    const Eigen::VectorXd others = (static_cast<double>(n) * mu - x.row(r).transpose()) / static_cast<double>(n - 1);
    t.push_back(1.0 - correlation(x.row(r).transpose(), others));
  }
  std::sort(t.begin(), t.end());
  json axes = json::array();
  for (Eigen::Index j = 0; j < used; ++j) {
    std::vector<double> row(static_cast<std::size_t>(z.cols()));
    for (Eigen::Index c = 0; c < z.cols(); ++c) row[static_cast<std::size_t>(c)] = pca.axes(j, c);
    axes.push_back(row);
  }
  return {{"space", space},
          {"metric", "Mahalanobis distance on the training data's " + std::to_string(used) +
                         " principal axes (root mean square per axis); template distance = 1 - correlation with the mean training embedding"},
          {"samples", d.size()},
          {"distances", d},
          {"threshold", nearestRank99(d)},
          {"threshold_rule", "99th percentile of the training distances"},
          {"template_distances", t},
          {"template_threshold", nearestRank99(t)},
          {"mean", std::vector<double>(mu.data(), mu.data() + mu.size())},
          {"scale", std::vector<double>(sd.data(), sd.data() + sd.size())},
          {"axes", axes},
          {"axis_sd", std::vector<double>(pca.sd.data(), pca.sd.data() + pca.sd.size())}};
}

json assessOod(const json& ref, const Eigen::VectorXd& e) {
  if (ref.is_null() || !ref.contains("distances") || !ref.contains("axes")) return json(nullptr);
  const auto mean = ref["mean"].get<std::vector<double>>(), scale = ref["scale"].get<std::vector<double>>();
  if (mean.size() != static_cast<std::size_t>(e.size()))
    throw Error(ErrorCode::Data,
                "the embedding has " + std::to_string(e.size()) + " dimensions, the out-of-distribution reference " + std::to_string(mean.size()));
  Eigen::VectorXd z(e.size());
  for (Eigen::Index i = 0; i < e.size(); ++i) z(i) = (e(i) - mean[static_cast<std::size_t>(i)]) / scale[static_cast<std::size_t>(i)];
  Pca pca;
  const auto& axes = ref["axes"];
  pca.axes.resize(static_cast<Eigen::Index>(axes.size()), e.size());
  for (std::size_t j = 0; j < axes.size(); ++j) {
    const auto row = axes[j].get<std::vector<double>>();
    pca.axes.row(static_cast<Eigen::Index>(j)) = Eigen::Map<const Eigen::RowVectorXd>(row.data(), static_cast<Eigen::Index>(row.size()));
  }
  const auto sd = ref["axis_sd"].get<std::vector<double>>();
  pca.sd = Eigen::Map<const Eigen::VectorXd>(sd.data(), static_cast<Eigen::Index>(sd.size()));
  const auto d = ref["distances"].get<std::vector<double>>();
  const double distance = pca.distance(z);
  const double threshold = ref.at("threshold").get<double>();
  json out = {{"distance", distance}, {"percentile", percentileRank(d, distance)}, {"threshold", threshold}};
  bool flag = distance > threshold;
  if (ref.contains("template_distances")) {
    const auto t = ref["template_distances"].get<std::vector<double>>();
    const double td = 1.0 - correlation(e, Eigen::Map<const Eigen::VectorXd>(mean.data(), static_cast<Eigen::Index>(mean.size())));
    const double tt = ref.at("template_threshold").get<double>();
    out["template_distance"] = td;
    out["template_percentile"] = percentileRank(t, td);
    out["template_threshold"] = tt;
    flag = flag || td > tt;
  }
  out.update(json{{"flag", flag},
                  {"space", ref.value("space", "")},
                  {"metric", ref.value("metric", "")},
                  {"rule", "flagged above the 99th percentile of the training scans on either measure"}});
  return out;
}

json combineOod(const std::vector<json>& memberAssessments) {
  std::vector<const json*> present;
  for (const auto& a : memberAssessments)
    if (a.is_object()) present.push_back(&a);
  if (present.empty()) return json(nullptr);
  if (present.size() == 1) return *present.front();
  json out = *present.front();
  json members = json::array();
  std::size_t flagged = 0;
  for (const auto* a : present) {
    json m = {{"distance", a->value("distance", 0.0)}, {"percentile", a->value("percentile", 0.0)}, {"flag", a->value("flag", false)}};
    for (const char* key : {"template_distance", "template_percentile"})
      if (a->contains(key)) m[key] = a->at(key);
    flagged += m["flag"].get<bool>() ? 1 : 0;
    members.push_back(m);
  }
  out["members"] = members;
  out["members_flagged"] = flagged;
  out["flag"] = 2 * flagged >= present.size();
  out["rule"] = "flagged when at least half of the " + std::to_string(present.size()) +
                " ensemble members flag it (each: above the 99th percentile of its training scans on either measure); distances shown are member 1's";
  return out;
}

}  // namespace bg
