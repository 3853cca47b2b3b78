#pragma once
// ROI time series from a 4D scan for several atlases in one streaming pass:
// each volume is read once, and only voxels that belong to some ROI are touched.
#include <filesystem>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "atlas/LabelMap.h"
#include "jobs/Progress.h"

namespace bg {

enum class RoiSummary { Mean, Median, FirstPrincipalComponent };
RoiSummary parseRoiSummary(const std::string& name);  // mean | median | pc1

struct RoiSignals {
  std::string atlasId;
  Eigen::MatrixXd series;                  // time points x ROIs
  std::vector<std::int64_t> voxels;        // voxels per ROI on the scan grid
  std::vector<std::int64_t> signalVoxels;  // of those, voxels whose signal varies over time (and is finite throughout)
  // Voxels with a NaN or infinite value in any volume: they never count as signal, and each time
  // point's ROI mean averages only the finite values (a voxel masked out as NaN contributes nothing).
  std::vector<std::int64_t> nonFiniteVoxels;
  std::vector<double> coverage;  // signal voxels' volume / the ROI's atlas volume (0..1)
  std::vector<double> tsnr;      // temporal SNR of the ROI's series (mean / sd)
};

class RoiExtractor {
 public:
  // The label maps must share the scan's grid.
  RoiExtractor(std::vector<LabelMap> maps, RoiSummary summary = RoiSummary::Mean);

  // Reads the whole file once. Decompression runs on its own thread while the
  // previous volume is accumulated. Throws bg::Error naming the file.
  std::vector<RoiSignals> extract(const std::filesystem::path& bold, ProgressDelegate& progress);

  const std::vector<LabelMap>& maps() const { return maps_; }

 private:
  std::vector<LabelMap> maps_;
  RoiSummary summary_;
  std::vector<std::int64_t> active_;     // scan voxels that belong to at least one ROI
  std::vector<std::int32_t> slots_;      // active_.size() x maps: accumulator slot per atlas
  std::vector<std::size_t> slotOffset_;  // first slot of each atlas; one extra "no ROI" slot each
};

}  // namespace bg
