#pragma once
// A corpus fold as training data: which arrays, which labels, which node counts, and the
// order of batches (bucketed by node count so a batch never pads a 100-node graph to 333).
// Torch-free: core/train turns these plans into tensors.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bg {

class ArrayStore;

struct DatasetItem {
  std::string fcArray;
  int label = 0;
  std::int64_t nodes = 0;
  std::int64_t scanId = 0;
  std::string seriesArray;   // the cleaned ROI time series (may be empty)
  std::string site;          // the acquisition site (may be empty)
  std::int64_t session = 0;  // the acquisition (multi-atlas corpora: shared by its graphs in every atlas; 0: unknown)
  std::string atlas;         // the parcellation of this graph (a multi-atlas corpus holds one graph per scan and atlas)
  // For a fused multi-atlas model: the same acquisition's graphs in the model's other atlases, in its order.
  std::vector<DatasetItem> views;
};

// Whether a caller reads graphs of several parcellations in one run (BrainGFM's pre-training, which
// gives each graph its own atlas token) or needs the corpus to hold one atlas.
enum class AtlasMix { SingleOnly, Allowed };

// part: "train", "validation" or "test" of fold `fold` of the manifest's split.
std::vector<DatasetItem> corpusItems(const nlohmann::json& manifest, int fold, const std::string& part, const ArrayStore& store,
                                     AtlasMix mix = AtlasMix::SingleOnly);

// Batches as item indices, deterministic for (seed, epoch). Bucketed: items of equal node count
// share batches (so a mixed CC200 + HO corpus pads nothing); otherwise every batch mixes sizes (and
// is padded to its largest graph).
std::vector<std::vector<int>> planBatches(const std::vector<DatasetItem>& items, int batchSize, unsigned seed, int epoch, bool bucketByNodes);

}  // namespace bg
