#include "eval/ModelCard.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "errors/Error.h"
#include "eval/AtlasEnsemble.h"
#include "eval/BaselineModel.h"
#include "io/JsonText.h"
#include "model/ModelBackend.h"
#include "workspace/Derivation.h"

namespace bg {
using nlohmann::json;

namespace {

ModelKind kindOf(const std::string& name) {
  if (name == kBaselineKind) return ModelKind::Baseline;
  if (name == kAtlasEnsembleKind) return ModelKind::AtlasEnsemble;
  if (name == kDownstreamKind) return ModelKind::Graph;
  if (name == kMetaKind) return ModelKind::Meta;
  if (name == kPublicImportKind) return ModelKind::PublicImport;
  if (name.size() > 11 && name.ends_with("-pretrained")) return ModelKind::Pretrained;
  return ModelKind::Other;
}

// Reads one field, naming it when its type is wrong: a hand-edited or damaged card fails here, once,
// rather than as a JSON type error wherever the field is first used.
template <typename T>
T field(const json& j, const char* key, T fallback, const std::string& where) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return fallback;
  try {
    return j[key].get<T>();
  } catch (const json::exception&) {
    throw Error(ErrorCode::Data, where + ": its card's '" + key + "' is " + j[key].dump().substr(0, 60) + ", which is not of the type it must have");
  }
}

std::optional<double> optionalNumber(const json& j, const char* key) {
  if (j.is_object() && j.contains(key) && j[key].is_number()) return j[key].get<double>();
  return std::nullopt;
}

ModelAtlasInput atlasInputOf(const json& j, const std::string& where) {
  ModelAtlasInput in;
  in.atlas = field<std::string>(j, "atlas", "", where);
  in.nodes = field<int>(j, "nodes", 0, where);
  in.preprocessing = j.is_object() && j.contains("preprocessing") && j["preprocessing"].is_object() ? j["preprocessing"] : json::object();
  if (!in.preprocessing.empty()) {
    try {
      in.pipeline = pipelineOptionsFromJson(in.preprocessing.dump());
    } catch (const std::exception& e) {
      throw Error(ErrorCode::Data, where + ": its card's preprocessing cannot be read (" + e.what() + ")");
    }
  }
  in.architecture = field<std::string>(j, "architecture", "", where);
  in.adaptation = j.is_object() && j.contains("adaptation") && j["adaptation"].is_object() ? field<std::string>(j["adaptation"], "method", "", where) : "";
  in.c = field<double>(j, "c", 0.0, where);
  in.tangent = j.is_object() && j.contains("tangent_reference");
  return in;
}

}  // namespace

ModelCard ModelCard::fromJson(json card, const std::string& source) {
  if (!card.is_object()) throw Error(ErrorCode::Data, source + ": its card is not a JSON object");
  ModelCard m;
  m.kindName = field<std::string>(card, "kind", "", source);
  m.kind = kindOf(m.kindName);
  m.architecture = field<std::string>(card, "architecture", m.kind == ModelKind::Graph ? "braingfm" : "", source);
  if (m.kind == ModelKind::AtlasEnsemble)
    m.combination = AtlasCombination::Averaged;
  else if (m.architecture == model::kAtlasFusionArchitecture)
    m.combination = AtlasCombination::Fused;
  // An ensemble of graph models keeps its members in files beside the card; regressions are predicted here.
  m.baseline = m.kind == ModelKind::Baseline || (m.kind == ModelKind::AtlasEnsemble && !card.contains("member_files"));

  if (m.readsSeveralAtlases()) {
    const auto atlases = field<std::vector<std::string>>(card, "atlases", {}, source);
    const json members = card.value("members", json::array());
    if (atlases.size() < 2 || !members.is_array() || members.size() != atlases.size())
      throw Error(ErrorCode::Data, source + ": a multi-atlas model's card must list two or more atlases and one member per atlas (it lists " +
                                       std::to_string(atlases.size()) + " atlases, " + std::to_string(members.is_array() ? members.size() : 0) + " members)");
    const auto nodes = field<std::vector<int>>(card, "atlas_nodes", {}, source);
    for (std::size_t k = 0; k < atlases.size(); ++k) {
      auto in = atlasInputOf(members[k], source + " (member " + std::to_string(k + 1) + ")");
      if (in.atlas.empty()) in.atlas = atlases[k];
      if (in.atlas != atlases[k])
        throw Error(ErrorCode::Data, source + ": member " + std::to_string(k + 1) + " reads " + in.atlas + ", but the card lists " + atlases[k] + " there");
      if (in.nodes == 0 && k < nodes.size()) in.nodes = nodes[k];
      m.inputs.push_back(std::move(in));
    }
  } else if (card.contains("atlas")) {
    m.inputs.push_back(atlasInputOf(card, source));
  }

  if (card.contains("adaptation") && card["adaptation"].is_object()) {
    m.adaptation = field<std::string>(card["adaptation"], "method", "", source);
    m.prompt = field<std::string>(card["adaptation"], "prompt", "", source);
  }
  if (card.contains("ensemble") && card["ensemble"].is_array() && !card["ensemble"].empty()) m.ensembleMembers = static_cast<int>(card["ensemble"].size());
  if (card.contains("deployment") && card["deployment"].is_object())
    m.crossFitted = field<std::string>(card["deployment"], "procedure", "", source) == "cross-fitted ensemble";
  m.tangent = m.kind == ModelKind::Baseline ? card.contains("tangent_reference") : !m.inputs.empty() && m.baseline && m.inputs.front().tangent;
  m.c = field<double>(card, "c", 0.0, source);

  m.labelField = field<std::string>(card, "label_field", "", source);
  m.classes = field<std::vector<std::string>>(card, "classes", {}, source);
  m.positiveClass = field<std::string>(card, "positive_class", m.classes.size() == 2 ? m.classes.back() : "", source);
  m.calibration = field<std::string>(card, "calibration", "temperature", source);
  m.temperature = field<double>(card, "temperature", 1.0, source);
  m.calibrationBias = field<double>(card, "calibration_bias", 0.0, source);

  if (card.contains("corpus") && card["corpus"].is_object()) {
    m.corpusName = field<std::string>(card["corpus"], "name", "", source);
    m.corpusItems = field<int>(card["corpus"], "items", 0, source);
  }
  if (card.contains("validation") && card["validation"].is_object()) {
    const auto& v = card["validation"];
    m.validation =
        ModelValidation{field<int>(v, "n", 0, source), field<bool>(v, "out_of_fold", false, source), optionalNumber(v, "auc"), optionalNumber(v, "accuracy")};
  }
  if (const auto e = card.value("evaluation", json::object()); e.is_object())
    if (const auto metrics = e.value("metrics", json::object()); metrics.is_object())
      if (const auto auc = metrics.value("auc", json::object()); auc.is_object()) m.crossValidatedAuc = optionalNumber(auc, "mean");
  if (card.contains("release") && card["release"].is_object()) {
    const auto& r = card["release"];
    m.release = ModelRelease{field<std::string>(r, "name", "", source), field<std::string>(r, "released_by", "", source),
                             field<std::string>(r, "released_at", "", source)};
  }
  if (card.contains("training_scans") && card["training_scans"].is_object())  // a summary keeps a sentence instead
    m.trainingScanHashes = field<std::vector<std::string>>(card["training_scans"], "hashes", {}, source);
  m.hasFoldModels = card.contains("fold_models");
  m.hasOodReference = card.contains("ood") && !card["ood"].is_null();
  m.trainableParameters = field<std::int64_t>(card, "trainable_parameters", 0, source);
  m.codeVersion = field<std::string>(card, "code_version", "", source);
  m.stored = std::move(card);
  return m;
}

ModelCard ModelCard::read(const std::filesystem::path& modelFile) {
  const auto source = "model " + modelFile.string();
  if (isBaselineModelFile(modelFile.string())) {
    std::ifstream in(modelFile);
    std::stringstream text;
    text << in.rdbuf();
    return fromJson(parseJsonText(text.str(), source + " (a truncated or damaged file? train it again or restore a copy)", ErrorCode::Data), source);
  }
  return fromJson(json::parse(model::modelBackend().modelCard(modelFile.string())), source);
}

std::vector<std::string> ModelCard::atlases() const {
  std::vector<std::string> out;
  for (const auto& in : inputs) out.push_back(in.atlas);
  return out;
}

std::string ModelCard::atlasLabel() const { return fmt::format("{}", fmt::join(atlases(), " + ")); }

bool ModelCard::learnedFrom(const std::string& contentHash) const {
  return !contentHash.empty() && std::find(trainingScanHashes.begin(), trainingScanHashes.end(), contentHash) != trainingScanHashes.end();
}

}  // namespace bg
