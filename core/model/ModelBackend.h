#pragma once
// The model engine behind a plain C++ interface. Its implementation links LibTorch and
// lives in a shared library (libbraingraph-model.so) that is loaded on first use:
// Debian's LibTorch pulls in ~300 libraries (OpenCV, Qt 5, ...) whose loading costs
// ~0.4 s, which commands that need no model (atlas, connectome) should not pay, and
// which the Qt 6 GUI must never load at all.
#include <string>
#include <vector>

namespace bg::model {

// The public BrainGFM code's architecture (model/BrainGfmPublic.h), for imported checkpoints.
inline constexpr const char* kPublicArchitecture = "braingfm-public";
// One network per atlas under one head (model/AtlasFusion.h; train --atlas-fusion embedding).
inline constexpr const char* kAtlasFusionArchitecture = "atlas-fusion";

struct ComputeDeviceInfo {
  std::string requested;  // as given: auto, cpu, cuda, cuda:N
  std::string resolved;   // cpu or cuda:N
  bool cudaAvailable = false;
  int cudaDeviceCount = 0;
  int cpuThreads = 0;       // torch intra-op threads
  std::string description;  // "CPU (2 threads)" / "CUDA device 0 of 1"
};

// What `braingraph-cli pretrain` asks of the engine (plain data: crosses the dlopen boundary).
struct PretrainRequest {
  std::string architecture = "braingfm";  // braingfm | brainmass | lcm
  std::string workspace, corpus;
  int fold = 0;
  bool allItems = false;   // default: the fold's training part only (no test leakage)
  std::string configJson;  // PretrainConfig JSON; empty = the paper's settings
  std::string out;         // model file; the running checkpoint is <out>.ckpt
  std::string device = "auto";
  int threads = 0;
  bool resume = false;
  int epochs = 0, batchSize = 0;  // > 0 overrides the config
  std::string input;              // BrainGFM: the graph input it learns (GraphInputSpec name), fitted on the pre-training scans; empty: Pearson FC
  int worldSize = 1, rank = 0;
  std::string master = "127.0.0.1:29500";
};

// `train`, `evaluate` (cross-validated) and, with meta, few-shot or zero-shot use of a meta-learned
// prompt. Methods: BrainGFM's finetune, scratch, linear, lora, prefix, prompt, zeroshot; the zoo's
// brainmass, brainmass-probe, lcm, gcn, braingnn, transformer, graph_transformer, brainnettf.
struct TuneRequest {
  std::string workspace, corpus;
  std::string manifestJson;  // a corpus given inline (a multi-atlas corpus's atlas part) instead of the stored `corpus`
  std::string method = "prompt";
  std::string prompt = "node_mult+edge";  // graph prompt kind for method prompt
  std::string pretrained;                 // pre-training model file (pretrain's --out)
  std::string meta;                       // meta-learned model (meta-train's --out)
  std::string out;                        // train: the model file to write
  std::string configJson;                 // TuningConfig fields (model size, epochs, learning rate, ...)
  std::string pretrainConfigJson;         // PretrainConfig for pretrainInFolds
  bool pretrainInFolds = false;           // evaluate: pre-train on each fold's training part (cached)
  std::string split = "corpus";           // corpus | kfold | leave-site-out
  int folds = 10;
  unsigned seed = 0;
  double labelFraction = 1.0;      // 0 = zero-shot (needs meta)
  int shots = 0;                   // > 0: K labelled graphs per class (few-shot)
  int epochs = 0;                  // > 0 overrides the configuration
  std::string calibration;         // temperature | platt; empty: the configuration's
  std::string input;               // fc | fc-z | fc-site | tangent | tangent-z | tangent-site (GraphInputSpec names); empty: the configuration's
  int ensemble = 0;                // > 0: members per model (probabilities averaged); 0: the configuration's
  std::string ensembleValidation;  // shared | folds (each member validates on its own fold); empty: the configuration's
  bool adaptNewSites = false;      // evaluate, per-site input: a test site the training part lacks gets statistics from its own unlabelled test scans
  int adaptScans = 0;              // ... from only this many of them (a seeded choice per site); 0: all
  double adaptShare = -1;          // ... from a batch with this share of the positive class (< 0: as the site comes)
  bool adaptLabelled = false;      // ... its labels weighting the statistics to the training mix (adapt-site --labels)
  // Multi-atlas corpora, graph models: "embedding" trains one model over every atlas's graph of a scan
  // (model/AtlasFusion.h); empty or "probability": one model per atlas, calibrated probabilities averaged.
  std::string atlasFusion;
  bool fusesAtlases() const { return atlasFusion == "embedding"; }
  std::string device = "auto";
  int threads = 0;
};

struct MetaTrainRequest {
  std::string workspace;
  std::vector<std::string> corpora;  // one task each (label definition x atlas)
  std::string pretrained, out, configJson;
  std::string prompt = "node_mult+edge";
  std::string modelConfigJson;  // BrainGfmConfig when no pre-trained encoder is given
  bool firstOrder = false;
  int metaEpochs = 0;
  std::string device = "auto";
  int threads = 0;
};

// `model import`: a state dict saved by another program's code, as a workbench pre-training file.
struct ImportRequest {
  std::string format = "braingfm-public";  // the only one so far
  std::string state;                       // the .pt file (torch.save of a state_dict)
  std::string out;                         // the model file to write
  std::string atlasToken, disease;         // the tokens it reads by default (empty: schaefer, none)
  int heads = 0, rwseSteps = 0;            // not stored in a state dict; 0: the published checkpoint's (8, 5)
};

// One graph to classify: its FC matrix (row-major, nodes x nodes) and, for explanations, ROI names
// and networks (may be empty).
struct GraphInput {
  std::string file;
  int nodes = 0;
  std::vector<float> fc;
  int timepoints = 0;
  std::vector<float> series;  // cleaned ROI time series, row-major (timepoints x nodes): tangent-space models need it
  std::vector<std::string> roiNames, networks;
  std::string site;  // acquisition site: models with per-site standardised input use its statistics
  // A fused multi-atlas model (card "atlases"): the same scan in its further atlases, in that order.
  std::vector<GraphInput> views;
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
  // Trains on the whole corpus (its own stratified validation split inside) and writes request.out;
  // returns the model card (JSON).
  virtual std::string train(const TuneRequest& request, ::bg::ProgressDelegate& progress) const = 0;
  // Cross-validated evaluation; returns the metrics (JSON).
  virtual std::string evaluate(const TuneRequest& request, ::bg::ProgressDelegate& progress) const = 0;
  virtual std::string metaTrain(const MetaTrainRequest& request, ::bg::ProgressDelegate& progress) const = 0;
  virtual std::string modelCard(const std::string& modelFile) const = 0;
  // Writes request.out; returns its card (JSON). Throws bg::Error (Data: the file and the problem).
  virtual std::string importCheckpoint(const ImportRequest& request) const = 0;
  // Runs a state dict (or, with modelFile, a file model import wrote) on a folder of exported batches
  // (manifest.json, batchK_*.npy); returns the largest differences from the saved outputs (JSON).
  // stateFile may be empty (the folder's own).
  virtual std::string checkReference(const std::string& dir, const std::string& stateFile, const std::string& modelFile, double tolerance) const = 0;
  // Writes `out`: the model of `modelFile` with its card merged with `patchJson` (RFC 7386); returns the new card.
  virtual std::string rewriteModelCard(const std::string& modelFile, const std::string& out, const std::string& patchJson) const = 0;
  // One JSON object per input (a JSON array): file, label, probability, top_rois, explanation.
  virtual std::string predict(const std::string& modelFile, const std::vector<GraphInput>& inputs, bool explain, const std::string& device, int threads,
                              ::bg::ProgressDelegate& progress) const = 0;
};

// Loads the model library once ($BRAINGRAPH_MODEL_LIBRARY, the build tree, or the installed
// lib/braingraph/); throws bg::Error(Config) naming every place it looked.
const ModelBackend& modelBackend();

}  // namespace bg::model

// The factory the shared library exports.
extern "C" bg::model::ModelBackend* braingraph_create_model_backend();
