#include "train/TrainingConfig.h"

#include <string>

#include "errors/Error.h"
#include "eval/Calibration.h"
#include "io/JsonText.h"

namespace bg::train {
using nlohmann::json;

void checkCropAugmentation(double fraction) {
  if (fraction != 0 && (fraction < 0.3 || fraction >= 1))
    throw Error(ErrorCode::Config, "crop_augmentation must be 0 (off) or a share of the time points in [0.3, 1)");
}

json PretrainConfig::toJson() const {
  json j = {{"model", model.toJson()},
            {"mode", mode},
            {"epochs", epochs},
            {"batch_size", batchSize},
            {"learning_rate", learningRate},
            {"seed", seed},
            {"temperature", temperature},
            {"mask_ratio", {maskRatioStart, maskRatioEnd}},
            {"edge_drop", {edgeDropStart, edgeDropEnd}},
            {"feature_drop", featureDrop},
            {"gcl_fraction", gclFraction},
            {"bucket_by_nodes", bucketByNodes}};
  // Only when on, so configurations (and the pre-training caches keyed by them) from before it stay the same.
  if (cropAugmentation > 0) j["crop_augmentation"] = cropAugmentation;
  if (contrastiveWindows) j["contrastive_windows"] = true;
  if (crossAtlasViews) j["cross_atlas_views"] = true;
  return j;
}

PretrainConfig PretrainConfig::fromJson(const json& j) {
  PretrainConfig c;
  if (!j.is_object()) throw Error(ErrorCode::Config, "a pre-training configuration is a JSON object, not " + j.dump().substr(0, 40));
  {
    static const json defaults = [] {
      auto d = PretrainConfig{}.toJson();
      d["crop_augmentation"] = 0.0;  // written only when on
      d["contrastive_windows"] = false;
      d["cross_atlas_views"] = false;
      return d;
    }();
    checkConfigurationKeys(j, defaults, "pre-training configuration");
  }
  if (j.contains("model")) c.model = model::BrainGfmConfig::fromJson(j.at("model"));
  c.mode = j.value("mode", c.mode);
  c.epochs = j.value("epochs", c.epochs);
  c.batchSize = j.value("batch_size", c.batchSize);
  c.learningRate = j.value("learning_rate", c.learningRate);
  c.seed = j.value("seed", c.seed);
  c.temperature = j.value("temperature", c.temperature);
  // Schedules: [start, end] (the key check has made sure of numbers).
  auto schedule = [&](const char* key, double& start, double& end) {
    if (!j.contains(key)) return;
    if (j.at(key).size() != 2) throw Error(ErrorCode::Config, std::string("pre-training configuration: '") + key + "' is [start, end], two numbers");
    start = j.at(key).at(0).get<double>();
    end = j.at(key).at(1).get<double>();
  };
  schedule("mask_ratio", c.maskRatioStart, c.maskRatioEnd);
  schedule("edge_drop", c.edgeDropStart, c.edgeDropEnd);
  c.featureDrop = j.value("feature_drop", c.featureDrop);
  c.gclFraction = j.value("gcl_fraction", c.gclFraction);
  c.bucketByNodes = j.value("bucket_by_nodes", c.bucketByNodes);
  c.cropAugmentation = j.value("crop_augmentation", c.cropAugmentation);
  checkCropAugmentation(c.cropAugmentation);
  c.contrastiveWindows = j.value("contrastive_windows", c.contrastiveWindows);
  if (c.contrastiveWindows && c.cropAugmentation <= 0)
    throw Error(ErrorCode::Config, "contrastive_windows draws GCL's two views from two windows of the time series: set crop_augmentation too");
  c.crossAtlasViews = j.value("cross_atlas_views", c.crossAtlasViews);
  if (c.crossAtlasViews && c.contrastiveWindows)
    throw Error(ErrorCode::Config, "cross_atlas_views and contrastive_windows both choose GCL's second view: set one of them");
  if (!(c.learningRate > 0)) throw Error(ErrorCode::Config, "learning_rate must be positive, not " + std::to_string(c.learningRate));
  if (!(c.temperature > 0)) throw Error(ErrorCode::Config, "temperature must be positive, not " + std::to_string(c.temperature));
  if (c.epochs < 1 || c.epochs > 100000 || c.batchSize < 1) throw Error(ErrorCode::Config, "epochs must be in 1..100000 and batch_size at least 1");
  for (double r : {c.maskRatioStart, c.maskRatioEnd, c.edgeDropStart, c.edgeDropEnd, c.featureDrop, c.gclFraction})
    if (!(r >= 0 && r <= 1))
      throw Error(ErrorCode::Config, "mask_ratio, edge_drop, feature_drop and gcl_fraction are shares in [0, 1], not " + std::to_string(r));
  if (c.mode != "gcl" && c.mode != "gmae" && c.mode != "sum" && c.mode != "sequential")
    throw Error(ErrorCode::Config, "pre-training mode '" + c.mode + "' is not gcl, gmae, sum or sequential");
  if (c.epochs < 1 || c.batchSize < 2) throw Error(ErrorCode::Config, "epochs must be >= 1 and batch_size >= 2");
  return c;
}

json ZooPretrainConfig::toJson() const {
  return {{"architecture", architecture},
          {"model", zoo().toJson()},
          {"epochs", epochs},
          {"batch_size", batchSize},
          {"learning_rate", learningRate},
          {"weight_decay", weightDecay},
          {"seed", seed},
          {"momentum", momentum},
          {"drop_timepoints", dropTimepoints},
          {"mask_ratio", maskRatio},
          {"infonce_weight", infoNceWeight},
          {"mse_weight", mseWeight},
          {"temperature", temperature},
          {"stage_one_fraction", stageOneFraction},
          {"sgd_learning_rate", sgdLearningRate},
          {"sgd_momentum", sgdMomentum}};
}

ZooPretrainConfig ZooPretrainConfig::fromJson(const std::string& architecture, const json& j) {
  ZooPretrainConfig c;
  c.architecture = architecture;
  if (architecture != "brainmass" && architecture != "lcm")
    throw Error(ErrorCode::Usage, "pre-training exists for braingfm, brainmass and lcm, not '" + architecture + "'");
  if (j.is_null()) return c;
  if (!j.is_object()) throw Error(ErrorCode::Config, "a " + architecture + " pre-training configuration is a JSON object");
  checkConfigurationKeys(j, c.toJson(), architecture + " pre-training configuration", {"model"});
  c.model = j.value("model", json::object());
  c.epochs = j.value("epochs", c.epochs);
  c.batchSize = j.value("batch_size", c.batchSize);
  c.learningRate = j.value("learning_rate", c.learningRate);
  c.weightDecay = j.value("weight_decay", c.weightDecay);
  c.seed = j.value("seed", c.seed);
  c.momentum = j.value("momentum", c.momentum);
  c.dropTimepoints = j.value("drop_timepoints", c.dropTimepoints);
  c.maskRatio = j.value("mask_ratio", c.maskRatio);
  c.infoNceWeight = j.value("infonce_weight", c.infoNceWeight);
  c.mseWeight = j.value("mse_weight", c.mseWeight);
  c.temperature = j.value("temperature", c.temperature);
  c.stageOneFraction = j.value("stage_one_fraction", c.stageOneFraction);
  c.sgdLearningRate = j.value("sgd_learning_rate", c.sgdLearningRate);
  c.sgdMomentum = j.value("sgd_momentum", c.sgdMomentum);
  (void)c.zoo();  // validates the model fields
  if (c.epochs < 1 || c.epochs > 100000 || c.batchSize < 2) throw Error(ErrorCode::Config, "epochs must be in 1..100000 and batch_size at least 2");
  if (!(c.learningRate > 0) || !(c.sgdLearningRate > 0) || !(c.temperature > 0))
    throw Error(ErrorCode::Config, "learning_rate, sgd_learning_rate and temperature must be positive");
  if (c.weightDecay < 0 || c.infoNceWeight < 0 || c.mseWeight < 0)
    throw Error(ErrorCode::Config, "weight_decay, infonce_weight and mse_weight must be 0 or more");
  if (!(c.stageOneFraction >= 0 && c.stageOneFraction <= 1) || !(c.sgdMomentum >= 0 && c.sgdMomentum < 1))
    throw Error(ErrorCode::Config, "stage_one_fraction must be in [0, 1] and sgd_momentum in [0, 1)");
  if (c.dropTimepoints < 0 || c.dropTimepoints >= 0.9 || c.maskRatio <= 0 || c.maskRatio >= 1 || c.momentum < 0 || c.momentum >= 1)
    throw Error(ErrorCode::Config, "drop_timepoints must be in [0, 0.9), mask_ratio in (0, 1), momentum in [0, 1)");
  return c;
}

double TuningConfig::effectiveLearningRate() const {
  if (learningRate > 0) return learningRate;
  if (architecture != "braingfm") return adaptation.method == "finetune" ? 3e-4 : 1e-3;
  return adaptation.method == "finetune" || adaptation.method == "scratch" ? 1e-4 : 1e-3;
}

json TuningConfig::toJson() const {
  const bool zoo = architecture != "braingfm";
  return {{"architecture", architecture},
          {"model", zoo ? model::architectureConfigJson(architecture, zooModel) : model.toJson()},
          {"adaptation", adaptation.toJson()},
          {"epochs", epochs},
          {"pseudo_label_threshold", pseudoLabelThreshold},
          {"batch_size", batchSize},
          {"patience", patience},
          {"learning_rate", effectiveLearningRate()},
          {"weight_decay", weightDecay},
          {"label_fraction", labelFraction},
          {"shots_per_class", shotsPerClass},
          {"selection", selection},
          {"calibration", calibration},
          {"input", input.toJson()},
          {"ensemble", ensemble},
          {"ensemble_validation", ensembleValidation},
          {"crop_augmentation", cropAugmentation},
          {"seed", seed}};
}

TuningConfig TuningConfig::fromJson(const json& j) {
  TuningConfig c;
  if (!j.is_object()) throw Error(ErrorCode::Config, "a tuning configuration is a JSON object, not " + j.dump().substr(0, 40));
  {
    // The valid keys and their types: a default configuration's. The zoo's sizes and the input
    // (a name or its record) are checked by their own readers.
    json defaults = c.toJson();                        // c is still the default configuration here
    defaults["adaptation"]["edge_readout"] = nullptr;  // written only when on; a name or true/false
    const bool zoo = j.contains("architecture") && j["architecture"].is_string() && j["architecture"].get<std::string>() != "braingfm";
    checkConfigurationKeys(j, defaults, "tuning configuration", zoo ? std::vector<std::string>{"input", "model"} : std::vector<std::string>{"input"});
  }
  c.architecture = j.value("architecture", c.architecture);
  if (c.architecture != "braingfm" && !model::isNamedArchitecture(c.architecture))
    throw Error(ErrorCode::Config, "unknown architecture '" + c.architecture + "'");
  if (c.architecture != "braingfm") {
    c.zooModel = j.value("model", json::object());
    (void)model::architectureConfigJson(c.architecture, c.zooModel);  // validates
  } else if (j.contains("model")) {
    c.model = model::BrainGfmConfig::fromJson(j.at("model"));
  }
  c.pseudoLabelThreshold = j.value("pseudo_label_threshold", c.pseudoLabelThreshold);
  if (j.contains("adaptation")) c.adaptation = model::AdaptationSpec::fromJson(j.at("adaptation"));
  c.epochs = j.value("epochs", c.epochs);
  c.batchSize = j.value("batch_size", c.batchSize);
  c.patience = j.value("patience", c.patience);
  c.learningRate = j.value("learning_rate", c.learningRate);
  c.weightDecay = j.value("weight_decay", c.weightDecay);
  c.labelFraction = j.value("label_fraction", c.labelFraction);
  c.shotsPerClass = j.value("shots_per_class", c.shotsPerClass);
  c.selection = j.value("selection", c.selection);
  c.seed = j.value("seed", c.seed);
  c.calibration = j.value("calibration", c.calibration);
  if (j.contains("input")) {
    if (j["input"].is_object()) checkConfigurationKeys(j["input"], GraphInputSpec::configurationDefaults(), "tuning configuration › input");
    c.input = GraphInputSpec::fromJson(j.at("input"));
  }
  c.ensemble = j.value("ensemble", c.ensemble);
  if (c.ensemble < 1 || c.ensemble > 32) throw Error(ErrorCode::Config, "ensemble must be between 1 and 32 members");
  // One member has no folds to validate on: a single model on a held-out split unless folds are asked for.
  c.ensembleValidation = j.value("ensemble_validation", c.ensemble < 2 ? std::string("shared") : c.ensembleValidation);
  if (c.ensembleValidation != "shared" && c.ensembleValidation != "folds")
    throw Error(ErrorCode::Config, "ensemble_validation must be shared or folds, not '" + c.ensembleValidation + "'");
  if (c.ensembleValidation == "folds" && c.ensemble < 2)
    throw Error(ErrorCode::Config, "ensemble_validation folds gives each member its own fold of the training part: it needs an ensemble of at least 2 members");
  c.cropAugmentation = j.value("crop_augmentation", c.cropAugmentation);
  checkCropAugmentation(c.cropAugmentation);
  if (c.cropAugmentation > 0 && !c.input.identity())
    throw Error(ErrorCode::Config, "crop_augmentation recomputes Pearson FC from the time series: it does not combine with input " + c.input.name());
  if (c.epochs < 1 || c.batchSize < 1) throw Error(ErrorCode::Config, "epochs and batch_size must be at least 1");
  if (c.epochs > 100000) throw Error(ErrorCode::Config, "epochs must be at most 100000, not " + std::to_string(c.epochs));
  if (c.learningRate < 0)
    throw Error(ErrorCode::Config, "learning_rate must be positive (or 0 for the method's default), not " + std::to_string(c.learningRate));
  if (c.weightDecay < 0) throw Error(ErrorCode::Config, "weight_decay must be 0 or more, not " + std::to_string(c.weightDecay));
  if (c.patience < 1) throw Error(ErrorCode::Config, "patience must be at least 1 epoch");
  if (c.labelFraction <= 0 || c.labelFraction > 1) throw Error(ErrorCode::Config, "label_fraction must be in (0, 1]");
  if (c.selection != "auc" && c.selection != "loss") throw Error(ErrorCode::Config, "selection must be auc or loss");
  if (!isCalibrationMethod(c.calibration)) throw Error(ErrorCode::Config, "calibration must be temperature, platt or auto");
  return c;
}

}  // namespace bg::train
