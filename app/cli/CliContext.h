#pragma once
// What every braingraph-cli command receives: resolved settings, data path,
// output style and a job runner.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobs/JobRunner.h"
#include "log/Logging.h"
#include "settings/DataPaths.h"
#include "settings/Settings.h"

namespace bg {
class AtlasRegistry;
}

namespace bg::cli {

struct GlobalOptions {
  bool quiet = false;
  int verbose = 0;
  std::vector<std::string> data;  // --data, may repeat
  std::string device;             // --device overrides the settings file
  int threads = -1;               // --threads overrides the settings file
  bool noProgress = false;
  bool progressJson = false;  // machine-readable progress on stderr (the GUI reads it)
  bool estimate = false;      // run the first seconds only, print the time and memory estimate, stop
};

// Thrown once an --estimate has been printed: main() ends with status 0.
struct EstimatePrinted {};

class RunTracker;

class CliContext {
 public:
  explicit CliContext(const GlobalOptions& options);
  ~CliContext();
  const GlobalOptions& options() const { return options_; }
  Settings& settings() { return settings_; }
  const std::filesystem::path& settingsFile() const { return settingsFile_; }
  const DataPaths& dataPaths() const { return dataPaths_; }
  JobRunner& jobs();
  // Runs work as a job; draws a progress bar on a terminal; Ctrl-C cancels.
  // Rethrows the job's error (bg::Error with its chained context) when it fails or is cancelled.
  void runJob(const std::string& name, const JobRunner::Work& work);
  // Appended to the name of every curve the following jobs record for the dashboard, where one command
  // runs the same job several times (evaluate --regimes: "test/auc (10% labels)"); empty: none.
  void setMetricSeriesSuffix(std::string suffix) { metricSeriesSuffix_ = std::move(suffix); }
  // What a tracked run actually used (effectiveRunSettings of its result or model card), for comparisons.
  void recordEffectiveSettings(const nlohmann::json& resultOrCard);
  // The command's end (main calls it): a tracked run becomes completed, cancelled or failed.
  void finishRun(int exitCode, const std::string& error = {});

 private:
  GlobalOptions options_;
  std::filesystem::path settingsFile_;
  Settings settings_;
  DataPaths dataPaths_{{}};
  std::string metricSeriesSuffix_;  // declared before tracker_, whose sink reads it
  std::unique_ptr<JobRunner> jobs_;
  std::unique_ptr<RunTracker> tracker_;  // declared after jobs_: detaches its sink before the runner goes
};

// The workspace a command works on: --workspace, else the settings' workspace (throws bg::Error).
std::filesystem::path workspaceDir(CliContext& ctx, const std::string& given);

// The atlas registry when the data path has one, else null (commands that read only ROI
// time-series files work without it; the reason is logged at debug level).
std::unique_ptr<AtlasRegistry> optionalAtlasRegistry(CliContext& ctx);

// True when a job was cancelled by SIGTERM (exit 143) rather than Ctrl-C (exit 130).
bool terminatedBySignal();

}  // namespace bg::cli
namespace CLI {
class App;
}
namespace bg::cli {
void addWorkspaceOption(CLI::App* cmd, std::string& target);
}  // namespace bg::cli
