#pragma once
// From one patient's scan to a diagnosis record: the inputs and their hashes, quality control (a
// fail blocks unless overridden with a reason), the prediction with its uncertainty interval, the
// out-of-distribution check and the explanation, the methods and the model card. The record is
// self-contained JSON: the PDF report is rendered from it alone, so a stored record regenerates the
// same report. Shared by `braingraph-cli diagnose`, `report` and the diagnosis wizard.
#include <filesystem>
#include <optional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "workspace/ReportStore.h"
#include "eval/Prediction.h"
#include "jobs/Progress.h"
#include "report/QualityControl.h"

namespace bg {

class AtlasRegistry;
class Workspace;

struct DiagnosisRequest {
  std::filesystem::path modelFile, input;
  std::optional<std::filesystem::path> confounds;  // none: the fMRIPrep confounds beside a BOLD file, if any
  double tr = 0;                                   // seconds, for time-series files
  std::string site;                                // acquisition site, for per-site standardised models
  std::string patientId;                           // empty: from the file name (sub-XXXX), else the file stem
  bool pseudonymise = false;
  std::string qcOverrideReason;  // lets a QC fail through, recorded in the report
  std::string operatorName;
  QcThresholds thresholds;
  std::string device = "auto";
  int threads = 0;
  std::string displayConvention = "neurological";  // of the report's figures (settings: display_convention)
};

// The patient identifier a file name suggests (BIDS sub- entity, else the stem).
std::string patientIdFromFileName(const std::filesystem::path& file);
// A stable pseudonym: "PSN-" + 12 hex digits of a salted hash (the salt lives in the user's
// configuration folder, so the same id maps to the same pseudonym on this installation only).
std::string pseudonymFor(const std::string& id);

struct DiagnosisCase {
  ModelCard model;
  PredictionInput input;                           // a multi-atlas model: its first atlas's (what QC and the figures read)
  std::map<std::string, PredictionInput> members;  // a multi-atlas model: every atlas's, from the same BOLD pass
  QcReport qc;
};
// Loads the model card and the scan and runs quality control; no prediction yet.
// An explanation read honestly: each top region's saliency share as a multiple of an even share
// (1 / ROIs; "even_multiple"), each network's share and its share per region against an even one
// ("regions", "per_region"), and a sentence ("summary"): no region stands out unless one carries
// more than 1.5 times an even share. `networks` gives each ROI's network ("" when it has none).
nlohmann::json summariseExplanation(nlohmann::json explanation, const std::vector<std::string>& networks, int rois);
// A multi-atlas model's: each network's regions counted over every atlas, its even share the mean of
// its fractions of each atlas's ROIs (as the model's network shares are means over the atlases).
nlohmann::json summariseExplanation(nlohmann::json explanation, const std::vector<std::vector<std::string>>& networksPerAtlas);

// With a workspace, a scan it holds (by content hash) without a confounds file takes its motion from
// the workspace's record (phenotype mean_fd), said in the QC note.
DiagnosisCase prepareDiagnosis(const DiagnosisRequest& request, const AtlasRegistry* registry, ProgressDelegate& progress, Workspace* ws = nullptr);

// The QC gate: throws bg::Error(Data) listing the failures unless request.qcOverrideReason is set.
void enforceQualityGate(const DiagnosisRequest& request, const QcReport& qc);

// prepare + gate + predict + the record (see above). With a workspace, the prediction and the record
// are stored there (record["prediction_id"], record["report_id"]).
nlohmann::json runDiagnosis(const DiagnosisRequest& request, const AtlasRegistry* registry, Workspace* ws, ProgressDelegate& progress);

// The record of a prediction made without `diagnose` (predict --record): no QC, no sign-off.
nlohmann::json recordFromPrediction(Workspace& ws, std::int64_t predictionId);

// Report records are stored by workspace/ReportStore.h (saveReportRecord, loadReportRecord, ...).

// Adds (or replaces) the sign-off: clinician, impression, time (UTC, ISO 8601).
void signReport(nlohmann::json& record, const std::string& clinician, const std::string& impression, const std::string& signedAt = {});

}  // namespace bg
