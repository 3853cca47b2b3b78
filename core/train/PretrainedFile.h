#pragma once
// The pre-trained file a train, evaluate or meta-train request starts from, opened and checked once:
// what it says about itself, and its weights read into memory. The request's checks, its
// configuration and every fold and ensemble member that starts from the file take them from here
// instead of reading the file again.
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "model/BrainGfm.h"
#include "model/GraphClassifier.h"
#include "train/ZooPretraining.h"

namespace bg::train {

class PretrainedFile {
 public:
  PretrainedFile() = default;  // none: a model from random weights
  // Throws bg::Error naming the file when it is missing, unreadable or not a pre-training file.
  static PretrainedFile open(const std::filesystem::path& file);

  bool empty() const { return path_.empty(); }
  const std::string& path() const { return path_; }
  const PretrainedInfo& info() const { return info_; }
  const std::string& architecture() const { return info_.architecture; }
  const nlohmann::json& extra() const { return info_.extra; }  // an object, empty when the file has none

  // A BrainGFM pre-training's encoder configuration.
  model::BrainGfmConfig encoderConfig() const;
  // Copies a BrainGFM pre-training's encoder weights into `encoder`, which must have the same
  // configuration; returns extra().
  nlohmann::json loadEncoder(model::BrainGfmEncoder& encoder) const;
  // Copies a zoo or imported public file's weights into a classifier of its architecture (its head
  // excepted); returns extra().
  nlohmann::json loadInto(model::GraphClassifierImpl& target) const;

 private:
  std::string path_;
  PretrainedInfo info_;
  std::string configJson_;
  std::shared_ptr<torch::serialize::InputArchive> archive_;
};

}  // namespace bg::train
