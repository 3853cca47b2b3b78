// methods: the method catalog (core/methods) as a table — what each --method trains, what it needs.
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>

#include "CliContext.h"
#include "Commands.h"
#include "OutputFormat.h"
#include "methods/MethodCatalog.h"

namespace bg::cli {
namespace {

const char* familyName(MethodFamily f) {
  switch (f) {
    case MethodFamily::Baseline:
      return "baseline";
    case MethodFamily::BrainGfm:
      return "braingfm";
    case MethodFamily::Zoo:
      return "zoo";
    case MethodFamily::PublicGfm:
      return "public";
  }
  return "";
}

const char* pretrainedName(PretrainedUse p) {
  switch (p) {
    case PretrainedUse::None:
      return "no";
    case PretrainedUse::Optional:
      return "optional";
    case PretrainedUse::Required:
      return "required";
    case PretrainedUse::Meta:
      return "meta-learned";
  }
  return "";
}

}  // namespace

void addMethodCommands(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("methods", "Every --method of train and evaluate: family, architecture, pre-trained file, inputs, calibration");
  auto format = std::make_shared<OutputFormat>();
  format->add(cmd);
  cmd->callback([&action, format] {
    action = [format](CliContext&) {
      ResultTable t;
      t.header = {"method", "family",      "name",  "architecture", "pretrained", "pretrained_architecture", "pretrain_in_folds",
                  "inputs", "calibration", "train", "description"};
      for (const auto& m : methodCatalog()) {
        std::string inputs;
        for (const auto& i : m.inputs) inputs += (inputs.empty() ? "" : " ") + i;
        t.rows.push_back({m.name, familyName(m.family), m.displayName, m.architecture, pretrainedName(m.pretrained), m.pretrainedArchitecture(),
                          m.pretrainsInFolds ? "yes" : "no", m.isBaseline() || !m.inputs.empty() ? inputs : "any", m.calibrates ? "yes" : "self",
                          m.writesModel ? "yes" : "evaluate only", m.description});
      }
      std::printf("%s", t.render(format->value).c_str());
      return 0;
    };
  });
}

}  // namespace bg::cli
