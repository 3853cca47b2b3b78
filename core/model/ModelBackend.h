#pragma once
// The model engine behind a plain C++ interface. Its implementation links LibTorch and
// lives in a shared library (libbraingraph-model.so) that is loaded on first use:
// Debian's LibTorch pulls in ~300 libraries (OpenCV, Qt 5, ...) whose loading costs
// ~0.4 s, which commands that need no model (atlas, connectome) should not pay, and
// which the Qt 6 GUI must never load at all.
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

// What `braingraph-cli pretrain` asks of the engine (plain data: crosses the dlopen boundary).
struct PretrainRequest {
  std::string workspace, corpus;
  int fold = 0;
  bool allItems = false;        // default: the fold's training part only (no test leakage)
  std::string configJson;       // PretrainConfig JSON; empty = the paper's settings
  std::string out;              // model file; the running checkpoint is <out>.ckpt
  std::string device = "auto";
  int threads = 0;
  bool resume = false;
  int epochs = 0, batchSize = 0;  // > 0 overrides the config
  int worldSize = 1, rank = 0;
  std::string master = "127.0.0.1:29500";
};

}  // namespace bg::model
namespace bg {
class ProgressDelegate;
}
namespace bg::model {

class ModelBackend {
 public:
  virtual ~ModelBackend() = default;
  virtual std::string torchVersion() const = 0;
  // Throws bg::Error(Config) when CUDA is requested but this LibTorch build or machine has none.
  virtual ComputeDeviceInfo resolveComputeDevice(const std::string& requested, int cpuThreads) const = 0;
  // Runs BrainGFM pre-training; returns a JSON summary (losses per epoch, throughput, files).
  // Cancelling keeps the last epoch's checkpoint. Throws bg::Error.
  virtual std::string pretrain(const PretrainRequest& request, ::bg::ProgressDelegate& progress) const = 0;
};

// Loads the model library once ($BRAINGRAPH_MODEL_LIBRARY, the build tree, or the installed
// lib/braingraph/); throws bg::Error(Config) naming every place it looked.
const ModelBackend& modelBackend();

}  // namespace bg::model

// The factory the shared library exports.
extern "C" bg::model::ModelBackend* braingraph_create_model_backend();
