#include "atlas/RoiPlacement.h"

#include <cmath>

#include <Eigen/Core>
#include <Eigen/LU>

#include "atlas/AtlasRegistry.h"
#include "errors/Error.h"
#include "io/NiftiImage.h"

namespace bg {

std::map<long, std::array<double, 3>> labelCentroids(const NiftiVolume& vol) {
  std::map<long, std::array<double, 4>> acc;
  for (std::int64_t k = 0; k < vol.header.dim[2]; ++k)
    for (std::int64_t j = 0; j < vol.header.dim[1]; ++j)
      for (std::int64_t i = 0; i < vol.header.dim[0]; ++i) {
        const float v = vol.at(i, j, k);
        if (v == 0 || !std::isfinite(v)) continue;
        const Eigen::Vector4d w = vol.header.voxelToWorld * Eigen::Vector4d(static_cast<double>(i), static_cast<double>(j), static_cast<double>(k), 1);
        auto& c = acc[std::lround(v)];
        c[0] += w(0);
        c[1] += w(1);
        c[2] += w(2);
        c[3] += 1;
      }
  std::map<long, std::array<double, 3>> out;
  for (const auto& [label, c] : acc) out[label] = {c[0] / c[3], c[1] / c[3], c[2] / c[3]};
  return out;
}

RoiPlacement roiPlacement(const AtlasRegistry* registry, const std::string& atlas, int count) {
  return withContext("while placing the ROIs of " + atlas, [&] {
    RoiPlacement p;
    if (registry && registry->contains(atlas)) {
      const auto labels = registry->labels(atlas);
      if (static_cast<int>(labels.size()) != count)
        throw Error(ErrorCode::Data, "the atlas has " + std::to_string(labels.size()) + " ROIs, the matrix " + std::to_string(count));
      std::map<long, std::array<double, 3>> centroids;
      bool needVolume = false;
      for (const auto& l : labels) needVolume = needVolume || !l.mni;
      if (needVolume) centroids = labelCentroids(readNiftiVolume(registry->volumeFile(atlas)));
      for (const auto& l : labels) {
        p.names.push_back(l.name);
        p.networks.push_back(l.network);
        if (l.mni)
          p.positions.emplace_back(*l.mni);
        else if (auto it = centroids.find(l.index); it != centroids.end())
          p.positions.emplace_back(it->second);
        else
          p.positions.emplace_back(std::nullopt);
      }
      return p;
    }
    throw Error(ErrorCode::NoInput, "no coordinates known for this parcellation");
  });
}

}  // namespace bg
