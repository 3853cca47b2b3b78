#include "train/GraphBatchLoader.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>

#include <Eigen/Core>

#include "connectome/Connectivity.h"
#include "errors/Error.h"

namespace bg::train {

GraphBatchLoader::GraphBatchLoader(const ArrayStore& store, std::vector<DatasetItem> items, int batchSize, unsigned seed, bool bucketByNodes, int prefetch)
    : store_(store), items_(std::move(items)), batchSize_(batchSize), prefetch_(std::max(1, prefetch)), seed_(seed), bucket_(bucketByNodes) {}

GraphBatchLoader::~GraphBatchLoader() { stop(); }

std::size_t GraphBatchLoader::setCrossAtlasViews(bool on) {
  partners_.clear();
  if (!on) return 0;
  // One acquisition's graphs: by session where the corpus records it, else by scan.
  const auto key = [](const DatasetItem& it) { return it.session != 0 ? std::make_pair(0, it.session) : std::make_pair(1, it.scanId); };
  std::map<std::pair<int, std::int64_t>, std::vector<int>> byScan;
  for (int i = 0; i < static_cast<int>(items_.size()); ++i) byScan[key(items_[static_cast<std::size_t>(i)])].push_back(i);
  partners_.resize(items_.size());
  std::size_t paired = 0;
  for (std::size_t i = 0; i < items_.size(); ++i) {
    for (int j : byScan[key(items_[i])])
      if (items_[static_cast<std::size_t>(j)].atlas != items_[i].atlas) partners_[i].push_back(j);
    paired += partners_[i].empty() ? 0 : 1;
  }
  return paired;
}

void GraphBatchLoader::stop() {
  {
    std::lock_guard lock(m_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

namespace {
// The FC of a random window of a scan's time series (time points x ROIs), as float, row-major.
std::vector<float> croppedFc(const Eigen::MatrixXd& series, double fraction, std::uint64_t seed) {
  const auto t = series.rows();
  const auto length = std::min<Eigen::Index>(t, std::max<Eigen::Index>(20, static_cast<Eigen::Index>(std::lround(fraction * static_cast<double>(t)))));
  std::mt19937_64 rng(seed);
  const auto start = std::uniform_int_distribution<Eigen::Index>(0, t - length)(rng);
  const Eigen::MatrixXd fc = pearson(series.middleRows(start, length)).matrix;
  std::vector<float> out(static_cast<std::size_t>(fc.size()));
  Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(out.data(), fc.rows(), fc.cols()) = fc.cast<float>();
  return out;
}
}  // namespace

GraphBatch GraphBatchLoader::load(const std::vector<int>& batch) const {
  std::int64_t n = 0;
  std::vector<std::unique_ptr<MappedArray>> arrays;
  std::vector<std::vector<float>> cropped(batch.size());  // filled where the item is cropped this epoch
  const bool second = secondWindow_ && crop_ > 0;
  std::vector<std::vector<float>> croppedSecond(second ? batch.size() : 0);
  for (std::size_t k = 0; k < batch.size(); ++k) {
    const auto index = static_cast<std::size_t>(batch[k]);
    const auto& item = items_[index];
    arrays.push_back(store_.map(item.fcArray));
    n = std::max(n, arrays.back()->rows());
    if (crop_ > 0 && !item.seriesArray.empty()) {
      const auto series = store_.read(item.seriesArray);
      if (series.cols() != arrays.back()->rows())
        throw Error(ErrorCode::Data, "scan " + std::to_string(item.scanId) + "'s time series has " + std::to_string(series.cols()) + " ROIs, its FC " +
                                         std::to_string(arrays.back()->rows()));
      const std::uint64_t seed = (static_cast<std::uint64_t>(seed_) * 1000003ULL + static_cast<std::uint64_t>(epoch_)) * 2654435761ULL + index;
      cropped[k] = croppedFc(series, crop_, seed);
      if (second) croppedSecond[k] = croppedFc(series, crop_, seed ^ 0xA5A5A5A5DEADBEEFULL);
    }
  }
  const auto b = static_cast<std::int64_t>(batch.size());
  GraphBatch out;
  out.fc = torch::zeros({b, n, n}, torch::kFloat32);
  out.mask = torch::zeros({b, n}, torch::kBool);
  out.labels = torch::empty({b}, torch::kInt64);
  if (second) out.fcSecond = torch::zeros({b, n, n}, torch::kFloat32);
  float* fcSecond = second ? out.fcSecond.data_ptr<float>() : nullptr;  // contiguous [b, n, n]
  auto fc = out.fc.accessor<float, 3>();
  auto mask = out.mask.accessor<bool, 2>();
  auto labels = out.labels.accessor<std::int64_t, 1>();
  for (std::int64_t k = 0; k < b; ++k) {
    const auto& a = *arrays[static_cast<std::size_t>(k)];
    const auto& c = cropped[static_cast<std::size_t>(k)];
    const float* source = c.empty() ? a.data() : c.data();
    for (std::int64_t r = 0; r < a.rows(); ++r) {
      std::copy(source + r * a.cols(), source + (r + 1) * a.cols(), &fc[k][r][0]);
      mask[k][r] = true;
    }
    if (second) {
      const auto& c2 = croppedSecond[static_cast<std::size_t>(k)];
      const float* source2 = c2.empty() ? source : c2.data();
      for (std::int64_t r = 0; r < a.rows(); ++r) std::copy(source2 + r * a.cols(), source2 + (r + 1) * a.cols(), fcSecond + (k * n + r) * n);
    }
    labels[k] = items_[static_cast<std::size_t>(batch[static_cast<std::size_t>(k)])].label;
    out.atlases.push_back(items_[static_cast<std::size_t>(batch[static_cast<std::size_t>(k)])].atlas);
  }
  out.items = batch;
  if (const auto& first = items_[static_cast<std::size_t>(batch.front())]; !first.views.empty()) {
    for (std::size_t v = 0; v < first.views.size(); ++v) {
      std::vector<DatasetItem> viewItems;
      for (int index : batch) {
        const auto& item = items_[static_cast<std::size_t>(index)];
        if (item.views.size() != first.views.size())
          throw Error(ErrorCode::Data, "scan " + std::to_string(item.scanId) + " lacks a graph in one of the model's atlases");
        viewItems.push_back(item.views[v]);
      }
      GraphBatchLoader viewLoader(store_, std::move(viewItems), batchSize_, seed_, false, 1);
      viewLoader.crop_ = crop_;
      viewLoader.epoch_ = epoch_;
      std::vector<int> all(batch.size());
      for (std::size_t k = 0; k < all.size(); ++k) all[k] = static_cast<int>(k);
      out.views.push_back(viewLoader.load(all));
    }
  }
  if (!partners_.empty()) {
    // Cross-atlas views: each item's partner, drawn per (seed, epoch, item).
    std::vector<std::unique_ptr<MappedArray>> other;
    std::int64_t m = 0;
    for (int index : batch) {
      const auto& candidates = partners_[static_cast<std::size_t>(index)];
      int partner = index;
      if (!candidates.empty()) {
        std::mt19937_64 rng((static_cast<std::uint64_t>(seed_) * 1000003ULL + static_cast<std::uint64_t>(epoch_)) * 0x9E3779B97F4A7C15ULL +
                            static_cast<std::uint64_t>(index));
        partner = candidates[std::uniform_int_distribution<std::size_t>(0, candidates.size() - 1)(rng)];
      }
      other.push_back(store_.map(items_[static_cast<std::size_t>(partner)].fcArray));
      m = std::max(m, other.back()->rows());
      out.atlasesSecond.push_back(items_[static_cast<std::size_t>(partner)].atlas);
    }
    out.fcSecond = torch::zeros({b, m, m}, torch::kFloat32);
    out.maskSecond = torch::zeros({b, m}, torch::kBool);
    auto f2 = out.fcSecond.accessor<float, 3>();
    auto m2 = out.maskSecond.accessor<bool, 2>();
    for (std::int64_t k = 0; k < b; ++k) {
      const auto& a = *other[static_cast<std::size_t>(k)];
      for (std::int64_t r = 0; r < a.rows(); ++r) {
        std::copy(a.data() + r * a.cols(), a.data() + (r + 1) * a.cols(), &f2[k][r][0]);
        m2[k][r] = true;
      }
    }
  }
  return out;
}

void GraphBatchLoader::startEpoch(int epoch) {
  stop();
  epoch_ = epoch;
  plan_ = planBatches(items_, batchSize_, seed_, epoch, bucket_);
  if (world_ > 1) {
    for (auto& b : plan_) {
      std::vector<int> mine;
      for (std::size_t i = static_cast<std::size_t>(rank_); i < b.size(); i += static_cast<std::size_t>(world_)) mine.push_back(b[i]);
      b = std::move(mine);
    }
    std::erase_if(plan_, [](const std::vector<int>& b) { return b.empty(); });
  }
  ready_.clear();
  delivered_ = produced_ = 0;
  stopping_ = false;
  error_ = nullptr;
  worker_ = std::thread([this] {
    // Tensors built here are plain CPU memory; no autograd state is involved.
    torch::NoGradGuard noGrad;
    for (std::size_t i = 0; i < plan_.size(); ++i) {
      {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return stopping_ || ready_.size() < static_cast<std::size_t>(prefetch_); });
        if (stopping_) return;
      }
      try {
        auto batch = load(plan_[i]);
        std::lock_guard lock(m_);
        ready_.push_back(std::move(batch));
        ++produced_;
      } catch (...) {
        std::lock_guard lock(m_);
        error_ = std::current_exception();
        cv_.notify_all();
        return;
      }
      cv_.notify_all();
    }
  });
}

std::optional<GraphBatch> GraphBatchLoader::next() {
  std::unique_lock lock(m_);
  if (delivered_ >= plan_.size()) return std::nullopt;
  cv_.wait(lock, [&] { return !ready_.empty() || error_; });
  if (ready_.empty() && error_) std::rethrow_exception(error_);
  GraphBatch b = std::move(ready_.front());
  ready_.pop_front();
  ++delivered_;
  cv_.notify_all();
  return b;
}

}  // namespace bg::train
