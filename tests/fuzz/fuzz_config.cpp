// libFuzzer target for the configuration readers: the first byte picks the reader (tuning,
// BrainGFM pre-training, BrainMass or LCM pre-training), the rest is the file's text, read as the CLI
// reads a --config file. A configuration that is accepted must be accepted again from what it writes
// (toJson): a card or a cache key that cannot be read back would fail a later command.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "errors/Error.h"
#include "io/JsonText.h"
#include "train/TrainingConfig.h"

namespace {
template <class Read>
void readTwice(const nlohmann::json& j, Read read) {
  const auto first = read(j);
  try {
    (void)read(first.toJson());
  } catch (const bg::Error&) {
    __builtin_trap();  // accepted once, refused from its own output
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const int reader = data[0] % 4;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    const auto j = bg::parseJsonText(text, "configuration fuzz.json");
    switch (reader) {
      case 0:
        readTwice(j, [](const nlohmann::json& v) { return bg::train::TuningConfig::fromJson(v); });
        break;
      case 1:
        readTwice(j, [](const nlohmann::json& v) { return bg::train::PretrainConfig::fromJson(v); });
        break;
      case 2:
        readTwice(j, [](const nlohmann::json& v) { return bg::train::ZooPretrainConfig::fromJson("brainmass", v); });
        break;
      default:
        readTwice(j, [](const nlohmann::json& v) { return bg::train::ZooPretrainConfig::fromJson("lcm", v); });
        break;
    }
  } catch (const bg::Error&) {
    // Refused with a message: what a reader must do with a bad configuration.
  }
  return 0;
}
