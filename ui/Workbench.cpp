#include "Workbench.h"

#include <spdlog/spdlog.h>

namespace bg::ui {

Workbench::Workbench(Settings settings)
    : settings_(std::move(settings)), dataPaths_(std::make_unique<DataPaths>(DataPaths::resolve({}, settings_))), jobs_(settings_.jobWorkers) {
  loadAtlases();
}

void Workbench::reloadDataPaths() {
  retiredPaths_.push_back(std::move(dataPaths_));
  if (atlases_) retiredAtlases_.push_back(std::move(atlases_));
  dataPaths_ = std::make_unique<DataPaths>(DataPaths::resolve({}, settings_));
  spdlog::info("data path now {}", dataPaths_->describe());
  loadAtlases();
}

void Workbench::loadAtlases() {
  atlasError_.clear();
  try {
    atlases_ = std::make_unique<AtlasRegistry>(AtlasRegistry::load(DataPaths::manifestDir(), *dataPaths_));
  } catch (const std::exception& e) {
    // The window still opens; the workspace panel shows the problem.
    atlasError_ = e.what();
    spdlog::error("{}", atlasError_);
  }
}

bool Workbench::setDisplayConvention(const std::string& convention) {
  settings_.displayConvention = convention;
  try {
    auto stored = Settings::loadDefault();  // keep what other processes wrote
    stored.displayConvention = convention;
    stored.save(Settings::defaultFile());
    return true;
  } catch (const std::exception& e) {
    spdlog::error("the display convention is not saved: {}", e.what());
    return false;
  }
}

}  // namespace bg::ui
