#pragma once
// Which device models run on. Plain C++ interface: torch stays inside core/model.
#include <string>

namespace bg::model {

struct ComputeDeviceInfo {
  std::string requested;    // as given: auto, cpu, cuda, cuda:N
  std::string resolved;     // cpu or cuda:N
  bool cudaAvailable = false;
  int cudaDeviceCount = 0;
  int cpuThreads = 0;       // torch intra-op threads
  std::string description;  // "CPU (2 threads)" / "CUDA device 0 of 1"
};

// Throws bg::Error(Config) when CUDA is requested but this LibTorch build or machine has none.
ComputeDeviceInfo resolveComputeDevice(const std::string& requested, int cpuThreads);
std::string torchVersion();
// 0 = all cores. Sets torch's intra-op pool size for this process.
void applyComputeThreads(int threads);

}  // namespace bg::model
