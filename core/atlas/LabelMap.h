#pragma once
// An atlas placed on a scan's voxel grid: which ROI each scan voxel belongs to.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "atlas/AtlasManifest.h"
#include "jobs/Progress.h"

namespace bg {

class AtlasRegistry;
struct NiftiHeader;

// The geometry of a scan: voxel counts and voxel -> RAS mm.
struct ScanGrid {
  std::array<std::int64_t, 3> dim{0, 0, 0};
  Eigen::Matrix4d voxelToWorld = Eigen::Matrix4d::Identity();
  static ScanGrid of(const NiftiHeader& header);
  std::int64_t voxels() const { return dim[0] * dim[1] * dim[2]; }
  double voxelVolume() const;  // mm^3
};

struct LabelMap {
  std::string atlasId;
  std::vector<AtlasLabel> rois;          // ROI columns, in label-table order (never renumbered)
  std::vector<std::int32_t> roiOfVoxel;  // per scan voxel: column index, or -1
  std::vector<std::int64_t> voxelsPerRoi;
  std::vector<double> roiVolumeMm3;  // the ROI's volume in the atlas itself (sphere volume for Power)

  int roiCount() const { return static_cast<int>(rois.size()); }
  std::int64_t mappedVoxels() const;
  std::vector<int> emptyRois() const;  // columns with no voxel in the scan grid
};

// How atlas labels reach the scan grid.
class AtlasResampler {
 public:
  explicit AtlasResampler(const AtlasRegistry& registry) : registry_(registry) {}
  // Volume atlases: ITK nearest-neighbour resampling through both affines.
  // Coordinate atlases (Power264): spheres of the manifest's radius; a voxel in two spheres
  // goes to the nearer centre. Throws bg::Error(Data) when the atlas does not overlap the grid.
  LabelMap map(const std::string& atlasId, const ScanGrid& grid) const;

  // Resamples a label volume onto a grid (nearest neighbour, ITK); values are copied as is.
  static std::vector<std::int32_t> resampleLabels(const std::vector<float>& labels, const ScanGrid& from, const ScanGrid& to);
  static std::vector<std::int32_t> sphereLabels(const std::vector<std::array<double, 3>>& centres, double radiusMm, const ScanGrid& to);

 private:
  const AtlasRegistry& registry_;
};

}  // namespace bg
