#include "train/ConfigurationReference.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "connectome/GraphInputSpec.h"
#include "errors/Error.h"
#include "model/ModelConfig.h"
#include "settings/Settings.h"
#include "train/TrainingConfig.h"

namespace bg::train {
using nlohmann::json;

namespace {

// What each key means. Keys are "file|dotted.key"; the types and defaults come from the readers.
const std::map<std::string, std::string>& meanings() {
  static const std::map<std::string, std::string> m = {
#include "train/ConfigurationMeanings.inc"
  };
  return m;
}

std::string typeOf(const json& v) {
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_string()) return "text";
  if (v.is_array()) return v.size() == 2 && v[0].is_number() ? "number pair" : "list";
  if (v.is_object()) return "object";
  return "text";  // null: a key written only when set (edge_readout, site_shrinkage)
}

// The readers' defaults, with the keys they accept but write only when on.
json pretrainDefaults() {
  const PretrainConfig config;
  auto d = config.toJson();
  d["crop_augmentation"] = 0.0;
  d["contrastive_windows"] = false;
  d["cross_atlas_views"] = false;
  return d;
}
json tuningDefaults() {
  const TuningConfig config;  // named: GCC 12 warns of a temporary's strings as maybe uninitialised
  auto d = config.toJson();
  d["learning_rate"] = 0.0;  // 0: the method's default (written resolved)
  d["adaptation"]["edge_readout"] = nullptr;
  d["input"] = GraphInputSpec::configurationDefaults();
  d["input"]["site_shrinkage"] = nullptr;  // off unless set
  return d;
}

void walk(const std::string& file, const json& value, const std::string& prefix, std::vector<ConfigurationKey>& out,
          const std::vector<std::string>& leaves = {}) {
  for (const auto& [key, v] : value.items()) {
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    const bool leaf = std::find(leaves.begin(), leaves.end(), path) != leaves.end();
    if (v.is_object() && !leaf) {
      walk(file, v, path, out, leaves);
      continue;
    }
    ConfigurationKey k{file, path, typeOf(v), v, {}};
    if (const auto it = meanings().find(file + "|" + path); it != meanings().end()) k.meaning = it->second;
    out.push_back(std::move(k));
  }
}

json nest(const std::string& dotted, const json& value) {
  const auto dot = dotted.find('.');
  if (dot == std::string::npos) return json{{dotted, value}};
  return json{{dotted.substr(0, dot), nest(dotted.substr(dot + 1), value)}};
}

}  // namespace

std::vector<ConfigurationKey> configurationReference() {
  std::vector<ConfigurationKey> out;
  walk("pretrain", pretrainDefaults(), "", out);
  ZooPretrainConfig zoo;
  auto zooDefaults = zoo.toJson();
  zooDefaults.erase("architecture");  // the command's --architecture, not a key
  zooDefaults["model"] = model::ZooConfig::fromJson("brainmass", nullptr).toJson();
  walk("pretrain (brainmass, lcm)", zooDefaults, "", out);
  walk("tuning", tuningDefaults(), "", out);
  // A zoo architecture's sizes under the tuning file's "model" (architecture: brainmass, lcm, gcn, ...).
  walk("tuning, zoo architectures", json{{"model", model::ZooConfig::fromJson("gcn", nullptr).toJson()}}, "", out);
  Settings settings;
  walk("settings", json::parse(settings.toJson()), "", out, {"data_path"});
  return out;
}

std::vector<std::string> meaningsWithoutKey() {
  std::vector<std::string> stale;
  const auto reference = configurationReference();
  for (const auto& [id, text] : meanings())
    if (std::none_of(reference.begin(), reference.end(), [&](const ConfigurationKey& k) { return k.file + "|" + k.key == id; })) stale.push_back(id);
  return stale;
}

void readSingleKey(const std::string& file, const std::string& key, const json& value) {
  const json config = nest(key, value);
  if (file == "pretrain") {
    (void)PretrainConfig::fromJson(config);
  } else if (file == "pretrain (brainmass, lcm)") {
    (void)ZooPretrainConfig::fromJson("brainmass", config);
  } else if (file == "tuning") {
    (void)TuningConfig::fromJson(config);
  } else if (file == "tuning, zoo architectures") {
    auto c = config;
    c["architecture"] = "gcn";
    (void)TuningConfig::fromJson(c);
  } else if (file == "settings") {
    Settings s;
    if (value.is_array()) {
      std::string text;
      for (const auto& p : value) text += (text.empty() ? "" : ":") + p.get<std::string>();
      s.set(key, text);
    } else {
      s.set(key, value.is_string() ? value.get<std::string>() : value.dump());
    }
  } else {
    throw Error(ErrorCode::Usage, "no configuration file '" + file + "'");
  }
}

json configurationReferenceJson() {
  json out = json::array();
  for (const auto& k : configurationReference())
    out.push_back({{"file", k.file}, {"key", k.key}, {"type", k.type}, {"default", k.defaultValue}, {"meaning", k.meaning}});
  return out;
}

std::string configurationReferenceMarkdown() {
  static const std::map<std::string, std::string> about = {
      {"pretrain", "BrainGFM pre-training: `pretrain --config FILE` (Launch form: Pre-train)."},
      {"pretrain (brainmass, lcm)", "BrainMass and LCM pre-training: `pretrain --architecture brainmass|lcm --config FILE`."},
      {"tuning",
       "Supervised adaptation and evaluation of any architecture: `train`, `evaluate`, `compare` and `meta-train` with `--config FILE` (Launch form: "
       "Configuration)."},
      {"tuning, zoo architectures",
       "With `\"architecture\"` set to brainmass, lcm, gcn, braingnn, transformer, graph_transformer or brainnettf, the tuning "
       "file's `model` holds that architecture's sizes instead of BrainGFM's (defaults shown for gcn; BrainMass has 4 layers "
       "and dropout 0.1, LCM 3 layers and dropout 0.1)."},
      {"settings", "The settings file (`braingraph-cli settings show|set`; `~/.config/braingraph/settings.json`), which the GUI and the CLI share."},
  };
  std::string md =
      "# Configuration reference\n\n"
      "Every key of the workbench's configuration files, with its type, default and meaning. Generated from the code "
      "(`braingraph-cli config reference --format md`); a test checks that it matches the keys the readers accept. "
      "A key a reader does not know is an error naming it, so a typo never silently trains the default. Example "
      "files are in `resources/configs/`.\n";
  std::string file;
  for (const auto& k : configurationReference()) {
    if (k.file != file) {
      file = k.file;
      md += fmt::format("\n## {}\n\n{}\n\n| key | type | default | meaning |\n|---|---|---|---|\n", file, about.count(file) ? about.at(file) : "");
    }
    std::string meaning = k.meaning;
    for (auto at = meaning.find('|'); at != std::string::npos; at = meaning.find('|', at + 2)) meaning.replace(at, 1, "\\|");
    md += fmt::format("| `{}` | {} | `{}` | {} |\n", k.key, k.type, k.defaultValue.is_null() ? "off" : k.defaultValue.dump(), meaning);
  }
  return md;
}

}  // namespace bg::train
