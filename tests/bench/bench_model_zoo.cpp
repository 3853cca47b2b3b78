// bench_model_zoo: every zoo architecture at the comparison configuration (hidden 32) and its
// default one (hidden 64), one thread, a batch of 32 CC200-sized graphs (200 ROIs): a training step
// (forward + backward + AdamW) and inference, plus one BrainMass and one LCM pre-training step.
// Prints `name: value`.
#include <cstdio>
#include <vector>

#include <torch/torch.h>

#include "BenchSupport.h"

#include "model/ModelZoo.h"
#include "train/ZooPretraining.h"

using namespace bg;
using bgbench::randomFc;
using bgbench::secondsPer;
using nlohmann::json;

int main() {
  bgbench::useOneThread();
  torch::manual_seed(0);
  const int B = 32, N = 200;
  const auto in = model::makeFcInput(randomFc(B, N), torch::ones({B, N}, torch::kBool), 0.3);
  const auto labels = torch::randint(0, 2, {B}, torch::kLong);
  std::printf("batch: %d graphs of %d ROIs, threads: 1 (medians of 5 rounds)\n", B, N);
  model::AdaptationSpec spec;
  spec.method = "scratch";
  const auto variables = model::LcmVariables::fromJson(json::array({{{"name", "sex"}, {"classes", {"f", "m"}}}}));
  for (const int hidden : {32, 64}) {
    const json config = {{"hidden", hidden}, {"ffn", 2 * hidden}, {"heads", 4}};
    for (const auto& arch : model::zooArchitectures()) {
      auto m = model::makeClassifier(arch, config, spec, 2, N, arch == "lcm" ? variables.toJson() : json());
      const auto params = m->configureTrainable();
      torch::optim::AdamW opt(params, torch::optim::AdamWOptions(1e-3));
      m->setTraining(true);
      const double step = secondsPer(2, [&] {
        opt.zero_grad();
        torch::nn::functional::cross_entropy(m->forward(in), labels).backward();
        opt.step();
      });
      m->eval();
      torch::NoGradGuard ng;
      const double infer = secondsPer(3, [&] { (void)m->forward(in); });
      const auto name = arch + "_h" + std::to_string(hidden);
      std::printf("%s_parameters: %lld\n", name.c_str(), static_cast<long long>(m->totalCount()));
      std::printf("%s_train_graphs_per_s: %.1f\n", name.c_str(), B / step);
      std::printf("%s_inference_graphs_per_s: %.1f\n", name.c_str(), B / infer);
    }
  }
  // Pre-training steps at the comparison configuration.
  {
    const auto c = train::ZooPretrainConfig::fromJson("brainmass", {{"model", {{"hidden", 32}, {"ffn", 64}, {"heads", 4}, {"representation", 64}}}});
    train::BrainMassPretrainer p(c, N);
    std::vector<torch::Tensor> series;
    for (int b = 0; b < B; ++b) series.push_back(torch::randn({176, N}));
    auto gen = at::detail::createCPUGenerator(1);
    const double s = secondsPer(
        1, [&] { (void)p.step(series, gen); }, 3);
    std::printf("brainmass_pretrain_graphs_per_s: %.1f\n", B / s);
  }
  {
    const auto c = train::ZooPretrainConfig::fromJson("lcm", {{"model", {{"hidden", 32}, {"ffn", 64}, {"heads", 4}}}});
    train::LcmPretrainer p(c, N, variables);
    train::LcmTargets t;
    t.values.push_back(std::vector<double>(B, 1.0));
    const auto fc = randomFc(B, N);
    const auto mask = torch::ones({B, N}, torch::kBool);
    for (const bool stageOne : {true, false}) {
      const double s = secondsPer(
          2, [&] { (void)p.step(fc, mask, t, stageOne); }, 3);
      std::printf("lcm_pretrain_%s_graphs_per_s: %.1f\n", stageOne ? "stage1" : "stage2", B / s);
    }
  }
  return 0;
}
