#include <cstdio>

#include <memory>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "CliContext.h"
#include "Commands.h"
#include "model/ModelBackend.h"
#include "platform/Versions.h"

namespace bg::cli {

void addInfoCommand(CLI::App& app, Action& action) {
  auto* info = app.add_subcommand("info", "Versions, compute device, data path and settings file");
  auto json = std::make_shared<bool>(false);
  info->add_flag("--json", *json, "Print JSON (the GUI reads this: it never loads LibTorch itself)");
  info->callback([&action, json] {
    action = [json](CliContext& ctx) {
      if (*json) {
        const auto device = model::modelBackend().resolveComputeDevice(ctx.settings().device, ctx.settings().computeThreads);
        nlohmann::json j;
        j["braingraph"] = braingraphVersion();
        for (const auto& [name, version] : coreLibraryVersions()) j["libraries"][name] = version;
        j["libraries"]["LibTorch"] = model::modelBackend().torchVersion();
        j["device"] = {{"requested", device.requested},          {"resolved", device.resolved},
                       {"description", device.description},      {"cuda_available", device.cudaAvailable},
                       {"cuda_devices", device.cudaDeviceCount}, {"cpu_threads", device.cpuThreads}};
        j["data_path"] = ctx.dataPaths().describe();
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
      }
      std::printf("BrainGraph Workbench %s\n", braingraphVersion().c_str());
      for (const auto& [name, version] : coreLibraryVersions()) std::printf("%-10s %s\n", name.c_str(), version.c_str());
      std::printf("%-10s %s\n", "LibTorch", model::modelBackend().torchVersion().c_str());
      const auto device = model::modelBackend().resolveComputeDevice(ctx.settings().device, ctx.settings().computeThreads);
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
