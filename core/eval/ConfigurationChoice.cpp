#include "eval/ConfigurationChoice.h"

#include <cstddef>
#include <map>

#include "errors/Error.h"
#include "eval/Metrics.h"

namespace bg {
using nlohmann::json;

namespace {

json splitOf(const json& result) {
  const auto& s = result.at("split");
  return json{{"kind", s.at("kind")}, {"seed", s.value("seed", 0u)}, {"folds", s.at("folds")}};
}

// The test predictions of one fold, in stored order.
json foldPredictions(const json& result, int fold) {
  json out = json::array();
  for (const auto& p : result.at("predictions"))
    if (p.at("fold").get<int>() == fold) out.push_back(p);
  return out;
}

}  // namespace

json combineConfigurationChoice(const std::vector<ConfigurationCandidate>& candidates) {
  if (candidates.size() < 2) throw Error(ErrorCode::Usage, "choosing a configuration needs at least two candidates");
  const auto& first = candidates.front();
  const auto& firstFolds = first.result.at("folds_detail");
  for (const auto& c : candidates) {
    if (splitOf(c.result) != splitOf(first.result) || c.result.at("items") != first.result.at("items"))
      throw Error(ErrorCode::Data, "configuration " + c.name + " was evaluated on another split than " + first.name + ": " + splitOf(c.result).dump() +
                                       " against " + splitOf(first.result).dump());
    const auto& folds = c.result.at("folds_detail");
    bool same = folds.size() == firstFolds.size();
    for (std::size_t i = 0; same && i < folds.size(); ++i) same = folds[i].at("fold") == firstFolds[i].at("fold");
    if (!same) throw Error(ErrorCode::Data, "configuration " + c.name + " has other test folds than " + first.name);
  }

  std::vector<int> chosenCount(candidates.size(), 0);
  std::vector<BinaryMetrics> metrics;
  std::vector<double> ece, eceRaw, temperatures, biases, bestEpochs;
  json perFold = json::array(), predictions = json::array(), choices = json::array();
  for (std::size_t i = 0; i < firstFolds.size(); ++i) {
    const int fold = firstFolds[i].at("fold").get<int>();
    std::vector<double> validationAuc;
    std::size_t chosen = 0;
    for (std::size_t k = 0; k < candidates.size(); ++k) {
      const auto& v = candidates[k].result.at("folds_detail")[i].value("validation_auc", json());
      if (!v.is_number())
        throw Error(ErrorCode::Data, "fold " + std::to_string(fold) + " of configuration " + candidates[k].name +
                                         " has no validation AUC (its validation part holds one class, or the result predates validation AUCs)");
      validationAuc.push_back(v.get<double>());
      if (validationAuc.back() > validationAuc[chosen]) chosen = k;  // a tie keeps the earlier candidate
    }
    ++chosenCount[chosen];
    const auto& result = candidates[chosen].result;
    auto detail = result.at("folds_detail")[i];
    const auto rows = foldPredictions(result, fold);
    if (rows.size() != foldPredictions(first.result, fold).size())
      throw Error(ErrorCode::Data, "fold " + std::to_string(fold) + " has other test scans for configuration " + candidates[chosen].name);
    std::vector<int> labels;
    std::vector<double> p;
    for (const auto& row : rows) {
      labels.push_back(row.at("label").get<int>());
      p.push_back(row.at("probability").get<double>());
      predictions.push_back(row);
    }
    metrics.push_back(binaryMetrics(labels, p));
    ece.push_back(detail.at("ece").get<double>());
    eceRaw.push_back(detail.at("ece_uncalibrated").get<double>());
    temperatures.push_back(detail.at("temperature").get<double>());
    biases.push_back(detail.value("calibration_bias", 0.0));
    bestEpochs.push_back(detail.at("best_epoch").get<double>());
    detail["configuration"] = candidates[chosen].name;
    detail["validation_auc_by_configuration"] = validationAuc;
    perFold.push_back(detail);
    choices.push_back({{"fold", fold}, {"chosen", candidates[chosen].name}, {"validation_auc", validationAuc}});
  }

  std::size_t most = 0;
  for (std::size_t k = 1; k < candidates.size(); ++k)
    if (chosenCount[k] > chosenCount[most]) most = k;
  json out = candidates[most].result;
  double training = 0, pretraining = 0, input = 0;
  json described = json::array();
  for (std::size_t k = 0; k < candidates.size(); ++k) {
    const auto& r = candidates[k].result;
    training += r.value("training_seconds", 0.0);
    pretraining += r.value("pretraining_seconds", 0.0);
    input += r.value("input_seconds", 0.0);
    described.push_back({{"name", candidates[k].name},
                         {"config", r.value("config", json())},
                         {"trainable_parameters", r.value("trainable_parameters", json())},
                         {"ensemble", r.value("ensemble", 1)},
                         {"chosen_folds", chosenCount[k]}});
  }
  out["metrics"] = summarizeFolds(metrics);
  out["calibration"]["ece"] = intervalJson(ece);
  out["calibration"]["ece_uncalibrated"] = intervalJson(eceRaw);
  out["calibration"]["temperature"] = intervalJson(temperatures);
  out["calibration"]["bias"] = intervalJson(biases);
  out["best_epochs"] = bestEpochs;
  out["folds_detail"] = perFold;
  out["predictions"] = predictions;
  // Every candidate was trained in every fold: choosing costs all of it.
  out["training_seconds"] = training;
  out["pretraining_seconds"] = pretraining;
  out["input_seconds"] = input;
  out["config_selection"] = {{"criterion", "validation AUC (the fold's validation scans inside its training part; members' calibrated mean)"},
                             {"candidates", described},
                             {"folds", choices}};
  return out;
}

}  // namespace bg
