#include "connectome/GraphInputTransform.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <string>

#include "connectome/SiteStandardizer.h"
#include "errors/Error.h"
#include "io/JsonText.h"

namespace bg {
using nlohmann::json;

json GraphInputSpec::toJson() const {
  json j = {{"kind", kind}, {"standardise_edges", standardiseEdges}};
  if (perSite) j["per_site"] = true;  // written only when on: existing model files and cache keys stay as they were
  if (empiricalBayes) j["site_shrinkage"] = "empirical-bayes";
  return j;
}

json GraphInputSpec::configurationDefaults() {
  auto defaults = GraphInputSpec{}.toJson();
  defaults["per_site"] = false;  // written only when on
  defaults["site_shrinkage"] = "empirical-bayes";
  return defaults;
}

GraphInputSpec GraphInputSpec::fromJson(const json& j) {
  GraphInputSpec s;
  if (j.is_string()) {
    s = fromName(j.get<std::string>());  // "fc", "tangent-z", "fc-site", ...
  } else if (j.is_object()) {
    // Found by fuzz_config: {"kind": true} reached nlohmann's type_error. Types only: a fitted
    // transform's record (GraphInputTransform::toJson) carries more keys than the spec's; a
    // configuration's unknown keys are checked by its reader (TuningConfig).
    const auto defaults = configurationDefaults();
    json own = json::object();
    for (const auto& [key, unused] : defaults.items())
      if (j.contains(key)) own[key] = j[key];
    checkConfigurationKeys(own, defaults, "input");
    s.kind = j.value("kind", s.kind);
    s.standardiseEdges = j.value("standardise_edges", s.standardiseEdges);
    s.perSite = j.value("per_site", false);
    const auto shrinkage = j.value("site_shrinkage", std::string());
    if (!shrinkage.empty() && shrinkage != "empirical-bayes")
      throw Error(ErrorCode::Config, "input: site_shrinkage '" + shrinkage + "' is not empirical-bayes");
    s.empiricalBayes = !shrinkage.empty();
    if (s.perSite && !s.standardiseEdges) throw Error(ErrorCode::Config, "input: per_site standardisation needs standardise_edges");
    if (s.empiricalBayes && !s.perSite) throw Error(ErrorCode::Config, "input: site_shrinkage needs per_site standardisation");
  } else if (!j.is_null()) {
    throw Error(
        ErrorCode::Config,
        "input must be a name (fc, fc-z, fc-site, fc-combat, tangent, tangent-z, tangent-site, tangent-combat) or {\"kind\": ..., \"standardise_edges\": ...}");
  }
  if (s.kind != "fc" && s.kind != "tangent") throw Error(ErrorCode::Config, "input kind '" + s.kind + "' is not fc or tangent");
  return s;
}

GraphInputSpec GraphInputSpec::fromName(const std::string& name) {
  GraphInputSpec s;
  auto endsWith = [&](const std::string& suffix) {
    return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  const bool z = endsWith("-z"), site = endsWith("-site"), combat = endsWith("-combat");
  s.kind = z ? name.substr(0, name.size() - 2) : site ? name.substr(0, name.size() - 5) : combat ? name.substr(0, name.size() - 7) : name;
  s.standardiseEdges = z || site || combat;
  s.perSite = site || combat;
  s.empiricalBayes = combat;
  if (s.kind != "fc" && s.kind != "tangent")
    throw Error(ErrorCode::Usage, "input '" + name + "' is not fc, fc-z, fc-site, fc-combat, tangent, tangent-z, tangent-site or tangent-combat");
  return s;
}

const std::vector<std::string>& GraphInputSpec::names() {
  static const std::vector<std::string> all = {"fc", "fc-z", "fc-site", "fc-combat", "tangent", "tangent-z", "tangent-site", "tangent-combat"};
  return all;
}

std::string GraphInputSpec::description() const {
  std::string d = kind == "tangent" ? "tangent-space embedding (matrix logarithm after whitening by the training scans' geometric mean) of the "
                                      "Ledoit-Wolf covariance of the cleaned ROI mean time series"
                                    : "Pearson correlation of the cleaned ROI mean time series";
  if (perSite)
    d += ", every edge z-scored with the mean and SD of the training scans from the scan's own acquisition site (pooled over all training "
         "scans for a site with fewer than " +
         std::to_string(SiteStandardizer::kMinScans) + ")" +
         (empiricalBayes ? ", the site means and SDs shrunk toward each site's distribution over all edges by ComBat's empirical Bayes" : "");
  else if (standardiseEdges)
    d += ", every edge z-scored with the training scans' mean and SD";
  return d;
}

GraphInputSpec graphInputOfCard(const json& card) {
  return card.contains("input_transform") ? GraphInputSpec::fromJson(card.at("input_transform")) : GraphInputSpec{};
}

namespace {
json flat(const Eigen::MatrixXd& m) {
  std::vector<double> v(static_cast<std::size_t>(m.size()));
  Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(v.data(), m.rows(), m.cols()) = m;
  return v;
}
Eigen::MatrixXd square(const json& j, int n, const char* what) {
  const auto v = j.get<std::vector<double>>();
  if (v.size() != static_cast<std::size_t>(n) * static_cast<std::size_t>(n))
    throw Error(ErrorCode::Data, std::string("the input transform's ") + what + " has " + std::to_string(v.size()) + " values, not " + std::to_string(n) +
                                     " x " + std::to_string(n));
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(v.data(), n, n);
}

// Per-site statistics are kept for the upper triangle with the diagonal: the matrices are symmetric,
// and a model file carries them for every site.
Eigen::RowVectorXd upperTriangle(const Eigen::MatrixXd& m) {
  const Eigen::Index n = m.rows();
  Eigen::RowVectorXd out(n * (n + 1) / 2);
  Eigen::Index k = 0;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = i; j < n; ++j) out(k++) = m(i, j);
  return out;
}
Eigen::MatrixXd symmetricFrom(const Eigen::RowVectorXd& upper, Eigen::Index n) {
  Eigen::MatrixXd m(n, n);
  Eigen::Index k = 0;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = i; j < n; ++j) m(i, j) = m(j, i) = upper(k++);
  return m;
}

// Runs body(i) for i in [0, n) in parallel, a chunk at a time, reporting `stage` on [from, to] of the
// progress after each chunk: the only place a cancel request can stop an OpenMP loop.
template <class Body>
void chunkedParallel(long n, ProgressDelegate* progress, const std::string& stage, double from, double to, Body&& body) {
  constexpr long kChunk = 32;
  for (long start = 0; start < n; start += kChunk) {
    const long end = std::min(n, start + kChunk);
    std::vector<std::string> errors(static_cast<std::size_t>(end - start));  // an exception must not leave an OpenMP region
#pragma omp parallel for schedule(dynamic, 1)
    for (long i = start; i < end; ++i) {
      try {
        body(i);
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(i - start)] = e.what();
      }
    }
    for (long i = start; i < end; ++i)
      if (const auto& e = errors[static_cast<std::size_t>(i - start)]; !e.empty())
        throw Error(ErrorCode::Data, "training scan " + std::to_string(i + 1) + " of " + std::to_string(n) + ": " + e);
    if (progress && progress->update(stage, from + (to - from) * static_cast<double>(end) / static_cast<double>(n))) throw CancelledError();
  }
}
}  // namespace

GraphInputTransform GraphInputTransform::fit(const GraphInputSpec& spec, const std::vector<Eigen::MatrixXd>& fc, const std::vector<Eigen::MatrixXd>& series,
                                             ProgressDelegate* progress, const std::vector<std::string>& sites) {
  GraphInputTransform t;
  t.spec_ = spec;
  if (spec.identity()) return t;
  t.sites_ = SiteStandardizer(spec.empiricalBayes);
  if (fc.empty()) throw Error(ErrorCode::Data, "no training scans to fit the input transform on");
  t.nodes_ = static_cast<int>(fc.front().rows());
  for (const auto& m : fc)
    if (m.rows() != t.nodes_ || m.cols() != t.nodes_) throw Error(ErrorCode::Data, "the training scans mix parcellations of different sizes");
  const auto n = static_cast<long>(fc.size());
  if (spec.perSite && sites.size() != fc.size())
    throw Error(ErrorCode::Data,
                "per-site standardisation needs every training scan's site (" + std::to_string(sites.size()) + " for " + std::to_string(fc.size()) + " scans)");
  const std::string scans = " of " + std::to_string(n) + " training scans";
  // Shares of the bar, by cost: covariances, the geometric mean's passes, the edge statistics.
  const bool tangent = spec.needsSeries();
  const double covEnd = tangent ? 0.2 : 0.0, meanEnd = tangent ? 0.7 : 0.0;
  std::vector<Eigen::MatrixXd> covariances;  // computed once: for the reference and again for the edge statistics
  if (tangent) {
    if (series.size() != fc.size()) throw Error(ErrorCode::Data, "tangent-space input needs every training scan's ROI time series");
    covariances.resize(fc.size());
    for (std::size_t i = 0; i < series.size(); ++i)
      if (series[i].cols() != t.nodes_)
        throw Error(ErrorCode::Data, "a training scan's time series has " + std::to_string(series[i].cols()) + " ROIs, its FC " + std::to_string(t.nodes_));
    {
      SerialBlasScope serialBlas;
      chunkedParallel(n, progress, "Ledoit-Wolf covariances" + scans, 0.0, covEnd,
                      [&](long i) { covariances[static_cast<std::size_t>(i)] = ledoitWolfCovariance(series[static_cast<std::size_t>(i)]); });
    }
    std::unique_ptr<ProgressRange> meanProgress;
    if (progress) meanProgress = std::make_unique<ProgressRange>(*progress, covEnd, meanEnd);
    t.tangent_.fitCovariances(covariances, meanProgress.get());
  }
  if (spec.standardiseEdges) {
    const auto r = t.nodes_;
    Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(r, r), sumSq = Eigen::MatrixXd::Zero(r, r);
    {
      SerialBlasScope serialBlas;
      // Per-scan matrices are summed under a lock: the transform (an eigen-decomposition) dominates.
      std::mutex lock;
      chunkedParallel(n, progress, "edge statistics" + scans, meanEnd, 1.0, [&](long i) {
        const auto k = static_cast<std::size_t>(i);
        const Eigen::MatrixXd b = tangent ? t.tangent_.transformCovariance(covariances[k]) : fc[k];
        if (spec.perSite) {  // the site standardiser keeps the pooled statistics too
          const Eigen::RowVectorXd upper = upperTriangle(b);
          const std::lock_guard<std::mutex> hold(lock);
          t.sites_.add(upper, sites[k]);
          return;
        }
        const Eigen::MatrixXd b2 = b.cwiseProduct(b);
        const std::lock_guard<std::mutex> hold(lock);
        sum += b;
        sumSq += b2;
      });
    }
    if (spec.perSite) {
      t.sites_.finish();
      t.mean_ = symmetricFrom(t.sites_.pooledMean(), r);
      t.scale_ = symmetricFrom(t.sites_.pooledScale(), r);
    } else {
      t.mean_ = sum / static_cast<double>(n);
      t.scale_ = (sumSq / static_cast<double>(n) - t.mean_.cwiseProduct(t.mean_)).cwiseMax(0.0).cwiseSqrt();
      t.scale_ = t.scale_.unaryExpr([](double s) { return s < 1e-12 ? 1.0 : s; });  // constant edges (Pearson's unit diagonal) stay 0
    }
  }
  return t;
}

Eigen::MatrixXd GraphInputTransform::base(const Eigen::MatrixXd& fc, const Eigen::MatrixXd& series) const {
  if (spec_.kind != "tangent") return fc;
  if (series.size() == 0) throw Error(ErrorCode::Data, "tangent-space input needs the scan's ROI time series");
  if (series.cols() != nodes_)
    throw Error(ErrorCode::Data, "the scan has " + std::to_string(series.cols()) + " ROIs; the model's tangent reference " + std::to_string(nodes_));
  return tangent_.transformCovariance(ledoitWolfCovariance(series));
}

Eigen::MatrixXd GraphInputTransform::apply(const Eigen::MatrixXd& fc, const Eigen::MatrixXd& series, const std::string& site) const {
  if (identity()) return fc;
  if (fc.rows() != nodes_ || fc.cols() != nodes_)
    throw Error(ErrorCode::Data, "the scan's FC is " + std::to_string(fc.rows()) + " x " + std::to_string(fc.cols()) +
                                     "; the model's input transform expects " + std::to_string(nodes_) + " ROIs");
  Eigen::MatrixXd m = base(fc, series);
  if (spec_.perSite) {
    Eigen::RowVectorXd upper = upperTriangle(m);
    sites_.applyRow(upper, site);
    m = symmetricFrom(upper, nodes_);
  } else if (spec_.standardiseEdges) {
    m = ((m - mean_).array() / scale_.array()).matrix();
  }
  return m;
}

void GraphInputTransform::adaptSite(const std::string& site, const std::vector<Eigen::MatrixXd>& fc, const std::vector<Eigen::MatrixXd>& series,
                                    const std::vector<int>& labels, double positiveFraction) {
  if (!spec_.perSite)
    throw Error(ErrorCode::Usage, "the model's input (" + spec_.name() + ") is not standardised per site: there is nothing to adapt to a new site");
  if (spec_.needsSeries() && series.size() != fc.size()) throw Error(ErrorCode::Data, "tangent-space input needs every scan's ROI time series");
  Eigen::MatrixXd rows(static_cast<Eigen::Index>(fc.size()), nodes_ * (nodes_ + 1) / 2);
  for (std::size_t i = 0; i < fc.size(); ++i) {
    if (fc[i].rows() != nodes_ || fc[i].cols() != nodes_)
      throw Error(ErrorCode::Data, "scan " + std::to_string(i + 1) + " of site '" + site + "' has " + std::to_string(fc[i].rows()) +
                                       " ROIs; the model's input transform expects " + std::to_string(nodes_));
    rows.row(static_cast<Eigen::Index>(i)) = upperTriangle(base(fc[i], spec_.needsSeries() ? series[i] : Eigen::MatrixXd()));
  }
  sites_.adapt(rows, site, labels, positiveFraction);
}

json GraphInputTransform::toJson() const {
  json j = spec_.toJson();
  if (identity()) return j;
  j["nodes"] = nodes_;
  if (spec_.kind == "tangent") j["reference"] = flat(tangent_.reference());
  if (spec_.perSite) {
    j["site_standardisation"] = sites_.toJson();  // its pooled statistics are mean_ and scale_
  } else if (spec_.standardiseEdges) {
    j["mean"] = flat(mean_);
    j["scale"] = flat(scale_);
  }
  return j;
}

GraphInputTransform GraphInputTransform::fromJson(const json& j) {
  GraphInputTransform t;
  t.spec_ = GraphInputSpec::fromJson(j);
  if (t.identity()) return t;
  t.nodes_ = j.at("nodes").get<int>();
  if (t.nodes_ <= 0) throw Error(ErrorCode::Data, "the input transform has no nodes");
  if (t.spec_.kind == "tangent") t.tangent_.setReference(square(j.at("reference"), t.nodes_, "tangent reference"));
  if (t.spec_.perSite) {
    t.sites_ = SiteStandardizer::fromJson(j.at("site_standardisation"));
    if (t.sites_.empiricalBayes() != t.spec_.empiricalBayes)
      throw Error(ErrorCode::Data, std::string("the input transform's site statistics are ") + (t.sites_.empiricalBayes() ? "" : "not ") +
                                       "shrunk, but its input names " + t.spec_.name());
    if (t.sites_.features() != t.nodes_ * (t.nodes_ + 1) / 2)
      throw Error(ErrorCode::Data, "the input transform's site standardisation has " + std::to_string(t.sites_.features()) +
                                       " edges, not the upper triangle of " + std::to_string(t.nodes_) + " x " + std::to_string(t.nodes_));
    t.mean_ = symmetricFrom(t.sites_.pooledMean(), t.nodes_);
    t.scale_ = symmetricFrom(t.sites_.pooledScale(), t.nodes_);
  } else if (t.spec_.standardiseEdges) {
    t.mean_ = square(j.at("mean"), t.nodes_, "edge means");
    t.scale_ = square(j.at("scale"), t.nodes_, "edge scales");
    if ((t.scale_.array() <= 0).any()) throw Error(ErrorCode::Data, "the input transform's edge scales must be positive");
  }
  return t;
}

}  // namespace bg
