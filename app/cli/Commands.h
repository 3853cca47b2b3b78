#pragma once
// One small function per braingraph-cli command; each registers its options on a CLI11 app.
#include <functional>

namespace CLI {
class App;
}

namespace bg::cli {
class CliContext;
using Action = std::function<int(CliContext&)>;
// Each adds its subcommand(s) and sets `action` to what runs when one is chosen.
void addAtlasCommands(CLI::App& app, Action& action);
void addDataCommands(CLI::App& app, Action& action);  // data fetch
void addInfoCommand(CLI::App& app, Action& action);
void addSettingsCommands(CLI::App& app, Action& action);
void addConfigCommands(CLI::App& app, Action& action);  // config reference
void addMethodCommands(CLI::App& app, Action& action);  // methods: the method catalog
void addConnectomeCommands(CLI::App& app, Action& action);
void addWorkspaceCommands(CLI::App& app, Action& action);  // workspace, import, derive, export
void addCorpusCommands(CLI::App& app, Action& action);
void addModelCommands(CLI::App& app, Action& action);
void addTrainCommand(CLI::App& app, Action& action);
void addEvaluateCommand(CLI::App& app, Action& action);
void addMetaTrainCommand(CLI::App& app, Action& action);
void addCompareCommand(CLI::App& app, Action& action);
void addPredictCommand(CLI::App& app, Action& action);
void addResultsCommand(CLI::App& app, Action& action);
void addModelFileCommands(CLI::App& app, Action& action);  // model FILE | import | check-reference
void addReportCommands(CLI::App& app, Action& action);     // the PDF needs braingraph-report
void addRunCommands(CLI::App& app, Action& action);        // runs list/compare/pause/resume/cancel, release
}  // namespace bg::cli
