#pragma once
// A fold's graphs as the model reads them: when the tuning configuration asks for another input
// than the stored Pearson FC (connectome/GraphInputTransform.h), the transform is fitted on the
// training scans and every item's matrix is rewritten into a temporary array store that lives as
// long as this object. With the identity the items and the workspace store pass through untouched.
#include <filesystem>
#include <memory>
#include <vector>

#include "connectome/GraphInputTransform.h"
#include "jobs/Progress.h"
#include "workspace/ArrayStore.h"
#include "workspace/CorpusDataset.h"

namespace bg::train {

// Fits on the training items' stored FC and ROI time series (never on test items). Reports on
// `progress` and throws bg::CancelledError when it asks to cancel.
GraphInputTransform fitGraphInput(const GraphInputSpec& spec, const ArrayStore& store, const std::vector<DatasetItem>& training,
                                  ProgressDelegate* progress = nullptr);

// Per-site input: every site of `items` that the transform has no statistics for and that has at
// least SiteStandardizer::kMinScans scans among `items` is adapted from those scans (their FC and
// time series; never their labels); with `limit` > 0 from only that many of them
// (SiteStandardizer::adaptationSample with `seed`). Returns how many of `items` now have statistics of
// their own site that way. Does nothing (returns 0) for other inputs.
int adaptNewSites(GraphInputTransform& transform, const ArrayStore& store, const std::vector<DatasetItem>& items, int limit = 0, unsigned seed = 0);
// The same with a batch of a chosen class mix (positiveShare >= 0; SiteStandardizer::adaptationBatch)
// and, when `labelled`, the batch's labels weighting its statistics to `trainingShare` of the positive
// class (adapt-site --labels): for evaluations that measure how a new site's batch mix matters. A site
// whose batch is too small (or, labelled, lacks kMinLabelledPerClass of a class) is left on the pooled
// statistics.
int adaptNewSites(GraphInputTransform& transform, const ArrayStore& store, const std::vector<DatasetItem>& items, int limit, unsigned seed,
                  double positiveShare, bool labelled, double trainingShare);

class TransformedGraphs {
 public:
  // scratchDir: where the temporary store goes (a fresh subdirectory, removed on destruction).
  TransformedGraphs(const ArrayStore& source, GraphInputTransform transform, const std::filesystem::path& scratchDir);
  ~TransformedGraphs();
  TransformedGraphs(const TransformedGraphs&) = delete;
  TransformedGraphs& operator=(const TransformedGraphs&) = delete;

  // The items with their fcArray pointing at the transformed matrices. Throws bg::Error(Data) naming
  // the scan when one cannot be transformed (no time series, wrong size).
  std::vector<DatasetItem> remap(const std::vector<DatasetItem>& items, ProgressDelegate* progress = nullptr);
  const ArrayStore& store() const { return scratch_ ? *scratch_ : source_; }
  const GraphInputTransform& transform() const { return transform_; }

 private:
  const ArrayStore& source_;
  GraphInputTransform transform_;
  std::filesystem::path dir_;
  std::unique_ptr<ArrayStore> scratch_;
};

}  // namespace bg::train
