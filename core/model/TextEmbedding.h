#pragma once
// Text embeddings for BrainGFM's [T/D] (task/disorder) and [A/P] (atlas/parcellation) tokens.
// The paper uses BioClinicalBERT, whose weights cannot be obtained here, so embeddings are an
// input: a versioned table a user computed elsewhere, or a deterministic built-in fallback.
// Plain C++ (no torch): the model turns the vectors into tokens.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bg::model {

class TextEmbedder {
 public:
  virtual ~TextEmbedder() = default;
  virtual int dimension() const = 0;
  virtual std::string source() const = 0;  // recorded in checkpoints and model cards
  // `key` names the entry (a disorder abbreviation, an atlas id); `text` is its description.
  virtual std::vector<float> embed(const std::string& key, const std::string& text) const = 0;
};

// A table file: lines "# dimension: 768" and "# source: ..." then "key<TAB>v1 v2 ... vD".
class TableTextEmbedder final : public TextEmbedder {
 public:
  static std::unique_ptr<TableTextEmbedder> load(const std::filesystem::path& file);
  int dimension() const override { return dimension_; }
  std::string source() const override { return source_; }
  std::vector<float> embed(const std::string& key, const std::string& text) const override;  // by key; throws when absent
  static void write(const std::filesystem::path& file, const std::string& source, const std::map<std::string, std::vector<float>>& rows);

 private:
  int dimension_ = 0;
  std::string source_;
  std::filesystem::path file_;
  std::map<std::string, std::vector<float>> rows_;
};

// Hashed character n-grams (3 to 5, lower-case, word-boundary marked) through a fixed random
// Gaussian projection (each n-gram's vector is generated from its hash), L2-normalised: texts that
// share words and word pieces get similar vectors. Deterministic across machines.
class HashedNgramEmbedder final : public TextEmbedder {
 public:
  explicit HashedNgramEmbedder(int dimension = 768) : dimension_(dimension) {}
  int dimension() const override { return dimension_; }
  std::string source() const override { return "hashed-char-ngrams-3to5-v1-d" + std::to_string(dimension_); }
  std::vector<float> embed(const std::string& key, const std::string& text) const override;

 private:
  int dimension_;
};

// The descriptions shipped in resources/text: disorders by abbreviation, atlases by id, and tasks
// (label definitions) by "field=positive value", each naming a disorder or giving its own text.
struct PromptTexts {
  std::map<std::string, std::string> disorders;
  std::map<std::string, std::string> atlases;
  std::map<std::string, std::string> tasks;
  std::map<std::string, std::string> taskDisorders;  // task key -> disorder abbreviation (tasks.tsv), where it names one
  static PromptTexts load(const std::filesystem::path& resourceDir);
  // The [T/D] text of a two-class task: an explicit description wins, then tasks.tsv, then
  // "<field> = <positive value>". Returns (key, description).
  std::pair<std::string, std::string> task(const std::string& labelField, const std::string& positiveClass, const std::string& explicitDescription = {}) const;
  std::string atlas(const std::string& id) const;  // the description, or the id itself
  // The disorder abbreviation tasks.tsv gives a task ("ASD" for diagnosis=autism), or "".
  std::string disorder(const std::string& labelField, const std::string& positiveClass) const;
};

double cosineSimilarity(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace bg::model
