#pragma once
// What atlases/<id>/manifest.json says about one atlas. Paths are relative to
// <data root>/atlases/ and resolved through the data search path.
#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bg {

enum class AtlasKind { Functional, Anatomical, Template };
enum class AtlasRepresentation { Volume, Coordinates };

struct LabelTableSpec {
  std::string file;
  std::string format = "tsv";
  std::string indexColumn = "index";
  std::string nameColumn = "name";
  std::string hemisphereColumn;
  std::string networkColumn;
  std::vector<std::string> coordinateColumns;  // x, y, z in MNI mm
  std::string colorColumn;
};

// Labels computed from other atlases, for label volumes that come without a table (ABIDE's CC200 and
// Harvard-Oxford): each code is named by the regions of `namesFrom` it overlaps most and carries the
// network of its largest overlap with `networksFrom`.
struct DerivedLabelsSpec {
  std::vector<int> codes;  // in column order
  std::string namesFrom;
  std::string networksFrom;
};

struct AtlasManifest {
  std::string id;
  std::string displayName;
  AtlasKind kind = AtlasKind::Functional;
  AtlasRepresentation representation = AtlasRepresentation::Volume;
  int roiCount = 0;
  std::string space;
  std::map<std::string, std::string> volumes;  // resolution ("2mm") -> file
  std::map<std::string, std::string> files;    // other named files (template)
  std::optional<LabelTableSpec> labelTable;
  std::optional<DerivedLabelsSpec> derivedLabels;  // instead of a label table
  std::vector<int> unusedLabels;
  int maxLabel = 0;  // 0: not stated
  double sphereRadiusMm = 0.0;
  std::vector<std::string> networks;
  std::string notes, citation, licence, source;
  std::filesystem::path manifestFile;

  // Throws bg::Error(Config) naming the manifest file when a field is missing or wrong.
  static AtlasManifest parse(const std::filesystem::path& manifestFile);
  std::string defaultVolume() const;  // "2mm" when present, else the first listed
};

std::string_view atlasKindName(AtlasKind k);

struct AtlasLabel {
  int index = 0;  // value in the volume (or ROI number for coordinate atlases)
  std::string name;
  std::string hemisphere;
  std::string network;
  std::optional<std::array<double, 3>> mni;
  std::string color;
};

}  // namespace bg
