#pragma once
// A self-contained downstream model file: the weights (torch archive) and a card (JSON) with
// everything prediction needs — label names, positive class, atlas and node count, the connectome
// preprocessing, the [T/D] / [A/P] texts and their embeddings' source, the calibration temperature —
// and what it was trained on. Written to a temporary file and renamed.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "eval/ModelCard.h"
#include "model/DownstreamModel.h"
#include "model/GraphClassifier.h"

namespace bg::train {

// Writes an archive to a temporary file beside `file` and renames it into place; throws bg::Error(Io)
// naming `what` and the file (checkpoints and model files alike).
void saveArchiveAtomically(torch::serialize::OutputArchive& archive, const std::filesystem::path& file, const std::string& what);

// Opens a torch archive (model, pre-training or checkpoint file); throws bg::Error NoInput when it
// is missing and Data when it cannot be read.
torch::serialize::InputArchive openModelArchive(const std::filesystem::path& file, torch::Device device = torch::kCPU);

// The kind names (kDownstreamKind, kMetaKind) are eval/ModelCard.h's.

// card must hold what the model's describe() gives ("architecture", "model", "adaptation",
// "max_nodes"; BrainGFM when "architecture" is absent) and "classes".
// An ensemble's further members (card "ensemble": one entry per member, the first being `model`) are
// stored beside it as member_1, member_2, ...
void saveModelFile(const std::filesystem::path& file, const model::GraphClassifierImpl& model, const nlohmann::json& card,
                   const std::vector<model::GraphClassifier>& furtherMembers = {});
inline void saveModelFile(const std::filesystem::path& file, const model::DownstreamModel& model, const nlohmann::json& card) {
  saveModelFile(file, *model, card);
}

struct LoadedModel {
  model::GraphClassifier model;
  nlohmann::json card;
  std::vector<model::GraphClassifier> members;  // every member, `model` first (just `model` for a single model)
};
LoadedModel loadModelFile(const std::filesystem::path& file, torch::Device device = torch::kCPU);
// The card alone (cheap enough: the archive's other records are not deserialised into a module).
nlohmann::json readModelCard(const std::filesystem::path& file);

}  // namespace bg::train
