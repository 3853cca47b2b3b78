// bench_braingfm: BrainGFM at the paper's configuration, one thread. Batches of 32
// Schaefer100-sized graphs for training (forward + backward + Adam), inference and pre-training
// (GCL + GMAE); then a mixed corpus of all eight atlas sizes trained with node-count buckets
// against padding every batch to its largest graph; crop augmentation's loader cost with one window
// and with pre-training's two contrastive windows; the public code's architecture (braingfm-public)
// at the published checkpoint's size (hidden 256, 4 + 4 layers, 8 heads, max_feature_dim 512), batch
// 32 Schaefer100 graphs, inference and fine-tuning (forward, backward, Adam). Prints `name: value` lines.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <unistd.h>

#include <torch/torch.h>

#include "BenchSupport.h"

#include "model/BrainGfm.h"
#include "model/BrainGfmPublic.h"
#include "model/GraphClassifier.h"
#include "train/GraphBatchLoader.h"
#include "train/Pretrainer.h"
#include "workspace/ArrayStore.h"

using namespace bg;
using namespace bg::model;

using bgbench::randomFc;
using bgbench::secondsPer;

// The public architecture at the published size: only its last block reaches the output.
void benchPublic(const torch::Tensor& fc, const torch::Tensor& labels) {
  const int B = static_cast<int>(fc.size(0)), N = static_cast<int>(fc.size(1));
  torch::manual_seed(1);
  PublicGfmConfig pcfg = PublicGfmConfig::fromJson(nullptr);
  AdaptationSpec finetune;
  finetune.method = "finetune";
  PublicGfmClassifier publicModel(pcfg, finetune, 2);
  const auto publicIn = makeFcInput(fc, torch::ones({B, N}, torch::kBool), pcfg.adjacencyThreshold);
  torch::optim::Adam publicAdam(publicModel->configureTrainable(), torch::optim::AdamOptions(1e-4));
  publicModel->setTraining(true);
  const double publicTrain = secondsPer(3, [&] {
    publicAdam.zero_grad();
    torch::nn::functional::cross_entropy(publicModel->forward(publicIn), labels).backward();
    publicAdam.step();
  });
  publicModel->setTraining(false);
  const double publicInfer = secondsPer(5, [&] {
    torch::InferenceMode guard;
    (void)publicModel->forward(publicIn);
  });

  std::printf("public_parameters: %lld\n", static_cast<long long>(publicModel->totalCount()));
  std::printf("public_infer_graphs_per_s: %.1f\n", B / publicInfer);
  std::printf("public_train_graphs_per_s: %.1f\n", B / publicTrain);
}

// `bench_braingfm --public` measures the public architecture alone.
int main(int argc, char** argv) {
  bgbench::useOneThread();
  if (argc > 1 && std::string(argv[1]) == "--public") {
    torch::manual_seed(0);
    benchPublic(randomFc(32, 100), torch::randint(0, 2, {32}, torch::kLong));
    return 0;
  }
  torch::manual_seed(0);
  const BrainGfmConfig c;  // paper table 7
  BrainGfmEncoder encoder(c);
  torch::nn::Linear head(c.hidden, 2);
  const int B = 32, N = 100;
  const auto fc = randomFc(B, N);
  const auto text = torch::randn({c.textDimension});
  const auto in = makeGraphInput(fc, torch::ones({B, N}, torch::kBool), text, text, c);
  const auto labels = torch::randint(0, 2, {B}, torch::kLong);
  std::vector<torch::Tensor> params = encoder->parameters();
  for (const auto& p : head->parameters()) params.push_back(p);
  torch::optim::Adam adam(params, torch::optim::AdamOptions(1e-4));
  auto trainStep = [&](const GraphBatchInput& input, const torch::Tensor& y) {
    adam.zero_grad();
    const auto loss = torch::nn::functional::cross_entropy(head->forward(encoder->forward(input).graph), y);
    loss.backward();
    adam.step();
  };

  encoder->train();
  const double train = secondsPer(5, [&] { trainStep(in, labels); });
  encoder->eval();
  const double infer = secondsPer(10, [&] {
    torch::InferenceMode guard;
    (void)encoder->forward(in).graph;
  });
  encoder->train();

  // Pre-training step (GCL + GMAE) on the same batch.
  train::PretrainConfig pc;
  pc.mode = "sum";
  train::Pretrainer pretrainer(pc);
  train::GraphBatch batch{fc, torch::ones({B, N}, torch::kBool), labels, {}};
  std::vector<std::int64_t> ids(B);
  for (int i = 0; i < B; ++i) ids[static_cast<std::size_t>(i)] = i;
  const double pretrain = secondsPer(3, [&] { pretrainer.step(batch, ids, 0); });

  // Mixed corpus: 16 graphs of each of the eight atlas sizes, batch 32, one epoch each way.
  const auto dir = std::filesystem::temp_directory_path() / ("bench_braingfm_" + std::to_string(::getpid()));
  ArrayStore store(dir);
  std::vector<DatasetItem> items;
  for (int n : {100, 200, 300, 116, 166, 268, 264, 333})
    for (int k = 0; k < 16; ++k) {
      const auto m = randomFc(1, n)[0].contiguous();
      items.push_back({store.put(m.data_ptr<float>(), n, n), k % 2, n, static_cast<std::int64_t>(items.size())});
    }
  auto epochSeconds = [&](bool bucket) {
    train::GraphBatchLoader loader(store, items, 32, 1, bucket);
    loader.startEpoch(0);
    const auto start = std::chrono::steady_clock::now();
    while (auto b = loader.next()) trainStep(makeGraphInput(b->fc, b->mask, text, text, c), b->labels);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::vector<double> ratios, paddedRuns, bucketedRuns;
  for (int r = 0; r < 3; ++r) {
    paddedRuns.push_back(epochSeconds(false));
    bucketedRuns.push_back(epochSeconds(true));
  }
  std::sort(paddedRuns.begin(), paddedRuns.end());
  std::sort(bucketedRuns.begin(), bucketedRuns.end());
  const double padded = paddedRuns[1], bucketed = bucketedRuns[1];

  // Crop augmentation's cost in the loader: a batch of 32 CC200-sized scans (200 ROIs, 150 time
  // points) read as 70 % windows, with one window and with contrastive pre-training's second one.
  std::vector<DatasetItem> scans;
  for (int k = 0; k < B; ++k) {
    const Eigen::MatrixXd series = Eigen::MatrixXd::Random(150, 200);
    const auto m = randomFc(1, 200)[0].contiguous();
    DatasetItem item{store.put(m.data_ptr<float>(), 200, 200), k % 2, 200, k};
    item.seriesArray = store.put(series);
    scans.push_back(item);
  }
  std::vector<int> all(scans.size());
  for (std::size_t k = 0; k < all.size(); ++k) all[k] = static_cast<int>(k);
  auto batchSeconds = [&](double crop, bool second) {
    train::GraphBatchLoader loader(store, scans, B, 1, false);
    loader.setCropAugmentation(crop);
    loader.setSecondWindow(second);
    return secondsPer(5, [&] { (void)loader.load(all); });
  };
  const double storedBatch = batchSeconds(0, false), oneWindow = batchSeconds(0.7, false), twoWindows = batchSeconds(0.7, true);
  // The pre-training step with a second window's graphs as GCL's second view.
  train::GraphBatch windowed = batch;
  windowed.fcSecond = randomFc(B, N);
  const double pretrainWindows = secondsPer(3, [&] { pretrainer.step(windowed, ids, 0); });
  // Multi-atlas pre-training: a batch of 32 CC200 graphs (200 ROIs) with each scan's HO graph (111
  // ROIs) as GCL's second view, each atlas with its own token; against the same batch with a dropout
  // view of the CC200 graph itself.
  train::Pretrainer multi(pc);
  multi.setAtlasTexts({{"cc200", torch::randn({c.textDimension})}, {"ho", torch::randn({c.textDimension})}});
  train::GraphBatch cc200{randomFc(B, 200), torch::ones({B, 200}, torch::kBool), labels, {}};
  cc200.atlases.assign(B, "cc200");
  const double pretrainCc200 = secondsPer(3, [&] { multi.step(cc200, ids, 0); });
  train::GraphBatch crossAtlas = cc200;
  crossAtlas.fcSecond = randomFc(B, 111);
  crossAtlas.maskSecond = torch::ones({B, 111}, torch::kBool);
  crossAtlas.atlasesSecond.assign(B, "ho");
  const double pretrainCross = secondsPer(3, [&] { multi.step(crossAtlas, ids, 0); });
  train::GraphBatch ho{randomFc(B, 111), torch::ones({B, 111}, torch::kBool), labels, {}};
  ho.atlases.assign(B, "ho");
  const double pretrainHo = secondsPer(3, [&] { multi.step(ho, ids, 0); });
  std::filesystem::remove_all(dir);

  std::printf("parameters: %lld\n", static_cast<long long>(encoder->parameterCount()));
  std::printf("batch: %d graphs of %d nodes, threads: 1 (medians of 5 rounds; mixed corpus: of 3 epochs)\n", B, N);
  std::printf("train_graphs_per_s: %.1f\n", B / train);
  std::printf("infer_graphs_per_s: %.1f\n", B / infer);
  std::printf("pretrain_graphs_per_s: %.1f\n", B / pretrain);
  std::printf("mixed_corpus_graphs: %zu\n", items.size());
  std::printf("mixed_padded_graphs_per_s: %.1f\n", static_cast<double>(items.size()) / padded);
  std::printf("mixed_bucketed_graphs_per_s: %.1f\n", static_cast<double>(items.size()) / bucketed);
  std::printf("bucket_vs_pad_speedup: %.2f\n", padded / bucketed);
  std::printf("pretrain_contrastive_windows_graphs_per_s: %.1f\n", B / pretrainWindows);
  std::printf("pretrain_cc200_batch_graphs_per_s: %.1f\n", B / pretrainCc200);
  std::printf("pretrain_ho_batch_graphs_per_s: %.1f\n", B / pretrainHo);
  std::printf("pretrain_mixed_cc200_ho_epoch_graphs_per_s: %.1f\n", 2.0 * B / (pretrainCc200 + pretrainHo));
  std::printf("pretrain_cc200_with_ho_cross_atlas_view_graphs_per_s: %.1f\n", B / pretrainCross);
  std::printf("loader_batch_32x200_stored_fc_ms: %.2f\n", 1e3 * storedBatch);
  std::printf("loader_batch_32x200_crop_one_window_ms: %.2f\n", 1e3 * oneWindow);
  std::printf("loader_batch_32x200_crop_two_windows_ms: %.2f\n", 1e3 * twoWindows);
  benchPublic(fc, labels);
  return 0;
}
