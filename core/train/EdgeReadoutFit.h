#pragma once
// The "logreg" edge readout: BrainGFM's linear term on the input edges set to the L2 logistic
// regression of the training part (the baseline's features and solver: the upper triangle of each
// scan's input matrix, standardised, C = 0.01), before the encoder is trained on top of it. The
// encoder then only has to learn what the linear model misses, and the model starts where the
// baseline ends.
#include <vector>

#include "model/DownstreamModel.h"
#include "workspace/ArrayStore.h"
#include "workspace/CorpusDataset.h"

namespace bg::train {

// Sets m's edge head and its head's bias so that the logit margin of a graph equals the regression's
// decision value w . x + b plus what the rest of the model adds (nothing, with the head's weights and
// the per-ROI term at zero: how the tuner starts it). The items' matrices are
// read from `store` as the model reads them (after the input transform). Throws bg::Error(Data) for
// items of different sizes or a class missing, bg::Error(Config) for a model that is not two-class
// or has no edge head.
void fitEdgeReadout(model::DownstreamModelImpl& m, const ArrayStore& store, const std::vector<DatasetItem>& items, double c = 0.01);

}  // namespace bg::train
