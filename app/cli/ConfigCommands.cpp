#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "CliContext.h"
#include "Commands.h"
#include "eval/Results.h"
#include "train/ConfigurationReference.h"

namespace bg::cli {

void addConfigCommands(CLI::App& app, Action& action) {
  auto* config = app.add_subcommand("config", "The configuration files' keys");
  config->require_subcommand(1);
  auto* reference = config->add_subcommand("reference", "Every key of every configuration file: type, default and meaning (docs/configuration.md)");
  auto format = std::make_shared<std::string>("md");
  reference->add_option("--format", *format, "md, json or csv")->check(CLI::IsMember({"md", "json", "csv"}))->capture_default_str();
  reference->add_flag_callback(
      "--json", [format] { *format = "json"; }, "Same as --format json");
  reference->callback([&action, format] {
    action = [format](CliContext&) {
      if (*format == "json") {
        std::printf("%s\n", train::configurationReferenceJson().dump(2).c_str());
      } else if (*format == "csv") {
        std::printf("file,key,type,default,meaning\n");
        for (const auto& k : train::configurationReference())
          std::printf("%s,%s,%s,%s,%s\n", csvCell(k.file).c_str(), csvCell(k.key).c_str(), csvCell(k.type).c_str(),
                      csvCell(k.defaultValue.is_null() ? "off" : k.defaultValue.dump()).c_str(), csvCell(k.meaning).c_str());
      } else {
        std::printf("%s", train::configurationReferenceMarkdown().c_str());
      }
      return 0;
    };
  });
}

}  // namespace bg::cli
