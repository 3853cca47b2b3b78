#pragma once
// The models' configurations: plain structs read from and written to JSON, without LibTorch, so that
// the CLI and the GUI check a configuration file before the model library is loaded, and the readers
// can be fuzzed on their own.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/ModelBackend.h"  // kPublicArchitecture

namespace bg::model {

// BrainGFM's encoder sizes (model/BrainGfm.h; the paper's table 7 defaults).
struct BrainGfmConfig {
  int featureWidth = 512;  // Dm
  int hidden = 128;
  int heads = 8;
  int attentionLayers = 4;
  int gnnLayers = 4;
  int ffn = 256;
  double dropout = 0.3;
  int rwseSteps = 5;
  int textDimension = 768;
  double adjacencyThreshold = 0.3;

  nlohmann::json toJson() const;
  static BrainGfmConfig fromJson(const nlohmann::json& j);  // missing keys keep the defaults
};

// How BrainGFM adapts to a task (model/DownstreamModel.h lists the methods).
struct AdaptationSpec {
  std::string method = "prompt";  // finetune | scratch | linear | lora | prefix | prompt
  std::string prompt = "node_mult+edge";
  int loraRank = 8;
  double loraAlpha = 16;
  int prefixLength = 8;
  std::string readout = "mean";  // mean | roi (mean head plus a per-ROI linear term)
  // Plus a linear term on the input edges (a wide-and-deep skip past the encoder): "" (none),
  // "learned" (from zero, trained with the rest) or "logreg" (the L2 logistic regression of the
  // training part's input edges, fitted before training and then kept fixed: the encoder learns
  // what the linear model leaves).
  std::string edgeReadout;
  bool hasEdgeReadout() const { return !edgeReadout.empty(); }

  bool nodeMultiplicative() const { return method == "prompt" && prompt.find("node_mult") != std::string::npos; }
  bool nodeAdditive() const { return method == "prompt" && prompt.find("node_add") != std::string::npos; }
  bool edgePrompt() const { return method == "prompt" && prompt.find("edge") != std::string::npos; }
  nlohmann::json toJson() const;
  static AdaptationSpec fromJson(const nlohmann::json& j);  // validates the method and prompt names
};

// The public BrainGFM architecture's sizes and token tables (model/BrainGfmPublic.h).
struct PublicGfmConfig {
  int featureWidth = 512;   // max_feature_dim
  int hidden = 256;         // hidden_dim
  int ffn = 256;            // ff_hidden_size
  int heads = 8;            // nhead (not stored in a state dict)
  int attentionLayers = 4;  // num_self_att_layers
  int blocks = 4;           // num_GNN_layers in the source (only the last one is kept)
  int experts = 1;          // moe_num_experts
  int maxNodes = 512;       // max_nodes (prompt size)
  int rwseSteps = 5;        // not stored in a state dict
  int textDimension = 768;  // disease embedding width
  double dropout = 0.3;
  double adjacencyThreshold = 0.3;         // A = [FC > 0.3], as main_finetune.py builds it
  std::vector<std::string> atlasTokens;    // parcellation token keys, in table order
  std::vector<std::string> diseaseTokens;  // disease keys, in table order
  std::string atlasToken = "schaefer";     // the tokens this model reads
  std::string diseaseToken = "none";

  nlohmann::json toJson() const;
  static PublicGfmConfig fromJson(const nlohmann::json& j);  // validates; unknown keys are errors
  // The public code's defaults for its token tables (its eight atlases; the 26 disease keys).
  static std::vector<std::string> defaultAtlasTokens();
  static std::vector<std::string> defaultDiseaseTokens();
};

// Sizes for every zoo architecture; each reads the fields it uses. Defaults are small enough to
// train on a 2-core CPU (the papers' sizes are a configuration away).
struct ZooConfig {
  int hidden = 64;
  int layers = 2;
  int heads = 4;
  int ffn = 128;
  double dropout = 0.3;
  double adjacencyThreshold = 0.3;  // GCN, BrainGNN, graph transformer: A = [FC > threshold]
  int communities = 8;              // BrainGNN: ROI communities sharing a kernel basis
  double poolRatio = 0.5;           // BrainGNN: share of the nodes kept by the ROI-aware top-k pooling
  int clusters = 8;                 // BrainNetTF: orthonormal cluster readout
  int representation = 128;         // BrainMass: representation / projector / predictor width

  nlohmann::json toJson() const;
  // Per-architecture defaults, then the given fields (unknown keys are an error: a typo must not
  // silently train the default).
  static ZooConfig fromJson(const std::string& architecture, const nlohmann::json& j);
};

// Every architecture `--method` accepts besides BrainGFM's tuning methods.
const std::vector<std::string>& zooArchitectures();
bool isZooArchitecture(const std::string& name);
// The public BrainGFM architecture (model/BrainGfmPublic.h): trained like a zoo model, but only
// listed apart, since it exists to adapt imported checkpoints.
bool isPublicArchitecture(const std::string& name);
// Any architecture that TuningConfig keeps as "architecture" + "model" JSON (zoo or public).
bool isNamedArchitecture(const std::string& name);
// That JSON validated and with its defaults filled in (ZooConfig, or PublicGfmConfig).
nlohmann::json architectureConfigJson(const std::string& architecture, const nlohmann::json& j);

}  // namespace bg::model
