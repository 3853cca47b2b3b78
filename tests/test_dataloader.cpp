// Graph batches from a workspace's arrays: bucketing, padding masks, determinism, prefetching.
#include <QTest>

#include <set>

#include "TestSupport.h"
#include "errors/Error.h"
#include "train/GraphBatchLoader.h"
#include "workspace/ArrayStore.h"
#include "workspace/CorpusDataset.h"

using namespace bg;

class TestDataLoader : public QObject {
  Q_OBJECT
  std::unique_ptr<ArrayStore> store_;
  std::vector<DatasetItem> items_;

 private Q_SLOTS:
  void initTestCase() {
    store_ = std::make_unique<ArrayStore>(bgtest::scratchDir("loader") / "arrays");
    // 30 graphs of three atlas sizes; each matrix holds its own index so batches can be traced.
    const int sizes[] = {100, 116, 200};
    for (int i = 0; i < 30; ++i) {
      const int n = sizes[i % 3];
      Eigen::MatrixXd m = Eigen::MatrixXd::Constant(n, n, static_cast<double>(i));
      m(0, 0) = -1.0 - i;
      items_.push_back({store_->put(m), i % 2, n, i});
    }
  }

  void bucketsNeverMixSizes() {
    const auto plan = planBatches(items_, 4, 7, 0, true);
    std::set<int> seen;
    for (const auto& b : plan) {
      QVERIFY(b.size() <= 4);
      for (int i : b) {
        QCOMPARE(items_[static_cast<std::size_t>(i)].nodes, items_[static_cast<std::size_t>(b.front())].nodes);
        QVERIFY(seen.insert(i).second);
      }
    }
    QCOMPARE(seen.size(), items_.size());
    // Deterministic per (seed, epoch); epochs differ.
    QVERIFY(planBatches(items_, 4, 7, 0, true) == plan);
    QVERIFY(planBatches(items_, 4, 7, 1, true) != plan);
    // Padding mode mixes sizes.
    bool mixed = false;
    for (const auto& b : planBatches(items_, 8, 7, 0, false))
      for (int i : b) mixed = mixed || items_[static_cast<std::size_t>(i)].nodes != items_[static_cast<std::size_t>(b.front())].nodes;
    QVERIFY(mixed);
  }

  void loaderDeliversTensorsInPlanOrder() {
    train::GraphBatchLoader loader(*store_, items_, 4, 7, false, 2);
    loader.startEpoch(0);
    const auto plan = planBatches(items_, 4, 7, 0, false);
    std::size_t k = 0;
    while (auto b = loader.next()) {
      QVERIFY(b->items == plan[k]);
      const auto n = b->fc.size(1);
      QCOMPARE(b->fc.dim(), int64_t(3));
      for (std::size_t j = 0; j < b->items.size(); ++j) {
        const auto& item = items_[static_cast<std::size_t>(b->items[j])];
        const auto jj = static_cast<int64_t>(j);
        QCOMPARE(b->labels[jj].item<int64_t>(), static_cast<int64_t>(item.label));
        QCOMPARE(b->fc[jj][1][1].item<float>(), static_cast<float>(item.scanId));
        QCOMPARE(b->fc[jj][0][0].item<float>(), -1.0f - static_cast<float>(item.scanId));
        QCOMPARE(b->mask[jj].sum().item<int64_t>(), item.nodes);
        if (item.nodes < n) {
          QCOMPARE(b->fc[jj][item.nodes][0].item<float>(), 0.0f);  // padding
          QVERIFY(!b->mask[jj][item.nodes].item<bool>());
        }
      }
      ++k;
    }
    QCOMPARE(k, plan.size());
    // A second epoch restarts cleanly.
    loader.startEpoch(1);
    int count = 0;
    while (loader.next()) ++count;
    QCOMPARE(static_cast<std::size_t>(count), loader.batchesPerEpoch());
  }

  void corruptArraySurfacesAsError() {
    auto items = items_;
    std::filesystem::resize_file(store_->pathOf(items[3].fcArray), 80);
    train::GraphBatchLoader loader(*store_, items, 30, 1, false, 1);
    loader.startEpoch(0);
    QVERIFY_THROWS_EXCEPTION(Error, loader.next());
  }
};

QTEST_APPLESS_MAIN(TestDataLoader)
#include "test_dataloader.moc"
