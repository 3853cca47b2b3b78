#include "atlas/RoiPlacement.h"

#include <cmath>

#include <Eigen/Core>
#include <Eigen/LU>

#include "atlas/AtlasRegistry.h"
#include "errors/Error.h"
#include "io/NiftiImage.h"
#include "settings/DataPaths.h"

namespace bg {

std::map<long, std::array<double, 3>> labelCentroids(const NiftiVolume& vol) {
  std::map<long, std::array<double, 4>> acc;
  for (std::int64_t k = 0; k < vol.header.dim[2]; ++k)
    for (std::int64_t j = 0; j < vol.header.dim[1]; ++j)
      for (std::int64_t i = 0; i < vol.header.dim[0]; ++i) {
        const float v = vol.at(i, j, k);
        if (v == 0 || !std::isfinite(v)) continue;
        const Eigen::Vector4d w =
            vol.header.voxelToWorld * Eigen::Vector4d(static_cast<double>(i), static_cast<double>(j), static_cast<double>(k), 1);
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

std::map<long, std::string> networksByOverlap(const NiftiVolume& labels, const AtlasRegistry& registry, const std::string& reference) {
  const auto ref = readNiftiVolume(registry.volumeFile(reference));
  std::map<long, std::string> networkOf;
  for (const auto& l : registry.labels(reference)) networkOf[l.index] = l.network;
  const Eigen::Matrix4d worldToRef = ref.header.voxelToWorld.inverse();
  std::map<long, std::map<std::string, long>> votes;
  for (std::int64_t k = 0; k < labels.header.dim[2]; ++k)
    for (std::int64_t j = 0; j < labels.header.dim[1]; ++j)
      for (std::int64_t i = 0; i < labels.header.dim[0]; ++i) {
        const float v = labels.at(i, j, k);
        if (v == 0 || !std::isfinite(v)) continue;
        const Eigen::Vector4d w =
            labels.header.voxelToWorld * Eigen::Vector4d(static_cast<double>(i), static_cast<double>(j), static_cast<double>(k), 1);
        const Eigen::Vector4d r = worldToRef * w;
        const auto ri = std::llround(r(0)), rj = std::llround(r(1)), rk = std::llround(r(2));
        std::string net = "Subcortical/cerebellum";  // outside the reference's cortical parcels
        if (ri >= 0 && rj >= 0 && rk >= 0 && ri < ref.header.dim[0] && rj < ref.header.dim[1] && rk < ref.header.dim[2]) {
          const auto label = std::lround(ref.at(ri, rj, rk));
          if (auto it = networkOf.find(label); label != 0 && it != networkOf.end()) net = it->second;
        }
        ++votes[std::lround(v)][net];
      }
  std::map<long, std::string> out;
  for (const auto& [label, counts] : votes)
    out[label] = std::max_element(counts.begin(), counts.end(), [](const auto& a, const auto& b) { return a.second < b.second; })->first;
  return out;
}

RoiPlacement roiPlacement(const AtlasRegistry* registry, const DataPaths& data, const std::string& atlas, int count) {
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
        if (l.mni) p.positions.emplace_back(*l.mni);
        else if (auto it = centroids.find(l.index); it != centroids.end()) p.positions.emplace_back(it->second);
        else p.positions.emplace_back(std::nullopt);
      }
      return p;
    }
    if (atlas == "cc200") {
      const auto volume = readNiftiVolume(data.find("data/abide1-cc200/atlas/CC200.nii.gz"));
      const auto centroids = labelCentroids(volume);
      const auto networks = registry && registry->contains("schaefer100") ? networksByOverlap(volume, *registry, "schaefer100") : std::map<long, std::string>{};
      for (int i = 0; i < count; ++i) {
        p.names.push_back("CC200 " + std::to_string(i + 1));
        const auto net = networks.find(i + 1);
        p.networks.push_back(net == networks.end() ? std::string() : net->second);
        auto it = centroids.find(i + 1);
        p.positions.push_back(it == centroids.end() ? std::nullopt : std::optional<std::array<double, 3>>(it->second));
      }
      return p;
    }
    throw Error(ErrorCode::NoInput, "no coordinates known for this parcellation");
  });
}

}  // namespace bg
