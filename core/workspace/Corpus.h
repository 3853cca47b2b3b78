#pragma once
// Training corpora: scans selected by phenotype filters for one parcellation (or several: one item
// per scan and atlas, e.g. ABIDE's CC200 and HO series of the same sessions), labelled, and split
// (stratified k-fold, leave-site-out or fixed train/validation/test) with a seed; every split keeps
// all of a subject's items on the same side. The
// manifest (JSON) names every item by content hash, so a corpus exported from one workspace
// can be re-imported into another holding the same scans, and any run is reproducible.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bg {

class Workspace;
class ProgressDelegate;

struct CorpusFilter {
  std::string field, op, value;                              // op: = != < <= > >=
  static CorpusFilter parse(const std::string& expression);  // "site!=NYU", "age<30"
};

struct SplitSpec {
  std::string kind = "kfold";  // kfold | leave-site-out | fixed
  int folds = 10;
  double trainFraction = 0.7, validationFraction = 0.15;  // fixed split; the rest is test
  double innerValidationFraction = 0.1;                   // k-fold / leave-site-out: validation taken from the training part
  std::string siteField = "site";
  unsigned seed = 0;
};

struct CorpusSpec {
  std::string name;
  std::string atlas = "cc200";
  std::vector<std::string> atlases;  // two or more: a multi-atlas corpus; empty: `atlas` alone
  std::string paramsHash;            // which derivatives; empty = the most recent one per scan
  std::string labelField = "diagnosis";
  std::vector<std::string> classes;  // empty: every value found, sorted
  std::vector<CorpusFilter> filters;
  SplitSpec split;
};

// Builds the manifest from the workspace's records (does not store it).
nlohmann::json buildCorpusManifest(Workspace& ws, const CorpusSpec& spec);
// Checks every item against the workspace (scan present, arrays present) and stores it.
// When a corpus of that name exists: Refuse (an error), KeepIfSame (succeed without writing when the
// stored definition is the same, so a command is safe to run again; refuse otherwise, naming
// --replace), or Replace it.
enum class CorpusExisting { Refuse, KeepIfSame, Replace };
std::int64_t saveCorpus(Workspace& ws, const nlohmann::json& manifest, CorpusExisting existing = CorpusExisting::Refuse);
// Removes a corpus that no recorded run refers to (one that has runs is refused: their results would
// lose their corpus). Returns 0.
int deleteCorpus(Workspace& ws, const std::string& name);
nlohmann::json loadCorpus(Workspace& ws, const std::string& name);
std::vector<std::string> listCorpora(Workspace& ws);
// Writes a corpus for other tools: scan-ID_fc.npy per item and manifest.json, staged (io/StagedOutput.h)
// so a failed or cancelled export leaves `outDir` as it was. Returns the number of FC matrices.
std::size_t exportCorpus(Workspace& ws, const std::string& name, const std::filesystem::path& outDir, ProgressDelegate& progress);
// What a model file trained on a whole corpus records of its scans (their content hashes), so that
// prediction can say when it is shown a scan it learned from: {"count", "hashes"}.
nlohmann::json corpusTrainingScans(const nlohmann::json& manifest);

// A stratified random share of the items (at least one per class) held out for validation, the rest
// for training; indices into `classIndex`, deterministic for a seed. Used where a whole corpus trains
// a model that still needs a validation part (model selection, calibration).
struct Holdout {
  std::vector<std::size_t> train, validation;
};
Holdout stratifiedHoldout(const std::vector<int>& classIndex, double fraction, unsigned seed);
// The items in `folds` stratified folds: entry k validates on fold k and trains on the others. Every
// item validates exactly once; deterministic for a seed.
std::vector<Holdout> stratifiedFolds(const std::vector<int>& classIndex, int folds, unsigned seed);
// The items whose labels a label regime keeps (paper figure 2): a stratified random share of each
// class, at least one, as sorted indices into `classIndex`; deterministic for a seed. Graph models and
// baselines draw it alike, so that at one seed they learn from the same labelled scans.
std::vector<std::size_t> stratifiedLabelShare(const std::vector<int>& classIndex, double fraction, unsigned seed);

// The split alone, from class labels and sites (deterministic for a seed). `groups` (one key per item,
// e.g. the subject; empty: every item its own group) are never divided: a group's items share fold,
// training, validation and test; a group takes its first item's class and site.
nlohmann::json makeSplit(const std::vector<int>& classIndex, const std::vector<std::string>& sites, const SplitSpec& spec,
                         const std::vector<std::string>& groups = {});

// The atlases of a corpus: its "atlases" list, else its one "atlas".
std::vector<std::string> corpusAtlases(const nlohmann::json& manifest);
// Throws bg::Error(Usage) naming the corpus and its atlases when it holds more than one: for methods
// that learn from one parcellation (`what`: "logistic regression", ...).
void requireSingleAtlas(const nlohmann::json& manifest, const std::string& what);

}  // namespace bg
