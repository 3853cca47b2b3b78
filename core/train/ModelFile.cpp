#include "train/ModelFile.h"

#include <unistd.h>

#include "errors/Error.h"
#include "model/ModelZoo.h"

namespace bg::train {
using nlohmann::json;

void saveArchiveAtomically(torch::serialize::OutputArchive& archive, const std::filesystem::path& file, const std::string& what) {
  std::filesystem::path tmp = file;
  tmp += ".tmp-" + std::to_string(::getpid());
  try {
    if (!file.parent_path().empty()) std::filesystem::create_directories(file.parent_path());
    archive.save_to(tmp.string());
    std::filesystem::rename(tmp, file);
  } catch (const std::exception& e) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw Error(ErrorCode::Io, "cannot write " + what + " " + file.string() + ": " + e.what());
  }
}

void saveModelFile(const std::filesystem::path& file, const model::GraphClassifierImpl& m, const json& card,
                   const std::vector<model::GraphClassifier>& furtherMembers) {
  const auto declared = card.contains("ensemble") && card["ensemble"].is_array() ? card["ensemble"].size() : 1;
  if (declared != furtherMembers.size() + 1)
    throw Error(ErrorCode::Usage, "the card declares " + std::to_string(declared) + " ensemble members, " + std::to_string(furtherMembers.size() + 1) +
                                      " were given");
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive sub;
  m.save(sub);
  archive.write("model", sub);
  for (std::size_t k = 0; k < furtherMembers.size(); ++k) {
    torch::serialize::OutputArchive member;
    furtherMembers[k]->save(member);
    archive.write("member_" + std::to_string(k + 1), member);
  }
  archive.write("card_json", c10::IValue(card.dump()));
  saveArchiveAtomically(archive, file, "model file");
}

torch::serialize::InputArchive openModelArchive(const std::filesystem::path& file, torch::Device device) {
  if (!std::filesystem::exists(file)) throw Error(ErrorCode::NoInput, "no such file");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(file.string(), device);
  } catch (const std::exception& e) {
    throw Error(ErrorCode::Data, std::string("not a readable model file (truncated or not a BrainGraph model): ") +
                                     std::string(e.what()).substr(0, 200));
  }
  return archive;
}

namespace {
json cardOf(torch::serialize::InputArchive& archive) {
  c10::IValue v;
  if (!archive.try_read("card_json", v)) throw Error(ErrorCode::Data, "not a downstream model file (no card); pre-training files are inputs to train --pretrained");
  return json::parse(v.toStringRef());
}
}  // namespace

json readModelCard(const std::filesystem::path& file) {
  return withContext("while reading model " + file.string(), [&] {
    auto archive = openModelArchive(file, torch::kCPU);
    return cardOf(archive);
  });
}

LoadedModel loadModelFile(const std::filesystem::path& file, torch::Device device) {
  return withContext("while loading model " + file.string(), [&] {
    auto archive = openModelArchive(file, device);
    LoadedModel out;
    out.card = cardOf(archive);
    out.model = model::classifierFromCard(out.card);
    torch::serialize::InputArchive sub;
    archive.read("model", sub);
    try {
      out.model->load(sub);
    } catch (const std::exception& e) {
      throw Error(ErrorCode::Data, std::string("weights do not match the card: ") + std::string(e.what()).substr(0, 200));
    }
    out.model->to(device);
    out.model->eval();
    out.members.push_back(out.model);
    const std::size_t count = out.card.contains("ensemble") && out.card["ensemble"].is_array() ? out.card["ensemble"].size() : 1;
    for (std::size_t k = 1; k < count; ++k) {
      auto member = model::classifierFromCard(out.card);
      torch::serialize::InputArchive part;
      try {
        archive.read("member_" + std::to_string(k), part);
        member->load(part);
      } catch (const std::exception& e) {
        throw Error(ErrorCode::Data, "ensemble member " + std::to_string(k + 1) + " of " + std::to_string(count) + " is missing or does not match the card: " +
                                         std::string(e.what()).substr(0, 200));
      }
      member->to(device);
      member->eval();
      out.members.push_back(member);
    }
    return out;
  });
}

}  // namespace bg::train
