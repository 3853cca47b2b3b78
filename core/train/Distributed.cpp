#define USE_C10D_GLOO 1
#include "train/Distributed.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "errors/Error.h"

namespace bg::train {

struct DataParallel::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

DataParallel::DataParallel(const std::string& master, int rank, int worldSize, std::chrono::seconds timeout)
    : impl_(std::make_unique<Impl>()), rank_(rank), world_(worldSize) {
  const auto colon = master.rfind(':');
  if (colon == std::string::npos) throw Error(ErrorCode::Usage, "--master must be HOST:PORT, got '" + master + "'");
  if (rank < 0 || rank >= worldSize) throw Error(ErrorCode::Usage, "--rank must be in [0, world size)");
  const std::string host = master.substr(0, colon);
  c10d::TCPStoreOptions opts;
  opts.port = static_cast<std::uint16_t>(std::stoi(master.substr(colon + 1)));
  opts.isServer = rank == 0;
  opts.numWorkers = static_cast<std::size_t>(worldSize);
  opts.timeout = timeout;
  try {
    impl_->store = c10::make_intrusive<c10d::TCPStore>(host, opts);
    auto options = c10d::ProcessGroupGloo::Options::create(std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(host));
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, rank, worldSize, options);
  } catch (const std::exception& e) {
    throw Error(ErrorCode::Io, "cannot join the training group at " + master + " as rank " + std::to_string(rank) + ": " + e.what());
  }
}

DataParallel::~DataParallel() = default;

void DataParallel::broadcastFromRankZero(std::vector<torch::Tensor>& tensors) {
  for (auto& t : tensors) {
    std::vector<torch::Tensor> one = {t.data()};
    impl_->group->broadcast(one)->wait();
  }
}

void DataParallel::averageGradients(std::vector<torch::Tensor>& parameters) {
  // One flat buffer: a single allreduce per step instead of one per parameter.
  std::vector<torch::Tensor> grads;
  for (auto& p : parameters) grads.push_back(p.grad().defined() ? p.grad().reshape(-1) : torch::zeros({p.numel()}, p.options()));
  std::vector<torch::Tensor> flat = {torch::cat(grads)};
  impl_->group->allreduce(flat)->wait();
  flat[0].div_(world_);
  std::int64_t offset = 0;
  for (auto& p : parameters) {
    const auto n = p.numel();
    if (p.grad().defined()) p.mutable_grad().copy_(flat[0].narrow(0, offset, n).view_as(p));
    offset += n;
  }
}

void DataParallel::barrier() { impl_->group->barrier()->wait(); }

}  // namespace bg::train
