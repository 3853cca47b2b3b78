#include "train/GraphBatchLoader.h"

#include <algorithm>

namespace bg::train {

GraphBatchLoader::GraphBatchLoader(const ArrayStore& store, std::vector<DatasetItem> items, int batchSize, unsigned seed,
                                   bool bucketByNodes, int prefetch)
    : store_(store), items_(std::move(items)), batchSize_(batchSize), prefetch_(std::max(1, prefetch)), seed_(seed), bucket_(bucketByNodes) {}

GraphBatchLoader::~GraphBatchLoader() { stop(); }

void GraphBatchLoader::stop() {
  {
    std::lock_guard lock(m_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

GraphBatch GraphBatchLoader::load(const std::vector<int>& batch) const {
  std::int64_t n = 0;
  std::vector<std::unique_ptr<MappedArray>> arrays;
  for (int i : batch) {
    arrays.push_back(store_.map(items_[static_cast<std::size_t>(i)].fcArray));
    n = std::max(n, arrays.back()->rows());
  }
  const auto b = static_cast<std::int64_t>(batch.size());
  GraphBatch out;
  out.fc = torch::zeros({b, n, n}, torch::kFloat32);
  out.mask = torch::zeros({b, n}, torch::kBool);
  out.labels = torch::empty({b}, torch::kInt64);
  auto fc = out.fc.accessor<float, 3>();
  auto mask = out.mask.accessor<bool, 2>();
  auto labels = out.labels.accessor<std::int64_t, 1>();
  for (std::int64_t k = 0; k < b; ++k) {
    const auto& a = *arrays[static_cast<std::size_t>(k)];
    for (std::int64_t r = 0; r < a.rows(); ++r) {
      std::copy(a.data() + r * a.cols(), a.data() + (r + 1) * a.cols(), &fc[k][r][0]);
      mask[k][r] = true;
    }
    labels[k] = items_[static_cast<std::size_t>(batch[static_cast<std::size_t>(k)])].label;
  }
  out.items = batch;
  return out;
}

void GraphBatchLoader::startEpoch(int epoch) {
  stop();
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
