#include "train/ModelFile.h"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "errors/Error.h"
#include "io/AtomicFile.h"
#include "model/ModelZoo.h"

namespace bg::train {
using nlohmann::json;

void saveArchiveAtomically(torch::serialize::OutputArchive& archive, const std::filesystem::path& file, const std::string& what) {
  // Serialised in memory first: LibTorch's file writer finishes its zip file in its destructor, so a
  // write error (disk full) inside it throws again while unwinding and terminates the process. The
  // bytes are then written like every other file (temporary sibling, fsync, rename; removed on error).
  std::string bytes;
  try {
    archive.save_to([&bytes](const void* data, std::size_t size) -> std::size_t {
      bytes.append(static_cast<const char*>(data), size);
      return size;
    });
  } catch (const std::exception& e) {
    spdlog::debug("serialising {}: {}", file.string(), e.what());
    throw Error(ErrorCode::Internal, "cannot serialise the " + what + " for " + file.string() + " (LibTorch failed; details in the log at debug level)");
  }
  try {
    writeTextAtomically(file, bytes);
  } catch (Error& e) {
    e.addContext("while saving the " + what);
    throw;
  }
}

void saveModelFile(const std::filesystem::path& file, const model::GraphClassifierImpl& m, const json& card,
                   const std::vector<model::GraphClassifier>& furtherMembers) {
  const auto declared = card.contains("ensemble") && card["ensemble"].is_array() ? card["ensemble"].size() : 1;
  if (declared != furtherMembers.size() + 1)
    throw Error(ErrorCode::Usage,
                "the card declares " + std::to_string(declared) + " ensemble members, " + std::to_string(furtherMembers.size() + 1) + " were given");
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
    throw Error(ErrorCode::Data, std::string("not a readable model file (truncated or not a BrainGraph model): ") + withoutBacktrace(e.what()).substr(0, 300));
  }
  return archive;
}

namespace {
json cardOf(torch::serialize::InputArchive& archive) {
  c10::IValue v;
  if (!archive.try_read("card_json", v))
    throw Error(ErrorCode::Data, "not a downstream model file (no card); pre-training files are inputs to train --pretrained");
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
      throw Error(ErrorCode::Data, std::string("weights do not match the card: ") + withoutBacktrace(e.what()).substr(0, 300));
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
        throw Error(ErrorCode::Data, "ensemble member " + std::to_string(k + 1) + " of " + std::to_string(count) +
                                         " is missing or does not match the card: " + withoutBacktrace(e.what()).substr(0, 300));
      }
      member->to(device);
      member->eval();
      out.members.push_back(member);
    }
    return out;
  });
}

}  // namespace bg::train
