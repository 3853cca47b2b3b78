#include "Workbench.h"

#include <spdlog/spdlog.h>

namespace bg::ui {

Workbench::Workbench(Settings settings)
    : settings_(std::move(settings)), dataPaths_(DataPaths::resolve({}, settings_)), jobs_(settings_.jobWorkers) {
  try {
    atlases_ = std::make_unique<AtlasRegistry>(AtlasRegistry::load(DataPaths::manifestDir(), dataPaths_));
  } catch (const std::exception& e) {
    // The window still opens; the workspace panel shows the problem.
    atlasError_ = e.what();
    spdlog::error("{}", atlasError_);
  }
}

}  // namespace bg::ui
