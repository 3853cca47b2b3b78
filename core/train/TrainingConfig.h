#pragma once
// The training configurations (BrainGFM pre-training, BrainMass/LCM pre-training, supervised tuning of
// any architecture): plain structs read from and written to JSON, without LibTorch, so a configuration
// file is checked before the model library loads, and the readers can be fuzzed on their own.
// Each fromJson checks keys and types against the defaults (io/JsonText.h) and every value's range.
#include <string>

#include <nlohmann/json.hpp>

#include "connectome/GraphInputSpec.h"
#include "model/ModelConfig.h"

namespace bg::train {

// Crop augmentation's share of the time points: 0 (off) or in [0.3, 1).
void checkCropAugmentation(double fraction);

// BrainGFM pre-training (train/Pretrainer.h).
struct PretrainConfig {
  model::BrainGfmConfig model;
  std::string mode = "sequential";  // gcl | gmae | sum | sequential
  int epochs = 100;
  int batchSize = 128;
  double learningRate = 1e-4;
  unsigned seed = 0;
  double temperature = 0.2;
  double maskRatioStart = 0.3, maskRatioEnd = 0.3;
  double edgeDropStart = 0.1, edgeDropEnd = 0.1;
  double featureDrop = 0.2;
  double gclFraction = 0.5;  // sequential: share of the epochs spent on GCL
  bool bucketByNodes = true;
  // Each epoch reads every scan's FC from a random window of this share of its stored time series
  // (GraphBatchLoader::setCropAugmentation): more distinct graphs per scan. 0: the stored FC.
  double cropAugmentation = 0;
  // With crop augmentation: GCL's two views of a scan come from two independent windows (each with
  // its own feature and edge dropout) instead of one window seen twice, so the encoder must agree on
  // a scan across time, not only across dropout.
  bool contrastiveWindows = false;
  // Multi-atlas corpora: GCL's second view of a scan is its graph in another atlas of the corpus (the
  // paper's cross-parcellation positive pair), so the encoder must agree on a brain across
  // parcellations. Scans seen through one atlas only keep the dropout view.
  bool crossAtlasViews = false;

  nlohmann::json toJson() const;
  static PretrainConfig fromJson(const nlohmann::json& j);
};

// BrainMass and LCM pre-training (train/ZooPretraining.h).
struct ZooPretrainConfig {
  std::string architecture = "brainmass";           // brainmass | lcm
  nlohmann::json model = nlohmann::json::object();  // ZooConfig fields
  int epochs = 30;
  int batchSize = 32;
  double learningRate = 1e-3;
  double weightDecay = 1e-4;
  unsigned seed = 0;
  // BrainMass
  double momentum = 0.996;
  double dropTimepoints = 0.2;
  double maskRatio = 0.3;
  double infoNceWeight = 0.1, mseWeight = 2.0;
  double temperature = 0.2;
  // LCM
  double stageOneFraction = 0.5;
  double sgdLearningRate = 0.01, sgdMomentum = 0.9;

  model::ZooConfig zoo() const { return model::ZooConfig::fromJson(architecture, model); }
  nlohmann::json toJson() const;
  static ZooPretrainConfig fromJson(const std::string& architecture, const nlohmann::json& j);
};

// Supervised adaptation of any architecture to one labelled task (train/Tuner.h).
struct TuningConfig {
  std::string architecture = "braingfm";               // or a zoo architecture (model/ModelZoo.h)
  model::BrainGfmConfig model;                         // BrainGFM's sizes
  nlohmann::json zooModel = nlohmann::json::object();  // the zoo architecture's sizes (ZooConfig fields)
  model::AdaptationSpec adaptation;
  int epochs = 40;
  int batchSize = 32;
  int patience = 10;        // epochs without a better validation score before stopping
  double learningRate = 0;  // 0: 1e-4 for finetune/scratch, 1e-3 otherwise
  double weightDecay = 1e-4;
  double labelFraction = 1.0;               // share of the training labels used (paper figure 2: 1, 0.1, 0.01)
  int shotsPerClass = 0;                    // > 0: exactly K labelled graphs per class (few-shot), instead of a fraction
  std::string selection = "auc";            // validation criterion: auc | loss
  std::string calibration = "temperature";  // fitted on the validation split: temperature | platt (eval/Calibration.h)
  GraphInputSpec input;                     // what the model reads: stored Pearson FC, or tangent-space FC (fitted per fold)
  // Members trained per model, their calibrated probabilities averaged. The default is the cross-fitted
  // ensemble: the labelled scans in kCrossFitMembers stratified folds, member k choosing its epoch and
  // fitting its calibration on fold k and learning from the rest, so the deployed file learns from every
  // label and no choice rests on one small validation split. 1 member: a single model with a 15%
  // validation split (quicker; the split's scans are never learned from).
  static constexpr int kCrossFitMembers = 5;
  int ensemble = kCrossFitMembers;
  // "folds" (above) or "shared": every member on the same split (initialisation, batch order and
  // dropout differ, the labelled scans do not).
  std::string ensembleValidation = "folds";
  // Training only: every epoch each scan's FC is recomputed from a random window of this share of its
  // time points (0 = off; needs the stored time series and the Pearson FC input). Validation, test and
  // prediction read the full-length FC.
  double cropAugmentation = 0;
  int member = 0;                                                                    // which member this Tuner trains (not part of the configuration)
  unsigned runSeed() const { return seed + 7919u * static_cast<unsigned>(member); }  // member 0: the seed itself
  // Semi-supervised (LCM's fine-tuning): halfway through, training items left out by the label
  // fraction get pseudo-labels where the model is at least this confident (0 = off).
  double pseudoLabelThreshold = 0;
  unsigned seed = 0;

  double effectiveLearningRate() const;
  nlohmann::json toJson() const;
  static TuningConfig fromJson(const nlohmann::json& j);
};

}  // namespace bg::train
