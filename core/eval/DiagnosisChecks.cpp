#include "eval/DiagnosisChecks.h"

#include <algorithm>

#include "eval/AtlasEnsemble.h"

namespace bg {
using nlohmann::json;

namespace {
bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }
}  // namespace

std::string scanProblemForModel(const json& card, const ScanDescription& scan, const std::vector<std::string>& registeredAtlases) {
  const auto atlas = card.value("atlas", std::string());
  // A multi-atlas model reads the scan through each of its atlases: a BOLD volume gives them all in one
  // pass; one time-series file gives one atlas.
  if (readsSeveralAtlases(card)) {
    std::string list;
    std::vector<std::string> atlases;
    for (const auto& a : card.value("atlases", json::array())) {
      atlases.push_back(a.get<std::string>());
      list += (list.empty() ? "" : " and ") + atlases.back();
    }
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
  const int nodes = card.value("nodes", 0);
  if (scan.columns > 0 && nodes > 0 && scan.columns != nodes)
    return "The scan has " + std::to_string(scan.columns) + " ROI columns but this model expects " + std::to_string(nodes) + " (" + atlas +
           "): choose a model trained on the scan's parcellation.";
  // The same rule as the prediction: no stored preprocessing means the defaults, which band-pass.
  const auto pre = card.value("preprocessing", json::object());
  const bool bandPass = pre.empty() || (pre.value("clean", true) && !pre.value("band_pass", json()).is_null());
  if (bandPass && scan.repetitionTime <= 0)
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
