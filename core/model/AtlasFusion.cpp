#include "model/AtlasFusion.h"

#include "errors/Error.h"
#include "model/ModelZoo.h"

namespace bg::model {
using nlohmann::json;

AtlasFusionClassifierImpl::AtlasFusionClassifierImpl(std::vector<std::string> atlases, std::vector<GraphClassifier> members)
    : atlases_(std::move(atlases)), members_(std::move(members)) {
  if (members_.size() < 2 || members_.size() != atlases_.size())
    throw Error(ErrorCode::Usage, "a fused multi-atlas model needs one member per atlas and at least two atlases");
  for (std::size_t k = 0; k < members_.size(); ++k) {
    if (members_[k]->architecture() != members_.front()->architecture() || members_[k]->classes() != members_.front()->classes())
      throw Error(ErrorCode::Usage, "the members of a fused multi-atlas model must share one architecture and its classes");
    register_module("member_" + atlases_[k], members_[k]);
  }
}

const GraphBatchInput& AtlasFusionClassifierImpl::view(const GraphBatchInput& input, std::size_t k) {
  if (k == 0) return input;
  if (input.views.size() < k) throw Error(ErrorCode::Data, "the fused multi-atlas model was given a scan without its graph in every atlas");
  return input.views[k - 1];
}

torch::Tensor AtlasFusionClassifierImpl::forward(const GraphBatchInput& input, const FastWeights&) {
  auto logits = members_[0]->forward(view(input, 0));
  for (std::size_t k = 1; k < members_.size(); ++k) logits = logits + members_[k]->forward(view(input, k));
  return logits;
}

torch::Tensor AtlasFusionClassifierImpl::embed(const GraphBatchInput& input) {
  std::vector<torch::Tensor> parts;
  for (std::size_t k = 0; k < members_.size(); ++k) parts.push_back(members_[k]->embed(view(input, k)));
  return torch::cat(parts, 1);
}

std::vector<torch::Tensor> AtlasFusionClassifierImpl::configureTrainable() {
  std::vector<torch::Tensor> out;
  for (auto& m : members_) {
    auto some = m->configureTrainable();
    out.insert(out.end(), some.begin(), some.end());
  }
  return out;
}

void AtlasFusionClassifierImpl::setTraining(bool on) {
  train(on);
  for (auto& m : members_) m->setTraining(on);
}

json AtlasFusionClassifierImpl::describe() const {
  json members = json::array();
  for (const auto& m : members_) members.push_back(m->describe());
  auto out = members.front();
  out["architecture"] = kAtlasFusionArchitecture;
  out["atlases"] = atlases_;
  out["members"] = members;
  return out;
}

GraphClassifier atlasFusionFromCard(const json& card) {
  std::vector<GraphClassifier> members;
  for (auto member : card.at("members")) {
    member["classes"] = card.at("classes");
    if (card.contains("lcm_variables")) member["lcm_variables"] = card["lcm_variables"];
    members.push_back(classifierFromCard(member));
  }
  return std::make_shared<AtlasFusionClassifierImpl>(card.at("atlases").get<std::vector<std::string>>(), std::move(members));
}

}  // namespace bg::model
