#pragma once
// What a diagnosis checks before it runs, decided without a window: whether a model can read the
// chosen scan, and whether its quality control blocks the prediction. The diagnosis wizard asks
// these on every page change; the texts say what to do.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/ModelCard.h"

namespace bg {

struct ScanDescription {
  bool volume = false;          // a BOLD NIfTI volume (parcellated by the model's atlas), else ROI time series
  int columns = 0;              // time series: the file's ROI columns (0 when unknown)
  double repetitionTime = 0.0;  // seconds; 0 when not given
};

// Empty when `card`'s model can read `scan`; otherwise why not and what to choose instead.
// `registeredAtlases`: the atlases the workbench can apply to a volume (empty: not known, not checked).
std::string scanProblemForModel(const ModelCard& card, const ScanDescription& scan, const std::vector<std::string>& registeredAtlases);

// A quality-control record (`qc`) that stops the prediction: failed, or incomplete under a "block" policy.
bool qualityControlBlocks(const nlohmann::json& qc);

}  // namespace bg
