#include <cstdio>

#include <CLI/CLI.hpp>

#include "CliContext.h"
#include "Commands.h"
#include "model/ComputeDevice.h"
#include "platform/Versions.h"

namespace bg::cli {

void addInfoCommand(CLI::App& app, Action& action) {
  auto* info = app.add_subcommand("info", "Versions, compute device, data path and settings file");
  info->callback([&action] {
    action = [](CliContext& ctx) {
      std::printf("BrainGraph Workbench %s\n", braingraphVersion().c_str());
      for (const auto& [name, version] : coreLibraryVersions()) std::printf("%-10s %s\n", name.c_str(), version.c_str());
      std::printf("%-10s %s\n", "LibTorch", model::torchVersion().c_str());
      const auto device = model::resolveComputeDevice(ctx.settings().device, ctx.settings().computeThreads);
      std::printf("device     %s (requested %s)\n", device.description.c_str(), device.requested.c_str());
      std::printf("data path  %s\n", ctx.dataPaths().describe().c_str());
      std::printf("manifests  %s\n", DataPaths::manifestDir().c_str());
      std::printf("settings   %s\n", ctx.settingsFile().c_str());
      const auto logFile = log::logFilePath();
      std::printf("log file   %s\n", logFile.empty() ? "(off)" : logFile.c_str());
      return 0;
    };
  });
}

}  // namespace bg::cli
