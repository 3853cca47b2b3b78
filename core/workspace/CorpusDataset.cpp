#include "workspace/CorpusDataset.h"

#include <map>
#include <random>

#include "errors/Error.h"
#include "workspace/Corpus.h"
#include "workspace/ArrayStore.h"

namespace bg {
namespace {
void shuffle(std::vector<int>& v, std::mt19937& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng() % i]);
}
}  // namespace

std::vector<DatasetItem> corpusItems(const nlohmann::json& manifest, int fold, const std::string& part, const ArrayStore& store, AtlasMix mix) {
  // A downstream graph model reads one parcellation: its ROI readout and node features are that atlas's.
  if (mix == AtlasMix::SingleOnly) requireSingleAtlas(manifest, "graph-model training");
  const auto corpusAtlas = manifest.value("atlas", std::string());
  const auto& folds = manifest.at("split").at("folds");
  if (fold < 0 || fold >= static_cast<int>(folds.size()))
    throw Error(ErrorCode::Usage, "fold " + std::to_string(fold) + " does not exist (the corpus has " + std::to_string(folds.size()) + ")");
  const auto& f = folds[static_cast<std::size_t>(fold)];
  if (!f.contains(part)) throw Error(ErrorCode::Usage, "part '" + part + "' is not train, validation or test");
  std::vector<DatasetItem> out;
  for (int i : f.at(part)) {
    const auto& item = manifest.at("items").at(static_cast<std::size_t>(i));
    DatasetItem d;
    d.fcArray = item.at("fc_array").get<std::string>();
    d.seriesArray = item.value("series_array", std::string());
    d.site = item.value("site", std::string());
    d.label = item.at("class_index").get<int>();
    d.scanId = item.at("scan_id").get<std::int64_t>();
    d.atlas = item.value("atlas", corpusAtlas);
    d.session = item.value("session_id", std::int64_t{0});
    d.nodes = store.map(d.fcArray, false)->rows();  // the header alone: no data is read
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<std::vector<int>> planBatches(const std::vector<DatasetItem>& items, int batchSize, unsigned seed, int epoch, bool bucketByNodes) {
  if (batchSize < 1) throw Error(ErrorCode::Usage, "batch size must be at least 1");
  std::mt19937 rng(seed * 1000003u + static_cast<unsigned>(epoch));
  std::map<std::int64_t, std::vector<int>> groups;
  for (int i = 0; i < static_cast<int>(items.size()); ++i) groups[bucketByNodes ? items[static_cast<std::size_t>(i)].nodes : 0].push_back(i);
  std::vector<std::vector<int>> batches;
  for (auto& [n, members] : groups) {
    shuffle(members, rng);
    for (std::size_t s = 0; s < members.size(); s += static_cast<std::size_t>(batchSize))
      batches.emplace_back(members.begin() + static_cast<long>(s),
                           members.begin() + static_cast<long>(std::min(members.size(), s + static_cast<std::size_t>(batchSize))));
  }
  // Interleave the buckets: shuffle the batch order too.
  std::vector<int> order(batches.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  shuffle(order, rng);
  std::vector<std::vector<int>> out;
  for (int o : order) out.push_back(std::move(batches[static_cast<std::size_t>(o)]));
  return out;
}

}  // namespace bg
