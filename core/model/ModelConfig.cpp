#include "model/ModelConfig.h"

#include <algorithm>
#include <cmath>

#include "methods/MethodCatalog.h"
#include "errors/Error.h"
#include "io/JsonText.h"

namespace bg::model {
using nlohmann::json;

nlohmann::json BrainGfmConfig::toJson() const {
  return {{"feature_width", featureWidth},
          {"hidden", hidden},
          {"heads", heads},
          {"attention_layers", attentionLayers},
          {"gnn_layers", gnnLayers},
          {"ffn", ffn},
          {"dropout", dropout},
          {"rwse_steps", rwseSteps},
          {"text_dimension", textDimension},
          {"adjacency_threshold", adjacencyThreshold}};
}

BrainGfmConfig BrainGfmConfig::fromJson(const nlohmann::json& j) {
  BrainGfmConfig c;
  if (!j.is_object()) throw Error(ErrorCode::Config, "BrainGFM's model sizes are a JSON object");
  checkConfigurationKeys(j, c.toJson(), "BrainGFM model");
  c.featureWidth = j.value("feature_width", c.featureWidth);
  c.hidden = j.value("hidden", c.hidden);
  c.heads = j.value("heads", c.heads);
  c.attentionLayers = j.value("attention_layers", c.attentionLayers);
  c.gnnLayers = j.value("gnn_layers", c.gnnLayers);
  c.ffn = j.value("ffn", c.ffn);
  c.dropout = j.value("dropout", c.dropout);
  c.rwseSteps = j.value("rwse_steps", c.rwseSteps);
  c.textDimension = j.value("text_dimension", c.textDimension);
  c.adjacencyThreshold = j.value("adjacency_threshold", c.adjacencyThreshold);
  if (c.featureWidth < 1 || c.hidden < 1 || c.heads < 1 || c.attentionLayers < 0 || c.gnnLayers < 0 || c.ffn < 1 || c.rwseSteps < 1 || c.textDimension < 1)
    throw Error(ErrorCode::Config, "BrainGFM sizes must be positive (attention_layers and gnn_layers 0 or more)");
  if (c.featureWidth <= c.rwseSteps) throw Error(ErrorCode::Config, "feature_width must exceed rwse_steps (the RWSE sits in the last columns)");
  if (c.hidden % c.heads != 0) throw Error(ErrorCode::Config, "hidden size must be a multiple of the number of heads");
  if (!(c.dropout >= 0 && c.dropout < 1)) throw Error(ErrorCode::Config, "dropout must be in [0, 1)");
  if (!std::isfinite(c.adjacencyThreshold)) throw Error(ErrorCode::Config, "adjacency_threshold must be a finite number");
  return c;
}

nlohmann::json AdaptationSpec::toJson() const {
  nlohmann::json j = {{"method", method},  {"prompt", prompt}, {"lora_rank", loraRank}, {"lora_alpha", loraAlpha}, {"prefix_length", prefixLength},
                      {"readout", readout}};
  if (hasEdgeReadout()) j["edge_readout"] = edgeReadout;  // written only when on: existing cards stay as they were
  return j;
}

AdaptationSpec AdaptationSpec::fromJson(const nlohmann::json& j) {
  AdaptationSpec s;
  if (!j.is_object()) throw Error(ErrorCode::Config, "the adaptation is a JSON object");
  {
    auto defaults = s.toJson();
    defaults["edge_readout"] = nullptr;  // written only when on; a name or true/false
    checkConfigurationKeys(j, defaults, "adaptation");
  }
  s.method = j.value("method", s.method);
  s.prompt = j.value("prompt", s.prompt);
  s.loraRank = j.value("lora_rank", s.loraRank);
  s.loraAlpha = j.value("lora_alpha", s.loraAlpha);
  s.prefixLength = j.value("prefix_length", s.prefixLength);
  s.readout = j.value("readout", s.readout);
  if (const auto e = j.value("edge_readout", nlohmann::json()); e.is_boolean()) {
    s.edgeReadout = e.get<bool>() ? "learned" : "";
  } else if (e.is_string()) {
    s.edgeReadout = e.get<std::string>();
  } else if (!e.is_null()) {
    throw Error(ErrorCode::Usage, "edge_readout must be true, \"learned\" or \"logreg\"");
  }
  if (s.hasEdgeReadout() && s.edgeReadout != "learned" && s.edgeReadout != "logreg")
    throw Error(ErrorCode::Usage, "edge readout '" + s.edgeReadout + "' is not learned or logreg");
  static const char* methods[] = {"finetune", "scratch", "linear", "lora", "prefix", "prompt"};
  if (std::find(std::begin(methods), std::end(methods), s.method) == std::end(methods))
    throw Error(ErrorCode::Usage, "tuning method '" + s.method + "' is not finetune, scratch, linear, lora, prefix or prompt");
  static const char* prompts[] = {"node_mult", "node_add", "edge", "node_mult+edge", "node_add+edge"};
  if (s.method == "prompt" && std::find(std::begin(prompts), std::end(prompts), s.prompt) == std::end(prompts))
    throw Error(ErrorCode::Usage, "graph prompt '" + s.prompt + "' is not node_mult, node_add, edge, node_mult+edge or node_add+edge");
  if (s.readout != "mean" && s.readout != "roi") throw Error(ErrorCode::Usage, "readout '" + s.readout + "' is not mean or roi");
  if (s.loraRank < 1 || s.prefixLength < 1 || !(s.loraAlpha > 0))
    throw Error(ErrorCode::Config, "lora_rank and prefix_length must be at least 1 and lora_alpha positive");
  return s;
}

std::vector<std::string> PublicGfmConfig::defaultAtlasTokens() {
  return {"aal116", "aal3v1", "gordon333", "power264", "schaefer", "schaefer200", "schaefer300", "shen268"};
}

std::vector<std::string> PublicGfmConfig::defaultDiseaseTokens() {
  return {"adhd", "asd", "ad",  "mci", "dm",  "mdd", "anx", "odd", "ocd", "ld",  "sld",  "enu", "id",
          "ptsd", "ecp", "pdd", "ts",  "ajd", "ptd", "md",  "ssd", "cd",  "cud", "schz", "bp",  "none"};
}

json PublicGfmConfig::toJson() const {
  return {{"feature_width", featureWidth},
          {"hidden", hidden},
          {"ffn", ffn},
          {"heads", heads},
          {"attention_layers", attentionLayers},
          {"blocks", blocks},
          {"experts", experts},
          {"max_nodes", maxNodes},
          {"rwse_steps", rwseSteps},
          {"text_dimension", textDimension},
          {"dropout", dropout},
          {"adjacency_threshold", adjacencyThreshold},
          {"atlas_tokens", atlasTokens},
          {"disease_tokens", diseaseTokens},
          {"atlas_token", atlasToken},
          {"disease_token", diseaseToken}};
}

PublicGfmConfig PublicGfmConfig::fromJson(const json& j) {
  PublicGfmConfig c;
  c.atlasTokens = defaultAtlasTokens();
  c.diseaseTokens = defaultDiseaseTokens();
  if (j.is_null()) return c;
  if (!j.is_object()) throw Error(ErrorCode::Config, "the braingfm-public configuration must be a JSON object");
  checkConfigurationKeys(j, c.toJson(), "braingfm-public model");
  try {
    c.featureWidth = j.value("feature_width", c.featureWidth);
    c.hidden = j.value("hidden", c.hidden);
    c.ffn = j.value("ffn", c.ffn);
    c.heads = j.value("heads", c.heads);
    c.attentionLayers = j.value("attention_layers", c.attentionLayers);
    c.blocks = j.value("blocks", c.blocks);
    c.experts = j.value("experts", c.experts);
    c.maxNodes = j.value("max_nodes", c.maxNodes);
    c.rwseSteps = j.value("rwse_steps", c.rwseSteps);
    c.textDimension = j.value("text_dimension", c.textDimension);
    c.dropout = j.value("dropout", c.dropout);
    c.adjacencyThreshold = j.value("adjacency_threshold", c.adjacencyThreshold);
    c.atlasTokens = j.value("atlas_tokens", c.atlasTokens);
    c.diseaseTokens = j.value("disease_tokens", c.diseaseTokens);
    c.atlasToken = j.value("atlas_token", c.atlasToken);
    c.diseaseToken = j.value("disease_token", c.diseaseToken);
  } catch (const json::exception& e) {
    throw Error(ErrorCode::Config, std::string("a braingfm-public setting has the wrong type: ") + e.what());
  }
  if (c.hidden < 1 || c.ffn < 1 || c.heads < 1 || c.hidden % c.heads != 0 || c.attentionLayers < 1 || c.blocks < 1 || c.experts < 1 || c.maxNodes < 2 ||
      c.rwseSteps < 1 || c.textDimension < 1 || c.featureWidth < c.rwseSteps + 2)
    throw Error(ErrorCode::Config, "braingfm-public: sizes must be positive, hidden a multiple of heads, feature_width above rwse_steps");
  if (c.dropout < 0 || c.dropout >= 1) throw Error(ErrorCode::Config, "braingfm-public: dropout must be in [0, 1)");
  if (c.atlasTokens.empty() || c.diseaseTokens.empty()) throw Error(ErrorCode::Config, "braingfm-public: the token tables must not be empty");
  auto has = [](const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); };
  if (!has(c.atlasTokens, c.atlasToken)) throw Error(ErrorCode::Config, "braingfm-public: atlas token '" + c.atlasToken + "' is not in its table");
  if (!has(c.diseaseTokens, c.diseaseToken)) throw Error(ErrorCode::Config, "braingfm-public: disease token '" + c.diseaseToken + "' is not in its table");
  return c;
}

json ZooConfig::toJson() const {
  return {{"hidden", hidden},
          {"layers", layers},
          {"heads", heads},
          {"ffn", ffn},
          {"dropout", dropout},
          {"adjacency_threshold", adjacencyThreshold},
          {"communities", communities},
          {"pool_ratio", poolRatio},
          {"clusters", clusters},
          {"representation", representation}};
}

ZooConfig ZooConfig::fromJson(const std::string& architecture, const json& j) {
  ZooConfig c;
  if (architecture == "brainmass") {
    c.layers = 4;
    c.dropout = 0.1;
  } else if (architecture == "lcm") {
    c.layers = 3;
    c.dropout = 0.1;
  }
  if (j.is_null()) return c;
  if (!j.is_object()) throw Error(ErrorCode::Config, "the " + architecture + " configuration must be a JSON object");
  checkConfigurationKeys(j, c.toJson(), architecture + " model");
  c.hidden = j.value("hidden", c.hidden);
  c.layers = j.value("layers", c.layers);
  c.heads = j.value("heads", c.heads);
  c.ffn = j.value("ffn", c.ffn);
  c.dropout = j.value("dropout", c.dropout);
  c.adjacencyThreshold = j.value("adjacency_threshold", c.adjacencyThreshold);
  c.communities = j.value("communities", c.communities);
  c.poolRatio = j.value("pool_ratio", c.poolRatio);
  c.clusters = j.value("clusters", c.clusters);
  c.representation = j.value("representation", c.representation);
  if (c.hidden < 1 || c.layers < 1 || c.heads < 1 || c.ffn < 1 || c.hidden % c.heads != 0)
    throw Error(ErrorCode::Config, architecture + ": hidden, layers, heads and ffn must be positive and hidden a multiple of heads");
  if (c.dropout < 0 || c.dropout >= 1 || c.poolRatio <= 0 || c.poolRatio > 1 || c.communities < 1 || c.clusters < 1 || c.representation < 1)
    throw Error(ErrorCode::Config, architecture + ": dropout must be in [0, 1), pool_ratio in (0, 1], communities, clusters and representation positive");
  return c;
}

const std::vector<std::string>& zooArchitectures() {
  static const std::vector<std::string> names = [] {  // the architectures the catalog's zoo methods train
    std::vector<std::string> out;
    for (const auto& m : methodCatalog())
      if (m.family == MethodFamily::Zoo && std::find(out.begin(), out.end(), m.architecture) == out.end()) out.push_back(m.architecture);
    return out;
  }();
  return names;
}

bool isZooArchitecture(const std::string& name) {
  const auto& n = zooArchitectures();
  return std::find(n.begin(), n.end(), name) != n.end();
}

bool isPublicArchitecture(const std::string& name) { return name == kPublicArchitecture; }

bool isNamedArchitecture(const std::string& name) { return isZooArchitecture(name) || isPublicArchitecture(name); }

json architectureConfigJson(const std::string& architecture, const json& j) {
  if (isPublicArchitecture(architecture)) return PublicGfmConfig::fromJson(j).toJson();
  return ZooConfig::fromJson(architecture, j).toJson();
}

}  // namespace bg::model
