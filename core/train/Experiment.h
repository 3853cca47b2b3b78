#pragma once
// Corpus-level workflows over the tuning, meta-learning and explanation code: what the model
// backend exposes to the CLI and the GUI. One file per use case: TrainModel.cpp (a model file),
// EvaluateMethod.cpp (cross-validation of a method, through eval/CrossValidation's loop),
// MetaTrain.cpp (meta-learned prompts over several corpora), PredictGraphs.cpp (predictions with
// explanations). What they share in setting a run up is train/TuningSetup.h; the pre-trained file a
// request starts from is opened once (train/PretrainedFile.h).
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "jobs/Progress.h"
#include "model/ModelBackend.h"
#include "train/Tuner.h"

namespace bg {
class Workspace;
}

namespace bg::train {

// [T/D] from the corpus's label definition (field, positive class, optional "task_text") and [A/P]
// from its atlas, through the built-in text encoder. Returns the texts and a JSON record of them.
TaskTexts corpusTaskTexts(const nlohmann::json& manifest, int textDimension, nlohmann::json* record = nullptr);
TaskTexts taskTextsFromRecord(const nlohmann::json& record, int textDimension);

nlohmann::json trainModel(const model::TuneRequest& request, ProgressDelegate& progress, torch::Device device);
nlohmann::json evaluateMethod(const model::TuneRequest& request, ProgressDelegate& progress, torch::Device device);
nlohmann::json metaTrain(const model::MetaTrainRequest& request, ProgressDelegate& progress, torch::Device device);
nlohmann::json predictGraphs(const std::string& modelFile, const std::vector<model::GraphInput>& inputs, bool explain, ProgressDelegate& progress,
                             torch::Device device);

}  // namespace bg::train
