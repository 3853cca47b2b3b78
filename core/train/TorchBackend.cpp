// The LibTorch implementation of ModelBackend (built into libbraingraph-model.so).
#include <dlfcn.h>

#include <thread>

#include <torch/torch.h>
#include <torch/version.h>

#include "errors/Error.h"
#include "jobs/Progress.h"
#include "model/ModelBackend.h"
#include "model/TextEmbedding.h"
#include "platform/Versions.h"
#include "settings/DataPaths.h"
#include "train/Distributed.h"
#include "train/Experiment.h"
#include "train/ModelFile.h"
#include "train/Pretrainer.h"
#include "train/PublicCheckpoint.h"
#include "train/TransformedGraphs.h"
#include "train/ZooPretraining.h"
#include "workspace/ContentHash.h"
#include "workspace/Corpus.h"
#include "workspace/CorpusDataset.h"
#include "workspace/Workspace.h"

namespace bg::model {
namespace {

// torch's intra-op pool and OpenBLAS's own threads (Debian's libtorch uses OpenBLAS): left alone,
// OpenBLAS spins up one thread per core and they fight torch's over 2 cores.
void setComputeThreads(int n) {
  torch::set_num_threads(n);
  if (auto f = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(n);
}

class TorchBackend final : public ModelBackend {
 public:
  std::string torchVersion() const override { return TORCH_VERSION; }

  ComputeDeviceInfo resolveComputeDevice(const std::string& requested, int cpuThreads) const override {
    ComputeDeviceInfo info;
    info.requested = requested.empty() ? "auto" : requested;
    info.cudaAvailable = torch::cuda::is_available();
    info.cudaDeviceCount = info.cudaAvailable ? static_cast<int>(torch::cuda::device_count()) : 0;
    setComputeThreads(cpuThreads > 0 ? cpuThreads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    info.cpuThreads = torch::get_num_threads();

    int cudaIndex = -1;
    if (info.requested == "auto") {
      cudaIndex = info.cudaAvailable ? 0 : -1;
    } else if (info.requested == "cpu") {
      cudaIndex = -1;
    } else if (info.requested.rfind("cuda", 0) == 0) {
      cudaIndex = info.requested.size() > 5 ? std::stoi(info.requested.substr(5)) : 0;
      if (!info.cudaAvailable)
        throw Error(ErrorCode::Config, "device '" + info.requested + "' requested, but this LibTorch build or machine has no CUDA (use --device cpu)");
      if (cudaIndex >= info.cudaDeviceCount)
        throw Error(ErrorCode::Config, "device '" + info.requested + "' requested, but only " + std::to_string(info.cudaDeviceCount) + " CUDA device(s) exist");
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

  std::string pretrain(const PretrainRequest& r, ProgressDelegate& progress) const override {
    const auto device = resolveComputeDevice(r.device, r.threads);
    progress.note("device", device.description);
    auto ws = Workspace::open(r.workspace);
    const auto manifest = loadCorpus(*ws, r.corpus);
    // BrainGFM gives every graph its own atlas token, so it pre-trains on all atlases of a corpus at once.
    if (r.architecture != "braingfm" && corpusAtlases(manifest).size() > 1)
      throw Error(ErrorCode::Usage, r.architecture +
                                        " cannot pre-train on several atlases at once: it has no atlas token, and its ROI-row inputs "
                                        "would mean different regions in different parcellations. Pre-train it per atlas (corpus "
                                        "create --atlas ID); BrainGFM pre-trains on every atlas of a corpus together");
    const auto mix = r.architecture == "braingfm" ? AtlasMix::Allowed : AtlasMix::SingleOnly;
    std::vector<DatasetItem> items;
    if (r.allItems) {
      for (const char* part : {"train", "validation", "test"}) {
        auto some = corpusItems(manifest, r.fold, part, ws->arrays(), mix);
        items.insert(items.end(), some.begin(), some.end());
      }
    } else {
      items = corpusItems(manifest, r.fold, "train", ws->arrays(), mix);
    }
    const auto input = r.input.empty() ? GraphInputSpec{} : GraphInputSpec::fromName(r.input);
    if (r.architecture != "braingfm") {
      if (!input.identity()) throw Error(ErrorCode::Usage, r.architecture + " pre-trains on its own inputs; --input is for BrainGFM");
      return pretrainZoo(r, *ws, manifest, items, progress, torch::Device(device.resolved), device.description);
    }
    auto config = train::PretrainConfig::fromJson(r.configJson.empty() ? nlohmann::json::object() : nlohmann::json::parse(r.configJson));
    if (config.cropAugmentation > 0 && !input.identity())
      throw Error(ErrorCode::Config,
                  "the pre-training's crop_augmentation recomputes Pearson FC from the time series: it does not combine with input " + input.name());
    if (r.epochs > 0) config.epochs = r.epochs;
    if (r.batchSize > 0) config.batchSize = r.batchSize;
    // The [A/P] token of each atlas: its description through the built-in text encoder.
    const std::string atlas = manifest.value("atlas", std::string());
    const auto atlases = corpusAtlases(manifest);
    PromptTexts prompts;
    try {
      prompts = PromptTexts::load(DataPaths::resourceDir());
    } catch (const Error&) {
    }
    HashedNgramEmbedder embedder(config.model.textDimension);
    train::AtlasTexts atlasTexts;
    for (const auto& a : atlases) {
      const auto it = prompts.atlases.find(a);
      const auto vec = embedder.embed(a, it != prompts.atlases.end() ? it->second : a);
      atlasTexts[a] = torch::tensor(std::vector<float>(vec.begin(), vec.end()));
    }
    if (config.crossAtlasViews && atlases.size() < 2)
      throw Error(ErrorCode::Config, "cross_atlas_views pairs one scan's graphs in two atlases; corpus '" + r.corpus + "' holds one (" + atlas +
                                         "): create it with several (corpus create --atlas cc200,ho)");
    std::int64_t widest = 0;
    for (const auto& it : items) widest = std::max(widest, it.nodes);
    if (widest + config.model.rwseSteps > config.model.featureWidth)
      throw Error(ErrorCode::Config, "the corpus's largest graph has " + std::to_string(widest) + " nodes; with " + std::to_string(config.model.rwseSteps) +
                                         " RWSE steps that needs a feature_width of at least " + std::to_string(widest + config.model.rwseSteps) +
                                         " (the configuration has " + std::to_string(config.model.featureWidth) + ")");
    const std::string manifestText = manifest.dump();
    nlohmann::json extra = {{"kind", "braingfm-pretrained"},
                            {"corpus", r.corpus},
                            {"fold", r.fold},
                            {"items", items.size()},
                            {"manifest_hash", hashBytes(manifestText.data(), manifestText.size())},
                            {"code_version", braingraphVersion()},
                            {"torch_version", TORCH_VERSION},
                            {"text_embeddings", embedder.source()},
                            {"atlas", atlas}};
    if (atlases.size() > 1) {
      extra["atlases"] = atlases;
      extra["cross_atlas_views"] = config.crossAtlasViews;
    }
    // Another input: fitted on these same scans (a rerun with --resume fits the same), the graphs
    // rewritten into a scratch store for the run; the card names the input so that fine-tuning
    // checks it reads the same (Experiment's checkGraphInput).
    const double inputShare = input.identity() ? 0.0 : 0.05;
    std::unique_ptr<train::TransformedGraphs> graphs;
    if (!input.identity()) {
      ProgressRange inputProgress(progress, 0.0, inputShare);
      ProgressRange fitting(inputProgress, 0.0, 0.7), remapping(inputProgress, 0.7, 1.0);
      graphs = std::make_unique<train::TransformedGraphs>(ws->arrays(), train::fitGraphInput(input, ws->arrays(), items, &fitting), ws->dir() / "tmp");
      items = graphs->remap(items, &remapping);
      extra["input"] = input.toJson();
    }
    std::unique_ptr<train::DataParallel> parallel;
    if (r.worldSize > 1) parallel = std::make_unique<train::DataParallel>(r.master, r.rank, r.worldSize);
    const std::filesystem::path out = r.out, ckpt = out.string() + ".ckpt";
    ProgressRange training(progress, inputShare, 1.0);
    const auto result = train::runPretraining(graphs ? graphs->store() : ws->arrays(), items, config, ckpt, r.resume, extra, training,
                                              torch::Device(device.resolved), parallel.get(), atlasTexts);
    if (r.rank == 0) std::filesystem::rename(ckpt, out);
    nlohmann::json losses = nlohmann::json::array();
    for (const auto& l : result.epochLosses) losses.push_back({{"gcl", l.gcl}, {"gmae", l.gmae}, {"total", l.total}});
    return nlohmann::json{{"model", out.string()},   {"device", device.description}, {"start_epoch", result.startEpoch},
                          {"epochs", config.epochs}, {"items", items.size()},        {"graphs_per_second", result.graphsPerSecond},
                          {"input", input.name()},   {"atlases", atlases},           {"cross_atlas_views", config.crossAtlasViews},
                          {"losses", losses}}
        .dump(2);
  }

  // BrainMass and LCM: no checkpoints (their runs are short); the file is written at the end.
  static std::string pretrainZoo(const PretrainRequest& r, Workspace& ws, const nlohmann::json& manifest, const std::vector<DatasetItem>& items,
                                 ProgressDelegate& progress, torch::Device device, const std::string& deviceDescription) {
    if (r.worldSize > 1 || r.resume) throw Error(ErrorCode::Usage, r.architecture + " pre-training runs in one process without --resume");
    auto config = train::ZooPretrainConfig::fromJson(r.architecture, r.configJson.empty() ? nlohmann::json() : nlohmann::json::parse(r.configJson));
    if (r.epochs > 0) config.epochs = r.epochs;
    if (r.batchSize > 0) config.batchSize = r.batchSize;
    std::vector<std::map<std::string, std::string>> phenotypes;
    std::vector<std::string> datasets;
    const auto labelField = manifest.value("label_field", std::string("diagnosis"));
    if (r.architecture == "lcm") train::phenotypesOfItems(ws, items, {labelField, "sex", "age", "site"}, phenotypes, datasets);
    const std::string manifestText = manifest.dump();
    const nlohmann::json extra = {{"corpus", r.corpus},
                                  {"fold", r.fold},
                                  {"items", items.size()},
                                  {"manifest_hash", hashBytes(manifestText.data(), manifestText.size())},
                                  {"code_version", braingraphVersion()},
                                  {"torch_version", TORCH_VERSION},
                                  {"atlas", manifest.value("atlas", "")}};
    const auto result = train::runZooPretraining(ws.arrays(), items, config, phenotypes, datasets, labelField, r.out, extra, progress, device);
    nlohmann::json losses = nlohmann::json::array();
    for (const auto& l : result.epochs) losses.push_back(l);
    return nlohmann::json{{"model", r.out},
                          {"architecture", r.architecture},
                          {"device", deviceDescription},
                          {"epochs", config.epochs},
                          {"items", items.size()},
                          {"graphs_per_second", result.graphsPerSecond},
                          {"losses", losses},
                          {"variables", result.extra.value("lcm_variables", nlohmann::json())}}
        .dump(2);
  }

  std::string train(const TuneRequest& r, ProgressDelegate& progress) const override {
    const auto device = resolveComputeDevice(r.device, r.threads);
    progress.note("device", device.description);
    return train::trainModel(r, progress, torch::Device(device.resolved)).dump(2);
  }

  std::string evaluate(const TuneRequest& r, ProgressDelegate& progress) const override {
    const auto device = resolveComputeDevice(r.device, r.threads);
    progress.note("device", device.description);
    return train::evaluateMethod(r, progress, torch::Device(device.resolved)).dump(2);
  }

  std::string metaTrain(const MetaTrainRequest& r, ProgressDelegate& progress) const override {
    const auto device = resolveComputeDevice(r.device, r.threads);
    progress.note("device", device.description);
    return train::metaTrain(r, progress, torch::Device(device.resolved)).dump(2);
  }

  std::string rewriteModelCard(const std::string& modelFile, const std::string& out, const std::string& patchJson) const override {
    return withContext("while rewriting the card of " + modelFile, [&] {
      auto loaded = train::loadModelFile(modelFile);
      loaded.card.merge_patch(nlohmann::json::parse(patchJson));
      train::saveModelFile(out, *loaded.model, loaded.card, {loaded.members.begin() + 1, loaded.members.end()});
      return loaded.card.dump();
    });
  }

  std::string modelCard(const std::string& file) const override { return train::readModelCard(file).dump(2); }

  std::string importCheckpoint(const ImportRequest& r) const override {
    if (r.format != model::kPublicArchitecture)
      throw Error(ErrorCode::Usage, "unknown checkpoint format '" + r.format + "' (known: " + model::kPublicArchitecture + ")");
    train::PublicImportOptions o;
    o.atlasToken = r.atlasToken;
    o.diseaseToken = r.disease;
    o.heads = r.heads;
    o.rwseSteps = r.rwseSteps;
    return train::importPublicCheckpoint(r.state, r.out, o).dump(2);
  }

  std::string checkReference(const std::string& dir, const std::string& stateFile, const std::string& modelFile, double tolerance) const override {
    return train::checkPublicReference(dir, stateFile, modelFile, tolerance).dump(2);
  }

  std::string predict(const std::string& file, const std::vector<GraphInput>& inputs, bool explain, const std::string& device, int threads,
                      ProgressDelegate& progress) const override {
    const auto d = resolveComputeDevice(device, threads);
    return train::predictGraphs(file, inputs, explain, progress, torch::Device(d.resolved)).dump();
  }
};

}  // namespace
}  // namespace bg::model

extern "C" __attribute__((visibility("default"))) bg::model::ModelBackend* braingraph_create_model_backend() { return new bg::model::TorchBackend(); }
