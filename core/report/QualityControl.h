#pragma once
// Quality gates in front of a prediction: a scan that is too short, badly covered or full of motion
// must not produce a confident answer. Each check is pass / warn / fail against thresholds that a
// site can tune (a JSON file); a fail blocks the run unless a person overrides it with a reason.
// A check that could not run (no motion estimate, say) is "not checked", never a pass: the verdict is
// then "incomplete — motion not checked", which warns by default and blocks like a fail when the
// site's thresholds say "incomplete": "block".
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "connectome/ConnectomePipeline.h"  // kFailingRoiCoverage

namespace bg {

struct PredictionInput;

// A motion estimate that does not come from a confounds file (a workspace's phenotype, such as
// ABIDE's func_mean_fd), with where it came from, for the report.
struct RecordedMotion {
  double meanFd = 0;
  std::string source;
};

struct QcThresholds {
  double volumesPass = 100, volumesWarn = 60;  // fewer than volumesWarn: fail
  double trPassLow = 0.4, trPassHigh = 3.0;    // s; outside trWarn*: fail
  double trWarnLow = 0.2, trWarnHigh = 4.0;
  double coveragePass = 0.98, coverageWarn = kFailingRoiCoverage;  // share of atlas ROIs with signal
  double meanFdPass = 0.2, meanFdWarn = 0.5;                       // mm
  double censorFdMm = 0.5;                                         // a volume is censored above this FD
  double censoredPass = 0.10, censoredWarn = 0.30;                 // share of censored volumes
  bool incompleteBlocks = false;                                   // "incomplete": "block" (default "warn")
  nlohmann::json toJson() const;
  static QcThresholds fromJson(const nlohmann::json& j);  // missing keys keep their defaults
};

struct QcItem {
  std::string id, name, unit;
  std::optional<double> value;
  std::string status;  // pass | warn | fail | not checked
  std::string rule;    // the thresholds, in words
  std::string note;
};

struct QcReport {
  std::vector<QcItem> items;
  bool incompleteBlocks = false;  // the site's policy when a check could not run
  // fail when any check fails, else incomplete when any could not run, else the worst of warn/pass.
  std::string overall() const;
  // overall() in words: "incomplete — motion not checked", "pass", ...
  std::string verdict() const;
  std::vector<std::string> notChecked() const;  // the names of the checks that could not run
  // What stops a run: a fail, or an incomplete check where the site blocks those.
  bool failed() const { return overall() == "fail" || (incompleteBlocks && overall() == "incomplete"); }
  std::vector<std::string> failures() const;  // "ROI coverage 0.82 (fail: < 0.90)"
  nlohmann::json toJson() const;
  static QcReport fromJson(const nlohmann::json& j);
};

QcReport assessQuality(const PredictionInput& input, const QcThresholds& thresholds, const std::optional<RecordedMotion>& recorded = std::nullopt);

}  // namespace bg
