// The LibTorch implementation of ModelBackend (built into libbraingraph-model.so).
#include <thread>

#include <torch/torch.h>
#include <torch/version.h>

#include "errors/Error.h"
#include "model/ModelBackend.h"

namespace bg::model {
namespace {

class TorchBackend final : public ModelBackend {
 public:
  std::string torchVersion() const override { return TORCH_VERSION; }

  ComputeDeviceInfo resolveComputeDevice(const std::string& requested, int cpuThreads) const override {
    ComputeDeviceInfo info;
    info.requested = requested.empty() ? "auto" : requested;
    info.cudaAvailable = torch::cuda::is_available();
    info.cudaDeviceCount = info.cudaAvailable ? static_cast<int>(torch::cuda::device_count()) : 0;
    torch::set_num_threads(cpuThreads > 0 ? cpuThreads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
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
};

}  // namespace
}  // namespace bg::model

extern "C" __attribute__((visibility("default"))) bg::model::ModelBackend* braingraph_create_model_backend() {
  return new bg::model::TorchBackend();
}
