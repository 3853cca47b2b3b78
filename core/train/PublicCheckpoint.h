#pragma once
// Published BrainGFM checkpoints as workbench models: a state dict of the public code (pre-training
// GraphMaskedAutoencoder or fine-tuned DiseaseGraphClassifier, read by io/TorchCheckpoint.h)
// becomes a pre-training file of the braingfm-public architecture (train/evaluate --pretrained),
// with a card recording where it came from; check-reference runs it on a lab's exported batches.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "eval/ModelCard.h"  // kPublicImportKind
#include "io/TorchCheckpoint.h"
#include "model/BrainGfmPublic.h"

namespace bg::train {

struct PublicImportOptions {
  std::string atlasToken;    // empty: schaefer, the public code's default (a corpus's atlas decides later)
  std::string diseaseToken;  // empty: none
  int heads = 0;             // 0: 8, the published checkpoint's (a state dict does not store it)
  int rwseSteps = 0;         // 0: 5
  double dropout = -1;       // < 0: 0.3
};

// The configuration a state dict's tensor shapes imply (`notes` records what was assumed).
model::PublicGfmConfig inferPublicConfig(const TorchStateDict& state, const PublicImportOptions& options, nlohmann::json* notes = nullptr);
// Builds the module and copies every tensor the forward uses into it (names mapped, shapes
// checked); `record` receives what was imported, what the forward never reads and unknown keys.
// Throws bg::Error(Data) naming missing keys and misfit shapes.
model::PublicGfmClassifier modelFromPublicState(const TorchStateDict& state, const PublicImportOptions& options, nlohmann::json* record = nullptr);

// `model import --format braingfm-public`: writes `out` atomically; returns its card.
nlohmann::json importPublicCheckpoint(const std::filesystem::path& stateFile, const std::filesystem::path& out, const PublicImportOptions& options);

// `model check-reference DIR`: runs the state dict of DIR (classifier_state.pt, else pretrain_state.pt,
// or `stateFile`) on DIR's batches with DIR/manifest.json's configuration and tokens; returns the
// largest absolute and relative differences from the saved embeddings and logits, per batch and over all.
// With `modelFile` (what model import wrote), that file's weights run instead of the state dict's.
nlohmann::json checkPublicReference(const std::filesystem::path& dir, const std::filesystem::path& stateFile, const std::filesystem::path& modelFile,
                                    double tolerance);

// Copies an imported file's weights into `target` (a braingfm-public classifier of the same sizes;
// its tokens and adaptation may differ). Returns the file's provenance.
nlohmann::json loadPublicPretrained(model::GraphClassifierImpl& target, torch::serialize::InputArchive& archive, const nlohmann::json& fileModel,
                                    const std::filesystem::path& file);

// The checkpoint's token for a workbench atlas id (schaefer100 -> schaefer, ...), or "" when it has none.
std::string publicAtlasToken(const std::string& atlasId);
// Tokens for a corpus: its atlas and disorder when the model's tables have them, else the imported
// defaults (given at import), else the nearest atlas by ROI count and `none`; notes say which.
struct PublicTokens {
  std::string atlas, disease;
  std::vector<std::string> notes;
};
PublicTokens choosePublicTokens(const model::PublicGfmConfig& config, const nlohmann::json& importRecord, const std::string& atlasId, int nodes,
                                const std::string& disorderKey);

}  // namespace bg::train
