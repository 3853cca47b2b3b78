#include "train/MemberSplits.h"

#include <algorithm>
#include <string>

#include <spdlog/spdlog.h>

#include "errors/Error.h"
#include "train/Tuner.h"
#include "train/TuningSetup.h"
#include "workspace/Corpus.h"

namespace bg::train {
using nlohmann::json;

std::vector<MemberSplit> memberSplits(const TuningConfig& c, int members, const std::vector<DatasetItem>& train, const std::vector<DatasetItem>& validation,
                                      unsigned seed, bool* labelled) {
  if (labelled) *labelled = false;
  if (c.ensembleValidation != "folds" || members < 2) return std::vector<MemberSplit>(static_cast<std::size_t>(members), MemberSplit{train, validation});
  std::vector<DatasetItem> pool = train;
  pool.insert(pool.end(), validation.begin(), validation.end());
  if (c.shotsPerClass > 0 || c.labelFraction < 1.0) {
    pool = c.shotsPerClass > 0 ? subsampleShots(pool, c.shotsPerClass, c.seed) : subsampleLabels(pool, c.labelFraction, c.seed);
    if (labelled) *labelled = true;
  }
  const auto labels = labelsOf(pool);
  const auto smallest = std::min(std::count(labels.begin(), labels.end(), 0), std::count(labels.begin(), labels.end(), 1));
  if (smallest < 2)
    throw Error(ErrorCode::Data, "cross-fitting needs at least 2 labelled scans of each class and has " + std::to_string(smallest) +
                                     ": give more labels, or train one model on a shared validation split (--ensemble 1)");
  // A small labelled set gets as many folds as its smaller class allows, so every fold validates both classes.
  const int folds = static_cast<int>(std::min<std::int64_t>(members, smallest));
  if (folds < members) spdlog::warn("{} labelled scans of the smaller class: the cross-fitted ensemble has {} members, not {}", smallest, folds, members);
  std::vector<MemberSplit> out;
  for (const auto& h : stratifiedFolds(labels, folds, seed)) {
    MemberSplit s;
    for (auto i : h.train) s.train.push_back(pool[i]);
    for (auto i : h.validation) s.validation.push_back(pool[i]);
    out.push_back(std::move(s));
  }
  return out;
}

// What the deployed file learned from: the card's "deployment" block.
json deploymentRecord(const TuningConfig& c, const std::vector<MemberSplit>& splits, std::size_t corpusScans) {
  json learned = json::array(), validated = json::array();
  std::map<std::int64_t, bool> used;  // learned from by at least one member (validation scans are not learned from)
  for (const auto& s : splits) {
    learned.push_back(s.train.size());
    validated.push_back(s.validation.size());
    for (const auto& it : s.train) used[it.scanId] = true;
  }
  const bool folds = c.ensembleValidation == "folds" && splits.size() > 1;
  const std::size_t trainScans = splits.empty() ? 0 : splits.front().train.size();
  return {{"procedure", folds               ? "cross-fitted ensemble"
                        : splits.size() > 1 ? "ensemble on one validation split"
                                            : "single model, held-out validation split"},
          {"members", splits.size()},
          {"learned_from", learned},
          {"validated_on", validated},
          {"scans_learned_from", used.size()},
          {"corpus_scans", corpusScans},
          {"summary", folds ? std::to_string(splits.size()) + " fold models, each learned from about " + std::to_string(trainScans) +
                                  " scans and chose its epoch and calibration on the other " + std::to_string(splits.front().validation.size()) +
                                  "; together they learned from all " + std::to_string(used.size()) + " labelled scans"
                            : std::to_string(splits.size()) + (splits.size() > 1 ? " members" : " model") + " learned from " + std::to_string(trainScans) +
                                  " scans; " + std::to_string(splits.empty() ? 0 : splits.front().validation.size()) +
                                  " scans were kept aside for the epoch choice and the calibration and never learned from"}};
}

void PooledValidation::add(const std::vector<DatasetItem>& items, const std::vector<double>& p) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto& s = given_[items[i].scanId];
    s.sum += p[i];
    ++s.members;
    s.label = items[i].label;
  }
}

bool PooledValidation::hasBothClasses() const {
  bool seen[2] = {false, false};
  for (const auto& [scan, s] : given_) seen[s.label == 1 ? 1 : 0] = true;
  return seen[0] && seen[1];
}

BinaryMetrics PooledValidation::metrics() const {
  std::vector<int> labels;
  std::vector<double> p;
  for (const auto& [scan, s] : given_) {
    labels.push_back(s.label);
    p.push_back(s.sum / s.members);
  }
  return binaryMetrics(labels, p);
}

}  // namespace bg::train
