// Adapting BrainGFM: calibration, the tuning methods' trainable parts, LoRA/prompt identity at
// start, learning a synthetic task, MAML's second-order gradient against finite differences,
// explanations, and model files.
#include <QTest>

#include <cmath>
#include <fstream>
#include <unistd.h>
#include <random>
#include <set>

#include "TestSupport.h"
#include "errors/Error.h"
#include "eval/Calibration.h"
#include "eval/Metrics.h"
#include "eval/OutOfDistribution.h"
#include "eval/Prediction.h"
#include "train/Explainer.h"
#include "train/GraphBatchLoader.h"
#include "train/MetaLearner.h"
#include "train/ModelFile.h"
#include "eval/Baselines.h"
#include "train/EdgeReadoutFit.h"
#include "train/Tuner.h"
#include "settings/DataPaths.h"
#include "train/Experiment.h"
#include "train/TransformedGraphs.h"
#include "workspace/ArrayStore.h"
#include "workspace/Corpus.h"

using namespace bg;
using namespace bg::train;
using model::AdaptationSpec;
using model::BrainGfmConfig;
using model::DownstreamModel;

namespace {
// Class 1 graphs carry an extra shared signal among nodes 0..5; class 0 graphs do not.
std::vector<DatasetItem> labelledCorpus(ArrayStore& store, int count, int n, unsigned seed, double strength = 1.2) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g;
  std::vector<DatasetItem> items;
  for (int i = 0; i < count; ++i) {
    const int label = i % 2;
    Eigen::MatrixXd x(80, n);
    for (int t = 0; t < 80; ++t) {
      const double shared = g(rng), block = g(rng);
      for (int r = 0; r < n; ++r) x(t, r) = 0.5 * shared + g(rng) + (label && r < 6 ? strength * block : 0.0);
    }
    Eigen::MatrixXd c = x.rowwise() - x.colwise().mean();
    Eigen::MatrixXd cov = c.transpose() * c;
    const Eigen::VectorXd d = cov.diagonal().cwiseSqrt().cwiseInverse();
    items.push_back({store.put(d.asDiagonal() * cov * d.asDiagonal()), label, n, 1000 + i, store.put(x)});
  }
  return items;
}

BrainGfmConfig tinyConfig() {
  BrainGfmConfig c;
  c.hidden = 16;
  c.heads = 2;
  c.ffn = 32;
  c.featureWidth = 32;
  c.textDimension = 8;
  c.attentionLayers = 2;
  c.gnnLayers = 2;
  c.dropout = 0.0;
  return c;
}

TaskTexts texts(int dim, float task = 0.3f) { return {torch::full({dim}, task), torch::linspace(-1, 1, dim)}; }

model::GraphBatchInput batchOf(const ArrayStore& store, const std::vector<DatasetItem>& items, const BrainGfmConfig& c, std::vector<int> idx,
                               const TaskTexts& t) {
  GraphBatchLoader loader(store, items, 8, 0, false, 0);
  const auto b = loader.load(idx);
  return model::makeGraphInput(b.fc, b.mask, t.task, t.atlas, c);
}

std::int64_t numel(const std::vector<torch::Tensor>& ts) {
  std::int64_t n = 0;
  for (const auto& t : ts) n += t.numel();
  return n;
}
}  // namespace

class TestTuning : public QObject {
  Q_OBJECT
  std::filesystem::path dir_;
  std::unique_ptr<ArrayStore> store_;
  std::vector<DatasetItem> items_;

 private Q_SLOTS:
  void initTestCase() {
    torch::set_num_threads(1);
    dir_ = bgtest::scratchDir("tuning");
    store_ = std::make_unique<ArrayStore>(dir_ / "arrays");
    items_ = labelledCorpus(*store_, 96, 20, 3);
  }

  void temperatureScalingRecoversTheTrueTemperature() {
    std::mt19937 rng(1);
    std::normal_distribution<double> g(0.0, 3.0);
    std::uniform_real_distribution<double> u;
    const double trueT = 2.5;
    std::vector<double> margins;
    std::vector<int> labels;
    for (int i = 0; i < 20000; ++i) {
      const double m = g(rng);
      margins.push_back(m);
      labels.push_back(u(rng) < sigmoid(m / trueT) ? 1 : 0);
    }
    const double t = fitTemperature(margins, labels);
    QVERIFY2(std::abs(t - trueT) < 0.15, qPrintable(QString::number(t)));
    // Calibrated probabilities have a smaller ECE than the over-confident raw ones.
    const double before = expectedCalibrationError(calibratedProbabilities(margins, 1.0), labels);
    const double after = expectedCalibrationError(calibratedProbabilities(margins, t), labels);
    QVERIFY2(after < 0.02 && before > 0.1, qPrintable(QString("%1 %2").arg(before).arg(after)));
    QCOMPARE(fitTemperature({1.0, 2.0}, {1, 1}), 1.0);  // one class: nothing to learn
  }

  // Platt scaling finds a known temperature and bias, and its optimum has a zero NLL gradient in
  // both parameters (computed here by hand), which temperature scaling alone cannot reach.
  void tangentInputIsFittedPerFoldAndTravelsToPrediction() {
    ArrayStore store(dir_ / "tangent-store");
    const auto items = labelledCorpus(store, 40, 12, 17);
    const std::vector<DatasetItem> training(items.begin(), items.begin() + 30);
    GraphInputSpec spec;
    spec.kind = "tangent";
    spec.standardiseEdges = true;
    const auto transform = fitGraphInput(spec, store, training);
    // The same as fitting on the training scans' matrices directly.
    std::vector<Eigen::MatrixXd> fc, series;
    for (const auto& it : training) {
      fc.push_back(store.read(it.fcArray));
      series.push_back(store.read(it.seriesArray));
    }
    const auto direct = GraphInputTransform::fit(spec, fc, series);
    const auto scratch = dir_ / "scratch";
    std::filesystem::create_directories(scratch);
    const auto orphan = scratch / "graph-input-2147483646-0";  // no such process: a killed run's leftovers
    const auto alive = scratch / ("graph-input-" + std::to_string(::getpid()) + "-999");
    std::filesystem::create_directories(orphan);
    std::filesystem::create_directories(alive);
    {
      TransformedGraphs graphs(store, transform, scratch);
      QVERIFY(!std::filesystem::exists(orphan));
      QVERIFY(std::filesystem::exists(alive));
      const auto mapped = graphs.remap(items);
      QCOMPARE(mapped.size(), items.size());
      for (std::size_t k = 0; k < items.size(); ++k) {
        QCOMPARE(mapped[k].scanId, items[k].scanId);
        QCOMPARE(mapped[k].label, items[k].label);
        const Eigen::MatrixXd expected = direct.apply(store.read(items[k].fcArray), store.read(items[k].seriesArray));
        QVERIFY((graphs.store().read(mapped[k].fcArray) - expected).cwiseAbs().maxCoeff() < 1e-4 * std::max(1.0, expected.cwiseAbs().maxCoeff()));
      }
      QVERIFY(!store.contains(mapped[0].fcArray));  // the workspace store is left as it was
    }
    int left = 0;
    for (const auto& e : std::filesystem::directory_iterator(scratch)) left += e.path() != alive;
    QCOMPARE(left, 0);  // the temporary store goes with its owner
    // The identity passes items and store through.
    TransformedGraphs identity(store, GraphInputTransform{}, scratch);
    QCOMPARE(identity.remap(items)[3].fcArray, items[3].fcArray);
    QCOMPARE(&identity.store(), &store);
    auto noSeries = training;
    noSeries[4].seriesArray.clear();
    QVERIFY_THROWS_EXCEPTION(Error, fitGraphInput(spec, store, noSeries));

    // A model file carrying the transform: predict applies it to the scan's series before the model.
    auto c = tinyConfig();
    torch::manual_seed(3);
    DownstreamModel m(c, AdaptationSpec{}, 2, 12);
    m->eval();
    nlohmann::json record;
    const nlohmann::json manifest = {{"classes", {"control", "autism"}}, {"label_field", "diagnosis"}, {"atlas", "test12"}};
    const auto taskTexts = corpusTaskTexts(manifest, c.textDimension, &record);
    const nlohmann::json card = {{"kind", kDownstreamKind},
                                 {"model", c.toJson()},
                                 {"adaptation", AdaptationSpec{}.toJson()},
                                 {"classes", {"control", "autism"}},
                                 {"nodes", 12},
                                 {"max_nodes", 12},
                                 {"temperature", 1.7},
                                 {"texts", record},
                                 {"input_transform", transform.toJson()}};
    const auto file = dir_ / "tangent.pt";
    saveModelFile(file, m, card);
    const auto& scan = items[35];  // not a training scan
    const Eigen::MatrixXd rawFc = store.read(scan.fcArray), rawSeries = store.read(scan.seriesArray);
    model::GraphInput g;
    g.file = "scan35";
    g.nodes = 12;
    for (Eigen::Index i = 0; i < 12; ++i)
      for (Eigen::Index j = 0; j < 12; ++j) g.fc.push_back(static_cast<float>(rawFc(i, j)));
    g.timepoints = static_cast<int>(rawSeries.rows());
    for (Eigen::Index t = 0; t < rawSeries.rows(); ++t)
      for (Eigen::Index j = 0; j < 12; ++j) g.series.push_back(static_cast<float>(rawSeries(t, j)));
    NullProgress progress;
    const double p = predictGraphs(file.string(), {g}, false, progress, torch::kCPU).at(0).at("probability").get<double>();
    auto probabilityOf = [&](const Eigen::MatrixXd& matrix) {
      const Eigen::MatrixXf f = matrix.cast<float>();
      auto t = torch::empty({1, 12, 12});
      for (int i = 0; i < 12; ++i)
        for (int j = 0; j < 12; ++j) t[0][i][j] = f(i, j);
      torch::NoGradGuard ng;
      const auto in = model::makeGraphInput(t, torch::ones({1, 12}, torch::kBool), taskTexts.task, taskTexts.atlas, c);
      return 1.0 / (1.0 + std::exp(-model::logitMargin(m->forward(in)).item<double>() / 1.7));
    };
    const double expected = probabilityOf(direct.apply(rawFc, rawSeries));
    QVERIFY2(std::abs(p - expected) < 1e-5, qPrintable(QString("%1 vs %2").arg(p).arg(expected)));
    QVERIFY(std::abs(probabilityOf(rawFc) - expected) > 1e-4);  // the transform matters: the test could fail
    g.series.clear();
    QVERIFY_THROWS_EXCEPTION(Error, predictGraphs(file.string(), {g}, false, progress, torch::kCPU));
  }

  void ensembleFilePredictsTheMeanOfItsMembers() {
    auto c = tinyConfig();
    AdaptationSpec scratch;
    scratch.method = "scratch";
    torch::manual_seed(11);
    DownstreamModel a(c, scratch, 2, 12), b(c, scratch, 2, 12);
    a->eval();
    b->eval();
    nlohmann::json record;
    const nlohmann::json manifest = {{"classes", {"control", "autism"}}, {"label_field", "diagnosis"}, {"atlas", "test12"}};
    const auto taskTexts = corpusTaskTexts(manifest, c.textDimension, &record);
    nlohmann::json card = {{"kind", kDownstreamKind},
                           {"model", c.toJson()},
                           {"adaptation", scratch.toJson()},
                           {"classes", {"control", "autism"}},
                           {"nodes", 12},
                           {"max_nodes", 12},
                           {"temperature", 1.3},
                           {"calibration_bias", 0.2},
                           {"texts", record},
                           {"ensemble", {{{"temperature", 1.3}, {"calibration_bias", 0.2}}, {{"temperature", 0.7}, {"calibration_bias", -0.4}}}}};
    const auto file = dir_ / "ensemble.pt";
    ArrayStore store(dir_ / "ensemble-store");
    const auto items = labelledCorpus(store, 24, 12, 23);
    const auto inputOf = [&](const DatasetItem& item) {
      const Eigen::MatrixXd m = store.read(item.fcArray);
      auto t = torch::empty({1, 12, 12});
      for (int i = 0; i < 12; ++i)
        for (int j = 0; j < 12; ++j) t[0][i][j] = static_cast<float>(m(i, j));
      return model::makeGraphInput(t, torch::ones({1, 12}, torch::kBool), taskTexts.task, taskTexts.atlas, c);
    };
    const auto embedding = [](DownstreamModel& m, const model::GraphBatchInput& x) {
      torch::NoGradGuard ng;
      const auto e = m->embed(x).to(torch::kDouble).contiguous();
      return Eigen::VectorXd(Eigen::Map<const Eigen::VectorXd>(e.data_ptr<double>(), e.numel()));
    };
    // Each member's out-of-distribution reference in its own embedding space; member 2's is fitted on
    // shifted embeddings so that the two members disagree about the scan.
    Eigen::MatrixXd embeddedA(22, c.hidden), embeddedB(22, c.hidden);
    for (int k = 0; k < 22; ++k) {
      const auto x = inputOf(items[static_cast<std::size_t>(k + 2)]);
      embeddedA.row(k) = embedding(a, x).transpose();
      embeddedB.row(k) = embedding(b, x).transpose().array() + 50.0;
    }
    card["ood"] = fitOodReference(embeddedA, "member 1", true);
    card["ensemble"][1]["ood"] = fitOodReference(embeddedB, "member 2", true);
    QVERIFY_THROWS_EXCEPTION(Error, saveModelFile(file, *a.ptr(), card, {}));  // the card declares two members
    saveModelFile(file, *a.ptr(), card, {b.ptr()});
    const auto loaded = loadModelFile(file);
    QCOMPARE(loaded.members.size(), std::size_t(2));
    const Eigen::MatrixXd fc = store.read(items[1].fcArray);
    model::GraphInput g;
    g.file = "scan";
    g.nodes = 12;
    for (Eigen::Index i = 0; i < 12; ++i)
      for (Eigen::Index j = 0; j < 12; ++j) g.fc.push_back(static_cast<float>(fc(i, j)));
    NullProgress progress;
    const auto row = predictGraphs(file.string(), {g}, true, progress, torch::kCPU).at(0);
    auto t = torch::empty({1, 12, 12});
    for (int i = 0; i < 12; ++i)
      for (int j = 0; j < 12; ++j) t[0][i][j] = static_cast<float>(fc(i, j));
    const auto in = model::makeGraphInput(t, torch::ones({1, 12}, torch::kBool), taskTexts.task, taskTexts.atlas, c);
    double marginA, marginB;
    {
      torch::NoGradGuard ng;
      marginA = model::logitMargin(a->forward(in)).item<double>();
      marginB = model::logitMargin(b->forward(in)).item<double>();
    }
    const double pa = Calibration{1.3, 0.2}.probability(marginA), pb = Calibration{0.7, -0.4}.probability(marginB);
    QVERIFY(std::abs(pa - pb) > 1e-4);  // distinct members, so the mean is not either one
    QVERIFY2(std::abs(row.at("probability").get<double>() - (pa + pb) / 2) < 1e-6,
             qPrintable(QString("%1 vs %2").arg(row.at("probability").get<double>()).arg((pa + pb) / 2)));
    QCOMPARE(row.at("ensemble").get<int>(), 2);
    // The out-of-distribution check asks every member in its own space and flags on a tie.
    const auto oodA = assessOod(card["ood"], embedding(a, in)), oodB = assessOod(card["ensemble"][1]["ood"], embedding(b, in));
    QCOMPARE(oodA["flag"].get<bool>(), false);
    QCOMPARE(oodB["flag"].get<bool>(), true);
    const auto& ood = row.at("ood");
    QCOMPARE(ood["members"].size(), std::size_t(2));
    QVERIFY(std::abs(ood["members"][0]["distance"].get<double>() - oodA["distance"].get<double>()) < 1e-9);
    QVERIFY(std::abs(ood["members"][1]["distance"].get<double>() - oodB["distance"].get<double>()) < 1e-9);
    QCOMPARE(ood["members_flagged"].get<int>(), 1);
    QCOMPARE(ood["flag"].get<bool>(), true);
    // The card summary keeps neither member's reference data.
    const auto summary = modelCardSummary(card);
    QVERIFY(!summary["ood"].contains("axes") && !summary["ensemble"][1]["ood"].contains("distances"));
    // Saliency: the members' explanations averaged.
    const auto ea = explain(a, in, 1), eb = explain(b, in, 1);
    const auto saliency = row.at("explanation").at("roi_saliency").get<std::vector<double>>();
    for (int i = 0; i < 12; ++i) QVERIFY(std::abs(saliency[static_cast<std::size_t>(i)] - (ea.roiSaliency[i] + eb.roiSaliency[i]) / 2) < 1e-6);
    // A file whose card declares more members than it stores is refused with the reason.
    card["ensemble"].push_back({{"temperature", 1.0}, {"calibration_bias", 0.0}});
    const auto broken = dir_ / "ensemble-broken.pt";
    {
      // Written by hand: three members declared, one stored.
      torch::serialize::OutputArchive archive;
      torch::serialize::OutputArchive sub;
      a->save(sub);
      archive.write("model", sub);
      archive.write("card_json", c10::IValue(card.dump()));
      archive.save_to(broken.string());
    }
    QVERIFY_THROWS_EXCEPTION(Error, loadModelFile(broken));
  }

  // Crop augmentation: each training epoch a scan's FC is the Pearson correlation of a window of its
  // time series, checked against every window computed here by hand.
  void cropAugmentationRecomputesFcFromWindows() {
    ArrayStore store(dir_ / "crop-store");
    auto items = labelledCorpus(store, 6, 10, 31);
    items[5].seriesArray.clear();  // no stored series: keeps its FC
    const auto handPearson = [](const Eigen::MatrixXd& x) {
      const Eigen::MatrixXd c = x.rowwise() - x.colwise().mean();
      const Eigen::MatrixXd cov = c.transpose() * c;
      const Eigen::VectorXd d = cov.diagonal().cwiseSqrt().cwiseInverse();
      return Eigen::MatrixXd(d.asDiagonal() * cov * d.asDiagonal());
    };
    // windows 1: fc with the loader's second window on; 2: that second window (GraphBatch::fcSecond).
    const auto epochFc = [&](double crop, int epoch, int windows = 0) {
      GraphBatchLoader loader(store, items, 6, 3, false, 1);
      loader.setCropAugmentation(crop);
      loader.setSecondWindow(windows > 0);
      loader.startEpoch(epoch);
      const auto batch = *loader.next();
      const bool secondDefined = batch.fcSecond.defined();
      if (secondDefined != (windows > 0)) qFatal("fcSecond is %s", secondDefined ? "defined without a second window" : "missing");
      const auto& source = windows == 2 ? batch.fcSecond : batch.fc;
      std::vector<Eigen::MatrixXd> fc(items.size());
      for (std::size_t k = 0; k < batch.items.size(); ++k) {
        const auto t = source[static_cast<long>(k)].to(torch::kDouble).contiguous();
        fc[static_cast<std::size_t>(batch.items[k])] =
            Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(t.data_ptr<double>(), 10, 10);
      }
      return fc;
    };
    // The whole series: the stored FC.
    const auto whole = epochFc(1.0, 0);
    for (std::size_t i = 0; i < items.size(); ++i) QVERIFY((whole[i] - store.read(items[i].fcArray)).cwiseAbs().maxCoeff() < 1e-5);
    // Half the series (40 of 80 time points): one of the 41 windows, not the whole.
    const auto half = epochFc(0.5, 0), again = epochFc(0.5, 0), later = epochFc(0.5, 1);
    for (std::size_t i = 0; i < 5; ++i) {
      const Eigen::MatrixXd x = store.read(items[i].seriesArray);
      double best = 1e9;
      for (Eigen::Index start = 0; start + 40 <= x.rows(); ++start)
        best = std::min(best, (handPearson(x.middleRows(start, 40)) - half[i]).cwiseAbs().maxCoeff());
      QVERIFY2(best < 1e-5, qPrintable(QString("scan %1: %2").arg(i).arg(best)));
      QVERIFY((half[i] - whole[i]).cwiseAbs().maxCoeff() > 1e-3);
      QCOMPARE(half[i], again[i]);  // reproducible from the seed and the epoch
    }
    QCOMPARE(half[5], whole[5]);
    bool moved = false;  // another epoch, other windows
    for (std::size_t i = 0; i < 5; ++i) moved = moved || (later[i] - half[i]).cwiseAbs().maxCoeff() > 1e-6;
    QVERIFY(moved);
    // The second window (pre-training's other contrastive view): also one of the windows, drawn
    // independently of the first; the first is unchanged by asking for it.
    const auto second = epochFc(0.5, 0, 2), firstBeside = epochFc(0.5, 0, 1);
    bool differs = false;
    for (std::size_t i = 0; i < 5; ++i) {
      const Eigen::MatrixXd x = store.read(items[i].seriesArray);
      double best = 1e9;
      for (Eigen::Index start = 0; start + 40 <= x.rows(); ++start)
        best = std::min(best, (handPearson(x.middleRows(start, 40)) - second[i]).cwiseAbs().maxCoeff());
      QVERIFY2(best < 1e-5, qPrintable(QString("scan %1's second window: %2").arg(i).arg(best)));
      differs = differs || (second[i] - half[i]).cwiseAbs().maxCoeff() > 1e-6;
      QCOMPARE(firstBeside[i], half[i]);
    }
    QVERIFY(differs);
    QCOMPARE(second[5], whole[5]);  // no series: its FC in both views
    // The configuration: a share in [0.3, 1), Pearson input only.
    QCOMPARE(TuningConfig::fromJson({{"crop_augmentation", 0.8}}).cropAugmentation, 0.8);
    QVERIFY_THROWS_EXCEPTION(Error, TuningConfig::fromJson({{"crop_augmentation", 0.2}}));
    QVERIFY_THROWS_EXCEPTION(Error, TuningConfig::fromJson({{"crop_augmentation", 1.0}}));
    QVERIFY_THROWS_EXCEPTION(Error, TuningConfig::fromJson({{"crop_augmentation", 0.8}, {"input", "tangent"}}));
  }

  void shippedTuningConfigurationsParse() {
    int seen = 0;
    for (const auto& e : std::filesystem::directory_iterator(DataPaths::resourceDir() / "configs")) {
      const auto name = e.path().filename().string();
      if (name.rfind("abide-tuning", 0) != 0 && name != "demo-braingfm.json") continue;
      std::ifstream in(e.path());
      const auto c = TuningConfig::fromJson(nlohmann::json::parse(in));
      // The shipped configurations leave the members to the default: the 5-member cross-fitted ensemble.
      QVERIFY2(c.epochs >= 1 && c.ensemble == TuningConfig::kCrossFitMembers && c.ensembleValidation == "folds" && c.input.identity(), name.c_str());
      ++seen;
    }
    QVERIFY(seen >= 4);
  }

  void plattScalingRecoversTemperatureAndBias() {
    std::mt19937 rng(2);
    std::normal_distribution<double> g(0.0, 3.0);
    std::uniform_real_distribution<double> u;
    const double trueT = 2.5, trueBias = -0.8;
    std::vector<double> margins;
    std::vector<int> labels;
    for (int i = 0; i < 20000; ++i) {
      const double m = g(rng);
      margins.push_back(m);
      labels.push_back(u(rng) < sigmoid(m / trueT + trueBias) ? 1 : 0);
    }
    const auto c = fitPlattScaling(margins, labels);
    QVERIFY2(std::abs(c.temperature - trueT) < 0.2 && std::abs(c.bias - trueBias) < 0.1, qPrintable(QString("T %1 bias %2").arg(c.temperature).arg(c.bias)));
    double gradBias = 0, gradScale = 0;
    for (std::size_t i = 0; i < margins.size(); ++i) {
      const double r = 1.0 / (1.0 + std::exp(-(margins[i] / c.temperature + c.bias))) - labels[i];
      gradBias += r;
      gradScale += r * margins[i];
    }
    QVERIFY2(std::abs(gradBias) / 20000.0 < 1e-4 && std::abs(gradScale) / 20000.0 < 1e-3, qPrintable(QString("%1 %2").arg(gradBias).arg(gradScale)));
    const double t = fitTemperature(margins, labels);
    QVERIFY(negativeLogLikelihood(margins, labels, c.temperature, c.bias) < negativeLogLikelihood(margins, labels, t) - 0.01);
    QCOMPARE(calibratedProbabilities({1.0}, c).at(0), sigmoid(1.0 / c.temperature + c.bias));
    // Temperature scaling through the same entry point keeps the bias at 0; one class informs nothing.
    QCOMPARE(fitCalibration("temperature", margins, labels).bias, 0.0);
    QCOMPARE(fitCalibration("temperature", margins, labels).temperature, t);
    QCOMPARE(fitPlattScaling({1.0, 2.0}, {1, 1}).temperature, 1.0);
    QCOMPARE(fitPlattScaling({1.0, 2.0}, {1, 1}).bias, 0.0);
    // Separable scores stay bounded.
    const auto sep = fitPlattScaling({-2.0, -1.0, 1.0, 2.0}, {0, 0, 1, 1});
    QVERIFY(std::isfinite(sep.bias) && std::abs(sep.bias) <= 20.0 && sep.temperature >= 0.05);
    QVERIFY_THROWS_EXCEPTION(Error, fitCalibration("isotonic", margins, labels));

    // auto: with plenty of biased data, Platt scaling is what held-out items ask for.
    const auto chosen = fitCalibration("auto", margins, labels);
    QCOMPARE(chosen.bias, c.bias);
    QCOMPARE(chosen.temperature, c.temperature);
    // On small validation splits (60 scans) the likelihood-ratio test keeps the bias about 5% of the
    // time when the margins do not lean to one class, and nearly always when they clearly do.
    const auto plattShare = [&](double bias) {
      int platt = 0;
      for (int rep = 0; rep < 100; ++rep) {
        std::vector<double> m;
        std::vector<int> y;
        for (int i = 0; i < 60; ++i) {
          m.push_back(g(rng));
          y.push_back(u(rng) < sigmoid(m.back() / trueT + bias) ? 1 : 0);
        }
        platt += fitCalibration("auto", m, y).bias != 0.0;
      }
      return platt / 100.0;
    };
    const double unbiased = plattShare(0.0), biased = plattShare(-1.5);
    QVERIFY2(unbiased < 0.12 && biased > 0.8, qPrintable(QString("Platt chosen %1 (no bias), %2 (bias -1.5)").arg(unbiased).arg(biased)));
    // Fewer than 5 scans of a class: too few to cross-validate, temperature scaling.
    QCOMPARE(fitCalibration("auto", {-2.0, -1.0, -0.5, 0.2, 0.4, 1.0, 2.0, 3.0}, {0, 0, 0, 1, 1, 1, 1, 1}).bias, 0.0);
    QVERIFY(calibrationDescription("auto", chosen).find("Platt scaling") == 0);
    QVERIFY(calibrationDescription("auto", Calibration{1.2, 0.0}).find("temperature scaling") == 0);
    QCOMPARE(TuningConfig::fromJson({{"calibration", "auto"}}).calibration, std::string("auto"));
    QVERIFY_THROWS_EXCEPTION(Error, TuningConfig::fromJson({{"calibration", "isotonic"}}));
  }

  void eceByHand() {
    // Confidences 0.9 (correct), 0.9 (wrong), 0.6 (correct), 0.7 for class 0 (p = 0.3, correct).
    const std::vector<double> p = {0.9, 0.9, 0.6, 0.3};
    const std::vector<int> y = {1, 0, 1, 0};
    // bins of width 1/15: 0.9 -> bin 13 (acc 0.5, conf 0.9), 0.6 -> bin 9 (acc 1, conf 0.6), 0.7 -> bin 10 (acc 1, conf 0.7)
    const double expected = (std::abs(1.0 - 1.8) + std::abs(1.0 - 0.6) + std::abs(1.0 - 0.7)) / 4.0;
    QVERIFY(std::abs(expectedCalibrationError(p, y) - expected) < 1e-12);
  }

  void trainableCountsPerMethod() {
    const auto c = tinyConfig();
    const int n = 20, headCount = 2 * (2 * c.hidden) + 2;
    auto count = [&](const std::string& method, const std::string& prompt = "node_mult+edge") -> std::int64_t {
      AdaptationSpec s;
      s.method = method;
      s.prompt = prompt;
      s.loraRank = 4;
      s.prefixLength = 3;
      DownstreamModel m(c, s, 2, n);
      m->attachAdapters();
      const auto params = m->configureTrainable();
      if (numel(params) != m->trainableCount()) return -1;
      return m->trainableCount();
    };
    QCOMPARE(count("linear"), static_cast<std::int64_t>(headCount));
    QCOMPARE(count("prompt", "node_mult"), static_cast<std::int64_t>(c.featureWidth + headCount));
    QCOMPARE(count("prompt", "node_add+edge"), static_cast<std::int64_t>(c.featureWidth + n * n + headCount));
    QCOMPARE(count("prompt", "edge"), static_cast<std::int64_t>(n * n + headCount));
    // LoRA: A (r x H) and B (3H x r) on qkv, A (r x H) and B (H x r) on the output, per layer.
    const int h = c.hidden, r = 4;
    QCOMPARE(count("lora"), static_cast<std::int64_t>(c.attentionLayers * (r * h + 3 * h * r + r * h + h * r) + headCount));
    // Prefix: keys and values, heads x length x head size, per layer.
    QCOMPARE(count("prefix"), static_cast<std::int64_t>(c.attentionLayers * 2 * h * 3 + headCount));
    model::BrainGfmEncoder plain(c);
    QCOMPARE(count("finetune"), plain->parameterCount() - h /* mask token */ + headCount);
    // The per-ROI readout adds one weight vector per class and ROI.
    AdaptationSpec roi;
    roi.method = "linear";
    roi.readout = "roi";
    DownstreamModel m(c, roi, 2, n);
    QCOMPARE(numel(m->configureTrainable()), static_cast<std::int64_t>(headCount + 2 * n * h));
  }

  // Readout "roi": zero per-ROI weights give the mean head's logits exactly; set weights add
  // sum_i U_c,i . h_i (checked against the encoder's node embeddings by hand); padding adds nothing;
  // the model file keeps it; meta-learning refuses it.
  void roiReadoutAddsAPerRegionTerm() {
    const auto c = tinyConfig();
    const auto t = texts(c.textDimension);
    const auto in = batchOf(*store_, items_, c, {0, 1, 2, 3}, t);
    torch::manual_seed(8);
    AdaptationSpec mean;
    mean.method = "finetune";
    DownstreamModel reference(c, mean, 2, 20);
    reference->eval();
    AdaptationSpec s = mean;
    s.readout = "roi";
    DownstreamModel m(c, s, 2, 24);
    torch::NoGradGuard ng;
    for (const auto& item : reference->named_parameters()) m->named_parameters()[item.key()].copy_(item.value());
    m->eval();
    QVERIFY(torch::allclose(m->forward(in), reference->forward(in), 1e-6, 1e-7));

    m->roiHead.normal_();
    const auto nodes = m->encoder->forward(in).nodes.to(torch::kDouble);
    const auto u = m->roiHead.to(torch::kDouble);
    auto expected = reference->forward(in).to(torch::kDouble);
    for (int b = 0; b < 4; ++b)
      for (int k = 0; k < 2; ++k) {
        double sum = 0;
        for (int i = 0; i < 20; ++i)
          for (int j = 0; j < c.hidden; ++j) sum += nodes[b][i][j].item<double>() * u[k][i][j].item<double>();
        expected[b][k] += sum;
      }
    const auto logits = m->forward(in);
    QVERIFY2(torch::allclose(logits.to(torch::kDouble), expected, 1e-4, 1e-4), "per-ROI term");

    // The same graphs padded to 24 nodes: padded rows are masked out of the per-ROI term.
    const auto fc = torch::constant_pad_nd(in.fc, {0, 4, 0, 4});
    const auto mask = torch::constant_pad_nd(in.mask, {0, 4}, 0);
    const auto padded = model::makeGraphInput(fc, mask, in.taskText, in.atlasText, c);
    QVERIFY(torch::allclose(m->forward(padded), logits, 1e-5, 1e-5));

    const nlohmann::json card = {{"kind", kDownstreamKind},  {"model", c.toJson()}, {"adaptation", s.toJson()},
                                 {"classes", {"no", "yes"}}, {"max_nodes", 24},     {"temperature", 1.0}};
    const auto file = dir_ / "roi.pt";
    saveModelFile(file, m, card);
    QVERIFY(torch::allclose(loadModelFile(file).model->forward(in), logits));

    AdaptationSpec bad;
    bad.method = "prompt";
    bad.readout = "roi";
    QVERIFY_THROWS_EXCEPTION(Error, MetaLearner(MetaConfig{}, c, DownstreamModel(c, bad, 2, 20)));
    nlohmann::json unknown = s.toJson();
    unknown["readout"] = "max";
    QVERIFY_THROWS_EXCEPTION(Error, AdaptationSpec::fromJson(unknown));
  }

  // The edge readout: zero weights give the model without it; set weights add sum_ij V_c,ij x_ij over
  // the real nodes' input edges with V symmetrised (checked by hand); the per-node contributions still
  // sum to the logits; gradient x input sees the term; the model file keeps it; meta-learning refuses it.
  void edgeReadoutAddsALinearTermOnTheInputEdges() {
    const auto c = tinyConfig();
    const auto t = texts(c.textDimension);
    const auto in = batchOf(*store_, items_, c, {0, 1, 2}, t);
    torch::manual_seed(12);
    AdaptationSpec roi;
    roi.method = "scratch";
    roi.readout = "roi";
    DownstreamModel reference(c, roi, 2, 24);
    reference->eval();
    AdaptationSpec s = roi;
    s.edgeReadout = "learned";
    QCOMPARE(s.toJson()["edge_readout"].get<std::string>(), std::string("learned"));
    QVERIFY(!roi.toJson().contains("edge_readout"));
    QCOMPARE(AdaptationSpec::fromJson(s.toJson()).edgeReadout, std::string("learned"));
    {
      auto j = s.toJson();
      j["edge_readout"] = true;  // the short form
      QCOMPARE(AdaptationSpec::fromJson(j).edgeReadout, std::string("learned"));
      j["edge_readout"] = "quadratic";
      QVERIFY_THROWS_EXCEPTION(Error, AdaptationSpec::fromJson(j));
    }
    DownstreamModel m(c, s, 2, 24);
    {
      torch::NoGradGuard ng;
      for (const auto& item : reference->named_parameters()) m->named_parameters()[item.key()].copy_(item.value());
    }
    m->eval();
    QVERIFY(torch::allclose(m->forward(in), reference->forward(in), 1e-6, 1e-7));
    QCOMPARE(numel(m->configureTrainable()) - numel(reference->configureTrainable()), static_cast<std::int64_t>(2 * 24 * 24));
    {
      torch::NoGradGuard ng;
      m->edgeHead.normal_();
      m->roiHead.normal_();
      reference->roiHead.copy_(m->roiHead);
    }
    const auto v = m->edgeHead.to(torch::kDouble);
    const auto fc = in.fc.to(torch::kDouble);
    torch::Tensor expected;
    {
      torch::NoGradGuard ng;
      expected = reference->forward(in).to(torch::kDouble);
    }
    for (int b = 0; b < 3; ++b)
      for (int k = 0; k < 2; ++k) {
        double sum = 0;
        for (int i = 0; i < 20; ++i)
          for (int j = 0; j < 20; ++j) sum += fc[b][i][j].item<double>() * 0.5 * (v[k][i][j].item<double>() + v[k][j][i].item<double>());
        expected[b][k] += sum;
      }
    torch::Tensor logits;
    {
      torch::NoGradGuard ng;
      m->recordAttention(true);
      logits = m->forward(in);
      m->recordAttention(false);
      QVERIFY2(torch::allclose(logits.to(torch::kDouble), expected, 1e-4, 1e-4), "edge term");
      for (int k = 0; k < 2; ++k) {
        const auto sum = m->readoutContributions(k).to(torch::kDouble).sum(1) + m->head->bias[k].item<double>();
        QVERIFY2(torch::allclose(sum, logits.to(torch::kDouble).select(1, k), 1e-4, 1e-4), "contributions sum to the logit");
      }
    }
    // Gradient x input: an edge head that reads only edge 2-5 makes it the most salient edge of a model with nothing else.
    {
      torch::NoGradGuard ng;
      m->head->weight.zero_();
      m->roiHead.zero_();
      m->edgeHead.zero_();
      m->edgeHead[1][2][5].fill_(50.0);
    }
    const auto one = batchOf(*store_, items_, c, {0}, t);
    const auto e = explain(m, one, 1);
    const auto top = std::max_element(e.roiSaliency.begin(), e.roiSaliency.end()) - e.roiSaliency.begin();
    QVERIFY2(top == 2 || top == 5, qPrintable(QString::number(top)));

    const nlohmann::json card = {{"kind", kDownstreamKind},  {"model", c.toJson()}, {"adaptation", s.toJson()},
                                 {"classes", {"no", "yes"}}, {"max_nodes", 24},     {"temperature", 1.0}};
    const auto file = dir_ / "edges.pt";
    saveModelFile(file, m, card);
    {
      torch::NoGradGuard ng;
      QVERIFY(torch::allclose(loadModelFile(file).model->forward(in), m->forward(in)));
    }
    AdaptationSpec bad;
    bad.method = "prompt";
    bad.edgeReadout = "learned";
    QVERIFY_THROWS_EXCEPTION(Error, MetaLearner(MetaConfig{}, c, DownstreamModel(c, bad, 2, 20)));
  }

  // The "logreg" edge readout: fitted to the training items before training, the model's margin with
  // nothing else in it is the regression's decision value on the standardised upper triangle (the
  // baseline's features), computed here with Eigen; it stays fixed in training (not trainable).
  void logregEdgeReadoutStartsAtTheBaseline() {
    const auto c = tinyConfig();
    const auto t = texts(c.textDimension);
    AdaptationSpec s;
    s.method = "scratch";
    s.edgeReadout = "logreg";
    torch::manual_seed(13);
    DownstreamModel m(c, s, 2, 20);
    m->eval();
    {
      torch::NoGradGuard ng;
      m->head->weight.zero_();
      m->head->bias.zero_();
    }
    const std::vector<DatasetItem> train(items_.begin(), items_.begin() + 64);
    fitEdgeReadout(*m, *store_, train);
    // Independently: the upper triangles, standardised, the same regression's decision values.
    Eigen::MatrixXd x(64, 20 * 19 / 2);
    Eigen::VectorXi y(64);
    for (int k = 0; k < 64; ++k) {
      const auto fc = store_->read(train[static_cast<std::size_t>(k)].fcArray);
      int col = 0;
      for (int i = 0; i < 20; ++i)
        for (int j = i + 1; j < 20; ++j) x(k, col++) = fc(i, j);
      y(k) = train[static_cast<std::size_t>(k)].label;
    }
    Standardizer scaler;
    scaler.fit(x);
    LogisticRegression regression(0.01);
    regression.fit(scaler.apply(x), y);
    const Eigen::VectorXd decision = (scaler.apply(x) * regression.weights()).array() + regression.intercept();
    std::vector<int> idx;
    for (int k = 0; k < 8; ++k) idx.push_back(k);
    torch::Tensor margin;
    {
      torch::NoGradGuard ng;
      margin = model::logitMargin(m->forward(batchOf(*store_, items_, c, idx, t))).to(torch::kDouble);
    }
    for (int k = 0; k < 8; ++k) QVERIFY2(std::abs(margin[k].item<double>() - decision(k)) < 1e-3, qPrintable(QString::number(k)));
    QVERIFY(decision.cwiseAbs().maxCoeff() > 0.05);  // a real signal, not zeros on both sides
    // Fixed in training: not among the trainable parameters.
    for (const auto& p : m->configureTrainable()) QVERIFY(!p.is_same(m->edgeHead));
    AdaptationSpec wrong = s;
    wrong.edgeReadout.clear();
    DownstreamModel none(c, wrong, 2, 20);
    QVERIFY_THROWS_EXCEPTION(Error, fitEdgeReadout(*none, *store_, train));
  }

  void adaptersAndPromptsStartAsTheIdentity() {
    const auto c = tinyConfig();
    const auto t = texts(c.textDimension);
    const auto in = batchOf(*store_, items_, c, {0, 1, 2, 3}, t);
    torch::manual_seed(4);
    AdaptationSpec base;
    base.method = "finetune";
    DownstreamModel reference(c, base, 2, 20);
    reference->eval();
    const auto expected = reference->forward(in);
    for (const std::string method : {"lora", "prompt"}) {
      AdaptationSpec s;
      s.method = method;
      s.prompt = "node_mult+edge";
      DownstreamModel m(c, s, 2, 20);
      // Same backbone and head as the reference.
      torch::NoGradGuard ng;
      for (const auto& item : reference->named_parameters()) m->named_parameters()[item.key()].copy_(item.value());
      m->attachAdapters();
      m->eval();
      QVERIFY2(torch::allclose(m->forward(in), expected, 1e-5, 1e-6), method.c_str());
    }
    // Prefix tokens do change the function (they add keys and values)...
    AdaptationSpec s;
    s.method = "prefix";
    DownstreamModel m(c, s, 2, 20);
    {
      torch::NoGradGuard ng;
      for (const auto& item : reference->named_parameters()) m->named_parameters()[item.key()].copy_(item.value());
    }
    m->attachAdapters();
    m->eval();
    QVERIFY(!torch::allclose(m->forward(in), expected, 1e-5, 1e-6));
  }

  void promptTuningLearnsAndKeepsTheBackboneFrozen() {
    auto c = tinyConfig();
    TuningConfig tc;
    tc.model = c;
    tc.adaptation.method = "prompt";
    tc.epochs = 25;
    tc.batchSize = 16;
    tc.patience = 25;
    tc.learningRate = 1e-2;
    tc.seed = 2;
    torch::manual_seed(9);
    DownstreamModel m(c, tc.adaptation, 2, 20);
    m->attachAdapters();
    std::vector<torch::Tensor> encoderBefore;
    for (const auto& p : m->encoder->parameters()) encoderBefore.push_back(p.detach().clone());
    const auto promptBefore = m->edge.detach().clone();
    std::vector<DatasetItem> train(items_.begin(), items_.begin() + 56), val(items_.begin() + 56, items_.begin() + 72), test(items_.begin() + 72, items_.end());
    Tuner tuner(tc, m, texts(c.textDimension));
    NullProgress progress;
    const auto h = tuner.fit(*store_, train, val, progress);
    QVERIFY(h.bestEpoch >= 0);
    std::vector<int> y;
    for (const auto& it : test) y.push_back(it.label);
    const auto p = calibratedProbabilities(tuner.margins(*store_, test), tuner.temperature());
    const double auc = binaryMetrics(y, p).auc;
    QVERIFY2(auc > 0.85, qPrintable(QString::number(auc)));
    const auto after = m->encoder->parameters();
    for (std::size_t i = 0; i < after.size(); ++i) QVERIFY(torch::equal(after[i], encoderBefore[i]));
    QVERIFY(!torch::equal(m->edge, promptBefore));
  }

  void finetuningIsReproducible() {
    auto run = [&] {
      TuningConfig tc;
      tc.model = tinyConfig();
      tc.model.dropout = 0.2;
      tc.adaptation.method = "scratch";
      tc.epochs = 3;
      tc.batchSize = 16;
      tc.seed = 5;
      torch::manual_seed(5);
      DownstreamModel m(tc.model, tc.adaptation, 2, 20);
      Tuner tuner(tc, m, texts(tc.model.textDimension));
      NullProgress progress;
      tuner.fit(*store_, std::vector<DatasetItem>(items_.begin(), items_.begin() + 64), std::vector<DatasetItem>(items_.begin() + 64, items_.begin() + 80),
                progress);
      return tuner.margins(*store_, std::vector<DatasetItem>(items_.begin() + 80, items_.end()));
    };
    QVERIFY(run() == run());
  }

  void labelSubsamplingIsStratified() {
    const auto some = subsampleLabels(items_, 0.1, 3);
    int pos = 0;
    for (const auto& it : some) pos += it.label;
    QCOMPARE(static_cast<int>(some.size()), 10);  // 48 per class -> 5 each
    QCOMPARE(pos, 5);
    const auto tiny = subsampleLabels(items_, 0.001, 3);
    QCOMPARE(static_cast<int>(tiny.size()), 2);  // at least one per class
    QVERIFY(subsampleLabels(items_, 0.1, 3)[0].scanId == some[0].scanId);
  }

  // Cross-fitted ensembles: every item validates exactly once, each fold keeps the class mix, the
  // folds are fixed by the seed, and the configuration refuses a one-member "ensemble".
  void ensembleValidationFoldsPartitionTheTrainingPart() {
    std::vector<int> classes;
    for (int i = 0; i < 103; ++i) classes.push_back(i % 3 == 0 ? 1 : 0);  // 35 positive, 68 negative
    const auto folds = stratifiedFolds(classes, 5, 11);
    QCOMPARE(static_cast<int>(folds.size()), 5);
    std::vector<int> validatedBy(classes.size(), 0);
    for (const auto& h : folds) {
      QCOMPARE(h.train.size() + h.validation.size(), classes.size());
      std::set<std::size_t> seen(h.train.begin(), h.train.end());
      int positives = 0;
      for (auto i : h.validation) {
        QVERIFY(!seen.count(i));  // disjoint
        ++validatedBy[i];
        positives += classes[i];
      }
      QVERIFY(h.validation.size() == 20 || h.validation.size() == 21);
      QVERIFY(positives == 7);  // 35 positives over 5 folds
    }
    for (int v : validatedBy) QCOMPARE(v, 1);
    QCOMPARE(stratifiedFolds(classes, 5, 11)[2].validation, folds[2].validation);
    QVERIFY(stratifiedFolds(classes, 5, 12)[2].validation != folds[2].validation);
    QVERIFY_THROWS_EXCEPTION(Error, stratifiedFolds(classes, 1, 0));
    QCOMPARE(TuningConfig::fromJson({{"ensemble", 3}, {"ensemble_validation", "folds"}}).ensembleValidation, std::string("folds"));
    // Cross-fitted unless told otherwise; one member has no folds (a held-out split), and asking for folds with one is refused.
    QCOMPARE(TuningConfig::fromJson({{"ensemble", 3}}).toJson().at("ensemble_validation").get<std::string>(), std::string("folds"));
    QCOMPARE(TuningConfig::fromJson(nlohmann::json::object()).ensemble, 5);
    QCOMPARE(TuningConfig::fromJson({{"ensemble", 1}}).ensembleValidation, std::string("shared"));
    QVERIFY_THROWS_EXCEPTION(Error, TuningConfig::fromJson({{"ensemble", 1}, {"ensemble_validation", "folds"}}));
    QVERIFY_THROWS_EXCEPTION(Error, TuningConfig::fromJson({{"ensemble", 2}, {"ensemble_validation", "bagged"}}));
  }

  void secondOrderMamlMatchesFiniteDifferences() {
    auto c = tinyConfig();
    c.attentionLayers = 1;
    c.gnnLayers = 1;
    MetaConfig mc;
    mc.innerLearningRate = 0.5;  // large, so the second-order term is visible
    mc.innerSteps = 1;
    AdaptationSpec s;
    s.method = "prompt";
    s.prompt = "node_mult";
    torch::manual_seed(3);
    DownstreamModel m(c, s, 2, 20);
    m->to(torch::kDouble);
    auto t = texts(c.textDimension);
    auto toDouble = [](model::GraphBatchInput in) {
      in.features = in.features.to(torch::kDouble);
      in.adjacency = in.adjacency.to(torch::kDouble);
      in.taskText = in.taskText.to(torch::kDouble);
      in.atlasText = in.atlasText.to(torch::kDouble);
      return in;
    };
    const auto support = toDouble(batchOf(*store_, items_, c, {0, 1, 2, 3, 4, 5}, t));
    const auto query = toDouble(batchOf(*store_, items_, c, {6, 7, 8, 9}, t));
    const auto ys = torch::tensor({0, 1, 0, 1, 0, 1}, torch::kLong), yq = torch::tensor({0, 1, 0, 1}, torch::kLong);
    for (auto& p : m->parameters()) p.set_requires_grad(false);
    for (auto& p : m->promptAndHeadParameters()) p.set_requires_grad(true);
    m->eval();
    MetaLearner learner(mc, c, m);
    auto metaLoss = [&](bool second) {
      const auto fast = learner.adapt(support, ys, second);
      return torch::nn::functional::cross_entropy(m->forward(query, fast), yq);
    };
    const auto l2 = metaLoss(true);
    const auto g2 = torch::autograd::grad({l2}, {m->nodeMul})[0];
    const auto l1 = metaLoss(false);
    const auto g1 = torch::autograd::grad({l1}, {m->nodeMul})[0];
    // Central differences of the full meta-objective along a few coordinates of the node prompt.
    double maxErr2 = 0, maxDiff12 = 0;
    for (int k : {0, 3, 7, 11}) {
      const double eps = 1e-5;
      auto mul = m->nodeMul;
      auto eval = [&](double delta) {
        {
          torch::NoGradGuard ng;
          mul[k] += delta;
        }
        const double v = metaLoss(true).item<double>();
        {
          torch::NoGradGuard ng;
          mul[k] -= delta;
        }
        return v;
      };
      const double fd = (eval(eps) - eval(-eps)) / (2 * eps);
      maxErr2 = std::max(maxErr2, std::abs(fd - g2[k].item<double>()));
      maxDiff12 = std::max(maxDiff12, std::abs(g1[k].item<double>() - g2[k].item<double>()));
    }
    QVERIFY2(maxErr2 < 1e-6, qPrintable(QString::number(maxErr2)));
    QVERIFY2(maxDiff12 > 1e-6, qPrintable(QString::number(maxDiff12)));  // first order drops a real term
  }

  void metaTrainingLowersTheQueryLoss() {
    auto c = tinyConfig();
    MetaConfig mc;
    mc.metaEpochs = 12;
    mc.tasksPerBatch = 2;
    mc.episodesPerTask = 3;
    mc.episodeSize = 24;
    mc.innerLearningRate = 0.05;
    mc.outerLearningRate = 1e-2;
    mc.secondOrder = false;
    AdaptationSpec s;
    s.method = "prompt";
    torch::manual_seed(1);
    DownstreamModel m(c, s, 2, 20);
    const auto other = labelledCorpus(*store_, 48, 20, 8, 0.9);
    std::vector<MetaTask> tasks = {{"a", items_, texts(c.textDimension, 0.3f)}, {"b", other, texts(c.textDimension, -0.3f)}};
    MetaLearner learner(mc, c, m);
    NullProgress progress;
    const auto h = learner.train(*store_, tasks, progress);
    QCOMPARE(static_cast<int>(h.queryLoss.size()), 12);
    const double first = (h.queryLoss[0] + h.queryLoss[1]) / 2, last = (h.queryLoss[10] + h.queryLoss[11]) / 2;
    QVERIFY2(last < first - 0.05, qPrintable(QString("%1 -> %2").arg(first).arg(last)));
    // The task text is live: the same graphs under another [T/D] text get other outputs.
    const auto in1 = batchOf(*store_, items_, c, {0, 1}, texts(c.textDimension, 0.3f));
    const auto in2 = batchOf(*store_, items_, c, {0, 1}, texts(c.textDimension, -0.8f));
    torch::NoGradGuard ng;
    QVERIFY(!torch::allclose(m->forward(in1), m->forward(in2)));
  }

  // With the per-ROI readout the recorded per-node contributions add up to the logits minus the head's
  // bias, and rollout reads rows by them: a readout that looks only at node 3 puts node 3 first.
  void roiReadoutContributionsWeighTheRollout() {
    const auto c = tinyConfig();
    AdaptationSpec s;
    s.method = "finetune";
    s.readout = "roi";
    torch::manual_seed(9);
    DownstreamModel m(c, s, 2, 20);
    m->eval();
    const auto in = batchOf(*store_, items_, c, {0, 1}, texts(c.textDimension));
    {
      torch::NoGradGuard ng;
      m->roiHead.normal_();
      m->recordAttention(true);
      const auto logits = m->forward(in).to(torch::kDouble);
      m->recordAttention(false);
      for (int k = 0; k < 2; ++k) {
        const auto sum = m->readoutContributions(k).to(torch::kDouble).sum(1) + m->head->bias[k].item<double>();
        QVERIFY2(torch::allclose(sum, logits.select(1, k), 1e-4, 1e-4), "contributions sum to the logit");
      }
      m->head->weight.zero_();
      m->roiHead.zero_();
      m->roiHead[1][3].fill_(1.0);
    }
    const auto one = batchOf(*store_, items_, c, {0}, texts(c.textDimension));
    const auto e = explain(m, one, 1);
    const auto top = std::max_element(e.roiAttention.begin(), e.roiAttention.end()) - e.roiAttention.begin();
    QCOMPARE(static_cast<int>(top), 3);
    double sum = 0;
    for (double v : e.roiAttention) sum += v;
    QVERIFY(std::abs(sum - 1) < 1e-9);
    // The mean readout has no contributions: rollout keeps the uniform mean over node rows.
    AdaptationSpec mean;
    mean.method = "finetune";
    DownstreamModel plain(c, mean, 2, 20);
    (void)explain(plain, one, 1);
    QVERIFY(!plain->readoutContributions(1).defined());
  }

  void explanationsAreNormalisedAndLocal() {
    auto c = tinyConfig();
    AdaptationSpec s;
    s.method = "finetune";
    torch::manual_seed(2);
    DownstreamModel m(c, s, 2, 20);
    auto in = batchOf(*store_, items_, c, {1}, texts(c.textDimension));
    // Node 4 gets all-zero features: gradient x input must give it no saliency and its edges none.
    in.features[0][4].zero_();
    in.features.select(2, 4).zero_();
    const auto e = explain(m, in, 1);
    QCOMPARE(e.nodes, 20);
    double ss = 0, sa = 0;
    for (double v : e.roiSaliency) ss += v;
    for (double v : e.roiAttention) sa += v;
    QVERIFY(std::abs(ss - 1) < 1e-9 && std::abs(sa - 1) < 1e-9);
    QCOMPARE(e.roiSaliency[4], 0.0);
    for (int j = 0; j < 20; ++j) QCOMPARE(e.edgeSaliency[static_cast<std::size_t>(4 * 20 + j)], 0.0);
    double edges = 0;
    for (int i = 0; i < 20; ++i)
      for (int j = i + 1; j < 20; ++j) edges += e.edgeSaliency[static_cast<std::size_t>(i * 20 + j)];
    QVERIFY(std::abs(edges - 1) < 1e-9);
    // Network aggregation adds up ROI values.
    std::vector<std::string> nets(20, "A");
    for (int i = 10; i < 20; ++i) nets[static_cast<std::size_t>(i)] = "B";
    const auto j = e.toJson({}, nets, 5, 3);
    double a = 0;
    for (int i = 0; i < 10; ++i) a += e.roiSaliency[static_cast<std::size_t>(i)];
    QVERIFY(std::abs(j["networks"]["A"]["saliency"].get<double>() - a) < 1e-12);
    QCOMPARE(j["top_rois"].size(), std::size_t(5));
    QCOMPARE(j["top_edges"].size(), std::size_t(3));
  }

  void modelFileRoundTrips() {
    auto c = tinyConfig();
    AdaptationSpec s;
    s.method = "lora";
    s.loraRank = 2;
    torch::manual_seed(6);
    DownstreamModel m(c, s, 2, 20);
    m->attachAdapters();
    {
      torch::NoGradGuard ng;
      for (auto& p : m->encoder->adapterParameters()) p.normal_();  // non-trivial adapters
    }
    m->eval();
    const auto in = batchOf(*store_, items_, c, {0, 1, 2}, texts(c.textDimension));
    const auto expected = m->forward(in);
    const nlohmann::json card = {{"kind", kDownstreamKind},  {"model", c.toJson()}, {"adaptation", s.toJson()},
                                 {"classes", {"no", "yes"}}, {"max_nodes", 20},     {"temperature", 1.7}};
    const auto file = dir_ / "m.pt";
    saveModelFile(file, m, card);
    auto loaded = loadModelFile(file);
    QVERIFY(loaded.card == card);
    QVERIFY(torch::allclose(loaded.model->forward(in), expected));
    // A truncated file is named in a clear error.
    const auto bad = dir_ / "truncated.pt";
    std::filesystem::copy_file(file, bad);
    std::filesystem::resize_file(bad, std::filesystem::file_size(file) / 2);
    try {
      loadModelFile(bad);
      QFAIL("a truncated model loaded");
    } catch (const Error& e) {
      QVERIFY(std::string(e.what()).find("truncated.pt") != std::string::npos);
      QCOMPARE(e.code(), ErrorCode::Data);
    }
  }
};

QTEST_GUILESS_MAIN(TestTuning)
#include "test_tuning.moc"
