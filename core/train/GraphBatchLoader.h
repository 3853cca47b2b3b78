#pragma once
// Batches of brain graphs as LibTorch tensors, read from the workspace's memory-mapped
// arrays by a background prefetch thread, in the deterministic order planBatches gives.
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "workspace/ArrayStore.h"
#include "workspace/CorpusDataset.h"

namespace bg::train {

struct GraphBatch {
  torch::Tensor fc;        // [B, N, N] float32, zero-padded beyond each graph's nodes
  torch::Tensor mask;      // [B, N] bool, true on real nodes
  torch::Tensor labels;    // [B] int64
  std::vector<int> items;  // indices into the dataset
  // With a second window (setSecondWindow): each item's FC from another random window of its series,
  // the other contrastive view of pre-training; undefined otherwise.
  torch::Tensor fcSecond;  // [B, N, N] float32, like fc
  // With cross-atlas views (setCrossAtlasViews): the same scans' graphs in another atlas, [B, M, M],
  // with their own mask [B, M] (fcSecond holds them; M may differ from N).
  torch::Tensor maskSecond;
  std::vector<std::string> atlases, atlasesSecond;  // each graph's parcellation (DatasetItem::atlas)
  // Items with views (DatasetItem::views, a fused multi-atlas model's): view k of every item, as a batch.
  std::vector<GraphBatch> views;
};

class GraphBatchLoader {
 public:
  GraphBatchLoader(const ArrayStore& store, std::vector<DatasetItem> items, int batchSize, unsigned seed, bool bucketByNodes = true, int prefetch = 4);
  ~GraphBatchLoader();
  // Starts an epoch: plans its batches and starts prefetching them.
  void startEpoch(int epoch);
  // The next batch of the epoch, or nothing at its end. Rethrows a reading error (bg::Error).
  std::optional<GraphBatch> next();
  std::size_t batchesPerEpoch() const { return plan_.size(); }
  // Data-parallel training: this process loads only positions rank, rank + world, ... of every batch.
  void setShard(int rank, int worldSize) {
    rank_ = rank;
    world_ = std::max(1, worldSize);
  }

  // Training augmentation: each item's FC is the Pearson correlation of a random window of `fraction`
  // of its stored time series (at least 20 time points), drawn anew every epoch and reproducible from
  // the seed, the epoch and the item. Items without a stored series keep their FC. 0 turns it off.
  void setCropAugmentation(double fraction) { crop_ = fraction; }
  // With crop augmentation: also fill GraphBatch::fcSecond from a second window drawn independently of
  // the first (items without a stored series repeat their FC).
  void setSecondWindow(bool on) { secondWindow_ = on; }
  // Multi-atlas pre-training: fill GraphBatch::fcSecond and maskSecond with each item's scan seen
  // through another atlas of the corpus (one drawn per epoch and item, reproducibly), so the
  // contrastive positive pair is one brain in two parcellations. An item whose scan has no graph in
  // another atlas repeats its own graph. Returns how many items have a partner.
  std::size_t setCrossAtlasViews(bool on);

  // Builds one batch (used by the prefetch thread; public for tests).
  GraphBatch load(const std::vector<int>& batch) const;

 private:
  void stop();
  const ArrayStore& store_;
  std::vector<DatasetItem> items_;
  int batchSize_, prefetch_;
  unsigned seed_;
  bool bucket_;
  double crop_ = 0;
  bool secondWindow_ = false;
  std::vector<std::vector<int>> partners_;  // cross-atlas views: per item, the same scan's items in other atlases
  int epoch_ = 0;
  int rank_ = 0, world_ = 1;
  std::vector<std::vector<int>> plan_;
  std::thread worker_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<GraphBatch> ready_;
  std::size_t delivered_ = 0, produced_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
};

}  // namespace bg::train
