#pragma once
// What the LibTorch benchmarks share: random correlation matrices and a noise-robust timer.
#include <algorithm>
#include <chrono>
#include <vector>

#include <dlfcn.h>

#include <torch/torch.h>

namespace bgbench {

// One compute thread: torch's pool and OpenBLAS's own (Debian's libtorch multiplies through it).
inline void useOneThread() {
  torch::set_num_threads(1);
  if (auto f = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(1);
}

// A batch of b random N x N correlation matrices (from 60 Gaussian samples each).
inline torch::Tensor randomFc(int b, int n) {
  auto x = torch::randn({b, n, 60});
  auto fc = torch::matmul(x, x.transpose(1, 2)) / 60.0;
  const auto d = fc.diagonal(0, 1, 2).sqrt();
  return fc / (d.unsqueeze(2) * d.unsqueeze(1));
}

// Median over rounds of the mean time per call: a shared 2-core machine is noisy.
template <class F>
double secondsPer(int reps, const F& f, int rounds = 5) {
  f();  // warm-up
  std::vector<double> t;
  for (int r = 0; r < rounds; ++r) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / reps);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace bgbench
