// bench_braingfm: the BrainGFM encoder at the paper's configuration on batches of 32
// Schaefer100-sized graphs, one thread. Prints `name: value` lines. Pre-training and the
// bucketing comparison come with the pre-training objectives (issue 5).
#include <chrono>
#include <cstdio>

#include <torch/torch.h>

#include "model/BrainGfm.h"

using namespace bg::model;

int main() {
  torch::set_num_threads(1);
  torch::manual_seed(0);
  const BrainGfmConfig c;  // paper table 7
  BrainGfmEncoder encoder(c);
  torch::nn::Linear head(c.hidden, 2);
  const int B = 32, N = 100;
  auto x = torch::randn({B, N, 60});
  auto fc = torch::matmul(x, x.transpose(1, 2)) / 60.0;
  const auto d = fc.diagonal(0, 1, 2).sqrt();
  fc = fc / (d.unsqueeze(2) * d.unsqueeze(1));
  const auto in = makeGraphInput(fc, torch::ones({B, N}, torch::kBool), torch::randn({c.textDimension}), torch::randn({c.textDimension}), c);
  const auto labels = torch::randint(0, 2, {B}, torch::kLong);
  std::vector<torch::Tensor> params = encoder->parameters();
  for (const auto& p : head->parameters()) params.push_back(p);
  torch::optim::Adam adam(params, torch::optim::AdamOptions(1e-4));

  auto time = [](int reps, const auto& f) {
    f();  // warm-up
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / reps;
  };
  encoder->train();
  const double train = time(5, [&] {
    adam.zero_grad();
    const auto loss = torch::nn::functional::cross_entropy(head->forward(encoder->forward(in).graph), labels);
    loss.backward();
    adam.step();
  });
  encoder->eval();
  const double infer = time(10, [&] {
    torch::InferenceMode guard;
    (void)encoder->forward(in).graph;
  });
  std::printf("parameters: %lld\n", static_cast<long long>(encoder->parameterCount()));
  std::printf("batch: %d graphs of %d nodes, threads: 1\n", B, N);
  std::printf("train_graphs_per_s: %.1f\n", B / train);
  std::printf("infer_graphs_per_s: %.1f\n", B / infer);
  return 0;
}
