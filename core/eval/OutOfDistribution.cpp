#include "eval/OutOfDistribution.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "errors/Error.h"

namespace bg {
using nlohmann::json;

namespace {

double rmsDistance(const Eigen::VectorXd& e, const std::vector<double>& mean, const std::vector<double>& scale) {
  double s = 0;
  for (Eigen::Index k = 0; k < e.size(); ++k) {
    const auto i = static_cast<std::size_t>(k);
    const double z = mean.empty() ? e(k) : (e(k) - mean[i]) / scale[i];
    s += z * z;
  }
  return e.size() ? std::sqrt(s / static_cast<double>(e.size())) : 0.0;
}

}  // namespace

json fitOodReference(const Eigen::MatrixXd& x, const std::string& space, bool standardise) {
  if (x.rows() < 2) return json(nullptr);
  std::vector<double> mean, scale;
  if (standardise) {
    const Eigen::VectorXd mu = x.colwise().mean().transpose();
    const Eigen::VectorXd sd = ((x.rowwise() - mu.transpose()).array().square().colwise().sum() / static_cast<double>(x.rows() - 1)).sqrt().transpose();
    mean.assign(mu.data(), mu.data() + mu.size());
    scale.assign(sd.data(), sd.data() + sd.size());
    for (auto& s : scale)
      if (!(s > 1e-12)) s = 1.0;  // constant features carry no distance
  }
  std::vector<double> d;
  for (Eigen::Index r = 0; r < x.rows(); ++r) d.push_back(rmsDistance(x.row(r).transpose(), mean, scale));
  std::sort(d.begin(), d.end());
  // Nearest-rank 99th percentile of the training distances.
  const auto k = static_cast<std::size_t>(std::ceil(0.99 * static_cast<double>(d.size()))) - 1;
  json ref = {{"space", space},
              {"metric", "root-mean-square z-distance from the training mean"},
              {"samples", d.size()},
              {"distances", d},
              {"threshold", d[std::min(k, d.size() - 1)]},
              {"threshold_rule", "99th percentile of the training distances"}};
  if (standardise) {
    ref["mean"] = mean;
    ref["scale"] = scale;
  }
  return ref;
}

json assessOod(const json& ref, const Eigen::VectorXd& e) {
  if (ref.is_null() || !ref.contains("distances")) return json(nullptr);
  std::vector<double> mean, scale;
  if (ref.contains("mean")) {
    mean = ref["mean"].get<std::vector<double>>();
    scale = ref["scale"].get<std::vector<double>>();
    if (mean.size() != static_cast<std::size_t>(e.size()))
      throw Error(ErrorCode::Data, "the embedding has " + std::to_string(e.size()) + " dimensions, the out-of-distribution reference " +
                                       std::to_string(mean.size()));
  }
  const auto d = ref["distances"].get<std::vector<double>>();
  const double distance = rmsDistance(e, mean, scale);
  const auto below = std::lower_bound(d.begin(), d.end(), distance) - d.begin();
  const double threshold = ref.at("threshold").get<double>();
  return {{"distance", distance},
          {"percentile", 100.0 * static_cast<double>(below) / static_cast<double>(d.size())},
          {"threshold", threshold},
          {"flag", distance > threshold},
          {"space", ref.value("space", "")},
          {"metric", ref.value("metric", "")},
          {"rule", ref.value("threshold_rule", "")}};
}

}  // namespace bg
