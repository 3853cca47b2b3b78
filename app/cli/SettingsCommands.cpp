#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "CliContext.h"
#include "Commands.h"

namespace bg::cli {

void addSettingsCommands(CLI::App& app, Action& action) {
  auto* settings = app.add_subcommand("settings", "Show or change the user settings file");
  settings->require_subcommand(1);
  settings->add_subcommand("show", "Print the settings as JSON")->callback([&action] {
    action = [](CliContext& ctx) {
      std::printf("%s", ctx.settings().toJson().c_str());
      return 0;
    };
  });
  auto* set = settings->add_subcommand("set", "Set one key: data_path (colon-separated), device, compute_threads, job_workers");
  auto key = std::make_shared<std::string>();
  auto value = std::make_shared<std::string>();
  set->add_option("key", *key)->required();
  set->add_option("value", *value)->required();
  set->callback([&action, key, value] {
    action = [key, value](CliContext& ctx) {
      // Start from the file, not from command-line overrides, so they are not saved by accident.
      Settings s = Settings::load(ctx.settingsFile());
      s.set(*key, *value);
      s.save(ctx.settingsFile());
      spdlog::info("saved {} = {} to {}", *key, *value, ctx.settingsFile().string());
      return 0;
    };
  });
}

}  // namespace bg::cli
