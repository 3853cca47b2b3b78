#pragma once
// How an ensemble's members divide a training part between learning and validation (the epoch
// choice and the calibration), what the deployed file learned from, and the validation pooled over
// the members.
#include <cstdint>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/Metrics.h"
#include "train/TrainingConfig.h"
#include "workspace/CorpusDataset.h"

namespace bg::train {

// Each member's training and validation scans (TuningConfig::ensembleValidation): all the same, or the
// labelled scans of the training part (train + validation) in one stratified fold per member. A label
// regime (--label-fraction, --shots) draws its labelled scans once, before the folds, so every member
// sees the same labels and validation uses no label beyond them. `labelled`: set to true when the split
// itself applied the regime (the members' Tuners then take their training scans as they are).
struct MemberSplit {
  std::vector<DatasetItem> train, validation;
};
std::vector<MemberSplit> memberSplits(const TuningConfig& c, int members, const std::vector<DatasetItem>& train, const std::vector<DatasetItem>& validation,
                                      unsigned seed, bool* labelled = nullptr);

// What the deployed file learned from: the card's "deployment" block.
nlohmann::json deploymentRecord(const TuningConfig& c, const std::vector<MemberSplit>& splits, std::size_t corpusScans);

// Each validation scan's calibrated probability, averaged over the members that validated it (all of
// them when the split is shared, its fold's member alone when cross-fitted).
class PooledValidation {
 public:
  void add(const std::vector<DatasetItem>& items, const std::vector<double>& p);
  std::size_t scans() const { return given_.size(); }
  bool hasBothClasses() const;
  BinaryMetrics metrics() const;

 private:
  struct Given {
    double sum = 0;
    int members = 0, label = 0;
  };
  std::map<std::int64_t, Given> given_;
};

}  // namespace bg::train
