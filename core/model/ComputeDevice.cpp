#include "model/ComputeDevice.h"

#include <thread>

#include <torch/torch.h>
#include <torch/version.h>

#include "errors/Error.h"

namespace bg::model {

std::string torchVersion() { return TORCH_VERSION; }

void applyComputeThreads(int threads) {
  const int n = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(n);
}

ComputeDeviceInfo resolveComputeDevice(const std::string& requested, int cpuThreads) {
  ComputeDeviceInfo info;
  info.requested = requested.empty() ? "auto" : requested;
  info.cudaAvailable = torch::cuda::is_available();
  info.cudaDeviceCount = info.cudaAvailable ? static_cast<int>(torch::cuda::device_count()) : 0;
  applyComputeThreads(cpuThreads);
  info.cpuThreads = torch::get_num_threads();

  int cudaIndex = -1;
  if (info.requested == "auto") {
    cudaIndex = info.cudaAvailable ? 0 : -1;
  } else if (info.requested == "cpu") {
    cudaIndex = -1;
  } else if (info.requested.rfind("cuda", 0) == 0) {
    cudaIndex = info.requested.size() > 5 ? std::stoi(info.requested.substr(5)) : 0;
    if (!info.cudaAvailable)
      throw Error(ErrorCode::Config, "device '" + info.requested +
                                         "' requested, but this LibTorch build or machine has no CUDA (use --device cpu)");
    if (cudaIndex >= info.cudaDeviceCount)
      throw Error(ErrorCode::Config, "device '" + info.requested + "' requested, but only " +
                                         std::to_string(info.cudaDeviceCount) + " CUDA device(s) exist");
  } else {
    throw Error(ErrorCode::Config, "unknown device '" + info.requested + "' (auto, cpu, cuda, cuda:N)");
  }
  if (cudaIndex >= 0) {
    info.resolved = "cuda:" + std::to_string(cudaIndex);
    info.description = "CUDA device " + std::to_string(cudaIndex) + " of " + std::to_string(info.cudaDeviceCount);
  } else {
    info.resolved = "cpu";
    info.description = "CPU (" + std::to_string(info.cpuThreads) + " threads)";
  }
  return info;
}

}  // namespace bg::model
