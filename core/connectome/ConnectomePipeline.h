#pragma once
// From a BOLD scan (or an ROI time-series file) to per-atlas outputs on disk:
//   <atlas>_timeseries.tsv  time points x ROIs, header = ROI names
//   <atlas>_fc.npy          float32 N x N Pearson correlation
//   <atlas>_qc.json         voxels per ROI, coverage, tSNR, empty ROIs, cleaning, mean FD
// and, when graphs are requested, <atlas>_adjacency.npy, <atlas>_rwse.npy, <atlas>_metrics.json;
// with writePartial, <atlas>_partial.npy. (Tangent-space FC needs a group reference: see TangentSpace.)
// Everything is written to a staging folder first and moved into place at the end: a failed or
// cancelled run leaves nothing behind.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "connectome/BrainGraph.h"
#include "connectome/RoiExtractor.h"
#include "jobs/Progress.h"
#include "signal/Cleaning.h"

namespace bg {

// The share of an atlas's ROIs with usable signal below which a scan fails quality control
// (report/QualityControl's coverage threshold): parcellation refuses such a scan outright.
inline constexpr double kFailingRoiCoverage = 0.90;

class AtlasRegistry;

struct PipelineOptions {
  bool clean = true;  // false: raw ROI means, then Pearson (--no-clean)
  CleaningOptions cleaning;
  std::vector<std::string> confoundStrategies = {"motion24", "wm_csf"};
  RoiSummary summary = RoiSummary::Mean;
  bool writeGraph = false;
  bool writePartial = false;  // also <atlas>_partial.npy (Ledoit-Wolf partial correlation)
  AdjacencyOptions adjacency;
  int rwseSteps = 5;
};

struct ConnectomeRequest {
  std::filesystem::path bold;
  std::optional<std::filesystem::path> confounds;
  std::vector<std::string> atlases;  // ids; "all" expands to every parcellation
  std::filesystem::path outDir;
  PipelineOptions options;
};

struct TimeSeriesRequest {
  std::filesystem::path input;                       // .1D[.gz], .csv, .tsv, .npy
  std::string id = "custom";                         // output file prefix
  std::optional<std::filesystem::path> labelVolume;  // places each column in the brain
  std::optional<std::filesystem::path> confounds;
  double tr = 0;  // seconds; 0 = unknown (band-pass is then skipped)
  std::filesystem::path outDir;
  PipelineOptions options;
};

struct AtlasSummary {
  std::string atlasId;
  int rois = 0;
  std::vector<std::string> emptyRois;
  int timePoints = 0;
  std::vector<std::filesystem::path> files;
};

// One parcellation's result, in memory (what the workspace stores and the files hold).
struct ConnectomeData {
  std::string atlasId;
  Eigen::MatrixXd series;  // cleaned (or raw) time points x ROIs
  Eigen::MatrixXd fc;      // Pearson
  std::vector<std::string> roiNames, networks, emptyRois;
  std::string qcJson;
};

// Reads the scan once for every atlas; validates the input like runConnectome.
std::vector<ConnectomeData> computeConnectomes(const AtlasRegistry& registry, const std::filesystem::path& bold,
                                               const std::optional<std::filesystem::path>& confounds, const std::vector<std::string>& atlases,
                                               const PipelineOptions& options, ProgressDelegate& progress);
// From ROI time series already in memory (ROI files, stored series).
ConnectomeData computeFromTimeSeries(const std::string& id, const Eigen::MatrixXd& series, const std::vector<std::string>& roiNames, double tr,
                                     const std::optional<std::filesystem::path>& confounds, const PipelineOptions& options);

std::vector<std::string> expandAtlasList(const AtlasRegistry& registry, const std::vector<std::string>& ids);

std::vector<AtlasSummary> runConnectome(const AtlasRegistry& registry, const ConnectomeRequest& request, ProgressDelegate& progress);
AtlasSummary runTimeSeriesToGraph(const TimeSeriesRequest& request, ProgressDelegate& progress);

}  // namespace bg
