#pragma once
// The user settings file (JSON): data search path, compute device, thread counts.
#include <filesystem>
#include <string>
#include <vector>

namespace bg {

struct Settings {
  // Folders searched in order for atlases/ and data/; empty = built-in default.
  std::vector<std::filesystem::path> dataPath;
  // "auto", "cpu", "cuda" or "cuda:N".
  std::string device = "auto";
  // Threads for numeric work (torch intra-op, ITK); 0 = all cores.
  int computeThreads = 0;
  // Jobs that run at the same time.
  int jobWorkers = 2;
  // The workspace commands use when --workspace is not given.
  std::filesystem::path workspace;
  // How slices and report figures are drawn: "neurological" (the patient's left on the left) or
  // "radiological" (left on the right, as if facing the patient). Every view says which.
  std::string displayConvention = "neurological";
  bool radiological() const { return displayConvention == "radiological"; }

  // $BRAINGRAPH_SETTINGS, else <user config dir>/settings.json.
  static std::filesystem::path defaultFile();
  // A missing file gives defaults; an unreadable or invalid one throws bg::Error naming it.
  static Settings load(const std::filesystem::path& file);
  static Settings loadDefault() { return load(defaultFile()); }
  void save(const std::filesystem::path& file) const;  // atomic

  std::string toJson() const;
  // Sets one key from text, as `braingraph-cli settings set KEY VALUE` does.
  void set(const std::string& key, const std::string& value);
  // Checks values; throws bg::Error(Config) naming the bad key.
  void validate() const;
};

}  // namespace bg
