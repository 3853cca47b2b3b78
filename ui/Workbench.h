#pragma once
// What the GUI shares across windows: settings, data path, atlas registry and
// the job runner. Created before the main window and destroyed after it.
#include <memory>
#include <vector>

#include "atlas/AtlasRegistry.h"
#include "jobs/JobRunner.h"
#include "settings/DataPaths.h"
#include "settings/Settings.h"

namespace bg::ui {

class Workbench {
 public:
  explicit Workbench(Settings settings);
  const Settings& settings() const { return settings_; }
  const DataPaths& dataPaths() const { return *dataPaths_; }
  const AtlasRegistry& atlases() const { return *atlases_; }
  bool hasAtlases() const { return atlases_ != nullptr; }
  const std::string& atlasError() const { return atlasError_; }
  JobRunner& jobs() { return jobs_; }
  // Changes the slice and figure convention and stores it in the settings file (which the CLI reads
  // too, so reports follow it); false, with the reason logged, when the file cannot be written.
  bool setDisplayConvention(const std::string& convention);
  // Resolves the data path again (a fetch may have created the user data folder) and reloads the atlas
  // registry over it. The previous ones stay alive until the workbench closes: running jobs hold them.
  void reloadDataPaths();

 private:
  Settings settings_;
  void loadAtlases();
  std::unique_ptr<DataPaths> dataPaths_;
  std::unique_ptr<AtlasRegistry> atlases_;
  std::vector<std::unique_ptr<DataPaths>> retiredPaths_;
  std::vector<std::unique_ptr<AtlasRegistry>> retiredAtlases_;
  std::string atlasError_;
  JobRunner jobs_;
};

}  // namespace bg::ui
