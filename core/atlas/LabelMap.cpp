#include "atlas/LabelMap.h"

#include <cmath>
#include <limits>
#include <unordered_map>

#include <Eigen/LU>

#include "atlas/ItkResample.h"
#include "atlas/AtlasRegistry.h"
#include "errors/Error.h"
#include "io/NiftiImage.h"

namespace bg {
namespace {

itkbridge::Geometry bridgeGeometry(const ScanGrid& g) {
  itkbridge::Geometry out{};
  for (int j = 0; j < 3; ++j) out.dim[j] = g.dim[static_cast<std::size_t>(j)];
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) out.voxelToWorldRas[r][c] = g.voxelToWorld(r, c);
  return out;
}

}  // namespace

ScanGrid ScanGrid::of(const NiftiHeader& header) {
  ScanGrid g;
  g.dim = {header.dim[0], header.dim[1], header.dim[2]};
  g.voxelToWorld = header.voxelToWorld;
  return g;
}

double ScanGrid::voxelVolume() const { return std::fabs(voxelToWorld.topLeftCorner<3, 3>().determinant()); }

std::int64_t LabelMap::mappedVoxels() const {
  std::int64_t n = 0;
  for (auto v : voxelsPerRoi) n += v;
  return n;
}

std::vector<int> LabelMap::emptyRois() const {
  std::vector<int> out;
  for (std::size_t i = 0; i < voxelsPerRoi.size(); ++i)
    if (voxelsPerRoi[i] == 0) out.push_back(static_cast<int>(i));
  return out;
}

std::vector<std::int32_t> AtlasResampler::resampleLabels(const std::vector<float>& labels, const ScanGrid& from, const ScanGrid& to) {
  if (static_cast<std::int64_t>(labels.size()) < from.voxels()) throw Error(ErrorCode::Internal, "label volume smaller than its grid");
  return itkbridge::resampleLabelsNearest(labels.data(), bridgeGeometry(from), bridgeGeometry(to));
}

std::vector<std::int32_t> AtlasResampler::sphereLabels(const std::vector<std::array<double, 3>>& centres, double radiusMm, const ScanGrid& to) {
  std::vector<std::int32_t> labels(static_cast<std::size_t>(to.voxels()), 0);
  std::vector<float> bestDist(labels.size(), std::numeric_limits<float>::infinity());
  const Eigen::Matrix4d toVoxel = to.voxelToWorld.inverse();
  const Eigen::Matrix3d m = to.voxelToWorld.topLeftCorner<3, 3>();
  // Half-extent of the sphere in voxels along each axis (generous for oblique grids).
  Eigen::Vector3d reach;
  for (int j = 0; j < 3; ++j) reach(j) = radiusMm / m.col(j).norm() + 1.0;
  for (std::size_t c = 0; c < centres.size(); ++c) {
    const Eigen::Vector4d world(centres[c][0], centres[c][1], centres[c][2], 1.0);
    const Eigen::Vector4d v = toVoxel * world;
    std::array<std::int64_t, 3> lo{}, hi{};
    for (int j = 0; j < 3; ++j) {
      lo[j] = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor(v(j) - reach(j))));
      hi[j] = std::min<std::int64_t>(to.dim[j] - 1, static_cast<std::int64_t>(std::ceil(v(j) + reach(j))));
    }
    for (std::int64_t k = lo[2]; k <= hi[2]; ++k)
      for (std::int64_t j = lo[1]; j <= hi[1]; ++j)
        for (std::int64_t i = lo[0]; i <= hi[0]; ++i) {
          const Eigen::Vector3d p =
              m * Eigen::Vector3d(static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)) + to.voxelToWorld.topRightCorner<3, 1>();
          const double d = (p - world.head<3>()).norm();
          if (d > radiusMm + 1e-9) continue;
          const auto idx = static_cast<std::size_t>((k * to.dim[1] + j) * to.dim[0] + i);
          if (d < bestDist[idx]) {
            bestDist[idx] = static_cast<float>(d);
            labels[idx] = static_cast<std::int32_t>(c + 1);
          }
        }
  }
  return labels;
}

LabelMap AtlasResampler::map(const std::string& atlasId, const ScanGrid& grid) const {
  return withContext("while placing atlas " + atlasId + " on the scan grid", [&] {
    const auto& m = registry_.get(atlasId);
    LabelMap out;
    out.atlasId = atlasId;
    out.rois = registry_.labels(atlasId);
    const int n = out.roiCount();
    std::unordered_map<std::int32_t, std::int32_t> column;  // label value -> column
    for (int c = 0; c < n; ++c) column[out.rois[static_cast<std::size_t>(c)].index] = c;

    std::vector<std::int32_t> values;
    out.roiVolumeMm3.assign(static_cast<std::size_t>(n), 0.0);
    if (m.representation == AtlasRepresentation::Coordinates) {
      std::vector<std::array<double, 3>> centres;
      for (const auto& l : out.rois) centres.push_back(*l.mni);
      values = sphereLabels(centres, m.sphereRadiusMm, grid);
      // Sphere labels are 1..N in table order; map them back to the table's index values.
      for (auto& v : values)
        if (v > 0) v = out.rois[static_cast<std::size_t>(v - 1)].index;
      const double sphere = 4.0 / 3.0 * M_PI * std::pow(m.sphereRadiusMm, 3);
      for (auto& vol : out.roiVolumeMm3) vol = sphere;
    } else {
      const auto atlas = readNiftiVolume(registry_.volumeFile(atlasId));
      const ScanGrid atlasGrid = ScanGrid::of(atlas.header);
      const double atlasVoxel = atlasGrid.voxelVolume();
      for (std::int64_t i = 0; i < atlasGrid.voxels(); ++i) {
        const float x = atlas.data[static_cast<std::size_t>(i)];
        if (x == 0.0f) continue;
        auto it = column.find(static_cast<std::int32_t>(std::lround(x)));
        if (it != column.end()) out.roiVolumeMm3[static_cast<std::size_t>(it->second)] += atlasVoxel;
      }
      values = resampleLabels(std::vector<float>(atlas.data.begin(), atlas.data.begin() + atlasGrid.voxels()), atlasGrid, grid);
    }

    out.roiOfVoxel.assign(values.size(), -1);
    out.voxelsPerRoi.assign(static_cast<std::size_t>(n), 0);
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (values[i] == 0) continue;
      auto it = column.find(values[i]);
      if (it == column.end()) continue;  // a value the label table does not list
      out.roiOfVoxel[i] = it->second;
      ++out.voxelsPerRoi[static_cast<std::size_t>(it->second)];
    }
    if (out.mappedVoxels() == 0) throw Error(ErrorCode::Data, "the atlas does not overlap the scan at all (is the scan in MNI space? check its sform/qform)");
    return out;
  });
}

}  // namespace bg
