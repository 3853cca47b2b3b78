#pragma once
// The atlases the workbench knows: manifests from the project, data files from
// the data search path.
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "atlas/AtlasManifest.h"
#include "jobs/Progress.h"
#include "settings/DataPaths.h"

namespace bg {

// The result of checking an atlas's files against its manifest.
struct AtlasVerification {
  std::string id;
  int manifestRoiCount = 0;
  int verifiedRoiCount = 0;  // distinct labels in the volume, or coordinate rows
  int labelTableRows = 0;
  std::vector<int> tableLabelsMissingInVolume;
  std::vector<int> volumeLabelsMissingInTable;
  std::string verifiedFile;  // the file the count comes from
  std::string shape;         // volume shape, e.g. 91x109x91
  bool ok = false;
  bool missing = false;  // its files are not in the data path
  std::string problem;   // empty when ok
};

class AtlasRegistry {
 public:
  // Reads every <manifestDir>/<id>/manifest.json.
  static AtlasRegistry load(const std::filesystem::path& manifestDir, DataPaths data);

  const std::vector<AtlasManifest>& all() const { return atlases_; }
  // Parcellations only (no templates), in the paper's order.
  std::vector<const AtlasManifest*> parcellations() const;
  // The eight parcellations of the BrainGFM paper (what "all" means), a subset of parcellations().
  std::vector<const AtlasManifest*> paperParcellations() const;
  const AtlasManifest& get(const std::string& id) const;  // throws NoInput listing known ids
  bool contains(const std::string& id) const;
  const DataPaths& dataPaths() const { return data_; }

  std::filesystem::path resolve(const std::string& relative) const;  // under <root>/atlases/
  std::filesystem::path volumeFile(const std::string& id, const std::string& resolution = {}) const;
  std::vector<AtlasLabel> labels(const std::string& id) const;
  // Reads the volume (or coordinates) and the label table and checks them against each other.
  // A missing or corrupt file throws bg::Error naming it.
  AtlasVerification verify(const std::string& id, ProgressDelegate& progress) const;

 private:
  struct DerivedCache {
    std::recursive_mutex mutex;
    std::map<std::string, std::vector<AtlasLabel>> labels;
  };
  std::vector<AtlasManifest> atlases_;
  DataPaths data_{{}};
  std::shared_ptr<DerivedCache> derived_ = std::make_shared<DerivedCache>();  // computing them reads three volumes
};

}  // namespace bg
