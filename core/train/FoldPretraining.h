#pragma once
// Pre-training inside an evaluation's folds (evaluate --pretrain-in-folds): on each fold's training
// part only, never its test scans, cached in the workspace by what determines it (configuration,
// input, items, the module's structure) so that a repeated evaluation reuses it.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "jobs/Progress.h"
#include "model/ModelBackend.h"
#include "train/TrainingConfig.h"
#include "workspace/CorpusDataset.h"

namespace bg {
class ArrayStore;
class Workspace;
}  // namespace bg

namespace bg::train {

// BrainGFM's pre-training configuration inside the folds: the request's, with the tuning's encoder.
PretrainConfig foldPretrainConfig(const model::TuneRequest& request, const TuningConfig& tuning);

// The pre-trained file for one fold (written, or found in the cache). `store` and `items`: the fold's
// training graphs as the tuning reads them (transformed when the input is not Pearson FC; the
// transform is fitted on these same scans, so the cache key names it fully). Adds the time spent to
// `seconds` when it trains.
std::string pretrainForFold(Workspace& ws, const ArrayStore& store, const nlohmann::json& manifest, const std::vector<DatasetItem>& items,
                            const model::TuneRequest& request, const TuningConfig& tuning, torch::Device device, ProgressDelegate& progress, double* seconds);

}  // namespace bg::train
