#include "atlas/AtlasManifest.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "errors/Error.h"

namespace bg {
using nlohmann::json;

std::string_view atlasKindName(AtlasKind k) {
  switch (k) {
    case AtlasKind::Functional:
      return "functional";
    case AtlasKind::Anatomical:
      return "anatomical";
    case AtlasKind::Template:
      return "template";
  }
  return "?";
}

std::string AtlasManifest::defaultVolume() const {
  if (volumes.count("2mm")) return "2mm";
  return volumes.empty() ? std::string() : volumes.begin()->first;
}

AtlasManifest AtlasManifest::parse(const std::filesystem::path& manifestFile) {
  return withContext("while reading atlas manifest " + manifestFile.string(), [&] {
    std::ifstream in(manifestFile);
    if (!in) throw Error(ErrorCode::NoInput, "cannot open file");
    json j;
    try {
      j = json::parse(in);
    } catch (const json::exception& e) {
      throw Error(ErrorCode::Config, std::string("not valid JSON: ") + e.what());
    }
    AtlasManifest m;
    m.manifestFile = manifestFile;
    try {
      if (j.value("schema", 0) != 1) throw Error(ErrorCode::Config, "unsupported manifest schema (expected 1)");
      m.id = j.at("id").get<std::string>();
      m.displayName = j.at("display_name").get<std::string>();
      const auto kind = j.at("kind").get<std::string>();
      if (kind == "functional")
        m.kind = AtlasKind::Functional;
      else if (kind == "anatomical")
        m.kind = AtlasKind::Anatomical;
      else if (kind == "template")
        m.kind = AtlasKind::Template;
      else
        throw Error(ErrorCode::Config, "kind '" + kind + "' is not functional, anatomical or template");
      const auto rep = j.value("representation", std::string("volume"));
      if (rep == "volume")
        m.representation = AtlasRepresentation::Volume;
      else if (rep == "coordinates")
        m.representation = AtlasRepresentation::Coordinates;
      else
        throw Error(ErrorCode::Config, "representation '" + rep + "' is not volume or coordinates");
      m.roiCount = j.at("roi_count").get<int>();
      m.space = j.value("space", std::string());
      if (j.contains("volumes")) m.volumes = j.at("volumes").get<std::map<std::string, std::string>>();
      if (j.contains("files")) m.files = j.at("files").get<std::map<std::string, std::string>>();
      if (j.contains("label_table")) {
        const auto& t = j.at("label_table");
        LabelTableSpec s;
        s.file = t.at("file").get<std::string>();
        s.format = t.value("format", s.format);
        s.indexColumn = t.value("index_column", s.indexColumn);
        s.nameColumn = t.value("name_column", s.nameColumn);
        s.hemisphereColumn = t.value("hemisphere_column", std::string());
        s.networkColumn = t.value("network_column", std::string());
        s.colorColumn = t.value("color_column", std::string());
        if (t.contains("coordinate_columns")) s.coordinateColumns = t.at("coordinate_columns").get<std::vector<std::string>>();
        if (s.format != "tsv" && s.format != "csv") throw Error(ErrorCode::Config, "label table format must be tsv or csv");
        if (!s.coordinateColumns.empty() && s.coordinateColumns.size() != 3)
          throw Error(ErrorCode::Config, "coordinate_columns must name exactly three columns");
        m.labelTable = s;
      }
      if (j.contains("derived_labels")) {
        const auto& d = j.at("derived_labels");
        DerivedLabelsSpec s;
        s.codes = d.at("codes").get<std::vector<int>>();
        s.namesFrom = d.at("names_from").get<std::string>();
        s.networksFrom = d.value("networks_from", std::string());
        m.derivedLabels = s;
      }
      m.unusedLabels = j.value("unused_labels", std::vector<int>{});
      m.maxLabel = j.value("max_label", 0);
      m.sphereRadiusMm = j.value("sphere_radius_mm", 0.0);
      m.networks = j.value("networks", std::vector<std::string>{});
      m.notes = j.value("notes", std::string());
      m.citation = j.value("citation", std::string());
      m.licence = j.value("licence", std::string());
      m.source = j.value("source", std::string());
    } catch (const json::exception& e) {
      throw Error(ErrorCode::Config, std::string("missing or wrong field: ") + e.what());
    }
    if (m.kind != AtlasKind::Template) {
      if (m.roiCount <= 0) throw Error(ErrorCode::Config, "roi_count must be positive");
      if (!m.labelTable && !m.derivedLabels) throw Error(ErrorCode::Config, "a parcellation needs a label_table or derived_labels");
      if (m.derivedLabels && static_cast<int>(m.derivedLabels->codes.size()) != m.roiCount)
        throw Error(ErrorCode::Config,
                    "derived_labels lists " + std::to_string(m.derivedLabels->codes.size()) + " codes, roi_count says " + std::to_string(m.roiCount));
      if (m.representation == AtlasRepresentation::Volume && m.volumes.empty())
        throw Error(ErrorCode::Config, "a volume atlas needs at least one entry in volumes");
      if (m.representation == AtlasRepresentation::Coordinates && (m.labelTable->coordinateColumns.empty() || m.sphereRadiusMm <= 0))
        throw Error(ErrorCode::Config, "a coordinate atlas needs coordinate_columns and sphere_radius_mm");
    }
    if (m.manifestFile.parent_path().filename() != m.id) throw Error(ErrorCode::Config, "id '" + m.id + "' does not match its folder name");
    return m;
  });
}

}  // namespace bg
