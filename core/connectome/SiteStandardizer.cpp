#include "connectome/SiteStandardizer.h"

#include <cmath>

#include "errors/Error.h"

namespace bg {
using nlohmann::json;

void SiteStandardizer::accumulate(Stats& s, const Eigen::Ref<const Eigen::RowVectorXd>& row) {
  if (s.scans == 0) {
    s.mean = Eigen::RowVectorXd::Zero(row.size());
    s.sumSq = Eigen::RowVectorXd::Zero(row.size());
  }
  s.mean += row;
  s.sumSq += row.cwiseProduct(row);
  ++s.scans;
}

void SiteStandardizer::finalise(Stats& s) {
  const double n = static_cast<double>(s.scans);
  s.mean /= n;
  s.scale = (s.sumSq / n - s.mean.cwiseProduct(s.mean)).cwiseMax(0.0).cwiseSqrt();
  s.scale = s.scale.unaryExpr([](double v) { return v < 1e-12 ? 1.0 : v; });  // a constant feature (Pearson's diagonal) stays 0
  s.sumSq.resize(0);
}

void SiteStandardizer::add(const Eigen::Ref<const Eigen::RowVectorXd>& row, const std::string& site) {
  if (pooled_.scans > 0 && row.size() != pooled_.mean.size())
    throw Error(ErrorCode::Data, "a training scan has " + std::to_string(row.size()) + " features, the first " + std::to_string(pooled_.mean.size()));
  accumulate(pooled_, row);
  if (!site.empty()) accumulate(perSite_[site], row);
}

void SiteStandardizer::finish() {
  if (pooled_.scans == 0) throw Error(ErrorCode::Data, "no training scans to fit the site standardisation on");
  finalise(pooled_);
  for (auto it = perSite_.begin(); it != perSite_.end();) {
    if (it->second.scans < kMinScans) {
      it = perSite_.erase(it);  // too few scans for a stable SD: the pooled statistics serve
    } else {
      finalise(it->second);
      ++it;
    }
  }
}

void SiteStandardizer::fit(const Eigen::MatrixXd& x, const std::vector<std::string>& sites) {
  if (sites.size() != static_cast<std::size_t>(x.rows()))
    throw Error(ErrorCode::Data, "site standardisation needs one site per training scan (" + std::to_string(sites.size()) + " for " +
                                     std::to_string(x.rows()) + ")");
  for (Eigen::Index i = 0; i < x.rows(); ++i) add(x.row(i), sites[static_cast<std::size_t>(i)]);
  finish();
}

void SiteStandardizer::adapt(const Eigen::MatrixXd& rows, const std::string& site) {
  if (site.empty()) throw Error(ErrorCode::Usage, "adapting the site standardisation needs a site name");
  if (knows(site) && !adapted(site))
    throw Error(ErrorCode::Usage, "site '" + site + "' already has statistics from " + std::to_string(perSite_.at(site).scans) + " training scans");
  if (rows.rows() < kMinScans)
    throw Error(ErrorCode::Data, "adapting to site '" + site + "' needs at least " + std::to_string(kMinScans) + " of its scans, not " +
                                     std::to_string(rows.rows()));
  if (rows.cols() != pooled_.mean.size())
    throw Error(ErrorCode::Data, "the scans of site '" + site + "' have " + std::to_string(rows.cols()) + " features; the site standardisation " +
                                     std::to_string(pooled_.mean.size()));
  Stats s;
  for (Eigen::Index i = 0; i < rows.rows(); ++i) accumulate(s, rows.row(i));
  finalise(s);
  s.adapted = true;
  perSite_[site] = std::move(s);  // replaces an earlier adaptation to the same site
}

bool SiteStandardizer::adapted(const std::string& site) const {
  const auto it = perSite_.find(site);
  return it != perSite_.end() && it->second.adapted;
}

const SiteStandardizer::Stats& SiteStandardizer::statsFor(const std::string& site) const {
  const auto it = perSite_.find(site);
  return it == perSite_.end() ? pooled_ : it->second;
}

void SiteStandardizer::applyRow(Eigen::Ref<Eigen::RowVectorXd, 0, Eigen::InnerStride<>> row, const std::string& site) const {
  if (row.size() != pooled_.mean.size())
    throw Error(ErrorCode::Data, "the scan has " + std::to_string(row.size()) + " features; the site standardisation " + std::to_string(pooled_.mean.size()));
  const auto& s = statsFor(site);
  row = ((row - s.mean).array() / s.scale.array()).matrix();
}

Eigen::MatrixXd SiteStandardizer::apply(const Eigen::MatrixXd& x, const std::vector<std::string>& sites) const {
  if (sites.size() != static_cast<std::size_t>(x.rows())) throw Error(ErrorCode::Data, "site standardisation needs one site per scan");
  Eigen::MatrixXd out = x;
  for (Eigen::Index i = 0; i < x.rows(); ++i) applyRow(out.row(i), sites[static_cast<std::size_t>(i)]);
  return out;
}

std::vector<std::string> SiteStandardizer::sites() const {
  std::vector<std::string> out;
  for (const auto& [name, stats] : perSite_) out.push_back(name);
  return out;
}

namespace {
json statsJson(const Eigen::RowVectorXd& mean, const Eigen::RowVectorXd& scale, int scans) {
  return {{"mean", std::vector<double>(mean.data(), mean.data() + mean.size())},
          {"scale", std::vector<double>(scale.data(), scale.data() + scale.size())},
          {"scans", scans}};
}
}  // namespace

json SiteStandardizer::toJson() const {
  json sites = json::object();
  for (const auto& [name, s] : perSite_) {
    sites[name] = statsJson(s.mean, s.scale, s.scans);
    if (s.adapted) sites[name]["adapted"] = true;  // written only when so: existing files stay as they were
  }
  return {{"pooled", statsJson(pooled_.mean, pooled_.scale, pooled_.scans)}, {"sites", sites}};
}

SiteStandardizer SiteStandardizer::fromJson(const json& j) {
  SiteStandardizer out;
  auto read = [](const json& s, Stats& into, std::size_t expected, const std::string& what) {
    const auto mean = s.at("mean").get<std::vector<double>>();
    const auto scale = s.at("scale").get<std::vector<double>>();
    if (mean.size() != scale.size() || (expected > 0 && mean.size() != expected))
      throw Error(ErrorCode::Data, "the site standardisation's " + what + " statistics have " + std::to_string(mean.size()) + " means and " +
                                       std::to_string(scale.size()) + " scales");
    for (double v : scale)
      if (!(v > 0) || !std::isfinite(v)) throw Error(ErrorCode::Data, "the site standardisation's " + what + " scales must be positive");
    into.mean = Eigen::Map<const Eigen::RowVectorXd>(mean.data(), static_cast<Eigen::Index>(mean.size()));
    into.scale = Eigen::Map<const Eigen::RowVectorXd>(scale.data(), static_cast<Eigen::Index>(scale.size()));
    into.scans = s.value("scans", 0);
    into.adapted = s.value("adapted", false);
  };
  read(j.at("pooled"), out.pooled_, 0, "pooled");
  for (const auto& [name, s] : j.at("sites").items()) read(s, out.perSite_[name], out.pooled_.mean.size(), "site " + name + "'s");
  return out;
}

}  // namespace bg
