#pragma once
// Data-parallel training across processes with LibTorch's c10d: Gloo on CPU. Rank 0 hosts the
// TCP store at master host:port; parameters start from rank 0's values and gradients are averaged
// after every backward pass, so all ranks take identical optimiser steps.
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace bg::train {

class DataParallel {
 public:
  // master: "host:port". Blocks until every rank has joined (or the timeout passes).
  DataParallel(const std::string& master, int rank, int worldSize, std::chrono::seconds timeout = std::chrono::seconds(120));
  ~DataParallel();
  int rank() const { return rank_; }
  int worldSize() const { return world_; }
  void broadcastFromRankZero(std::vector<torch::Tensor>& tensors);
  void averageGradients(std::vector<torch::Tensor>& parameters);
  void barrier();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_, world_;
};

}  // namespace bg::train
