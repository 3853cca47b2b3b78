#include "io/PickleReader.h"

#include <cstring>

#include <fmt/format.h>

#include "errors/Error.h"

namespace bg::pickle {

namespace {
// Bounds that no state dict comes near; they keep a hostile stream from exhausting memory.
constexpr std::size_t kMaxStack = 1u << 22;
constexpr std::size_t kMaxMarks = 1u << 16;
}  // namespace

const char* Value::kindName(Kind k) {
  switch (k) {
    case Kind::None:
      return "None";
    case Kind::Bool:
      return "bool";
    case Kind::Int:
      return "int";
    case Kind::Float:
      return "float";
    case Kind::String:
      return "str";
    case Kind::Bytes:
      return "bytes";
    case Kind::Tuple:
      return "tuple";
    case Kind::List:
      return "list";
    case Kind::Dict:
      return "dict";
    case Kind::Global:
      return "global";
    case Kind::Opaque:
      return "object";
  }
  return "?";
}

Reader::Reader(const std::uint8_t* data, std::size_t size, std::string what) : data_(data), size_(size), what_(std::move(what)) {}

void Reader::fail(const std::string& message) const { throw Error(ErrorCode::Data, fmt::format("{} at byte {} of {}", message, pos_, what_)); }

Value* Reader::make(Value::Kind kind) {
  arena_.push_back(std::make_unique<Value>());
  arena_.back()->kind = kind;
  return arena_.back().get();
}

std::uint8_t Reader::byte() {
  if (pos_ >= size_) fail("the pickle ends early (truncated file?)");
  return data_[pos_++];
}

const std::uint8_t* Reader::take(std::size_t n) {
  if (n > size_ - pos_) fail(fmt::format("the pickle ends early: {} more bytes expected, {} left", n, size_ - pos_));
  const auto* p = data_ + pos_;
  pos_ += n;
  return p;
}

std::uint64_t Reader::littleEndian(std::size_t n) {
  const auto* p = take(n);
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

std::string Reader::line() {
  const auto start = pos_;
  while (pos_ < size_ && data_[pos_] != '\n') ++pos_;
  if (pos_ >= size_) fail("a GLOBAL name has no end of line");
  std::string s(reinterpret_cast<const char*>(data_ + start), pos_ - start);
  ++pos_;
  return s;
}

Value* Reader::pop() {
  if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("the pickle pops an empty stack");
  auto* v = stack_.back();
  stack_.pop_back();
  return v;
}

Value* Reader::top() {
  if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("the pickle reads an empty stack");
  return stack_.back();
}

std::size_t Reader::popMark() {
  if (marks_.empty()) fail("the pickle closes a MARK it never opened");
  const auto m = marks_.back();
  marks_.pop_back();
  return m;
}

Value* Reader::makeString(std::size_t n, Value::Kind kind) {
  const auto* p = take(n);
  auto* v = make(kind);
  v->text.assign(reinterpret_cast<const char*>(p), n);
  return v;
}

Value* Reader::load(Policy& policy) {
  auto push = [&](Value* v) {
    if (stack_.size() >= kMaxStack) fail("the pickle's stack grows beyond any state dict's");
    stack_.push_back(v);
  };
  auto makeInt = [&](std::int64_t i) {
    auto* v = make(Value::Kind::Int);
    v->integer = i;
    return v;
  };
  auto tupleFrom = [&](std::size_t first) {
    auto* t = make(Value::Kind::Tuple);
    t->items.assign(stack_.begin() + static_cast<std::ptrdiff_t>(first), stack_.end());
    stack_.resize(first);
    return t;
  };
  auto memoGet = [&](std::uint64_t key) {
    const auto it = memo_.find(key);
    if (it == memo_.end()) fail(fmt::format("the pickle refers to memo entry {} that was never stored", key));
    return it->second;
  };
  auto setItems = [&](Value* dict, std::size_t first) {
    if (dict->kind != Value::Kind::Dict) fail(std::string("the pickle sets items on a ") + Value::kindName(dict->kind));
    if ((stack_.size() - first) % 2 != 0) fail("the pickle sets a key without a value");
    for (std::size_t i = first; i < stack_.size(); i += 2) {
      Value* key = stack_[i];
      bool replaced = false;
      if (key->kind == Value::Kind::String)  // a later value replaces an earlier one, as in Python
        for (auto& e : dict->entries)
          if (e.first->kind == Value::Kind::String && e.first->text == key->text) {
            e.second = stack_[i + 1];
            replaced = true;
            break;
          }
      if (!replaced) dict->entries.emplace_back(key, stack_[i + 1]);
    }
    stack_.resize(first);
  };

  for (;;) {
    const auto at = pos_;
    const std::uint8_t op = byte();
    switch (op) {
      case 0x80: {  // PROTO
        const auto version = byte();
        if (version > 5) fail(fmt::format("pickle protocol {} is newer than any this reader knows (5)", version));
        break;
      }
      case 0x95:
        take(8);
        break;   // FRAME: a length hint only
      case '.':  // STOP
        if (stack_.size() != 1 || !marks_.empty()) fail("the pickle stops with an unbalanced stack");
        return stack_.back();
      case '(':  // MARK
        if (marks_.size() >= kMaxMarks) fail("the pickle nests MARKs too deep");
        marks_.push_back(stack_.size());
        break;
      case '0':
        pop();
        break;  // POP
      case '1':
        stack_.resize(popMark());
        break;  // POP_MARK
      case '2':
        push(top());
        break;  // DUP
      case 'N':
        push(make(Value::Kind::None));
        break;
      case 0x88:
      case 0x89: {
        auto* v = make(Value::Kind::Bool);
        v->boolean = op == 0x88;
        push(v);
        break;
      }
      case 'J':
        push(makeInt(static_cast<std::int32_t>(littleEndian(4))));
        break;  // BININT
      case 'K':
        push(makeInt(byte()));
        break;  // BININT1
      case 'M':
        push(makeInt(static_cast<std::int64_t>(littleEndian(2))));
        break;      // BININT2
      case 0x8a:    // LONG1
      case 0x8b: {  // LONG4
        const auto n = op == 0x8a ? byte() : littleEndian(4);
        if (n > 8) fail("an integer wider than 64 bits");
        const auto* p = take(n);
        std::uint64_t u = 0;
        for (std::size_t i = 0; i < n; ++i) u |= static_cast<std::uint64_t>(p[i]) << (8 * i);
        if (n > 0 && n < 8 && (p[n - 1] & 0x80)) u |= ~std::uint64_t{0} << (8 * n);  // sign-extend
        push(makeInt(static_cast<std::int64_t>(u)));
        break;
      }
      case 'G': {  // BINFLOAT, big-endian
        const auto* p = take(8);
        std::uint64_t u = 0;
        for (int i = 0; i < 8; ++i) u = (u << 8) | p[i];
        auto* v = make(Value::Kind::Float);
        std::memcpy(&v->real, &u, sizeof u);
        push(v);
        break;
      }
      case 'X':
        push(makeString(littleEndian(4), Value::Kind::String));
        break;  // BINUNICODE
      case 0x8c:
        push(makeString(byte(), Value::Kind::String));
        break;  // SHORT_BINUNICODE
      case 0x8d:
        push(makeString(littleEndian(8), Value::Kind::String));
        break;  // BINUNICODE8
      case 'T':
        push(makeString(littleEndian(4), Value::Kind::String));
        break;  // BINSTRING (Python 2 str)
      case 'U':
        push(makeString(byte(), Value::Kind::String));
        break;  // SHORT_BINSTRING
      case 'B':
        push(makeString(littleEndian(4), Value::Kind::Bytes));
        break;  // BINBYTES
      case 'C':
        push(makeString(byte(), Value::Kind::Bytes));
        break;  // SHORT_BINBYTES
      case ')':
        push(make(Value::Kind::Tuple));
        break;  // EMPTY_TUPLE
      case 't':
        push(tupleFrom(popMark()));
        break;  // TUPLE
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1..3
        const std::size_t n = op - 0x84u;
        if (stack_.size() < n || (!marks_.empty() && stack_.size() - n < marks_.back())) fail("the pickle builds a tuple from too few items");
        push(tupleFrom(stack_.size() - n));
        break;
      }
      case ']':
        push(make(Value::Kind::List));
        break;     // EMPTY_LIST
      case 'l': {  // LIST
        auto* t = tupleFrom(popMark());
        t->kind = Value::Kind::List;
        push(t);
        break;
      }
      case 'a': {  // APPEND
        auto* item = pop();
        auto* list = top();
        if (list->kind != Value::Kind::List) fail(std::string("the pickle appends to a ") + Value::kindName(list->kind));
        list->items.push_back(item);
        break;
      }
      case 'e': {  // APPENDS
        const auto first = popMark();
        if (first == 0) fail("the pickle appends with no list");
        auto* list = stack_[first - 1];
        if (list->kind != Value::Kind::List) fail(std::string("the pickle appends to a ") + Value::kindName(list->kind));
        list->items.insert(list->items.end(), stack_.begin() + static_cast<std::ptrdiff_t>(first), stack_.end());
        stack_.resize(first);
        break;
      }
      case '}':
        push(make(Value::Kind::Dict));
        break;     // EMPTY_DICT
      case 'd': {  // DICT
        const auto first = popMark();
        auto* dict = make(Value::Kind::Dict);
        setItems(dict, first);
        push(dict);
        break;
      }
      case 's': {  // SETITEM
        if (stack_.size() < 3 || (!marks_.empty() && stack_.size() - 3 < marks_.back())) fail("the pickle sets an item with too few values");
        setItems(stack_[stack_.size() - 3], stack_.size() - 2);
        break;
      }
      case 'u': {  // SETITEMS
        const auto first = popMark();
        if (first == 0) fail("the pickle sets items with no dict");
        setItems(stack_[first - 1], first);
        break;
      }
      case 'q':
        memo_[byte()] = top();
        break;  // BINPUT
      case 'r':
        memo_[littleEndian(4)] = top();
        break;  // LONG_BINPUT
      case 0x94:
        memo_[memo_.size()] = top();
        break;  // MEMOIZE
      case 'h':
        push(memoGet(byte()));
        break;  // BINGET
      case 'j':
        push(memoGet(littleEndian(4)));
        break;     // LONG_BINGET
      case 'c': {  // GLOBAL
        const auto module = line();
        const auto name = line();
        policy.checkGlobal(module, name);
        auto* g = make(Value::Kind::Global);
        g->text = module + "." + name;
        push(g);
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        auto* name = pop();
        auto* module = pop();
        if (!name->isString() || !module->isString()) fail("STACK_GLOBAL needs two strings");
        policy.checkGlobal(module->text, name->text);
        auto* g = make(Value::Kind::Global);
        g->text = module->text + "." + name->text;
        push(g);
        break;
      }
      case 'R': {  // REDUCE
        auto* args = pop();
        auto* callable = pop();
        if (callable->kind != Value::Kind::Global) fail(std::string("the pickle calls a ") + Value::kindName(callable->kind));
        if (!args->isTuple()) fail("the pickle calls " + callable->text + " without an argument tuple");
        push(policy.call(*callable, *args, *this));
        break;
      }
      case 'b': {  // BUILD
        auto* state = pop();
        policy.build(*top(), *state);
        break;
      }
      case 'Q': {  // BINPERSID
        auto* pid = pop();
        push(policy.persistentLoad(*pid, *this));
        break;
      }
      default:
        pos_ = at;
        fail(fmt::format("unsupported pickle opcode 0x{:02x} ('{}'): a state dict never needs it", op, op >= 0x20 && op < 0x7f ? static_cast<char>(op) : '?'));
    }
  }
}

}  // namespace bg::pickle
