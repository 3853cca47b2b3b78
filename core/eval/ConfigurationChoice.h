#pragma once
// Nested choice of a graph model's configuration. Every candidate configuration is evaluated on the
// same folds (one split, the same seeds); in each fold the candidate whose validation AUC is highest
// is kept. The validation scans lie inside that fold's training part (the split that already selects
// the epoch and fits the calibration), so the test fold never informs the choice. Because folds are
// independent, keeping a candidate's fold is the same as having trained only that candidate there.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bg {

struct ConfigurationCandidate {
  std::string name;       // what the user calls it: the configuration file's name
  nlohmann::json result;  // evaluateMethod's result for this candidate, with "predictions" and "folds_detail"
};

// The evaluation of "choose the configuration in each fold": per fold the kept candidate's test
// predictions, metrics, calibration figures and epoch; times summed over all candidates (the cost of
// choosing); "config" and the parameter counts of the candidate kept most often; and
// "config_selection" recording every fold's validation AUCs and choice. A tie goes to the candidate
// listed first. Throws bg::Error (Usage) for fewer than two candidates, (Data) when the candidates'
// splits or folds differ or a fold has no validation AUC (a validation part of one class).
nlohmann::json combineConfigurationChoice(const std::vector<ConfigurationCandidate>& candidates);

}  // namespace bg
