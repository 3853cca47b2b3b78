#pragma once
// Quality gates in front of a prediction: a scan that is too short, badly covered or full of motion
// must not produce a confident answer. Each check is pass / warn / fail against thresholds that a
// site can tune (a JSON file); a fail blocks the run unless a person overrides it with a reason.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bg {

struct PredictionInput;

struct QcThresholds {
  double volumesPass = 100, volumesWarn = 60;          // fewer than volumesWarn: fail
  double trPassLow = 0.4, trPassHigh = 3.0;            // s; outside trWarn*: fail
  double trWarnLow = 0.2, trWarnHigh = 4.0;
  double coveragePass = 0.98, coverageWarn = 0.90;     // share of atlas ROIs with signal
  double meanFdPass = 0.2, meanFdWarn = 0.5;           // mm
  double censorFdMm = 0.5;                             // a volume is censored above this FD
  double censoredPass = 0.10, censoredWarn = 0.30;     // share of censored volumes
  nlohmann::json toJson() const;
  static QcThresholds fromJson(const nlohmann::json& j);  // missing keys keep their defaults
};

struct QcItem {
  std::string id, name, unit;
  std::optional<double> value;
  std::string status;  // pass | warn | fail | n/a
  std::string rule;    // the thresholds, in words
  std::string note;
};

struct QcReport {
  std::vector<QcItem> items;
  std::string overall() const;  // the worst status (n/a counts as pass)
  bool failed() const { return overall() == "fail"; }
  std::vector<std::string> failures() const;  // "ROI coverage 0.82 (fail: < 0.90)"
  nlohmann::json toJson() const;
  static QcReport fromJson(const nlohmann::json& j);
};

QcReport assessQuality(const PredictionInput& input, const QcThresholds& thresholds);

}  // namespace bg
