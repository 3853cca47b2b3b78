#include "train/PretrainedFile.h"

#include "errors/Error.h"
#include "train/ModelFile.h"
#include "train/TrainingConfig.h"

namespace bg::train {
using nlohmann::json;

namespace {
// Module::load's walk, copying each tensor where load would adopt the archive's storage: the module
// then owns its weights, and the archive stays as read for the next member that starts from it.
void copyWeights(torch::serialize::InputArchive& archive, torch::nn::Module& module) {
  torch::NoGradGuard ng;
  for (const auto& p : module.named_parameters(false)) {
    torch::Tensor t;
    archive.read(p.key(), t);
    p.value().copy_(t);
  }
  for (const auto& b : module.named_buffers(false)) {
    torch::Tensor t;
    archive.read(b.key(), t, true);
    b.value().copy_(t);
  }
  for (const auto& child : module.named_children()) {
    if (!child.value()->is_serializable()) continue;
    torch::serialize::InputArchive sub;
    archive.read(child.key(), sub);
    copyWeights(sub, *child.value());
  }
}
}  // namespace

PretrainedFile PretrainedFile::open(const std::filesystem::path& file) {
  return withContext("while reading the pre-trained model " + file.string(), [&] {
    PretrainedFile f;
    f.archive_ = std::make_shared<torch::serialize::InputArchive>(openModelArchive(file));
    f.info_ = readPretrainedInfo(*f.archive_);  // checks that it is a pre-training file
    if (f.info_.extra.is_null()) f.info_.extra = json::object();
    c10::IValue v;
    if (f.archive_->try_read("config_json", v)) f.configJson_ = v.toStringRef();
    f.path_ = file.string();
    return f;
  });
}

model::BrainGfmConfig PretrainedFile::encoderConfig() const {
  return withContext("while reading the pre-trained model " + path_, [&] { return PretrainConfig::fromJson(json::parse(configJson_)).model; });
}

json PretrainedFile::loadEncoder(model::BrainGfmEncoder& encoder) const {
  return withContext("while loading the pre-trained model " + path_, [&] {
    const auto saved = PretrainConfig::fromJson(json::parse(configJson_)).model;
    if (saved.toJson() != encoder->config().toJson())
      throw Error(ErrorCode::Config, "the pre-trained encoder has another configuration: " + saved.toJson().dump());
    torch::serialize::InputArchive sub;
    archive_->read("encoder", sub);
    copyWeights(sub, *encoder);
    return info_.extra;
  });
}

json PretrainedFile::loadInto(model::GraphClassifierImpl& target) const {
  return withContext("while loading the pre-trained model " + path_, [&] { return loadPretrainedZoo(target, *archive_, info_, path_); });
}

}  // namespace bg::train
