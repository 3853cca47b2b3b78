// braingraph-cli: the headless face of the workbench; every command calls the same core functions as the GUI.
#include <memory>
#include <clocale>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "CliContext.h"
#include "Commands.h"
#include "errors/Error.h"
#include "io/ProcessLock.h"
#include "io/JsonText.h"
#include "log/Logging.h"
#include "platform/Versions.h"

namespace {
// The --out of the command that runs (the deepest parsed subcommand that has one), "" if none.
std::string outputOption(const CLI::App& app) {
  std::string out;
  for (const auto* sub : app.get_subcommands()) {
    // Data-parallel pre-training: rank 0 writes --out, the other ranks only OUT.ckpt.rankN.
    if (const auto* rank = sub->get_option_no_throw("--rank"); rank && rank->count() > 0 && !rank->results().empty() && rank->results().front() != "0")
      return {};
    if (const auto* opt = sub->get_option_no_throw("--out"); opt && opt->count() > 0 && !opt->results().empty()) out = opt->results().front();
    if (const auto deeper = outputOption(*sub); !deeper.empty()) out = deeper;
  }
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  std::setlocale(LC_ALL, "C");
  using namespace bg;
  CLI::App app{"BrainGraph Workbench command line: atlases, connectomes, models and reports", "braingraph-cli"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "braingraph-cli " + braingraphVersion());
  cli::GlobalOptions opts;
  app.add_flag("-q,--quiet", opts.quiet, "Only warnings and errors");
  app.add_flag("-v,--verbose", opts.verbose, "More detail (twice for trace)");
  app.add_option("--data", opts.data, "Data folder holding atlases/ and data/ (repeatable; overrides BRAINGRAPH_DATA)");
  app.add_option("--device", opts.device, "Compute device: auto, cpu, cuda, cuda:N");
  app.add_option("--threads", opts.threads, "Compute threads (0 = all cores, at most 1024)")->check(CLI::Range(0, 1024));
  app.add_flag("--no-progress", opts.noProgress, "Never draw a progress bar");
  app.add_flag("--estimate", opts.estimate,
               "Run the command's first seconds only and print JSON: estimated total seconds and peak memory (nothing is written)");
  bool lenient = false;
  app.add_flag("--lenient", lenient, "Configuration files: an unknown key is a warning instead of an error (misspelt keys are otherwise refused)");
  app.add_flag("--progress-json", opts.progressJson, "Report progress as JSON lines on stderr: {\"progress\": F, \"stage\": S, \"job\": N}");

  cli::Action action;
  // Every command (group), registered from one table in the order --help lists them (app/cli/Commands.h).
  using AddCommands = void (*)(CLI::App&, cli::Action&);
  for (AddCommands add : {cli::addAtlasCommands, cli::addDataCommands, cli::addInfoCommand, cli::addSettingsCommands, cli::addConfigCommands,
                          cli::addMethodCommands, cli::addConnectomeCommands, cli::addWorkspaceCommands, cli::addCorpusCommands, cli::addModelCommands,
                          cli::addTrainCommand, cli::addEvaluateCommand, cli::addMetaTrainCommand, cli::addCompareCommand, cli::addPredictCommand,
                          cli::addResultsCommand, cli::addModelFileCommands, cli::addReportCommands, cli::addRunCommands})
    add(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(ErrorCode::Usage);
  }

  log::LogOptions logOptions;
  logOptions.verbosity = opts.quiet          ? log::Verbosity::Quiet
                         : opts.verbose >= 2 ? log::Verbosity::Trace
                         : opts.verbose == 1 ? log::Verbosity::Verbose
                                             : log::Verbosity::Normal;
  log::init(logOptions);
  setLenientConfiguration(lenient);
  std::unique_ptr<cli::CliContext> ctx;
  try {
    ctx = std::make_unique<cli::CliContext>(opts);
    // One writer per output: a second command given the same --out is refused while this one runs.
    std::unique_ptr<ProcessLock> outputLock;
    if (const auto out = outputOption(app); !out.empty() && out != "-") outputLock = lockOutput(out);
    const int rc = action ? action(*ctx) : 0;
    ctx->finishRun(rc);
    return rc;
  } catch (const cli::EstimatePrinted&) {
    return 0;
  } catch (...) {
    const Error e = currentExceptionAsError();
    const int rc = e.code() == ErrorCode::Cancelled && cli::terminatedBySignal() ? 143 : e.exitCode();  // 128 + SIGTERM, as a shell says
    if (ctx) ctx->finishRun(rc, e.what());
    if (e.code() == ErrorCode::Cancelled)
      spdlog::warn(rc == 143 ? "terminated" : "cancelled");
    else
      spdlog::error("{}", e.what());
    spdlog::default_logger()->flush();
    return rc;
  }
}
