#include "train/TransformedGraphs.h"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include <signal.h>
#include <unistd.h>

#include "errors/Error.h"
#include "platform/Process.h"

namespace bg::train {

GraphInputTransform fitGraphInput(const GraphInputSpec& spec, const ArrayStore& store, const std::vector<DatasetItem>& training, ProgressDelegate* progress) {
  if (spec.identity()) return {};
  if (progress && progress->update("reading " + std::to_string(training.size()) + " training scans for the " + spec.name() + " input", 0.0))
    throw CancelledError();
  std::vector<Eigen::MatrixXd> fc, series;
  std::vector<std::string> sites;
  for (const auto& it : training) {
    fc.push_back(store.read(it.fcArray));
    sites.push_back(it.site);
    if (spec.needsSeries()) {
      if (it.seriesArray.empty())
        throw Error(ErrorCode::Data, "scan " + std::to_string(it.scanId) + " has no stored ROI time series, which tangent-space input needs");
      series.push_back(store.read(it.seriesArray));
    }
  }
  if (!progress) return GraphInputTransform::fit(spec, fc, series, nullptr, sites);
  ProgressRange fitting(*progress, 0.05, 1.0);  // reading the arrays: the first 5%
  return GraphInputTransform::fit(spec, fc, series, &fitting, sites);
}

int adaptNewSites(GraphInputTransform& transform, const ArrayStore& store, const std::vector<DatasetItem>& items, int limit, unsigned seed) {
  return adaptNewSites(transform, store, items, limit, seed, -1, false, 0.5);
}

int adaptNewSites(GraphInputTransform& transform, const ArrayStore& store, const std::vector<DatasetItem>& items, int limit, unsigned seed,
                  double positiveShare, bool labelled, double trainingShare) {
  if (!transform.spec().perSite) return 0;
  std::map<std::string, std::vector<const DatasetItem*>> newSites;
  for (const auto& it : items)
    if (!it.site.empty() && !transform.knowsSite(it.site)) newSites[it.site].push_back(&it);
  int adapted = 0;
  for (const auto& [site, scans] : newSites) {
    if (static_cast<int>(scans.size()) < SiteStandardizer::kMinScans) continue;
    std::vector<int> siteLabels;
    for (const auto* it : scans) siteLabels.push_back(it->label);
    const auto batch = SiteStandardizer::adaptationBatch(siteLabels, limit, positiveShare, seed, site);
    std::vector<int> batchLabels;
    for (auto k : batch) batchLabels.push_back(siteLabels[k]);
    if (!SiteStandardizer::adaptableBatch(batchLabels, labelled)) continue;
    std::vector<Eigen::MatrixXd> fc, series;
    for (auto k : batch) {
      const auto* it = scans[k];
      fc.push_back(store.read(it->fcArray));
      if (transform.spec().needsSeries()) {
        if (it->seriesArray.empty())
          throw Error(ErrorCode::Data, "scan " + std::to_string(it->scanId) + " has no stored ROI time series, which tangent-space input needs");
        series.push_back(store.read(it->seriesArray));
      }
    }
    transform.adaptSite(site, fc, series, labelled ? batchLabels : std::vector<int>{}, trainingShare);
    adapted += static_cast<int>(scans.size());
  }
  return adapted;
}

namespace {
// A killed run leaves its scratch store behind: remove those whose process is gone.
void removeOrphans(const std::filesystem::path& scratchDir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(scratchDir, ec)) return;
  for (const auto& entry : std::filesystem::directory_iterator(scratchDir, ec)) {
    const auto name = entry.path().filename().string();
    constexpr std::string_view prefix = "graph-input-";
    if (name.rfind(prefix, 0) != 0) continue;
    const auto pid = std::atol(name.c_str() + prefix.size());
    if (pid > 0 && !processExists(pid)) std::filesystem::remove_all(entry.path(), ec);
  }
}
}  // namespace

TransformedGraphs::TransformedGraphs(const ArrayStore& source, GraphInputTransform transform, const std::filesystem::path& scratchDir)
    : source_(source), transform_(std::move(transform)) {
  if (transform_.identity()) return;
  removeOrphans(scratchDir);
  static std::atomic<int> counter{0};
  dir_ = scratchDir / ("graph-input-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw Error(ErrorCode::Io, "cannot create the scratch folder " + dir_.string() + ": " + ec.message());
  scratch_ = std::make_unique<ArrayStore>(dir_);
}

TransformedGraphs::~TransformedGraphs() {
  if (dir_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::vector<DatasetItem> TransformedGraphs::remap(const std::vector<DatasetItem>& items, ProgressDelegate* progress) {
  if (!scratch_) return items;
  std::vector<DatasetItem> out = items;
  constexpr std::size_t kChunk = 64;  // bounded memory: a chunk's matrices are computed in parallel, then stored
  for (std::size_t start = 0; start < items.size(); start += kChunk) {
    const auto end = std::min(items.size(), start + kChunk);
    std::vector<Eigen::MatrixXd> done(end - start);
    std::vector<std::string> errors(end - start);
    {
      SerialBlasScope serialBlas;
#pragma omp parallel for schedule(dynamic, 1)
      for (long k = static_cast<long>(start); k < static_cast<long>(end); ++k) {
        const auto& it = items[static_cast<std::size_t>(k)];
        const auto slot = static_cast<std::size_t>(k) - start;
        try {
          const auto series = transform_.spec().needsSeries() && !it.seriesArray.empty() ? source_.read(it.seriesArray) : Eigen::MatrixXd();
          done[slot] = transform_.apply(source_.read(it.fcArray), series, it.site);
        } catch (const std::exception& e) {
          errors[slot] = e.what();
        }
      }
    }
    for (std::size_t k = start; k < end; ++k) {
      if (!errors[k - start].empty())
        throw Error(ErrorCode::Data,
                    "while preparing scan " + std::to_string(items[k].scanId) + "'s " + transform_.spec().kind + " input: " + errors[k - start]);
      out[k].fcArray = scratch_->put(done[k - start]);
    }
    if (progress && progress->update("preparing " + transform_.spec().kind + " inputs", static_cast<double>(end) / static_cast<double>(items.size())))
      throw CancelledError();
  }
  return out;
}

}  // namespace bg::train
