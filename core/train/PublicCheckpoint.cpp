#include "train/PublicCheckpoint.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/version.h>

#include "errors/Error.h"
#include "io/Npy.h"
#include "platform/Versions.h"
#include "train/ModelFile.h"

namespace bg::train {
using nlohmann::json;

namespace {

torch::Tensor toTorch(const CheckpointTensor& t) {
  auto* data = const_cast<std::uint8_t*>(t.data.data());
  const auto shape = torch::IntArrayRef(t.shape);
  switch (t.dtype) {
    case CheckpointDType::Float32:
      return torch::from_blob(data, shape, torch::kFloat32).clone();
    case CheckpointDType::Float64:
      return torch::from_blob(data, shape, torch::kFloat64).to(torch::kFloat32);
    case CheckpointDType::Float16:
      return torch::from_blob(data, shape, torch::kHalf).to(torch::kFloat32);
    case CheckpointDType::BFloat16:
      return torch::from_blob(data, shape, torch::kBFloat16).to(torch::kFloat32);
    case CheckpointDType::Int64:
      return torch::from_blob(data, shape, torch::kInt64).clone();
    case CheckpointDType::Int32:
      return torch::from_blob(data, shape, torch::kInt32).clone();
    case CheckpointDType::Int16:
      return torch::from_blob(data, shape, torch::kInt16).clone();
    case CheckpointDType::Int8:
      return torch::from_blob(data, shape, torch::kInt8).clone();
    case CheckpointDType::UInt8:
      return torch::from_blob(data, shape, torch::kUInt8).clone();
    case CheckpointDType::Bool:
      return torch::from_blob(data, shape, torch::kBool).clone();
  }
  return {};
}

std::string shapeText(torch::IntArrayRef s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// The prefix of the encoder's keys: "encoder." in both of the public code's wrappers, "" for a bare BrainGFM.
std::string encoderPrefix(const TorchStateDict& s) {
  if (s.has("encoder.projection_layer.weight")) return "encoder.";
  if (s.has("projection_layer.weight")) return "";
  throw Error(ErrorCode::Data, s.file + " is not a BrainGFM state dict: it has no encoder.projection_layer.weight (the public code's input projection)");
}

// Distinct integers N in keys "<prefix>N.<...>".
std::set<int> indicesUnder(const TorchStateDict& s, const std::string& prefix) {
  std::set<int> out;
  for (const auto& k : s.keys) {
    if (k.rfind(prefix, 0) != 0) continue;
    const auto rest = k.substr(prefix.size());
    const auto dot = rest.find('.');
    if (dot == std::string::npos || dot == 0) continue;
    const auto digits = rest.substr(0, dot);
    if (digits.size() > 6 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) continue;
    out.insert(std::stoi(digits));
  }
  return out;
}

int contiguousCount(const std::set<int>& indices, const std::string& what, const std::string& file) {
  if (indices.empty()) throw Error(ErrorCode::Data, file + " has no " + what);
  if (*indices.begin() != 0 || *indices.rbegin() != static_cast<int>(indices.size()) - 1)
    throw Error(ErrorCode::Data, file + ": its " + what + " are not numbered 0.." + std::to_string(indices.size() - 1));
  return static_cast<int>(indices.size());
}

std::vector<std::string> tokensUnder(const TorchStateDict& s, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& k : s.keys)
    if (k.rfind(prefix, 0) == 0 && k.size() > prefix.size() && k.find('.', prefix.size()) == std::string::npos) out.push_back(k.substr(prefix.size()));
  return out;
}

std::int64_t dim(const CheckpointTensor& t, std::size_t i, const std::string& key, const std::string& file) {
  if (t.shape.size() <= i) throw Error(ErrorCode::Data, file + ": tensor " + key + " has shape " + t.shapeText() + ", with too few dimensions");
  return t.shape[i];
}

const char* kLicence = "CC BY-NC-SA 4.0 (the BrainGFM authors' public code and checkpoints): non-commercial use, attribution, share-alike";

}  // namespace

// ---- configuration from shapes

model::PublicGfmConfig inferPublicConfig(const TorchStateDict& s, const PublicImportOptions& o, json* notes) {
  const auto E = encoderPrefix(s);
  const auto& f = s.file;
  model::PublicGfmConfig c;
  const auto& proj = s.at(E + "projection_layer.weight");
  c.hidden = static_cast<int>(dim(proj, 0, E + "projection_layer.weight", f));
  c.featureWidth = static_cast<int>(dim(proj, 1, E + "projection_layer.weight", f));
  c.textDimension = static_cast<int>(dim(s.at(E + "disease_proj.weight"), 1, E + "disease_proj.weight", f));
  const auto& nodePrompt = s.at(E + "graph_prompt.base_node_prompt");
  c.maxNodes = static_cast<int>(dim(nodePrompt, 1, E + "graph_prompt.base_node_prompt", f));
  c.blocks = contiguousCount(indicesUnder(s, E + "ugformer_layers."), "transformer blocks (ugformer_layers)", f);
  const int gnn = contiguousCount(indicesUnder(s, E + "lst_gnn."), "GCN blocks (lst_gnn)", f);
  if (gnn != c.blocks) throw Error(ErrorCode::Data, fmt::format("{}: {} transformer blocks but {} GCN blocks; the public code pairs them", f, c.blocks, gnn));
  const auto last = E + "ugformer_layers." + std::to_string(c.blocks - 1) + ".layers.";
  c.attentionLayers = contiguousCount(indicesUnder(s, last), "attention layers in the last block", f);
  c.experts = static_cast<int>(dim(s.at(last + "0.ffn.router.weight"), 0, last + "0.ffn.router.weight", f));
  c.ffn = static_cast<int>(dim(s.at(last + "0.ffn.experts.0.0.weight"), 0, last + "0.ffn.experts.0.0.weight", f));
  c.atlasTokens = tokensUnder(s, E + "parcellation_tokens.");
  c.diseaseTokens = tokensUnder(s, E + "disease_embedding_");
  if (c.atlasTokens.empty()) throw Error(ErrorCode::Data, f + " has no parcellation tokens (" + E + "parcellation_tokens.*)");
  if (c.diseaseTokens.empty()) throw Error(ErrorCode::Data, f + " has no disease embeddings (" + E + "disease_embedding_*)");
  c.heads = o.heads > 0 ? o.heads : 8;
  c.rwseSteps = o.rwseSteps > 0 ? o.rwseSteps : 5;
  c.dropout = o.dropout >= 0 ? o.dropout : 0.3;
  if (c.hidden % c.heads != 0)
    throw Error(ErrorCode::Data, fmt::format("{}: hidden size {} is not a multiple of {} heads (give --heads)", f, c.hidden, c.heads));
  auto pick = [&](const std::vector<std::string>& table, const std::string& wanted, const std::string& fallback, const char* what) {
    if (wanted.empty()) return std::find(table.begin(), table.end(), fallback) != table.end() ? fallback : table.front();
    if (std::find(table.begin(), table.end(), wanted) == table.end()) {
      std::string known;
      for (const auto& k : table) known += (known.empty() ? "" : ", ") + k;
      throw Error(ErrorCode::Usage, fmt::format("{} has no {} token '{}' (it has {})", f, what, wanted, known));
    }
    return wanted;
  };
  c.atlasToken = pick(c.atlasTokens, o.atlasToken, "schaefer", "atlas");
  std::string disease = o.diseaseToken;
  std::transform(disease.begin(), disease.end(), disease.begin(), ::tolower);
  c.diseaseToken = pick(c.diseaseTokens, disease, "none", "disease");
  if (notes) {
    (*notes)["inferred"] = {{"hidden", c.hidden},
                            {"feature_width", c.featureWidth},
                            {"ffn", c.ffn},
                            {"blocks", c.blocks},
                            {"attention_layers", c.attentionLayers},
                            {"experts", c.experts},
                            {"max_nodes", c.maxNodes},
                            {"text_dimension", c.textDimension},
                            {"atlas_tokens", c.atlasTokens.size()},
                            {"disease_tokens", c.diseaseTokens.size()}};
    (*notes)["assumed"] = {{"heads", o.heads > 0 ? fmt::format("{} (given)", c.heads) : "8 (not stored in a state dict: the published checkpoint's; --heads)"},
                           {"rwse_steps", o.rwseSteps > 0 ? fmt::format("{} (given)", c.rwseSteps) : "5 (the public code's default)"},
                           {"dropout", o.dropout >= 0 ? fmt::format("{} (given)", c.dropout) : "0.3 (the public code's default; training only)"}};
  }
  (void)model::PublicGfmConfig::fromJson(c.toJson());  // the same checks as any configuration
  return c;
}

// ---- weights

model::PublicGfmClassifier modelFromPublicState(const TorchStateDict& s, const PublicImportOptions& o, json* record) {
  const auto E = encoderPrefix(s);
  const auto c = inferPublicConfig(s, o, record);
  const int headClasses = s.has("classifier.weight") ? static_cast<int>(dim(s.at("classifier.weight"), 0, "classifier.weight", s.file)) : 2;
  model::AdaptationSpec spec;
  spec.method = "scratch";
  auto m = model::PublicGfmClassifier(c, spec, headClasses);
  torch::NoGradGuard ng;
  std::set<std::string> used;
  std::vector<std::string> missing;
  auto copy = [&](const std::string& key, torch::Tensor dst, torch::IntArrayRef viewAs = {}) {
    if (!s.has(key)) {
      missing.push_back(key);
      return;
    }
    const auto& t = s.at(key);
    auto src = toTorch(t);
    const auto want = viewAs.empty() ? dst.sizes() : viewAs;
    if (src.sizes() != want)
      throw Error(ErrorCode::Data,
                  fmt::format("{}: tensor {} has shape {}; the configuration its other tensors imply needs {}", s.file, key, t.shapeText(), shapeText(want)));
    dst.copy_(src.reshape(dst.sizes()).to(dst.dtype()));
    used.insert(key);
  };
  auto linear = [&](const std::string& key, torch::nn::Linear& l) {
    copy(key + ".weight", l->weight);
    copy(key + ".bias", l->bias);
  };
  linear(E + "projection_layer", m->projection);
  linear(E + "disease_proj", m->diseaseProjection);
  for (std::size_t i = 0; i < c.atlasTokens.size(); ++i)
    copy(E + "parcellation_tokens." + c.atlasTokens[i], m->atlasTable[static_cast<std::int64_t>(i)], {1, 1, c.featureWidth});
  for (std::size_t i = 0; i < c.diseaseTokens.size(); ++i)
    copy(E + "disease_embedding_" + c.diseaseTokens[i], m->diseaseTable[static_cast<std::int64_t>(i)], {1, 1, c.textDimension});
  copy(E + "graph_prompt.base_node_prompt", m->nodePrompt, {1, c.maxNodes, c.featureWidth});
  copy(E + "graph_prompt.base_edge_prompt", m->edgePrompt, {1, c.maxNodes, c.maxNodes});
  linear(E + "graph_prompt.cond_mlp.0", m->cond1);
  linear(E + "graph_prompt.cond_mlp.2", m->cond2);
  const auto block = std::to_string(c.blocks - 1);
  for (int l = 0; l < c.attentionLayers; ++l) {
    auto& layer = *m->layers[static_cast<std::size_t>(l)]->as<model::PublicLayerImpl>();
    const auto p = E + "ugformer_layers." + block + ".layers." + std::to_string(l) + ".";
    copy(p + "self_attn.in_proj_weight", layer.attention->qkv->weight);
    copy(p + "self_attn.in_proj_bias", layer.attention->qkv->bias);
    linear(p + "self_attn.out_proj", layer.attention->out);
    copy(p + "norm1.weight", layer.norm1->weight);
    copy(p + "norm1.bias", layer.norm1->bias);
    copy(p + "norm2.weight", layer.norm2->weight);
    copy(p + "norm2.bias", layer.norm2->bias);
    linear(p + "ffn.router", layer.router);
    for (int e = 0; e < c.experts; ++e) {
      auto& ex = *layer.experts[static_cast<std::size_t>(e)]->as<model::PublicExpertImpl>();
      linear(p + "ffn.experts." + std::to_string(e) + ".0", ex.fc1);
      linear(p + "ffn.experts." + std::to_string(e) + ".3", ex.fc2);
    }
  }
  const auto g = E + "lst_gnn." + block + ".";
  linear(g + "router", m->gcnRouter);
  for (int e = 0; e < c.experts; ++e) {
    const auto p = g + "experts." + std::to_string(e) + ".";
    copy(p + "weight", m->gcnWeight[e]);
    auto& bn = *m->gcnNorm[static_cast<std::size_t>(e)]->as<torch::nn::BatchNorm1dImpl>();
    copy(p + "bn.weight", bn.weight);
    copy(p + "bn.bias", bn.bias);
    copy(p + "bn.running_mean", bn.running_mean);
    copy(p + "bn.running_var", bn.running_var);
    if (s.has(p + "bn.num_batches_tracked")) copy(p + "bn.num_batches_tracked", bn.num_batches_tracked);
  }
  const bool hasHead = s.has("classifier.weight");
  if (hasHead) linear("classifier", m->head);
  if (!missing.empty()) {
    std::string list;
    for (std::size_t i = 0; i < missing.size() && i < 8; ++i) list += (i ? ", " : "") + missing[i];
    if (missing.size() > 8) list += fmt::format(" and {} more", missing.size() - 8);
    throw Error(ErrorCode::Data, fmt::format("{} lacks {} tensor(s) the public architecture needs: {}", s.file, missing.size(), list));
  }
  if (record) {
    // What the forward never reads (the earlier blocks, their unused prediction heads, pre-training
    // parts) and keys this architecture does not know: listed, not errors.
    std::map<std::string, int> unused;
    std::vector<std::string> unknown;
    const std::regex earlier("^" + std::regex_replace(E, std::regex("\\."), "\\.") + "(ugformer_layers|lst_gnn)\\.(\\d+)\\.");
    for (const auto& k : s.keys) {
      if (used.count(k)) continue;
      std::smatch match;
      std::string group;
      if (std::regex_search(k, match, earlier) && match[2].str() != block)
        group = E + match[1].str() + "." + match[2].str() + " (a block whose output the public forward never uses)";
      else if (k.rfind(E + "predictions.", 0) == 0)
        group = E + "predictions (per-block heads the public forward computes and discards)";
      else if (k == "mask_token" || k.rfind("decoder.", 0) == 0 || k.rfind("proj_out.", 0) == 0)
        group = "mask_token, decoder, proj_out (masked-autoencoder pre-training only)";
      if (!group.empty())
        ++unused[group];
      else
        unknown.push_back(k);
    }
    (*record)["imported_tensors"] = used.size();
    (*record)["not_imported"] = json::object();
    for (const auto& [g2, n] : unused) (*record)["not_imported"][g2] = n;
    (*record)["unknown_keys"] = unknown;
    (*record)["head"] = hasHead ? json{{"classes", headClasses}, {"from_checkpoint", true}}
                                : json{{"classes", headClasses},
                                       {"from_checkpoint", false},
                                       {"note", "a pre-training state dict has no classifier: adapt the model to a task (train --pretrained)"}};
    (*record)["source_kind"] = hasHead               ? "classifier (DiseaseGraphClassifier.state_dict)"
                               : s.has("mask_token") ? "pre-training (GraphMaskedAutoencoder.state_dict)"
                                                     : "encoder (BrainGFM.state_dict)";
  }
  m->eval();
  return m;
}

json importPublicCheckpoint(const std::filesystem::path& stateFile, const std::filesystem::path& out, const PublicImportOptions& given) {
  return withContext("while importing " + stateFile.string(), [&] {
    const auto state = readTorchStateDict(stateFile);
    // What a state dict cannot say (heads, RWSE steps) may sit beside it in an exported folder's
    // manifest.json (the layout of check-reference): used unless given on the command line.
    auto o = given;
    std::string fromManifest;
    if (const auto manifestFile = stateFile.parent_path() / "manifest.json"; std::filesystem::exists(manifestFile)) {
      std::ifstream in(manifestFile);
      const auto manifest = json::parse(in, nullptr, false);
      if (manifest.is_object() && manifest.contains("config") && manifest["config"].is_object()) {
        const auto& cfg = manifest["config"];
        if (o.heads <= 0 && cfg.contains("nhead") && cfg["nhead"].is_number_integer()) o.heads = cfg["nhead"].get<int>();
        if (o.rwseSteps <= 0 && cfg.contains("rwse_steps") && cfg["rwse_steps"].is_number_integer()) o.rwseSteps = cfg["rwse_steps"].get<int>();
        fromManifest = manifestFile.string();
      }
    }
    json record = json::object();
    auto m = modelFromPublicState(state, o, &record);
    if (!fromManifest.empty()) {
      if (given.heads <= 0) record["assumed"]["heads"] = fmt::format("{} (from {})", o.heads, fromManifest);
      if (given.rwseSteps <= 0 && o.rwseSteps > 0) record["assumed"]["rwse_steps"] = fmt::format("{} (from {})", o.rwseSteps, fromManifest);
    }
    const auto c = m->config();
    std::error_code ec;
    json card = {{"kind", kPublicImportKind},
                 {"format", 1},
                 {"architecture", model::kPublicArchitecture},
                 {"model", c.toJson()},
                 {"max_nodes", c.maxNodes},
                 {"head_classes", m->classes()},
                 {"source",
                  {{"file", std::filesystem::absolute(stateFile, ec).string()},
                   {"file_name", stateFile.filename().string()},
                   {"sha256", state.sha256},
                   {"bytes", std::filesystem::file_size(stateFile, ec)},
                   {"zip_root", state.root},
                   {"tensors", state.keys.size()},
                   {"other_entries", state.otherEntries},
                   {"kind", record["source_kind"]}}},
                 {"inferred", record["inferred"]},
                 {"assumed", record["assumed"]},
                 {"imported_tensors", record["imported_tensors"]},
                 {"not_imported", record["not_imported"]},
                 {"unknown_keys", record["unknown_keys"]},
                 {"head", record["head"]},
                 {"atlas_token", c.atlasToken},
                 {"disease_token", c.diseaseToken},
                 {"tokens_given", {{"atlas", !o.atlasToken.empty()}, {"disease", !o.diseaseToken.empty()}}},
                 {"parameters", m->totalCount()},
                 {"licence", kLicence},
                 {"verification",
                  "the workbench cannot tell whether this file is the one the authors trained; "
                  "braingraph-cli model check-reference compares it with outputs you exported from the public code"},
                 {"code_version", braingraphVersion()},
                 {"torch_version", TORCH_VERSION}};
    if (!record["unknown_keys"].empty())
      spdlog::warn("{}: {} keys this architecture does not know (listed in the card)", stateFile.string(), record["unknown_keys"].size());
    torch::serialize::OutputArchive archive, sub;
    m->save(sub);
    archive.write("model", sub);
    archive.write("config_json", c10::IValue(json{{"model", c.toJson()}}.dump()));
    archive.write("extra_json", c10::IValue(card.dump()));
    archive.write("card_json", c10::IValue(card.dump()));
    saveArchiveAtomically(archive, out, "imported model");
    return card;
  });
}

// ---- reference check

json checkPublicReference(const std::filesystem::path& dir, const std::filesystem::path& givenState, const std::filesystem::path& modelFile, double tolerance) {
  return withContext("while checking the reference in " + dir.string(), [&] {
    json manifest;
    {
      std::ifstream in(dir / "manifest.json");
      if (!in) throw Error(ErrorCode::NoInput, (dir / "manifest.json").string() + ": no such file");
      try {
        manifest = json::parse(in);
      } catch (const json::exception& e) {
        throw Error(ErrorCode::Data, (dir / "manifest.json").string() + " is not valid JSON: " + e.what());
      }
    }
    auto stateFile = givenState;
    if (stateFile.empty()) stateFile = std::filesystem::exists(dir / "classifier_state.pt") ? dir / "classifier_state.pt" : dir / "pretrain_state.pt";
    const auto state = readTorchStateDict(stateFile);
    const auto& cfg = manifest.value("config", json::object());
    PublicImportOptions o;
    o.heads = cfg.value("nhead", 0);
    o.rwseSteps = cfg.value("rwse_steps", 0);
    o.dropout = cfg.value("dropout", -1.0);
    auto m = modelFromPublicState(state, o, nullptr);
    if (!modelFile.empty()) {
      // The imported file's own weights and configuration (heads included: a wrong --heads at import shows here).
      auto archive = openModelArchive(modelFile);
      c10::IValue v;
      if (!archive.try_read("extra_json", v) || json::parse(v.toStringRef()).value("kind", "") != kPublicImportKind)
        throw Error(ErrorCode::Usage, modelFile.string() + " is not a file that model import wrote");
      const auto card = json::parse(v.toStringRef());
      model::AdaptationSpec spec;
      spec.method = "scratch";
      auto imported = model::PublicGfmClassifier(model::PublicGfmConfig::fromJson(card.at("model")), spec, card.value("head_classes", 2));
      torch::serialize::InputArchive sub;
      archive.read("model", sub);
      imported->load(sub);
      m = imported;
    }
    const auto& c = m->config();
    // The manifest's sizes must be the ones the tensors imply.
    const std::pair<const char*, int> sizes[] = {{"hidden_dim", c.hidden},      {"ff_hidden_size", c.ffn},           {"num_self_att_layers", c.attentionLayers},
                                                 {"num_GNN_layers", c.blocks},  {"max_feature_dim", c.featureWidth}, {"max_nodes", c.maxNodes},
                                                 {"moe_num_experts", c.experts}};
    for (const auto& [key, value] : sizes)
      if (cfg.contains(key) && cfg[key].get<int>() != value)
        throw Error(ErrorCode::Data, fmt::format("manifest.json says {} = {}, the state dict's tensors imply {}", key, cfg[key].get<int>(), value));
    std::string disease = manifest.value("disease_type", "none");
    std::transform(disease.begin(), disease.end(), disease.begin(), ::tolower);
    if (std::find(c.diseaseTokens.begin(), c.diseaseTokens.end(), disease) == c.diseaseTokens.end()) disease = "none";  // as the public code does
    m->setTokens(manifest.value("parc_type", "schaefer"), disease);
    m->eval();
    const bool hasHead = state.has("classifier.weight");
    json batches = json::array();
    double maxAbs = 0, maxRel = 0;
    for (const auto& b : manifest.at("batches")) {
      const auto k = std::to_string(b.at("batch").get<int>());
      auto load = [&](const std::string& name) {
        const auto a = readNpyArray(dir / ("batch" + k + "_" + name + ".npy"));
        std::vector<float> v(a.values.begin(), a.values.end());
        return torch::tensor(v).view(std::vector<std::int64_t>(a.shape.begin(), a.shape.end()));
      };
      const auto features = load("node_feat"), adjacency = load("adj"), embedding = load("embedding");
      if (features.dim() != 3 || features.size(1) != features.size(2))
        throw Error(ErrorCode::Data, "batch" + k + "_node_feat.npy must hold FC rows [B, N, N], not " + shapeText(features.sizes()));
      const auto B = features.size(0), N = features.size(1);
      const auto valid = b.at("valid_num_nodes").get<std::vector<std::int64_t>>();
      if (static_cast<std::int64_t>(valid.size()) != B) throw Error(ErrorCode::Data, "batch " + k + ": valid_num_nodes has another length than the batch");
      model::GraphBatchInput in;
      in.fc = features;
      in.adjacency = adjacency;
      in.mask = torch::arange(N).unsqueeze(0) < torch::tensor(valid).unsqueeze(1);
      torch::NoGradGuard ng;
      const auto g = m->embed(in);
      auto diff = [&](const torch::Tensor& got, const torch::Tensor& want, const std::string& what) {
        if (got.sizes() != want.sizes())
          throw Error(ErrorCode::Data,
                      fmt::format("batch {}: the {} has shape {}, the reference {}", k, what, shapeText(got.sizes()), shapeText(want.sizes())));
        const double a = (got - want).abs().max().item<double>();
        const double r = a / std::max(want.abs().max().item<double>(), 1e-12);
        maxAbs = std::max(maxAbs, a);
        maxRel = std::max(maxRel, r);
        return json{{"max_abs", a}, {"max_rel", r}};
      };
      json row = {{"batch", b.at("batch")}, {"graphs", B}, {"valid_num_nodes", valid}, {"embedding", diff(g, embedding, "embedding")}};
      if (hasHead && std::filesystem::exists(dir / ("batch" + k + "_logits.npy"))) row["logits"] = diff(m->head->forward(g), load("logits"), "logits");
      batches.push_back(row);
    }
    return json{{"state", stateFile.string()},
                {"model", modelFile.empty() ? json(nullptr) : json(modelFile.string())},
                {"sha256", state.sha256},
                {"atlas_token", c.atlasToken},
                {"disease_token", c.diseaseToken},
                {"logits_compared", hasHead},
                {"batches", batches},
                {"max_abs", maxAbs},
                {"max_rel", maxRel},
                {"tolerance", tolerance},
                {"within_tolerance", maxAbs <= tolerance}};
  });
}

// ---- adapting an imported file

json loadPublicPretrained(model::GraphClassifierImpl& target, torch::serialize::InputArchive& archive, const json& fileModel,
                          const std::filesystem::path& file) {
  auto* dst = dynamic_cast<model::PublicGfmClassifierImpl*>(&target);
  if (!dst) throw Error(ErrorCode::Usage, "it holds the public BrainGFM architecture; this run trains " + target.architecture());
  const auto source = model::PublicGfmConfig::fromJson(fileModel);
  auto sizes = [](json j) {
    for (const char* k : {"atlas_token", "disease_token", "dropout"}) j.erase(k);
    return j;
  };
  if (sizes(source.toJson()) != sizes(dst->config().toJson()))
    throw Error(ErrorCode::Config, "the imported model has another configuration than this run's: " + source.toJson().dump());
  c10::IValue v;
  json extra = json::object();
  if (archive.try_read("extra_json", v)) extra = json::parse(v.toStringRef());
  model::AdaptationSpec spec;
  spec.method = "scratch";
  auto from = model::PublicGfmClassifier(source, spec, extra.value("head_classes", 2));
  torch::serialize::InputArchive sub;
  archive.read("model", sub);
  try {
    from->load(sub);
  } catch (const std::exception& e) {
    throw Error(ErrorCode::Data, std::string("its weights do not match its card: ") + withoutBacktrace(e.what()).substr(0, 300));
  }
  torch::NoGradGuard ng;
  int copied = 0;
  auto params = target.named_parameters(true);
  for (const auto& kv : from->named_parameters(true)) {
    if (kv.key().rfind("head.", 0) == 0) continue;  // the downstream task's head is new
    if (auto* t = params.find(kv.key()); t && t->sizes() == kv.value().sizes()) {
      t->copy_(kv.value());
      ++copied;
    }
  }
  auto buffers = target.named_buffers(true);
  for (const auto& kv : from->named_buffers(true))  // BatchNorm's running statistics are part of the model
    if (auto* t = buffers.find(kv.key()); t && t->sizes() == kv.value().sizes()) t->copy_(kv.value());
  if (copied == 0) throw Error(ErrorCode::Data, "no weights of it fit this model");
  spdlog::debug("copied {} imported tensors from {}", copied, file.string());
  return extra;
}

// ---- tokens

std::string publicAtlasToken(const std::string& atlasId) {
  static const std::map<std::string, std::string> tokens = {{"schaefer100", "schaefer"}, {"schaefer200", "schaefer200"}, {"schaefer300", "schaefer300"},
                                                            {"aal116", "aal116"},        {"aal3v1", "aal3v1"},           {"shen268", "shen268"},
                                                            {"power264", "power264"},    {"gordon333", "gordon333"}};
  const auto it = tokens.find(atlasId);
  return it == tokens.end() ? std::string() : it->second;
}

PublicTokens choosePublicTokens(const model::PublicGfmConfig& c, const json& imported, const std::string& atlasId, int nodes, const std::string& disorderKey) {
  PublicTokens t;
  auto has = [](const std::vector<std::string>& v, const std::string& s) { return !s.empty() && std::find(v.begin(), v.end(), s) != v.end(); };
  const bool atlasGiven = imported.contains("tokens_given") && imported["tokens_given"].value("atlas", false);
  const bool diseaseGiven = imported.contains("tokens_given") && imported["tokens_given"].value("disease", false);
  if (const auto mapped = publicAtlasToken(atlasId); has(c.atlasTokens, mapped)) {
    t.atlas = mapped;
  } else if (atlasGiven && has(c.atlasTokens, imported.value("atlas_token", ""))) {
    t.atlas = imported.value("atlas_token", "");
    t.notes.push_back(
        fmt::format("atlas {} is not one of the checkpoint's atlases: its [A/P] token is '{}', as given at import (--atlas-token)", atlasId, t.atlas));
  } else {
    // The nearest ROI count among the public code's atlases (ties: the first in its table).
    static const std::map<std::string, int> rois = {{"schaefer", 100}, {"schaefer200", 200}, {"schaefer300", 300}, {"aal116", 116},
                                                    {"aal3v1", 166},   {"shen268", 268},     {"power264", 264},    {"gordon333", 333}};
    int best = -1;
    for (const auto& name : c.atlasTokens)
      if (const auto it = rois.find(name); it != rois.end() && (best < 0 || std::abs(it->second - nodes) < best)) {
        best = std::abs(it->second - nodes);
        t.atlas = name;
      }
    if (t.atlas.empty()) t.atlas = c.atlasTokens.front();
    t.notes.push_back(
        fmt::format("atlas {} ({} ROIs) is not one of the checkpoint's atlases: its [A/P] token is '{}', the nearest by ROI count "
                    "(give --atlas-token at import to choose another)",
                    atlasId.empty() ? "(unnamed)" : atlasId, nodes, t.atlas));
  }
  std::string disease = disorderKey;
  std::transform(disease.begin(), disease.end(), disease.begin(), ::tolower);
  if (has(c.diseaseTokens, disease)) {
    t.disease = disease;
  } else if (diseaseGiven && has(c.diseaseTokens, imported.value("disease_token", ""))) {
    t.disease = imported.value("disease_token", "");
    t.notes.push_back(fmt::format("the task's disorder ({}) has no disease token in the checkpoint: '{}', as given at import (--disease)",
                                  disorderKey.empty() ? "none" : disorderKey, t.disease));
  } else {
    t.disease = has(c.diseaseTokens, "none") ? "none" : c.diseaseTokens.back();
    t.notes.push_back(fmt::format("the task's disorder ({}) has no disease token in the checkpoint: its [T/D] token is '{}'",
                                  disorderKey.empty() ? "none" : disorderKey, t.disease));
  }
  return t;
}

}  // namespace bg::train
