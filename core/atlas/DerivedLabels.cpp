#include "atlas/DerivedLabels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>

#include <Eigen/Core>
#include <Eigen/LU>

#include "atlas/AtlasRegistry.h"
#include "errors/Error.h"
#include "io/NiftiImage.h"

namespace bg {
namespace {

// A registered atlas's volume, looked up at world positions (nearest voxel).
class WorldLookup {
 public:
  WorldLookup(const AtlasRegistry& registry, const std::string& id)
      : volume_(readNiftiVolume(registry.volumeFile(id))), worldToVoxel_(volume_.header.voxelToWorld.inverse()) {}
  long at(const Eigen::Vector4d& world) const {
    const Eigen::Vector4d v = worldToVoxel_ * world;
    const auto i = std::llround(v(0)), j = std::llround(v(1)), k = std::llround(v(2));
    const auto& d = volume_.header.dim;
    if (i < 0 || j < 0 || k < 0 || i >= d[0] || j >= d[1] || k >= d[2]) return 0;
    const float x = volume_.at(i, j, k);
    return std::isfinite(x) ? std::lround(x) : 0;
  }
  // The label of the labelled voxel nearest a world position (0 when the volume has none).
  long nearest(const Eigen::Vector3d& world) const {
    double best = std::numeric_limits<double>::max();
    long label = 0;
    const auto& d = volume_.header.dim;
    for (std::int64_t k = 0; k < d[2]; ++k)
      for (std::int64_t j = 0; j < d[1]; ++j)
        for (std::int64_t i = 0; i < d[0]; ++i) {
          const float x = volume_.at(i, j, k);
          if (x == 0 || !std::isfinite(x)) continue;
          const Eigen::Vector4d w = volume_.header.voxelToWorld * Eigen::Vector4d(double(i), double(j), double(k), 1);
          const double dist = (w.head<3>() - world).squaredNorm();
          if (dist < best) best = dist, label = std::lround(x);
        }
    return label;
  }

 private:
  NiftiVolume volume_;
  Eigen::Matrix4d worldToVoxel_;
};

struct Tally {
  std::map<long, long> names;  // reference label -> voxels
  std::map<std::string, long> networks;
  long voxels = 0, inNetworkAtlas = 0;
  Eigen::Vector3d sum = Eigen::Vector3d::Zero();
};

template <class Map>
std::vector<std::pair<typename Map::key_type, long>> byCount(const Map& m) {
  std::vector<std::pair<typename Map::key_type, long>> v(m.begin(), m.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return v;
}

}  // namespace

std::string readableRegionName(std::string name) {
  std::replace(name.begin(), name.end(), '_', ' ');
  return name;
}

std::vector<AtlasLabel> deriveLabels(const AtlasManifest& m, const AtlasRegistry& registry) {
  return withContext("while deriving region names for atlas " + m.id, [&] {
    const auto& spec = m.derivedLabels.value();
    const auto volume = readNiftiVolume(registry.volumeFile(m.id));
    const WorldLookup names(registry, spec.namesFrom);
    std::map<long, std::string> nameOf;
    for (const auto& l : registry.labels(spec.namesFrom)) nameOf[l.index] = readableRegionName(l.name);
    std::optional<WorldLookup> networks;
    std::map<long, std::string> networkOf;
    if (!spec.networksFrom.empty()) {
      networks.emplace(registry, spec.networksFrom);
      for (const auto& l : registry.labels(spec.networksFrom)) networkOf[l.index] = l.network;
    }
    std::unordered_map<long, Tally> tally;
    for (int c : spec.codes) tally[c];
    const auto& d = volume.header.dim;
    for (std::int64_t k = 0; k < d[2]; ++k)
      for (std::int64_t j = 0; j < d[1]; ++j)
        for (std::int64_t i = 0; i < d[0]; ++i) {
          const float x = volume.at(i, j, k);
          if (x == 0 || !std::isfinite(x)) continue;
          auto it = tally.find(std::lround(x));
          if (it == tally.end()) continue;
          Tally& t = it->second;
          const Eigen::Vector4d w = volume.header.voxelToWorld * Eigen::Vector4d(double(i), double(j), double(k), 1);
          ++t.voxels;
          t.sum += w.head<3>();
          if (const long n = names.at(w); n != 0 && nameOf.count(n)) ++t.names[n];
          if (networks) {
            const long n = networks->at(w);
            if (auto net = networkOf.find(n); n != 0 && net != networkOf.end() && !net->second.empty()) {
              ++t.networks[net->second];
              ++t.inNetworkAtlas;
            }
          }
        }
    std::vector<AtlasLabel> out;
    out.reserve(spec.codes.size());
    for (int code : spec.codes) {
      const Tally& t = tally.at(code);
      if (t.voxels == 0) throw Error(ErrorCode::Data, "label " + std::to_string(code) + " has no voxels in " + registry.volumeFile(m.id).string());
      AtlasLabel l;
      l.index = code;
      const Eigen::Vector3d c = t.sum / static_cast<double>(t.voxels);
      l.mni = std::array<double, 3>{c(0), c(1), c(2)};
      l.hemisphere = std::fabs(c(0)) < 2.0 ? "" : (c(0) < 0 ? "L" : "R");
      const auto ranked = byCount(t.names);
      if (ranked.empty()) {  // e.g. the brainstem, which AAL does not cover: say where it is
        const long near = names.nearest(c);
        l.name = nameOf.count(near) ? "near " + nameOf.at(near) : "outside " + spec.namesFrom;
      } else {
        l.name = nameOf.at(ranked[0].first);
        long overlap = 0;
        for (const auto& r : ranked) overlap += r.second;
        if (ranked.size() > 1 && 4 * ranked[1].second >= overlap) l.name += " / " + nameOf.at(ranked[1].first);
      }
      l.name += " (#" + std::to_string(code) + ")";
      if (networks) {
        l.network = 4 * t.inNetworkAtlas < t.voxels ? std::string("Subcortical/cerebellum") : byCount(t.networks).front().first;
      }
      out.push_back(std::move(l));
    }
    return out;
  });
}

}  // namespace bg
