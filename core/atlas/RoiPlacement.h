#pragma once
// Where each ROI of a parcellation sits in MNI space (for 3D connectomes) with its name and network:
// a registered atlas's labels (their MNI coordinates, or centroids of its volume when the table has
// none). ABIDE's CC200 and HO are registered atlases whose labels are derived (atlas/DerivedLabels.h).
#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bg {

class AtlasRegistry;
struct NiftiVolume;

// Centroid (world millimetres) of every non-zero label of a label volume.
std::map<long, std::array<double, 3>> labelCentroids(const NiftiVolume& labels);

struct RoiPlacement {
  std::vector<std::string> names, networks;
  std::vector<std::optional<std::array<double, 3>>> positions;  // one per ROI; empty when unknown
};

// `count` ROIs of `atlas`; throws bg::Error naming what is missing.
RoiPlacement roiPlacement(const AtlasRegistry* registry, const std::string& atlas, int count);

}  // namespace bg
