#include "io/TorchCheckpoint.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "errors/Error.h"
#include "io/PickleReader.h"
#include "io/Sha256.h"
#include "io/ZipArchive.h"

namespace bg {

namespace {

using pickle::Value;

constexpr std::uint64_t kMaxPickleBytes = 256ull << 20;
constexpr std::uint64_t kMaxStorageBytes = 16ull << 30;

struct DTypeName {
  const char* name;
  CheckpointDType dtype;
};
// torch.<X>Storage and torch.<dtype> names.
constexpr DTypeName kStorages[] = {
    {"FloatStorage", CheckpointDType::Float32},     {"DoubleStorage", CheckpointDType::Float64}, {"HalfStorage", CheckpointDType::Float16},
    {"BFloat16Storage", CheckpointDType::BFloat16}, {"LongStorage", CheckpointDType::Int64},     {"IntStorage", CheckpointDType::Int32},
    {"ShortStorage", CheckpointDType::Int16},       {"CharStorage", CheckpointDType::Int8},      {"ByteStorage", CheckpointDType::UInt8},
    {"BoolStorage", CheckpointDType::Bool},         {"UntypedStorage", CheckpointDType::UInt8}};
constexpr DTypeName kDTypes[] = {
    {"float32", CheckpointDType::Float32}, {"float", CheckpointDType::Float32}, {"float64", CheckpointDType::Float64},   {"double", CheckpointDType::Float64},
    {"float16", CheckpointDType::Float16}, {"half", CheckpointDType::Float16},  {"bfloat16", CheckpointDType::BFloat16}, {"int64", CheckpointDType::Int64},
    {"long", CheckpointDType::Int64},      {"int32", CheckpointDType::Int32},   {"int", CheckpointDType::Int32},         {"int16", CheckpointDType::Int16},
    {"short", CheckpointDType::Int16},     {"int8", CheckpointDType::Int8},     {"uint8", CheckpointDType::UInt8},       {"bool", CheckpointDType::Bool}};

const std::set<std::string> kFunctions = {"torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3", "torch._utils._rebuild_parameter",
                                          "torch._utils._rebuild_parameter_with_state", "collections.OrderedDict"};

bool lookup(const DTypeName* table, std::size_t n, const std::string& name, CheckpointDType& out) {
  for (std::size_t i = 0; i < n; ++i)
    if (name == table[i].name) {
      out = table[i].dtype;
      return true;
    }
  return false;
}

// Printable form of a name from the file (it may hold any bytes).
std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  return s.size() > 80 ? out + "..." : out;
}

// ---- the pickle policy of a state dict

struct StorageRef {
  CheckpointDType dtype;
  std::string key;
  std::int64_t numel;
};

struct PendingTensor {
  std::size_t storage;
  std::int64_t offset;
  std::vector<std::int64_t> shape, stride;
  CheckpointDType dtype;
  bool parameter = false;
};

enum OpaqueType { kStorage = 1, kTensor = 2 };

class StateDictPolicy : public pickle::Policy {
 public:
  explicit StateDictPolicy(std::string name) : name_(std::move(name)) {}
  std::vector<StorageRef> storages;
  std::vector<PendingTensor> tensors;
  int globals = 0;

  void checkGlobal(const std::string& module, const std::string& name) override {
    ++globals;
    const auto full = module + "." + name;
    CheckpointDType t;
    if (kFunctions.count(full)) return;
    if (module == "torch" && (lookup(kStorages, std::size(kStorages), name, t) || lookup(kDTypes, std::size(kDTypes), name, t))) return;
    if (module == "torch.storage" && name == "UntypedStorage") return;
    fail("it refers to the Python object " + printable(full) + ", which a state dict never contains; refusing it (this reader never runs code from a file)");
  }

  Value* call(const Value& callable, const Value& args, pickle::Reader& reader) override {
    const auto& f = callable.text;
    const auto& a = args.items;
    if (f == "collections.OrderedDict") {
      if (!a.empty()) fail("collections.OrderedDict is called with arguments");
      return reader.make(Value::Kind::Dict);
    }
    if (f == "torch._utils._rebuild_tensor_v2" || f == "torch._utils._rebuild_tensor_v3") {
      if (a.size() < 6) fail(f + " is called with " + std::to_string(a.size()) + " arguments");
      const auto& s = *a[0];
      if (s.kind != Value::Kind::Opaque || s.opaqueType != kStorage) fail(f + " is called without a storage");
      PendingTensor t;
      t.storage = s.opaqueIndex;
      t.dtype = storages[t.storage].dtype;
      if (!a[1]->isInt()) fail("a tensor's storage offset is not an integer");
      t.offset = a[1]->integer;
      t.shape = intTuple(*a[2], "size");
      t.stride = intTuple(*a[3], "stride");
      if (f.back() == '3') {
        if (a.size() < 7 || a[6]->kind != Value::Kind::Global) fail("_rebuild_tensor_v3 is called without a dtype");
        const auto name = a[6]->text.substr(a[6]->text.rfind('.') + 1);
        if (!lookup(kDTypes, std::size(kDTypes), name, t.dtype)) fail("unknown tensor dtype " + printable(a[6]->text));
      }
      return opaque(reader, kTensor, push(std::move(t)));
    }
    if (f == "torch._utils._rebuild_parameter" || f == "torch._utils._rebuild_parameter_with_state") {
      if (a.size() < 3 || a[0]->kind != Value::Kind::Opaque || a[0]->opaqueType != kTensor) fail(f + " is called without a tensor");
      tensors[a[0]->opaqueIndex].parameter = true;
      return a[0];
    }
    fail("it calls " + printable(f) + " where a state dict never does; refusing it");
  }

  void build(Value& target, const Value& state) override {
    // An OrderedDict's state holds its _metadata (module versions): nothing to run, nothing needed.
    if (target.kind == Value::Kind::Dict && (state.kind == Value::Kind::Dict || state.kind == Value::Kind::Tuple || state.kind == Value::Kind::None)) return;
    if (target.kind == Value::Kind::Opaque && target.opaqueType == kTensor && (state.isDict() || state.kind == Value::Kind::None)) return;
    fail(std::string("it sets the state of a ") + Value::kindName(target.kind) + ", which a state dict never does");
  }

  Value* persistentLoad(const Value& pid, pickle::Reader& reader) override {
    const auto& a = pid.items;
    if (!pid.isTuple() || a.size() != 5 || !a[0]->isString() || a[0]->text != "storage") fail("a persistent id is not a storage reference");
    if (a[1]->kind != Value::Kind::Global) fail("a storage has no storage type");
    const auto typeName = a[1]->text.substr(a[1]->text.rfind('.') + 1);
    StorageRef s{};
    if (!lookup(kStorages, std::size(kStorages), typeName, s.dtype)) fail("unknown storage type " + printable(a[1]->text));
    if (!a[2]->isString() || !a[4]->isInt() || a[4]->integer < 0) fail("a storage reference has no key or element count");
    for (char c : a[2]->text)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') fail("a storage key is not a plain name: " + printable(a[2]->text));
    s.key = a[2]->text;
    s.numel = a[4]->integer;
    // The same key may be referred to again (tensors sharing a storage): one entry each is enough.
    storages.push_back(std::move(s));
    return opaque(reader, kStorage, storages.size() - 1);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw Error(ErrorCode::Data, name_ + ": " + what); }

  std::vector<std::int64_t> intTuple(const Value& v, const char* what) const {
    if (!v.isTuple()) fail(std::string("a tensor's ") + what + " is not a tuple");
    if (v.items.size() > 16) fail(std::string("a tensor's ") + what + " has more than 16 dimensions");
    std::vector<std::int64_t> out;
    for (const auto* i : v.items) {
      if (!i->isInt()) fail(std::string("a tensor's ") + what + " holds a non-integer");
      out.push_back(i->integer);
    }
    return out;
  }
  std::size_t push(PendingTensor t) {
    tensors.push_back(std::move(t));
    return tensors.size() - 1;
  }
  static Value* opaque(pickle::Reader& reader, int type, std::size_t index) {
    auto* v = reader.make(Value::Kind::Opaque);
    v->opaqueType = type;
    v->opaqueIndex = index;
    return v;
  }
  std::string name_;
};

// The tensor's elements copied out of its storage into row-major order.
CheckpointTensor materialise(const PendingTensor& t, const std::vector<std::uint8_t>& storage, std::int64_t storageNumel, bool bigEndian,
                             const std::string& key, const std::string& name) {
  auto fail = [&](const std::string& what) { throw Error(ErrorCode::Data, name + ": tensor " + printable(key) + " " + what); };
  if (t.shape.size() != t.stride.size()) fail("has a stride for another number of dimensions than its shape");
  if (t.offset < 0) fail("has a negative storage offset");
  const auto elem = static_cast<std::int64_t>(checkpointDTypeSize(t.dtype));
  std::int64_t numel = 1, last = t.offset;
  for (std::size_t d = 0; d < t.shape.size(); ++d) {
    if (t.shape[d] < 0 || t.stride[d] < 0) fail("has a negative size or stride");
    if (__builtin_mul_overflow(numel, t.shape[d], &numel)) fail("is impossibly large");
  }
  if (numel > 0)
    for (std::size_t d = 0; d < t.shape.size(); ++d) {
      std::int64_t span = 0;
      if (__builtin_mul_overflow(t.shape[d] - 1, t.stride[d], &span) || __builtin_add_overflow(last, span, &last)) fail("is impossibly large");
    }
  if (numel > 0 && last >= storageNumel)
    fail(fmt::format("reaches element {} of a storage of {} (the storage is shorter than its tensor)", last, storageNumel));
  std::int64_t bytes = 0;
  if (__builtin_mul_overflow(numel, elem, &bytes) || static_cast<std::uint64_t>(bytes) > kMaxStorageBytes) fail("is impossibly large");
  CheckpointTensor out;
  out.dtype = t.dtype;
  out.shape = t.shape;
  out.parameter = t.parameter;
  out.data.resize(static_cast<std::size_t>(bytes));
  bool contiguous = true;
  for (std::int64_t d = static_cast<std::int64_t>(t.shape.size()) - 1, expected = 1; d >= 0; --d) {
    if (t.shape[d] != 1 && t.stride[d] != expected) contiguous = false;
    expected *= t.shape[d];
  }
  if (contiguous && !bigEndian) {  // the usual case: one copy
    if (bytes) std::memcpy(out.data.data(), storage.data() + t.offset * elem, static_cast<std::size_t>(bytes));
    return out;
  }
  std::vector<std::int64_t> index(t.shape.size(), 0);
  for (std::int64_t i = 0; i < numel; ++i) {
    std::int64_t src = t.offset;
    for (std::size_t d = 0; d < index.size(); ++d) src += index[d] * t.stride[d];
    std::memcpy(out.data.data() + i * elem, storage.data() + src * elem, static_cast<std::size_t>(elem));
    if (bigEndian) std::reverse(out.data.begin() + i * elem, out.data.begin() + (i + 1) * elem);
    for (std::size_t d = index.size(); d-- > 0;) {
      if (++index[d] < t.shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

}  // namespace

const char* checkpointDTypeName(CheckpointDType t) {
  switch (t) {
    case CheckpointDType::Float32:
      return "float32";
    case CheckpointDType::Float64:
      return "float64";
    case CheckpointDType::Float16:
      return "float16";
    case CheckpointDType::BFloat16:
      return "bfloat16";
    case CheckpointDType::Int64:
      return "int64";
    case CheckpointDType::Int32:
      return "int32";
    case CheckpointDType::Int16:
      return "int16";
    case CheckpointDType::Int8:
      return "int8";
    case CheckpointDType::UInt8:
      return "uint8";
    case CheckpointDType::Bool:
      return "bool";
  }
  return "?";
}

std::size_t checkpointDTypeSize(CheckpointDType t) {
  switch (t) {
    case CheckpointDType::Float64:
    case CheckpointDType::Int64:
      return 8;
    case CheckpointDType::Float32:
    case CheckpointDType::Int32:
      return 4;
    case CheckpointDType::Float16:
    case CheckpointDType::BFloat16:
    case CheckpointDType::Int16:
      return 2;
    default:
      return 1;
  }
}

std::int64_t CheckpointTensor::numel() const {
  std::int64_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}

std::string CheckpointTensor::shapeText() const {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::vector<float> CheckpointTensor::toFloat() const {
  const auto n = static_cast<std::size_t>(numel());
  std::vector<float> out(n);
  const auto* p = data.data();
  for (std::size_t i = 0; i < n; ++i) {
    switch (dtype) {
      case CheckpointDType::Float32:
        std::memcpy(&out[i], p + 4 * i, 4);
        break;
      case CheckpointDType::Float64: {
        double d;
        std::memcpy(&d, p + 8 * i, 8);
        out[i] = static_cast<float>(d);
        break;
      }
      case CheckpointDType::BFloat16: {
        const std::uint32_t bits = static_cast<std::uint32_t>(p[2 * i] | (p[2 * i + 1] << 8)) << 16;
        std::memcpy(&out[i], &bits, 4);
        break;
      }
      case CheckpointDType::Float16: {
        const std::uint16_t h = static_cast<std::uint16_t>(p[2 * i] | (p[2 * i + 1] << 8));
        const std::uint32_t sign = (h & 0x8000u) << 16;
        std::uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ffu, bits;
        if (exponent == 0x1f)
          bits = sign | 0x7f800000u | (mantissa << 13);
        else if (exponent != 0)
          bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
        else if (mantissa == 0)
          bits = sign;
        else {  // subnormal: normalise
          exponent = 113;
          while (!(mantissa & 0x400u)) {
            mantissa <<= 1;
            --exponent;
          }
          bits = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
        }
        std::memcpy(&out[i], &bits, 4);
        break;
      }
      case CheckpointDType::Int64: {
        std::int64_t v;
        std::memcpy(&v, p + 8 * i, 8);
        out[i] = static_cast<float>(v);
        break;
      }
      case CheckpointDType::Int32: {
        std::int32_t v;
        std::memcpy(&v, p + 4 * i, 4);
        out[i] = static_cast<float>(v);
        break;
      }
      case CheckpointDType::Int16: {
        std::int16_t v;
        std::memcpy(&v, p + 2 * i, 2);
        out[i] = static_cast<float>(v);
        break;
      }
      case CheckpointDType::Int8:
        out[i] = static_cast<float>(static_cast<std::int8_t>(p[i]));
        break;
      case CheckpointDType::UInt8:
        out[i] = static_cast<float>(p[i]);
        break;
      case CheckpointDType::Bool:
        out[i] = p[i] ? 1.0f : 0.0f;
        break;
    }
  }
  return out;
}

const CheckpointTensor& TorchStateDict::at(const std::string& key) const {
  const auto it = tensors.find(key);
  if (it == tensors.end()) throw Error(ErrorCode::Data, file + " has no tensor '" + key + "'");
  return it->second;
}

TorchStateDict parseTorchStateDict(const std::uint8_t* bytes, std::size_t size, const std::string& name) {
  // torch < 1.6 wrote a sequence of pickles starting with a magic number: recognised, not read.
  if (size >= 2 && bytes[0] == 0x80 && bytes[1] <= 5)
    throw Error(ErrorCode::Data, name +
                                     " is in the legacy torch.save format of PyTorch < 1.6, which this reader does not read: load it in "
                                     "PyTorch and save it again with torch.save(state_dict, file) (the zip format, the default since 1.6)");
  if (size < 4 || std::memcmp(bytes, "PK\x03\x04", 4) != 0)
    throw Error(ErrorCode::Data, name + " is not a torch.save checkpoint (a zip archive); is it the right file, or truncated?");
  ZipArchive zip(bytes, size, name);
  std::string root;
  for (const auto& [entry, info] : zip.entries()) {
    const auto slash = entry.find('/');
    if (slash != std::string::npos && entry.substr(slash) == "/data.pkl") {
      if (!root.empty()) throw Error(ErrorCode::Data, name + " holds more than one data.pkl: not a single torch.save file");
      root = entry.substr(0, slash);
    }
  }
  if (root.empty()) throw Error(ErrorCode::Data, name + " is a zip archive without <root>/data.pkl: not a torch.save file");
  bool bigEndian = false;
  if (zip.has(root + "/byteorder")) {
    const auto order = zip.read(root + "/byteorder", 16);
    const std::string o(order.begin(), order.end());
    if (o == "big")
      bigEndian = true;
    else if (o != "little")
      throw Error(ErrorCode::Data, name + ": unknown byte order '" + printable(o) + "'");
  }
  const auto pkl = zip.read(root + "/data.pkl", kMaxPickleBytes);
  StateDictPolicy policy(name);
  pickle::Reader reader(pkl.data(), pkl.size(), root + "/data.pkl in " + name);
  const Value* top = reader.load(policy);

  TorchStateDict out;
  out.file = name;
  out.root = root;
  out.sha256 = sha256Hex(bytes, size);
  out.globalsSeen = policy.globals;
  if (!top->isDict()) throw Error(ErrorCode::Data, name + " holds a " + std::string(Value::kindName(top->kind)) + ", not a state dict");
  // A state dict saved inside a training checkpoint ({"state_dict": ..., "epoch": ...}) is read too.
  const Value* dict = top;
  for (const auto& [k, v] : top->entries)
    if (k->isString() && (k->text == "state_dict" || k->text == "model_state_dict" || k->text == "model") && v->isDict()) dict = v;
  std::map<std::string, std::vector<std::uint8_t>> loaded;
  for (const auto& [k, v] : dict->entries) {
    if (!k->isString()) throw Error(ErrorCode::Data, name + ": a state dict key is a " + std::string(Value::kindName(k->kind)) + ", not a name");
    if (v->kind != Value::Kind::Opaque || v->opaqueType != kTensor) {
      out.otherEntries.push_back(k->text);
      continue;
    }
    if (out.tensors.count(k->text)) continue;
    const auto& t = policy.tensors[v->opaqueIndex];
    const auto& s = policy.storages[t.storage];
    const auto entry = root + "/data/" + s.key;
    if (!zip.has(entry)) throw Error(ErrorCode::Data, name + ": the storage of tensor " + printable(k->text) + " (" + entry + ") is missing");
    std::uint64_t needed = 0;
    if (__builtin_mul_overflow(static_cast<std::uint64_t>(s.numel), checkpointDTypeSize(s.dtype), &needed) || needed > kMaxStorageBytes)
      throw Error(ErrorCode::Data, name + ": the storage of tensor " + printable(k->text) + " claims an impossible size");
    if (zip.sizeOf(entry) < needed)
      throw Error(ErrorCode::Data, fmt::format("{}: the storage of tensor {} holds {} bytes, fewer than the {} its {} elements need", name, printable(k->text),
                                               zip.sizeOf(entry), needed, s.numel));
    auto it = loaded.find(s.key);
    if (it == loaded.end()) it = loaded.emplace(s.key, zip.read(entry, zip.sizeOf(entry))).first;
    out.tensors.emplace(k->text, materialise(t, it->second, s.numel, bigEndian, k->text, name));
    out.keys.push_back(k->text);
  }
  if (out.tensors.empty()) throw Error(ErrorCode::Data, name + " holds no tensors: not a state dict");
  return out;
}

TorchStateDict readTorchStateDict(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) throw Error(ErrorCode::NoInput, file.string() + ": no such file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorCode::Io, file.string() + ": cannot be opened for reading");
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(ErrorCode::Io, file.string() + ": read error");
  return parseTorchStateDict(bytes.data(), bytes.size(), file.string());
}

}  // namespace bg
