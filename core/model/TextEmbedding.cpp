#include "model/TextEmbedding.h"

#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

#include <xxhash.h>

#include "errors/Error.h"
#include "io/AtomicFile.h"
#include "io/TextTable.h"

namespace bg::model {
namespace {

// splitmix64: a tiny, well-known generator, identical on every platform.
std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double uniform01(std::uint64_t& state) { return (static_cast<double>(splitmix(state) >> 11) + 0.5) / 9007199254740992.0; }

}  // namespace

std::vector<float> HashedNgramEmbedder::embed(const std::string&, const std::string& text) const {
  std::string norm = " ";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    norm.push_back(std::isalnum(u) ? static_cast<char>(std::tolower(u)) : ' ');
  }
  norm.push_back(' ');
  std::vector<double> v(static_cast<std::size_t>(dimension_), 0.0);
  for (std::size_t n = 3; n <= 5; ++n) {
    for (std::size_t i = 0; i + n <= norm.size(); ++i) {
      const std::string_view gram(norm.data() + i, n);
      if (gram.find("  ") != std::string_view::npos) continue;
      std::uint64_t state = XXH3_64bits(gram.data(), gram.size());
      for (int d = 0; d < dimension_; d += 2) {  // Box-Muller: two Gaussians per draw
        const double r = std::sqrt(-2.0 * std::log(uniform01(state))), t = 2.0 * M_PI * uniform01(state);
        v[static_cast<std::size_t>(d)] += r * std::cos(t);
        if (d + 1 < dimension_) v[static_cast<std::size_t>(d + 1)] += r * std::sin(t);
      }
    }
  }
  double norm2 = 0;
  for (double x : v) norm2 += x * x;
  const double inv = norm2 > 0 ? 1.0 / std::sqrt(norm2) : 0.0;
  std::vector<float> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = static_cast<float>(v[i] * inv);
  return out;
}

std::unique_ptr<TableTextEmbedder> TableTextEmbedder::load(const std::filesystem::path& file) {
  return withContext("while reading the text-embedding table " + file.string(), [&] {
    std::ifstream in(file);
    if (!in) throw Error(std::filesystem::exists(file) ? ErrorCode::Io : ErrorCode::NoInput, "cannot open file");
    auto t = std::make_unique<TableTextEmbedder>();
    t->file_ = file;
    std::string line;
    int lineNo = 0;
    while (std::getline(in, line)) {
      ++lineNo;
      if (line.empty()) continue;
      if (line[0] == '#') {
        if (line.rfind("# dimension:", 0) == 0) t->dimension_ = std::stoi(line.substr(12));
        if (line.rfind("# source:", 0) == 0) t->source_ = line.substr(line.find_first_not_of(' ', 9));
        continue;
      }
      const auto tab = line.find('\t');
      if (tab == std::string::npos) throw Error(ErrorCode::Data, "line " + std::to_string(lineNo) + " has no tab between key and vector");
      std::istringstream values(line.substr(tab + 1));
      std::vector<float> v;
      for (float x; values >> x;) v.push_back(x);
      if (t->dimension_ == 0) t->dimension_ = static_cast<int>(v.size());
      if (static_cast<int>(v.size()) != t->dimension_)
        throw Error(ErrorCode::Data,
                    "line " + std::to_string(lineNo) + " has " + std::to_string(v.size()) + " values, the table " + std::to_string(t->dimension_));
      t->rows_[line.substr(0, tab)] = std::move(v);
    }
    if (t->rows_.empty()) throw Error(ErrorCode::Data, "the table has no rows");
    if (t->source_.empty()) t->source_ = "table:" + file.filename().string();
    return t;
  });
}

std::vector<float> TableTextEmbedder::embed(const std::string& key, const std::string&) const {
  auto it = rows_.find(key);
  if (it == rows_.end()) throw Error(ErrorCode::NoInput, "no embedding for '" + key + "' in " + file_.string());
  return it->second;
}

void TableTextEmbedder::write(const std::filesystem::path& file, const std::string& source, const std::map<std::string, std::vector<float>>& rows) {
  writeFileAtomically(file, [&](std::ostream& out) {
    out << "# dimension: " << (rows.empty() ? 0 : rows.begin()->second.size()) << "\n# source: " << source << "\n";
    for (const auto& [k, v] : rows) {
      out << k << '\t';
      for (std::size_t i = 0; i < v.size(); ++i) out << (i ? " " : "") << v[i];
      out << '\n';
    }
  });
}

PromptTexts PromptTexts::load(const std::filesystem::path& dir) {
  PromptTexts p;
  const auto d = TextTable::read(dir / "text" / "disorders.tsv", '\t');
  const int abbr = d.requireColumn("abbreviation"), desc = d.requireColumn("description");
  for (std::size_t r = 0; r < d.rows(); ++r) p.disorders[d.cell(r, abbr)] = d.cell(r, desc);
  const auto a = TextTable::read(dir / "text" / "atlases.tsv", '\t');
  const int id = a.requireColumn("id"), adesc = a.requireColumn("description");
  for (std::size_t r = 0; r < a.rows(); ++r) p.atlases[a.cell(r, id)] = a.cell(r, adesc);
  if (std::filesystem::exists(dir / "text" / "tasks.tsv")) {
    const auto t = TextTable::read(dir / "text" / "tasks.tsv", '\t');
    const int key = t.requireColumn("key"), dis = t.requireColumn("disorder"), tdesc = t.requireColumn("description");
    for (std::size_t r = 0; r < t.rows(); ++r) {
      std::string text = t.cell(r, tdesc);
      if (text.empty()) {
        auto it = p.disorders.find(t.cell(r, dis));
        if (it == p.disorders.end()) throw Error(ErrorCode::Data, "tasks.tsv names an unknown disorder '" + t.cell(r, dis) + "'");
        text = it->second;
      }
      p.tasks[t.cell(r, key)] = text;
      if (!t.cell(r, dis).empty()) p.taskDisorders[t.cell(r, key)] = t.cell(r, dis);
    }
  }
  return p;
}

std::pair<std::string, std::string> PromptTexts::task(const std::string& field, const std::string& positive, const std::string& explicitDescription) const {
  const std::string key = field + "=" + positive;
  if (!explicitDescription.empty()) return {key, explicitDescription};
  if (auto it = tasks.find(key); it != tasks.end()) return {key, it->second};
  return {key, field + " = " + positive};
}

std::string PromptTexts::disorder(const std::string& field, const std::string& positive) const {
  const auto it = taskDisorders.find(field + "=" + positive);
  return it == taskDisorders.end() ? std::string() : it->second;
}

std::string PromptTexts::atlas(const std::string& id) const {
  auto it = atlases.find(id);
  return it == atlases.end() ? id : it->second;
}

double cosineSimilarity(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
}

}  // namespace bg::model
