#include "train/FoldPretraining.h"

#include <chrono>
#include <filesystem>
#include <map>

#include <spdlog/spdlog.h>
#include <torch/version.h>

#include "errors/Error.h"
#include "model/ModelZoo.h"
#include "platform/Versions.h"
#include "train/Experiment.h"
#include "train/Pretrainer.h"
#include "train/TuningSetup.h"
#include "train/ZooPretraining.h"
#include "workspace/ContentHash.h"
#include "workspace/Workspace.h"
#include "workspace/WorkspaceQueries.h"

namespace bg::train {
using nlohmann::json;

namespace {
// Pre-training on one fold's training part, cached in the workspace by (configuration, items).
std::string pretrainZooForFold(Workspace& ws, const json& manifest, const std::vector<DatasetItem>& items, const model::TuneRequest& r,
                               const TuningConfig& tuning, torch::Device device, ProgressDelegate& progress, double* seconds) {
  auto pj = r.pretrainConfigJson.empty() ? json::object() : json::parse(r.pretrainConfigJson);
  pj["model"] = model::ZooConfig::fromJson(tuning.architecture, tuning.zooModel).toJson();
  const auto config = ZooPretrainConfig::fromJson(tuning.architecture, pj);
  std::string key = config.toJson().dump();
  for (const auto& it : items) key.append(",").append(std::to_string(it.scanId));
  {
    // The module's structure too: a cached file from a version with other parameters must not be reused.
    model::AdaptationSpec scratch;
    scratch.method = "scratch";
    const auto probe = model::makeClassifier(tuning.architecture, config.model, scratch, 2, maxNodes(items));
    for (const auto& kv : probe->named_parameters(true)) key.append(";").append(kv.key()).append(std::to_string(kv.value().numel()));
    for (const auto& kv : probe->named_buffers(true)) key.append(";").append(kv.key()).append(std::to_string(kv.value().numel()));
  }
  const auto file = ws.dir() / "models" / "cache" / ("pretrain-" + tuning.architecture + "-" + hashBytes(key.data(), key.size()).substr(0, 16) + ".pt");
  if (std::filesystem::exists(file)) {
    spdlog::info("using the cached fold pre-training {}", file.string());
    return file.string();
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::map<std::string, std::string>> phenotypes;
  std::vector<std::string> datasets;
  const auto labelField = manifest.value("label_field", std::string("diagnosis"));
  if (tuning.architecture == "lcm") phenotypesOfItems(ws, items, {labelField, "sex", "age", "site"}, phenotypes, datasets);
  const json extra = {{"corpus", manifest.value("name", "")}, {"items", items.size()}, {"code_version", braingraphVersion()}, {"torch_version", TORCH_VERSION}};
  runZooPretraining(ws.arrays(), items, config, phenotypes, datasets, labelField, file, extra, progress, device);
  if (seconds) *seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return file.string();
}

}  // namespace

PretrainConfig foldPretrainConfig(const model::TuneRequest& r, const TuningConfig& tuning) {
  auto pj = r.pretrainConfigJson.empty() ? json::object() : json::parse(r.pretrainConfigJson);
  pj["model"] = tuning.model.toJson();
  auto config = PretrainConfig::fromJson(pj);
  if (config.cropAugmentation > 0 && !tuning.input.identity())
    throw Error(ErrorCode::Config,
                "the pre-training's crop_augmentation recomputes Pearson FC from the time series: it does not combine with input " + tuning.input.name());
  return config;
}

std::string pretrainForFold(Workspace& ws, const ArrayStore& store, const json& manifest, const std::vector<DatasetItem>& items, const model::TuneRequest& r,
                            const TuningConfig& tuning, torch::Device device, ProgressDelegate& progress, double* seconds) {
  if (tuning.architecture != "braingfm") return pretrainZooForFold(ws, manifest, items, r, tuning, device, progress, seconds);
  const auto config = foldPretrainConfig(r, tuning);
  std::string key = config.toJson().dump();
  if (!tuning.input.identity()) key.append(";input=").append(tuning.input.toJson().dump());  // Pearson FC keeps the keys cached before
  for (const auto& it : items) key.append(",").append(std::to_string(it.scanId));
  const auto hash = hashBytes(key.data(), key.size()).substr(0, 16);
  std::string name = "pretrain-";
  name.append(hash).append(".pt");
  const auto file = ws.dir() / "models" / "cache" / name;
  if (std::filesystem::exists(file)) {
    spdlog::info("using the cached fold pre-training {}", file.string());
    return file.string();
  }
  const auto start = std::chrono::steady_clock::now();
  json record;
  const auto texts = corpusTaskTexts(manifest, config.model.textDimension, &record);
  json extra = {{"kind", "braingfm-pretrained"},       {"corpus", manifest.value("name", "")}, {"items", items.size()},
                {"code_version", braingraphVersion()}, {"torch_version", TORCH_VERSION},       {"texts", record}};
  if (!tuning.input.identity()) extra["input"] = tuning.input.toJson();
  auto ckpt = file;
  ckpt += ".ckpt";
  AtlasTexts atlasTexts{{manifest.value("atlas", std::string()), texts.atlas}};
  const auto prompts = promptTexts();
  for (const auto& it : items)
    if (!atlasTexts.count(it.atlas)) atlasTexts[it.atlas] = embedText(it.atlas, prompts.atlas(it.atlas), config.model.textDimension);
  runPretraining(store, items, config, ckpt, true, extra, progress, device, nullptr, atlasTexts);
  std::filesystem::rename(ckpt, file);
  if (seconds) *seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return file.string();
}

}  // namespace bg::train
