#pragma once
// Nearest-neighbour label resampling with ITK. Kept in its own translation unit
// with a plain interface: ITK bundles its own Eigen, which must never meet ours.
#include <cstdint>
#include <vector>

namespace bg::itkbridge {

struct Geometry {
  std::int64_t dim[3];
  double voxelToWorldRas[4][4];
};

std::vector<std::int32_t> resampleLabelsNearest(const float* labels, const Geometry& from, const Geometry& to);

}  // namespace bg::itkbridge
