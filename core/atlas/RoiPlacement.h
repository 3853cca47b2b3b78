#pragma once
// Where each ROI of a parcellation sits in MNI space (for 3D connectomes) with its name and network:
// a registered atlas's label table (its MNI coordinates, or centroids of its volume when the table
// has none), or ABIDE's CC200 label volume found in the data path (columns are labels 1..200; networks
// by majority overlap with Schaefer100's seven networks).
#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bg {

class AtlasRegistry;
class DataPaths;
struct NiftiVolume;

// Centroid (world millimetres) of every non-zero label of a label volume.
std::map<long, std::array<double, 3>> labelCentroids(const NiftiVolume& labels);

// For each label of `labels`, the network of `reference` (a registered atlas with networks) that most
// of its voxels fall in; voxels outside the reference's parcels vote "Subcortical/cerebellum".
std::map<long, std::string> networksByOverlap(const NiftiVolume& labels, const AtlasRegistry& registry, const std::string& reference);

struct RoiPlacement {
  std::vector<std::string> names, networks;
  std::vector<std::optional<std::array<double, 3>>> positions;  // one per ROI; empty when unknown
};

// `count` ROIs of `atlas`; throws bg::Error naming what is missing.
RoiPlacement roiPlacement(const AtlasRegistry* registry, const DataPaths& data, const std::string& atlas, int count);

}  // namespace bg
