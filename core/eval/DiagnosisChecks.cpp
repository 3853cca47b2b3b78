#include "eval/DiagnosisChecks.h"

#include <algorithm>

namespace bg {
using nlohmann::json;

namespace {
bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }
}  // namespace

std::string scanProblemForModel(const ModelCard& card, const ScanDescription& scan, const std::vector<std::string>& registeredAtlases) {
  const auto atlas = card.atlas();
  // A multi-atlas model reads the scan through each of its atlases: a BOLD volume gives them all in one
  // pass; one time-series file gives one atlas.
  if (card.readsSeveralAtlases()) {
    const auto atlases = card.atlases();
    std::string list;
    for (const auto& a : atlases) list += (list.empty() ? "" : " and ") + a;
    if (!scan.volume)
      return "This multi-atlas model reads each scan through " + list +
             ": choose the scan's BOLD volume (parcellated with each atlas in one pass). With ROI time series, one file per atlas, use Predict.";
    for (const auto& a : atlases)
      if (!registeredAtlases.empty() && !contains(registeredAtlases, a))
        return "This multi-atlas model reads the " + a + " parcellation, which the workbench cannot apply to a BOLD volume.";
    return {};
  }
  if (scan.volume) {
    if (!registeredAtlases.empty() && !atlas.empty() && !contains(registeredAtlases, atlas))
      return "This model was trained on the " + atlas + " parcellation, which the workbench cannot apply to a BOLD volume: choose ROI time series in " + atlas +
             ", or a model trained on a registered atlas.";
    return {};
  }
  const int nodes = card.inputs.empty() ? 0 : card.inputs.front().nodes;
  if (scan.columns > 0 && nodes > 0 && scan.columns != nodes)
    return "The scan has " + std::to_string(scan.columns) + " ROI columns but this model expects " + std::to_string(nodes) + " (" + atlas +
           "): choose a model trained on the scan's parcellation.";
  // The same options the prediction parcellates with (no stored preprocessing: the defaults, which band-pass).
  const auto& pipeline = card.inputs.empty() ? PipelineOptions{} : card.inputs.front().pipeline;
  if (pipeline.clean && pipeline.cleaning.bandpass && scan.repetitionTime <= 0)
    return "This model band-pass filters its input, so it needs the scan's repetition time, which a time-series file does not record: go Back and "
           "enter the TR.";
  return {};
}

bool qualityControlBlocks(const json& qc) {
  if (!qc.is_object()) return false;
  const auto overall = qc.value("overall", std::string());
  return overall == "fail" || (overall == "incomplete" && qc.value("incomplete", std::string()) == "block");
}

}  // namespace bg
