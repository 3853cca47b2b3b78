#include "connectome/SiteStandardizer.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>

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
  for (auto it = perSite_.begin(); it != perSite_.end();)
    it = it->second.scans < kMinScans ? perSite_.erase(it) : std::next(it);  // too few scans for a stable SD: the pooled statistics serve
  if (empiricalBayes_) {
    // ComBat standardises by the grand mean and the pooled within-site variance of the sites it
    // models, taken from the sums before finalise() turns a constant feature's zero SD into 1.
    double total = 0;
    combatMean_ = Eigen::RowVectorXd::Zero(pooled_.mean.size());
    Eigen::RowVectorXd within = combatMean_;
    for (const auto& [name, st] : perSite_) {
      combatMean_ += st.mean;  // still the sum of the rows
      within += st.sumSq - st.mean.cwiseProduct(st.mean) / st.scans;
      total += st.scans;
    }
    if (total > 0) {
      combatMean_ /= total;
      combatScale_ = (within / total).cwiseMax(0.0).cwiseSqrt();
    }
  }
  finalise(pooled_);
  for (auto& [name, st] : perSite_) finalise(st);
  if (!empiricalBayes_) return;
  if (perSite_.empty()) {  // no site to shrink; a later adapt() standardises by the pooled statistics
    combatMean_ = pooled_.mean;
    combatScale_ = pooled_.scale;
    return;
  }
  for (auto& [name, st] : perSite_) shrink(st);
}

void SiteStandardizer::shrink(Stats& s) const {
  const double n = static_cast<double>(s.scans);
  std::vector<Eigen::Index> valid;  // features that vary within sites (not Pearson's constant diagonal, up to rounding)
  for (Eigen::Index g = 0; g < combatScale_.size(); ++g)
    if (combatScale_(g) > 1e-9 * (1 + std::fabs(combatMean_(g)))) valid.push_back(g);
  if (valid.size() < 2) return;
  const auto k = static_cast<Eigen::Index>(valid.size());
  Eigen::ArrayXd gammaHat(k), deltaHat(k);
  for (Eigen::Index v = 0; v < k; ++v) {
    const auto g = valid[static_cast<std::size_t>(v)];
    gammaHat(v) = (s.mean(g) - combatMean_(g)) / combatScale_(g);
    deltaHat(v) = s.scale(g) * s.scale(g) * n / (n - 1) / (combatScale_(g) * combatScale_(g));
  }
  // The site's priors, by the method of moments over its features: normal for the location, inverse
  // gamma for the variance.
  auto variance = [k](const Eigen::ArrayXd& values) { return (values - values.mean()).square().sum() / static_cast<double>(k - 1); };
  const double gammaBar = gammaHat.mean(), tau2 = variance(gammaHat);
  const double m = deltaHat.mean(), s2 = variance(deltaHat);
  const bool shrinkScale = s2 > 1e-12 * m * m;
  const double a = shrinkScale ? (2 * s2 + m * m) / s2 : 0, b = shrinkScale ? (m * s2 + m * m * m) / s2 : 0;
  Eigen::ArrayXd gamma = gammaHat, delta = deltaHat;
  for (int iteration = 0; iteration < 1000; ++iteration) {
    const Eigen::ArrayXd gammaNew = (n * tau2 * gammaHat + delta * gammaBar) / (n * tau2 + delta);
    Eigen::ArrayXd deltaNew = deltaHat;
    if (shrinkScale) deltaNew = (0.5 * ((n - 1) * deltaHat + n * (gammaHat - gammaNew).square()) + b) / (n / 2 + a - 1);
    const double change = std::max(((gammaNew - gamma).abs() / (gamma.abs() + 1e-8)).maxCoeff(), ((deltaNew - delta).abs() / delta).maxCoeff());
    gamma = gammaNew;
    delta = deltaNew;
    if (change < 1e-6) break;
  }
  for (Eigen::Index v = 0; v < k; ++v) {
    const auto g = valid[static_cast<std::size_t>(v)];
    s.mean(g) = combatMean_(g) + combatScale_(g) * gamma(v);
    s.scale(g) = combatScale_(g) * std::sqrt(delta(v));
  }
}

void SiteStandardizer::fit(const Eigen::MatrixXd& x, const std::vector<std::string>& sites) {
  if (sites.size() != static_cast<std::size_t>(x.rows()))
    throw Error(ErrorCode::Data,
                "site standardisation needs one site per training scan (" + std::to_string(sites.size()) + " for " + std::to_string(x.rows()) + ")");
  for (Eigen::Index i = 0; i < x.rows(); ++i) add(x.row(i), sites[static_cast<std::size_t>(i)]);
  finish();
}

void SiteStandardizer::adapt(const Eigen::MatrixXd& rows, const std::string& site) { adapt(rows, site, {}, 0.5); }

void SiteStandardizer::adapt(const Eigen::MatrixXd& rows, const std::string& site, const std::vector<int>& labels, double positiveFraction) {
  if (site.empty()) throw Error(ErrorCode::Usage, "adapting the site standardisation needs a site name");
  if (knows(site) && !adapted(site))
    throw Error(ErrorCode::Usage, "site '" + site + "' already has statistics from " + std::to_string(perSite_.at(site).scans) + " training scans");
  if (rows.rows() < kMinScans)
    throw Error(ErrorCode::Data,
                "adapting to site '" + site + "' needs at least " + std::to_string(kMinScans) + " of its scans, not " + std::to_string(rows.rows()));
  if (rows.cols() != pooled_.mean.size())
    throw Error(ErrorCode::Data, "the scans of site '" + site + "' have " + std::to_string(rows.cols()) + " features; the site standardisation " +
                                     std::to_string(pooled_.mean.size()));
  Stats s;
  if (labels.empty()) {
    for (Eigen::Index i = 0; i < rows.rows(); ++i) accumulate(s, rows.row(i));
    finalise(s);
  } else {
    s = classWeighted(rows, site, labels, positiveFraction);
  }
  if (empiricalBayes_) shrink(s);
  s.adapted = true;
  perSite_[site] = std::move(s);  // replaces an earlier adaptation to the same site
}

SiteStandardizer::Stats SiteStandardizer::classWeighted(const Eigen::MatrixXd& rows, const std::string& site, const std::vector<int>& labels,
                                                        double positiveFraction) {
  if (labels.size() != static_cast<std::size_t>(rows.rows()))
    throw Error(ErrorCode::Data, "adapting to site '" + site + "': " + std::to_string(labels.size()) + " labels for " + std::to_string(rows.rows()) + " scans");
  if (!(positiveFraction > 0 && positiveFraction < 1))
    throw Error(ErrorCode::Data, "adapting to site '" + site + "': the positive class's share must lie strictly between 0 and 1");
  Stats byClass[2];
  for (Eigen::Index i = 0; i < rows.rows(); ++i) {
    const int c = labels[static_cast<std::size_t>(i)];
    if (c != 0 && c != 1)
      throw Error(ErrorCode::Data, "adapting to site '" + site + "': scan " + std::to_string(i + 1) + " has class " + std::to_string(c) + ", not 0 or 1");
    accumulate(byClass[c], rows.row(i));
  }
  for (int c = 0; c < 2; ++c)
    if (byClass[c].scans < kMinLabelledPerClass)
      throw Error(ErrorCode::Data, "adapting to site '" + site + "' with labels needs at least " + std::to_string(kMinLabelledPerClass) +
                                       " scans of each class; class " + std::to_string(c) + " has " + std::to_string(byClass[c].scans));
  // Each class's mean and (biased) variance, before finalise() would turn a zero SD into 1.
  Eigen::RowVectorXd mean[2], var[2];
  for (int c = 0; c < 2; ++c) {
    const double n = byClass[c].scans;
    mean[c] = byClass[c].mean / n;
    var[c] = (byClass[c].sumSq / n - mean[c].cwiseProduct(mean[c])).cwiseMax(0.0);
  }
  const double w[2] = {1 - positiveFraction, positiveFraction};
  Stats s;
  s.scans = byClass[0].scans + byClass[1].scans;
  s.mean = w[0] * mean[0] + w[1] * mean[1];
  // The mixture's variance: within-class variance plus the spread of the class means about the mix's mean.
  Eigen::RowVectorXd v = Eigen::RowVectorXd::Zero(s.mean.size());
  for (int c = 0; c < 2; ++c) v += w[c] * (var[c] + (mean[c] - s.mean).cwiseProduct(mean[c] - s.mean));
  s.scale = v.cwiseSqrt().unaryExpr([](double x) { return x < 1e-12 ? 1.0 : x; });
  return s;
}

std::vector<std::size_t> SiteStandardizer::seededOrder(std::size_t available, unsigned seed, const std::string& site) {
  std::vector<std::size_t> all(available);
  std::iota(all.begin(), all.end(), std::size_t{0});
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a of the name: std::hash may differ between standard libraries
  for (unsigned char c : site) h = (h ^ c) * 1099511628211ULL;
  std::mt19937_64 rng(h ^ (static_cast<std::uint64_t>(seed) * 0x9E3779B97F4A7C15ULL));
  std::shuffle(all.begin(), all.end(), rng);
  return all;
}

std::vector<std::size_t> SiteStandardizer::adaptationSample(std::size_t available, int wanted, unsigned seed, const std::string& site) {
  if (wanted <= 0 || static_cast<std::size_t>(wanted) >= available) {
    std::vector<std::size_t> all(available);
    std::iota(all.begin(), all.end(), std::size_t{0});
    return all;
  }
  auto all = seededOrder(available, seed, site);
  all.resize(static_cast<std::size_t>(wanted));
  std::sort(all.begin(), all.end());
  return all;
}

std::vector<std::size_t> SiteStandardizer::adaptationBatch(const std::vector<int>& labels, int wanted, double positiveShare, unsigned seed,
                                                           const std::string& site) {
  if (positiveShare < 0) return adaptationSample(labels.size(), wanted, seed, site);
  positiveShare = std::min(positiveShare, 1.0);
  // Each class in a seeded random order (adaptationSample's, so that reruns draw alike).
  std::vector<std::size_t> byClass[2];
  for (auto k : seededOrder(labels.size(), seed, site)) byClass[labels[k] == 1 ? 1 : 0].push_back(k);
  const double p = static_cast<double>(byClass[1].size()), n = static_cast<double>(byClass[0].size());
  double wantP = p, wantN = n;
  if (positiveShare >= 1)
    wantN = 0;
  else if (positiveShare <= 0)
    wantP = 0;
  else if (std::round(p * (1 - positiveShare) / positiveShare) <= n)
    wantN = std::round(p * (1 - positiveShare) / positiveShare);
  else
    wantP = std::round(n * positiveShare / (1 - positiveShare));
  if (wanted > 0 && wantP + wantN > wanted) {
    wantP = std::min(wantP, std::round(wanted * positiveShare));
    wantN = std::min(wantN, static_cast<double>(wanted) - wantP);
  }
  std::vector<std::size_t> out(byClass[1].begin(), byClass[1].begin() + static_cast<std::ptrdiff_t>(wantP));
  out.insert(out.end(), byClass[0].begin(), byClass[0].begin() + static_cast<std::ptrdiff_t>(wantN));
  std::sort(out.begin(), out.end());
  return out;
}

bool SiteStandardizer::adaptableBatch(const std::vector<int>& batchLabels, bool labelled) {
  const auto n = static_cast<long>(batchLabels.size()), positives = std::count(batchLabels.begin(), batchLabels.end(), 1);
  return n >= kMinScans && (!labelled || std::min(positives, n - positives) >= kMinLabelledPerClass);
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
  json out = {{"pooled", statsJson(pooled_.mean, pooled_.scale, pooled_.scans)}, {"sites", sites}};
  if (empiricalBayes_) {  // written only when on: existing files stay as they were
    out["shrinkage"] = "empirical-bayes";
    out["combat"] = statsJson(combatMean_, combatScale_, 0);
    out["combat"].erase("scans");
  }
  return out;
}

SiteStandardizer SiteStandardizer::fromJson(const json& j) {
  const auto shrinkage = j.value("shrinkage", std::string());
  if (!shrinkage.empty() && shrinkage != "empirical-bayes")
    throw Error(ErrorCode::Data, "the site standardisation's shrinkage '" + shrinkage + "' is not empirical-bayes");
  SiteStandardizer out(!shrinkage.empty());
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
  if (out.empiricalBayes_) {  // a zero scale is a constant feature here, which shrinkage leaves alone
    const auto mean = j.at("combat").at("mean").get<std::vector<double>>();
    const auto scale = j.at("combat").at("scale").get<std::vector<double>>();
    if (static_cast<Eigen::Index>(mean.size()) != out.pooled_.mean.size() || scale.size() != mean.size())
      throw Error(ErrorCode::Data, "the site standardisation's ComBat statistics have " + std::to_string(mean.size()) + " means and " +
                                       std::to_string(scale.size()) + " scales for " + std::to_string(out.pooled_.mean.size()) + " features");
    for (double v : scale)
      if (!(v >= 0) || !std::isfinite(v)) throw Error(ErrorCode::Data, "the site standardisation's ComBat scales must be finite and not negative");
    out.combatMean_ = Eigen::Map<const Eigen::RowVectorXd>(mean.data(), static_cast<Eigen::Index>(mean.size()));
    out.combatScale_ = Eigen::Map<const Eigen::RowVectorXd>(scale.data(), static_cast<Eigen::Index>(scale.size()));
  }
  return out;
}

}  // namespace bg
