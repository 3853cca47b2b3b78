#pragma once
// Every key of the workbench's configuration files, with its type, default and meaning: the
// reference users read (docs/configuration.md, `braingraph-cli config reference`), built from the
// configuration readers' own defaults so it cannot drift from what the code reads (a test checks
// both ways: every key the readers accept is here, and every key here is accepted).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bg::train {

struct ConfigurationKey {
  std::string file;  // which configuration: "pretrain", "pretrain (brainmass, lcm)", "tuning", "settings"
  std::string key;   // dotted path inside that file: "model.hidden", "adaptation.method"
  std::string type;  // integer, number, boolean, text, list, object, number pair
  nlohmann::json defaultValue;
  std::string meaning;
};

// In file order, then the order of the readers' defaults.
std::vector<ConfigurationKey> configurationReference();

// Lines of the meanings table (ConfigurationMeanings.inc) for keys no reader has: stale entries.
std::vector<std::string> meaningsWithoutKey();

// A configuration of `file` holding `key` (dotted) at `value` and nothing else, read by that file's
// reader: throws bg::Error when the reader refuses the key or the value.
void readSingleKey(const std::string& file, const std::string& key, const nlohmann::json& value);

// The reference as Markdown (one table per file) or JSON.
std::string configurationReferenceMarkdown();
nlohmann::json configurationReferenceJson();

}  // namespace bg::train
