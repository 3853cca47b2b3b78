// The model zoo behind the one classifier interface: every architecture's shapes, padding
// invariance, gradients to every parameter, model-file round trips, explanations, learning a
// synthetic task through the shared Tuner; BrainMass's and LCM's pre-training objectives decreasing
// on synthetic data, and their weights loading into downstream models; a fused multi-atlas model.
#include <QTest>

#include <cmath>
#include <numeric>
#include <random>

#include "TestSupport.h"
#include "errors/Error.h"
#include "eval/Calibration.h"
#include "eval/Metrics.h"
#include "model/AtlasFusion.h"
#include "model/BrainMass.h"
#include "model/Lcm.h"
#include "model/ModelZoo.h"
#include "train/Explainer.h"
#include "train/GraphBatchLoader.h"
#include "train/ModelFile.h"
#include "train/Tuner.h"
#include "train/ZooPretraining.h"
#include "workspace/ArrayStore.h"

using namespace bg;
using namespace bg::train;
using nlohmann::json;

namespace {

json tinyModel() {
  return {{"hidden", 16}, {"heads", 2}, {"layers", 2}, {"ffn", 32}, {"dropout", 0.0}, {"communities", 3}, {"clusters", 4}, {"representation", 16}};
}

model::AdaptationSpec spec(const std::string& method) {
  model::AdaptationSpec s;
  s.method = method;
  return s;
}

model::LcmVariables someVariables() {
  return model::LcmVariables::fromJson(json::array({{{"name", "diagnosis@X"}, {"phenotype", "diagnosis"}, {"dataset", "X"}, {"classes", {"a", "b"}}},
                                                    {{"name", "sex"}, {"classes", {"female", "male"}}},
                                                    {{"name", "age"}, {"regression", true}, {"mean", 20.0}, {"sd", 5.0}}}));
}

// What the synthetic task is learned with: 30 epochs from scratch, no early stop.
TuningConfig syntheticTaskTuning(const std::string& arch) {
  TuningConfig tc;
  tc.architecture = arch;
  tc.zooModel = tinyModel();
  tc.adaptation = spec("scratch");
  tc.epochs = 30;
  tc.batchSize = 16;
  tc.patience = 30;
  tc.learningRate = 3e-3;
  tc.seed = 3;
  return tc;
}

model::GraphClassifier build(const std::string& arch, const std::string& method = "scratch", int maxNodes = 20, const json& extra = nullptr) {
  return model::makeClassifier(arch, tinyModel(), spec(method), 2, maxNodes, extra);
}

// Time series whose class-1 scans share an extra signal among ROIs 0..5.
Eigen::MatrixXd series(std::mt19937& rng, int t, int n, int label, double strength) {
  std::normal_distribution<double> g;
  Eigen::MatrixXd x(t, n);
  for (int s = 0; s < t; ++s) {
    const double shared = g(rng), block = g(rng);
    for (int r = 0; r < n; ++r) x(s, r) = 0.5 * shared + g(rng) + (label && r < 6 ? strength * block : 0.0);
  }
  return x;
}

Eigen::MatrixXd pearson(const Eigen::MatrixXd& x) {
  Eigen::MatrixXd c = x.rowwise() - x.colwise().mean();
  Eigen::MatrixXd cov = c.transpose() * c;
  const Eigen::VectorXd d = cov.diagonal().cwiseSqrt().cwiseInverse();
  return d.asDiagonal() * cov * d.asDiagonal();
}

torch::Tensor toTensor(const Eigen::MatrixXd& m) {
  const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> f = m.cast<float>();
  return torch::from_blob(const_cast<float*>(f.data()), {f.rows(), f.cols()}, torch::kFloat32).clone();
}

// A padded batch: graphs of 20 and 14 nodes.
model::GraphBatchInput mixedBatch(std::vector<torch::Tensor>* singles = nullptr) {
  std::mt19937 rng(4);
  auto fc = torch::zeros({4, 20, 20});
  auto mask = torch::zeros({4, 20}, torch::kBool);
  for (int b = 0; b < 4; ++b) {
    const int n = b % 2 ? 14 : 20;
    const auto m = toTensor(pearson(series(rng, 60, n, b / 2, 1.0)));
    fc[b].narrow(0, 0, n).narrow(1, 0, n).copy_(m);
    mask[b].narrow(0, 0, n).fill_(true);
    if (singles) singles->push_back(m);
  }
  return model::makeFcInput(fc, mask, 0.3);
}

}  // namespace

class ModelZooTest : public QObject {
  Q_OBJECT
  std::filesystem::path dir_;
  std::unique_ptr<ArrayStore> store_;
  std::vector<DatasetItem> items_;

 private Q_SLOTS:
  void initTestCase() {
    dir_ = bgtest::scratchDir("model-zoo");
    store_ = std::make_unique<ArrayStore>(dir_ / "arrays");
    std::mt19937 rng(11);
    for (int i = 0; i < 96; ++i) {
      const auto x = series(rng, 80, 20, i % 2, 1.2);
      DatasetItem d{store_->put(pearson(x)), i % 2, 20, 1000 + i};
      d.seriesArray = store_->put(x);
      items_.push_back(d);
    }
  }

  void everyArchitectureHasShapesPaddingInvarianceAndGradients() {
    std::vector<torch::Tensor> singles;
    const auto in = mixedBatch(&singles);
    for (const auto& arch : model::zooArchitectures()) {
      torch::manual_seed(1);
      auto m = arch == "lcm" ? build(arch, "scratch", 20, someVariables().toJson()) : build(arch);
      QCOMPARE(QString::fromStdString(m->architecture()), QString::fromStdString(arch));
      m->eval();
      const auto logits = m->forward(in);
      QCOMPARE(logits.sizes().vec(), (std::vector<std::int64_t>{4, 2}));
      QCOMPARE(m->embed(in).size(0), 4);
      // A 14-node graph gives the same logits alone as padded in a batch of 20-node graphs.
      const auto alone = m->forward(model::makeFcInput(singles[1].unsqueeze(0), torch::ones({1, 14}, torch::kBool), 0.3));
      QVERIFY2(torch::allclose(alone[0], logits[1], 1e-4, 1e-5), arch.c_str());
      // Every trainable parameter gets a gradient.
      m->setTraining(true);
      const auto trainable = m->configureTrainable();
      QCOMPARE(m->trainableCount(), [&] {
        std::int64_t n = 0;
        for (const auto& p : trainable) n += p.numel();
        return n;
      }());
      const auto loss = torch::nn::functional::cross_entropy(m->forward(in), torch::tensor({0, 0, 1, 1}, torch::kLong));
      loss.backward();
      for (const auto& p : trainable) {
        QVERIFY2(p.grad().defined(), arch.c_str());
        QVERIFY2(p.grad().abs().sum().item<double>() > 0, arch.c_str());
      }
    }
  }

  void theProbeTrainsOnlyTheHead() {
    auto m = std::dynamic_pointer_cast<model::BrainMassClassifierImpl>(build("brainmass", "linear"));
    const auto trainable = m->configureTrainable();
    std::int64_t head = 0;
    for (const auto& p : m->head->parameters()) head += p.numel();
    QCOMPARE(m->trainableCount(), head);
    QCOMPARE(head, static_cast<std::int64_t>(16 * 2 + 2));
    // Unknown configuration keys and methods other than scratch/finetune/linear are refused.
    QVERIFY_THROWS_EXCEPTION(Error, model::makeClassifier("gcn", json{{"hiden", 3}}, spec("scratch"), 2, 20));
    QVERIFY_THROWS_EXCEPTION(Error, model::makeClassifier("gcn", tinyModel(), spec("prompt"), 2, 20));
  }

  void modelFilesRoundTripEveryArchitecture() {
    const auto in = mixedBatch();
    for (const auto& arch : model::zooArchitectures()) {
      torch::manual_seed(2);
      auto m = arch == "lcm" ? build(arch, "scratch", 20, someVariables().toJson()) : build(arch);
      m->eval();
      json card = m->describe();
      card["kind"] = kDownstreamKind;
      card["classes"] = {"control", "patient"};
      const auto file = dir_ / (arch + ".bgm");
      saveModelFile(file, *m, card);
      auto loaded = loadModelFile(file);
      QCOMPARE(QString::fromStdString(loaded.model->architecture()), QString::fromStdString(arch));
      QVERIFY2(torch::equal(loaded.model->forward(in), m->forward(in)), arch.c_str());
    }
  }

  void explanationsUseWhatEachModelReads() {
    std::vector<torch::Tensor> singles;
    mixedBatch(&singles);
    const auto one = model::makeFcInput(singles[0].unsqueeze(0), torch::ones({1, 20}, torch::kBool), 0.3);
    auto gcn = build("gcn");
    const auto e = explain(gcn, one, 1);
    QCOMPARE(static_cast<int>(e.roiSaliency.size()), 20);
    QVERIFY(std::abs(std::accumulate(e.roiSaliency.begin(), e.roiSaliency.end(), 0.0) - 1.0) < 1e-9);
    QVERIFY(e.roiAttention.empty());  // no self-attention over ROIs
    QVERIFY(!e.toJson({}, {}).contains("roi_attention"));
    auto tf = build("transformer");
    const auto t = explain(tf, one, 1);
    QCOMPARE(static_cast<int>(t.roiAttention.size()), 20);
    QVERIFY(std::abs(std::accumulate(t.roiAttention.begin(), t.roiAttention.end(), 0.0) - 1.0) < 1e-9);
  }

  void theTunerTeachesEveryArchitectureASyntheticTask() {
    std::vector<DatasetItem> train(items_.begin(), items_.begin() + 56), val(items_.begin() + 56, items_.begin() + 72), test(items_.begin() + 72, items_.end());
    std::vector<int> y;
    for (const auto& it : test) y.push_back(it.label);
    for (const auto& arch : model::zooArchitectures()) {
      const auto tc = syntheticTaskTuning(arch);
      torch::manual_seed(3);
      auto m = build(arch);
      Tuner tuner(tc, m, {});
      NullProgress progress;
      tuner.fit(*store_, train, val, progress);
      const double auc = binaryMetrics(y, calibratedProbabilities(tuner.margins(*store_, test), tuner.temperature())).auc;
      QVERIFY2(auc > 0.8, qPrintable(QString::fromStdString(arch) + " AUC " + QString::number(auc)));
    }
  }

  void lcmPseudoLabelsTheUnlabelledHalf() {
    TuningConfig tc;
    tc.architecture = "lcm";
    tc.zooModel = tinyModel();
    tc.adaptation = spec("scratch");
    tc.epochs = 8;
    tc.batchSize = 16;
    tc.learningRate = 3e-3;
    tc.labelFraction = 0.3;
    tc.pseudoLabelThreshold = 0.6;
    torch::manual_seed(4);
    Tuner tuner(tc, build("lcm"), {});
    NullProgress progress;
    const auto h = tuner.fit(*store_, std::vector<DatasetItem>(items_.begin(), items_.begin() + 72), {}, progress);
    QCOMPARE(h.trainItems, 22);  // 30% of 36 per class, rounded
    QVERIFY2(h.pseudoLabelled > 0, qPrintable(QString::number(h.pseudoLabelled)));
  }

  void pseudoFcDropsTimePoints() {
    std::mt19937 rng(5);
    const auto x = series(rng, 100, 10, 1, 1.0);
    auto gen = at::detail::createCPUGenerator(3);
    const auto fc = pseudoFc(toTensor(x), 0.2, gen);
    QCOMPARE(fc.sizes().vec(), (std::vector<std::int64_t>{10, 10}));
    QVERIFY(torch::allclose(fc, fc.t(), 1e-5, 1e-6));
    QVERIFY(torch::allclose(fc.diagonal(), torch::ones({10}), 1e-5, 1e-6));
    const auto full = toTensor(pearson(x));
    QVERIFY(!torch::allclose(fc, full, 1e-3, 1e-3));        // a different view ...
    QVERIFY((fc - full).abs().max().item<double>() < 0.3);  // ... of the same connectome
    // With nothing dropped it is the ordinary Pearson FC.
    QVERIFY(torch::allclose(pseudoFc(toTensor(x), 0.0, gen), full, 1e-4, 1e-4));
  }

  void brainMassObjectivesDecreaseAndEveryPartLearns() {
    ZooPretrainConfig c = ZooPretrainConfig::fromJson("brainmass", {{"model", tinyModel()}, {"learning_rate", 3e-3}, {"momentum", 0.9}});
    BrainMassPretrainer p(c, 20);
    std::vector<torch::Tensor> batch;
    for (int i = 0; i < 16; ++i) batch.push_back(toTensor(store_->read(items_[static_cast<std::size_t>(i)].seriesArray)));
    auto gen = at::detail::createCPUGenerator(7);
    std::vector<ObjectiveLosses> history;
    for (int s = 0; s < 200; ++s) history.push_back(p.step(batch, gen));
    auto mean = [&](const std::string& k, int from, int to) {
      double sum = 0;
      for (int s = from; s < to; ++s) sum += history[static_cast<std::size_t>(s)].at(k);
      return sum / (to - from);
    };
    for (const char* k : {"byol", "infonce", "mse"})
      QVERIFY2(mean(k, 190, 200) < 0.9 * mean(k, 0, 5),
               qPrintable(QString(k) + ": " + QString::number(mean(k, 0, 5)) + " -> " + QString::number(mean(k, 190, 200))));
    // The mask embedding, the MRM head, projector and predictor are optimised (the public code's are not).
    const auto online = p.online();
    for (const auto& t : {online->maskToken, online->mrmHead->weight, online->predictor->parameters().front(), online->projector->parameters().front()}) {
      QVERIFY(t.grad().defined());
      QVERIFY(t.grad().abs().sum().item<double>() > 0);
    }
  }

  void lcmObjectivesDecreaseInBothStages() {
    ZooPretrainConfig c = ZooPretrainConfig::fromJson("lcm", {{"model", tinyModel()}, {"learning_rate", 3e-3}, {"sgd_learning_rate", 0.05}});
    // Phenotypes: diagnosis follows the class signal, sex is random, age follows the class too; some missing.
    std::vector<std::map<std::string, std::string>> phen;
    std::vector<std::string> datasets;
    std::mt19937 rng(3);
    for (std::size_t i = 0; i < 32; ++i) {
      std::map<std::string, std::string> p = {{"diagnosis", items_[i].label ? "b" : "a"}, {"sex", rng() % 2 ? "male" : "female"}};
      if (i % 5) p["age"] = std::to_string(items_[i].label ? 30 + static_cast<int>(rng() % 5) : 15 + static_cast<int>(rng() % 5));
      phen.push_back(p);
      datasets.push_back("X");
    }
    const auto vars = lcmVariablesFrom(phen, datasets, "diagnosis");
    QCOMPARE(static_cast<int>(vars.list.size()), 3);  // diagnosis@X, sex, age (site: no values)
    std::vector<const std::map<std::string, std::string>*> pp;
    std::vector<const std::string*> dd;
    auto fc = torch::zeros({32, 20, 20});
    for (std::size_t i = 0; i < 32; ++i) {
      fc[static_cast<std::int64_t>(i)].copy_(toTensor(store_->read(items_[i].fcArray)));
      pp.push_back(&phen[i]);
      dd.push_back(&datasets[i]);
    }
    const auto targets = lcmTargets(vars, pp, dd);
    QVERIFY(std::isnan(targets.values[2][0]));  // missing age is skipped, not zero
    const auto mask = torch::ones({32, 20}, torch::kBool);
    for (const bool stageOne : {true, false}) {
      LcmPretrainer p(c, 20, vars);  // each stage from the same start
      std::vector<ObjectiveLosses> h;
      for (int s = 0; s < 150; ++s) h.push_back(p.step(fc, mask, targets, stageOne));
      for (const char* k : {"diagnosis@X", "age", "total"})
        QVERIFY2(h.back().at(k) < 0.8 * h.front().at(k), qPrintable(QString(k) + (stageOne ? " (stage 1): " : " (stage 2): ") +
                                                                    QString::number(h.front().at(k)) + " -> " + QString::number(h.back().at(k))));
      for (const auto& kv : p.model()->named_parameters()) {
        const auto& name = kv.key();
        if (name.rfind("head.", 0) == 0 || name == "task_query") continue;  // downstream parts
        QVERIFY2(kv.value().grad().defined() && kv.value().grad().abs().sum().item<double>() > 0, name.c_str());
      }
    }
  }

  // A fused multi-atlas model: the batch's views are the same scans' graphs in the other atlas, its
  // logits the members' sum, its file round-trips, and it learns a class signal that only the second
  // atlas carries (a model that ignored its views would score chance).
  void atlasFusionReadsEveryAtlas() {
    std::mt19937 rng(29);
    std::vector<DatasetItem> items;
    for (int i = 0; i < 96; ++i) {
      const int label = i % 2;
      DatasetItem a{store_->put(pearson(series(rng, 80, 20, 0, 0.0))), label, 20, 5000 + i};  // atlas A: noise only
      a.atlas = "a";
      DatasetItem b{store_->put(pearson(series(rng, 80, 12, label, 1.2))), label, 12, 5000 + i};  // atlas B: the class signal
      b.atlas = "b";
      a.views = {b};
      items.push_back(a);
    }
    GraphBatchLoader loader(*store_, items, 8, 1, false, 1);
    const auto batch = loader.load({3, 7, 8});
    QCOMPARE(batch.views.size(), std::size_t{1});
    QCOMPARE(batch.views[0].fc.size(1), std::int64_t{12});
    for (int k = 0; k < 3; ++k) {
      const auto stored = toTensor(store_->read(items[static_cast<std::size_t>(batch.items[static_cast<std::size_t>(k)])].views[0].fcArray));
      QVERIFY(torch::equal(batch.views[0].fc[k], stored));
    }

    torch::manual_seed(5);
    auto fused = std::make_shared<model::AtlasFusionClassifierImpl>(
        std::vector<std::string>{"a", "b"}, std::vector<model::GraphClassifier>{build("gcn", "scratch", 20), build("gcn", "scratch", 12)});
    fused->eval();
    auto in = model::makeFcInput(batch.fc, batch.mask, 0.3);
    in.views.push_back(model::makeFcInput(batch.views[0].fc, batch.views[0].mask, 0.3));
    const auto sum = fused->members()[0]->forward(in) + fused->members()[1]->forward(in.views[0]);
    QVERIFY(torch::allclose(fused->forward(in), sum, 1e-6, 1e-6));
    QCOMPARE(fused->embed(in).size(1), fused->members()[0]->embed(in).size(1) + fused->members()[1]->embed(in.views[0]).size(1));
    auto noView = in;
    noView.views.clear();
    QVERIFY_THROWS_EXCEPTION(Error, fused->forward(noView));

    json card = fused->describe();
    card["kind"] = kDownstreamKind;
    card["classes"] = {"control", "patient"};
    saveModelFile(dir_ / "fused.bgm", *fused, card);
    const auto loaded = loadModelFile(dir_ / "fused.bgm");
    QCOMPARE(QString::fromStdString(loaded.model->architecture()), QStringLiteral("atlas-fusion"));
    QVERIFY(torch::equal(loaded.model->forward(in), fused->forward(in)));

    Tuner tuner(syntheticTaskTuning("gcn"), fused, {});
    NullProgress progress;
    std::vector<DatasetItem> train(items.begin(), items.begin() + 56), val(items.begin() + 56, items.begin() + 72), test(items.begin() + 72, items.end());
    tuner.fit(*store_, train, val, progress);
    std::vector<int> y;
    for (const auto& it : test) y.push_back(it.label);
    const double auc = binaryMetrics(y, calibratedProbabilities(tuner.margins(*store_, test), tuner.temperature())).auc;
    QVERIFY2(auc > 0.8, qPrintable("fused AUC " + QString::number(auc)));
  }

  void pretrainedWeightsLoadIntoDownstreamModels() {
    for (const std::string arch : {"brainmass", "lcm"}) {
      ZooPretrainConfig c = ZooPretrainConfig::fromJson(arch, {{"model", tinyModel()}, {"epochs", 1}, {"batch_size", 16}});
      std::vector<std::map<std::string, std::string>> phen;
      std::vector<std::string> datasets;
      for (std::size_t i = 0; i < 32; ++i) {
        phen.push_back({{"diagnosis", items_[i].label ? "b" : "a"}, {"age", std::to_string(20 + i)}});
        datasets.push_back("X");
      }
      const auto file = dir_ / (arch + "-pretrained.pt");
      NullProgress progress;
      const auto result = runZooPretraining(*store_, std::vector<DatasetItem>(items_.begin(), items_.begin() + 32), c, phen, datasets, "diagnosis", file,
                                            json::object(), progress);
      QCOMPARE(static_cast<int>(result.epochs.size()), 1);
      const auto info = readPretrainedInfo(file);
      QCOMPARE(QString::fromStdString(info.architecture), QString::fromStdString(arch));
      QCOMPARE(info.maxNodes, 20);
      auto m = build(arch, "finetune", 20, info.extra.value("lcm_variables", json()));
      loadPretrainedZoo(*m, file);
      // The downstream model now computes the pre-trained representation.
      auto source = build(arch, "scratch", 20, info.extra.value("lcm_variables", json()));
      {
        torch::serialize::InputArchive a, sub;
        a.load_from(file.string());
        a.read("model", sub);
        source->load(sub);
      }
      const auto in = mixedBatch();
      m->eval();
      source->eval();
      if (arch == "brainmass")
        QVERIFY(torch::allclose(m->embed(in), source->embed(in)));
      else
        QVERIFY(torch::allclose(m->named_parameters()["task_query"], source->named_parameters()["variable_queries"].narrow(0, 0, 1)));
      // A model for another ROI count refuses the file, naming both counts.
      auto wrong = build(arch, "finetune", 24, info.extra.value("lcm_variables", json()));
      try {
        loadPretrainedZoo(*wrong, file);
        QFAIL("loaded a 20-ROI pre-training into a 24-ROI model");
      } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("20-ROI") && QString(e.what()).contains("24"), e.what());
      }
    }
  }
};

QTEST_GUILESS_MAIN(ModelZooTest)
#include "test_model_zoo.moc"
