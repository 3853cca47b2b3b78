// BrainGFM pre-training on a small synthetic corpus: losses fall, GMAE knows which node it
// reconstructs, checkpoints resume the same loss curve.
#include <QTest>

#include <algorithm>
#include <cmath>
#include <random>

#include "TestSupport.h"
#include "errors/Error.h"
#include "train/Pretrainer.h"

using namespace bg;
using namespace bg::train;

namespace {
// Graphs with two or three correlated blocks, of two sizes (two "atlases").
std::vector<DatasetItem> syntheticCorpus(ArrayStore& store, int count) {
  std::mt19937 rng(5);
  std::normal_distribution<double> g;
  std::vector<DatasetItem> items;
  for (int i = 0; i < count; ++i) {
    const int n = i % 2 ? 24 : 32, blocks = 2 + i % 3;
    Eigen::MatrixXd x(60, n);
    Eigen::MatrixXd common(60, blocks);
    for (int t = 0; t < 60; ++t)
      for (int b = 0; b < blocks; ++b) common(t, b) = g(rng);
    for (int t = 0; t < 60; ++t)
      for (int r = 0; r < n; ++r) x(t, r) = common(t, r % blocks) + 0.7 * g(rng);
    Eigen::MatrixXd c = x.rowwise() - x.colwise().mean();
    Eigen::MatrixXd cov = c.transpose() * c;
    const Eigen::VectorXd d = cov.diagonal().cwiseSqrt().cwiseInverse();
    const Eigen::MatrixXd fc = d.asDiagonal() * cov * d.asDiagonal();
    items.push_back({store.put(fc), i % 2, n, i, store.put(x)});  // the series: for crop augmentation
  }
  return items;
}

PretrainConfig smallConfig(const std::string& mode, int epochs) {
  PretrainConfig c;
  c.model.hidden = 32;
  c.model.heads = 4;
  c.model.ffn = 64;
  c.model.featureWidth = 48;
  c.model.textDimension = 8;
  c.model.attentionLayers = 2;
  c.model.gnnLayers = 2;
  c.model.dropout = 0.1;
  c.mode = mode;
  c.epochs = epochs;
  c.batchSize = 8;
  c.learningRate = 2e-3;
  c.seed = 11;
  return c;
}

struct CancelAtEpoch final : ProgressDelegate {
  std::string stop;
  bool cancelled = false;
  explicit CancelAtEpoch(std::string s) : stop(std::move(s)) {}
  bool update(std::string_view stage, double) override {
    if (stage.rfind(stop, 0) == 0) cancelled = true;
    return cancelled;
  }
  bool cancelRequested() const override { return cancelled; }
};
}  // namespace

class TestPretrain : public QObject {
  Q_OBJECT
  std::filesystem::path dir_;
  std::unique_ptr<ArrayStore> store_;
  std::vector<DatasetItem> items_;

 private Q_SLOTS:
  void initTestCase() {
    torch::set_num_threads(1);
    dir_ = bgtest::scratchDir("pretrain");
    store_ = std::make_unique<ArrayStore>(dir_ / "arrays");
    items_ = syntheticCorpus(*store_, 32);
  }

  void bothLossesFall() {
    NullProgress p;
    const auto r = runPretraining(*store_, items_, smallConfig("sum", 8), dir_ / "sum.ckpt", false, {}, p);
    QCOMPARE(r.epochLosses.size(), std::size_t(8));
    qInfo("GCL %.4f -> %.4f, GMAE %.4f -> %.4f", r.epochLosses.front().gcl, r.epochLosses.back().gcl, r.epochLosses.front().gmae, r.epochLosses.back().gmae);
    QVERIFY(r.epochLosses.back().gcl < 0.9 * r.epochLosses.front().gcl);
    QVERIFY(r.epochLosses.back().gmae < 0.9 * r.epochLosses.front().gmae);
  }

  void sequentialModeSwitchesObjectives() {
    NullProgress p;
    const auto r = runPretraining(*store_, items_, smallConfig("sequential", 4), dir_ / "seq.ckpt", false, {}, p);
    QVERIFY(r.epochLosses[0].gcl > 0 && r.epochLosses[0].gmae == 0);
    QVERIFY(r.epochLosses[3].gcl == 0 && r.epochLosses[3].gmae > 0);
  }

  // One brain through two parcellations: every scan has a 32-node graph ("big") and a 24-node one
  // ("small"). The loader's second view of an item is the same scan's graph in the other atlas, with
  // its own mask; pre-training runs on the mixed corpus with one [A/P] token per atlas.
  void crossAtlasViewsPairOneBrainInTwoAtlases() {
    std::vector<DatasetItem> mixed;
    for (int scan = 0; scan < 16; ++scan)
      for (int a = 0; a < 2; ++a) {
        auto it = items_[static_cast<std::size_t>(2 * scan + a)];  // sizes alternate 32, 24
        it.scanId = 1000 + scan;
        it.atlas = it.nodes == 32 ? "big" : "small";
        mixed.push_back(it);
      }
    mixed.push_back(items_[0]);  // a scan seen through one atlas only
    mixed.back().scanId = 5000;
    mixed.back().atlas = "big";
    GraphBatchLoader loader(*store_, mixed, 8, 3, true, 1);
    QCOMPARE(loader.setCrossAtlasViews(true), std::size_t(32));
    loader.startEpoch(0);
    int batches = 0, alone = 0;
    while (auto b = loader.next()) {
      ++batches;
      QVERIFY(b->fcSecond.defined() && b->maskSecond.defined());
      for (std::size_t k = 0; k < b->items.size(); ++k) {
        const auto& item = mixed[static_cast<std::size_t>(b->items[k])];
        QCOMPARE(b->atlases[k], item.atlas);
        const auto n = item.nodes;
        if (item.scanId == 5000) {  // no partner: its own graph again
          ++alone;
          QCOMPARE(b->atlasesSecond[k], std::string("big"));
          QVERIFY(torch::equal(b->fcSecond[static_cast<long>(k)].narrow(0, 0, n).narrow(1, 0, n), b->fc[static_cast<long>(k)].narrow(0, 0, n).narrow(1, 0, n)));
          continue;
        }
        QVERIFY(b->atlasesSecond[k] != item.atlas);
        const auto& partner = *std::find_if(mixed.begin(), mixed.end(), [&](const DatasetItem& o) { return o.scanId == item.scanId && o.atlas != item.atlas; });
        const auto m = partner.nodes;
        QCOMPARE(b->maskSecond[static_cast<long>(k)].sum().item<std::int64_t>(), m);
        const Eigen::MatrixXd expected = store_->read(partner.fcArray);
        const auto got = b->fcSecond[static_cast<long>(k)].narrow(0, 0, m).narrow(1, 0, m).to(torch::kDouble).contiguous();
        QVERIFY((Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(got.data_ptr<double>(), m, m) - expected)
                    .cwiseAbs()
                    .maxCoeff() < 1e-6);
      }
    }
    QCOMPARE(alone, 1);
    QVERIFY(batches >= 5);  // bucketed by node count: the two atlases never share a batch
    // Pre-training on the mixed corpus with cross-atlas views; each atlas has its own token.
    auto config = smallConfig("sum", 3);
    config.crossAtlasViews = true;
    NullProgress p;
    const AtlasTexts texts = {{"big", torch::ones({8})}, {"small", -torch::ones({8})}};
    const auto r = runPretraining(*store_, mixed, config, dir_ / "cross.ckpt", false, {}, p, torch::kCPU, nullptr, texts);
    QCOMPARE(r.epochLosses.size(), std::size_t(3));
    for (const auto& l : r.epochLosses) QVERIFY(std::isfinite(l.gcl) && l.gcl > 0 && std::isfinite(l.gmae));
    // The atlas token matters: the same step with both atlases' tokens swapped gives another loss.
    GraphBatchLoader one(*store_, mixed, 64, 3, true, 1);
    one.setCrossAtlasViews(true);
    one.startEpoch(0);
    const auto b = *one.next();
    std::vector<std::int64_t> ids;
    for (int i : b.items) ids.push_back(mixed[static_cast<std::size_t>(i)].scanId);
    auto lossWith = [&](const AtlasTexts& t) {
      Pretrainer trainer(config);
      trainer.setAtlasTexts(t);
      return trainer.step(b, ids, 0).gcl;
    };
    QVERIFY(std::abs(lossWith(texts) - lossWith({{"big", -torch::ones({8})}, {"small", torch::ones({8})}})) > 1e-6);
    // A corpus of one atlas has no pair to give.
    try {
      runPretraining(*store_, items_, config, dir_ / "never.ckpt", false, {}, p);
      QFAIL("no exception");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find("cross_atlas_views") != std::string::npos, e.what());
    }
    auto both = config.toJson();
    both["crop_augmentation"] = 0.5;
    both["contrastive_windows"] = true;
    QVERIFY_THROWS_EXCEPTION(Error, PretrainConfig::fromJson(both));
  }

  void gmaeKnowsWhichNodeItReconstructs() {
    Pretrainer t(smallConfig("gmae", 1));
    GraphBatchLoader loader(*store_, items_, 4, 1, true);
    loader.startEpoch(0);
    const auto b = loader.next();
    const auto in = model::makeGraphInput(b->fc, b->mask, torch::zeros({8}), torch::zeros({8}), t.config().model);
    auto masked = torch::zeros_like(b->mask);
    masked.select(1, 0).fill_(true);
    masked.select(1, 1).fill_(true);
    torch::NoGradGuard ng;
    t.encoder()->eval();
    const auto pred = t.reconstruct(in, masked);
    // Two masked nodes of the same graph get different predictions.
    QVERIFY((pred[0][0] - pred[0][1]).abs().max().item<float>() > 1e-3f);
  }

  // Crop augmentation in pre-training: every epoch reads FC from other windows of the series, so the
  // losses differ from pre-training on the stored FC, and are reproducible from the seed.
  void cropAugmentationGivesEachEpochOtherGraphs() {
    NullProgress p;
    auto config = smallConfig("sum", 2);
    const auto plain = runPretraining(*store_, items_, config, dir_ / "plain.ckpt", false, {}, p);
    config.cropAugmentation = 0.5;
    const auto cropped = runPretraining(*store_, items_, config, dir_ / "crop.ckpt", false, {}, p);
    const auto again = runPretraining(*store_, items_, config, dir_ / "crop-again.ckpt", false, {}, p);
    QCOMPARE(cropped.epochLosses.size(), std::size_t(2));
    for (std::size_t e = 0; e < 2; ++e) {
      QCOMPARE(cropped.epochLosses[e].total, again.epochLosses[e].total);
      QVERIFY2(std::fabs(cropped.epochLosses[e].total - plain.epochLosses[e].total) > 1e-6,
               qPrintable(QString("%1 vs %2").arg(cropped.epochLosses[e].total).arg(plain.epochLosses[e].total)));
    }
    // Contrastive windows: GCL's second view is another window, so the losses move again, reproducibly.
    config.contrastiveWindows = true;
    const auto windows = runPretraining(*store_, items_, config, dir_ / "windows.ckpt", false, {}, p);
    const auto windowsAgain = runPretraining(*store_, items_, config, dir_ / "windows-again.ckpt", false, {}, p);
    for (std::size_t e = 0; e < 2; ++e) {
      QCOMPARE(windows.epochLosses[e].gcl, windowsAgain.epochLosses[e].gcl);
      QVERIFY2(std::fabs(windows.epochLosses[e].gcl - cropped.epochLosses[e].gcl) > 1e-6,
               qPrintable(QString("%1 vs %2").arg(windows.epochLosses[e].gcl).arg(cropped.epochLosses[e].gcl)));
    }
    QVERIFY(PretrainConfig::fromJson(config.toJson()).contrastiveWindows);
    auto noCrop = config.toJson();
    noCrop.erase("crop_augmentation");
    QVERIFY_THROWS_EXCEPTION(Error, PretrainConfig::fromJson(noCrop));  // two windows need windows
    config.contrastiveWindows = false;
    // The configuration: kept only when on (older configurations and caches stay the same), in [0.3, 1).
    QVERIFY(!smallConfig("sum", 2).toJson().contains("crop_augmentation"));
    QVERIFY(!smallConfig("sum", 2).toJson().contains("contrastive_windows"));
    QCOMPARE(PretrainConfig::fromJson(config.toJson()).cropAugmentation, 0.5);
    auto bad = config.toJson();
    for (double share : {0.2, 1.0, -0.5}) {
      bad["crop_augmentation"] = share;
      QVERIFY_THROWS_EXCEPTION(Error, PretrainConfig::fromJson(bad));
    }
  }

  void resumeReproducesTheLossCurve() {
    NullProgress p;
    const auto full = runPretraining(*store_, items_, smallConfig("sum", 4), dir_ / "full.ckpt", false, {{"corpus", "synthetic"}}, p);
    // Interrupted during epoch 3, then resumed from the checkpoint written after epoch 2.
    CancelAtEpoch cancel("epoch 3/");
    QVERIFY_THROWS_EXCEPTION(CancelledError,
                             runPretraining(*store_, items_, smallConfig("sum", 4), dir_ / "cut.ckpt", false, {{"corpus", "synthetic"}}, cancel));
    QVERIFY(std::filesystem::exists(dir_ / "cut.ckpt"));
    const auto resumed = runPretraining(*store_, items_, smallConfig("sum", 4), dir_ / "cut.ckpt", true, {{"corpus", "synthetic"}}, p);
    QCOMPARE(resumed.startEpoch, 2);
    QCOMPARE(resumed.epochLosses.size(), std::size_t(2));
    for (int e = 0; e < 2; ++e) {
      QVERIFY2(std::fabs(resumed.epochLosses[static_cast<std::size_t>(e)].total - full.epochLosses[static_cast<std::size_t>(e + 2)].total) < 1e-5,
               (std::to_string(resumed.epochLosses[static_cast<std::size_t>(e)].total) + " vs " +
                std::to_string(full.epochLosses[static_cast<std::size_t>(e + 2)].total))
                   .c_str());
    }
    // A checkpoint of another architecture is refused.
    auto other = smallConfig("sum", 4);
    other.model.hidden = 16;
    Pretrainer t(other);
    QVERIFY_THROWS_EXCEPTION(Error, t.loadCheckpoint(dir_ / "full.ckpt"));
    const auto extra = Pretrainer(smallConfig("sum", 4)).loadCheckpoint(dir_ / "full.ckpt");
    QCOMPARE(extra.first, 4);
    QVERIFY(extra.second["corpus"] == "synthetic");
  }
};

QTEST_APPLESS_MAIN(TestPretrain)
#include "test_pretrain.moc"
