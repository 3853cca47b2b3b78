#pragma once
// A restricted interpreter of Python's pickle format: it builds plain values (None, bool, int,
// float, str, bytes, tuple, list, dict) and never runs code. Every name a pickle refers to
// (GLOBAL, STACK_GLOBAL), every call (REDUCE), every object state (BUILD) and every persistent id
// (BINPERSID) goes to a policy that the caller supplies and that refuses what it does not know:
// the file format decides what it accepts, not the file. Values live in an arena owned by the
// reader, so self-referencing pickles cannot leak or loop.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bg::pickle {

struct Value {
  enum class Kind { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Global, Opaque };
  Kind kind = Kind::None;
  bool boolean = false;
  std::int64_t integer = 0;
  double real = 0;
  std::string text;                                // String, Bytes; Global: "module.name"
  std::vector<Value*> items;                       // Tuple, List
  std::vector<std::pair<Value*, Value*>> entries;  // Dict, in insertion order
  int opaqueType = 0;                              // Opaque: the policy's own object kind
  std::size_t opaqueIndex = 0;                     // ... and its index in the policy's tables

  bool isString() const { return kind == Kind::String; }
  bool isInt() const { return kind == Kind::Int; }
  bool isTuple() const { return kind == Kind::Tuple; }
  bool isDict() const { return kind == Kind::Dict; }
  static const char* kindName(Kind k);
};

// What a file format allows. Each hook throws bg::Error(Data) naming what it refuses.
class Policy {
 public:
  virtual ~Policy() = default;
  // GLOBAL module name: a value standing for that name (usually Kind::Global), or a refusal.
  virtual void checkGlobal(const std::string& module, const std::string& name) = 0;
  // REDUCE: callable(args).
  virtual Value* call(const Value& callable, const Value& args, class Reader& reader) = 0;
  // BUILD: target.__setstate__(state); returns the target.
  virtual void build(Value& target, const Value& state) = 0;
  // BINPERSID: the object a persistent id stands for.
  virtual Value* persistentLoad(const Value& pid, Reader& reader) = 0;
};

class Reader {
 public:
  // `what` names the stream in errors ("pretrain_state/data.pkl").
  Reader(const std::uint8_t* data, std::size_t size, std::string what);
  // Interprets up to STOP; returns the top of the stack. Throws bg::Error(Data) for a malformed or
  // truncated stream, an opcode outside the supported set, or whatever the policy refuses.
  Value* load(Policy& policy);

  Value* make(Value::Kind kind);
  const std::string& what() const { return what_; }
  std::size_t position() const { return pos_; }

 private:
  [[noreturn]] void fail(const std::string& message) const;
  std::uint8_t byte();
  const std::uint8_t* take(std::size_t n);
  std::uint64_t littleEndian(std::size_t n);
  std::string line();
  Value* pop();
  Value* top();
  std::size_t popMark();
  Value* makeString(std::size_t n, Value::Kind kind);

  const std::uint8_t* data_;
  std::size_t size_, pos_ = 0;
  std::string what_;
  std::vector<std::unique_ptr<Value>> arena_;
  std::vector<Value*> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, Value*> memo_;
};

}  // namespace bg::pickle
