#pragma once
// Reads a PyTorch state dict (what `torch.save(model.state_dict(), f)` writes) without Python and
// without running anything from the file. The zip format of torch >= 1.6: `<root>/data.pkl` (a
// pickle of an OrderedDict of tensors), `<root>/data/<key>` (one raw storage each) and optionally
// `<root>/byteorder`; the root folder is the saved file's stem in torch 1.x and `archive/` later.
// Only what a state dict needs is accepted: collections.OrderedDict, torch._utils._rebuild_tensor_v2
// (and _v3), _rebuild_parameter, the torch.*Storage types and dtypes, storage persistent ids.
// Any other global, call or object state is refused with an error naming it. The legacy format
// (torch < 1.6, not a zip) is recognised and refused with advice.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace bg {

enum class CheckpointDType { Float32, Float64, Float16, BFloat16, Int64, Int32, Int16, Int8, UInt8, Bool };
const char* checkpointDTypeName(CheckpointDType t);
std::size_t checkpointDTypeSize(CheckpointDType t);

struct CheckpointTensor {
  CheckpointDType dtype = CheckpointDType::Float32;
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> data;  // contiguous, row-major, little-endian (strides and offset applied)
  bool parameter = false;          // saved as an nn.Parameter
  std::int64_t numel() const;
  // The values as float32 / float64 (any floating or integer dtype converted).
  std::vector<float> toFloat() const;
  std::string shapeText() const;  // "[64, 128]"
};

struct TorchStateDict {
  std::string file;               // as given, for messages
  std::string root;               // the zip's root folder
  std::string sha256;             // of the whole file
  std::vector<std::string> keys;  // in the file's order
  std::map<std::string, CheckpointTensor> tensors;
  std::vector<std::string> otherEntries;  // top-level entries that are not tensors (ignored; for the record)
  int globalsSeen = 0;                    // GLOBAL names the pickle refers to (each one checked)

  bool has(const std::string& key) const { return tensors.count(key) != 0; }
  // Throws bg::Error(Data) naming the key and the file when it is missing.
  const CheckpointTensor& at(const std::string& key) const;
};

// Throws bg::Error: NoInput when the file is missing, Data for everything wrong inside it (named).
TorchStateDict readTorchStateDict(const std::filesystem::path& file);
// The same from bytes in memory (`name` is used in messages); what the fuzzer calls.
TorchStateDict parseTorchStateDict(const std::uint8_t* bytes, std::size_t size, const std::string& name);

}  // namespace bg
