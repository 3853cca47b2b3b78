#include "atlas/AtlasRegistry.h"

#include <algorithm>
#include <cmath>

#include <spdlog/spdlog.h>

#include "atlas/DerivedLabels.h"
#include "errors/Error.h"
#include "io/NiftiImage.h"
#include "io/TextTable.h"

namespace bg {
namespace {
// The order of the BrainGFM paper's tables.
const std::vector<std::string> kPaperOrder = {"schaefer100", "schaefer200", "schaefer300", "aal116", "aal3v1", "shen268", "power264", "gordon333"};

int rankOf(const std::string& id) {
  auto it = std::find(kPaperOrder.begin(), kPaperOrder.end(), id);
  return it == kPaperOrder.end() ? static_cast<int>(kPaperOrder.size()) : static_cast<int>(it - kPaperOrder.begin());
}

int parseInt(const std::string& s, const TextTable& t, std::size_t row) {
  try {
    std::size_t used = 0;
    const int v = std::stoi(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  throw Error(ErrorCode::Data, "row " + std::to_string(row + 2) + " of " + t.path().string() + ": '" + s + "' is not an integer label");
}

std::string optionalCell(const TextTable& t, std::size_t row, int col) {
  if (col < 0) return {};
  const auto& v = t.cell(row, col);
  return v == "n/a" ? std::string() : v;
}
}  // namespace

AtlasRegistry AtlasRegistry::load(const std::filesystem::path& manifestDir, DataPaths data) {
  AtlasRegistry reg;
  reg.data_ = std::move(data);
  if (!std::filesystem::is_directory(manifestDir)) throw Error(ErrorCode::Config, "atlas manifest folder " + manifestDir.string() + " does not exist");
  for (const auto& entry : std::filesystem::directory_iterator(manifestDir)) {
    const auto file = entry.path() / "manifest.json";
    if (entry.is_directory() && std::filesystem::exists(file)) reg.atlases_.push_back(AtlasManifest::parse(file));
  }
  std::sort(reg.atlases_.begin(), reg.atlases_.end(),
            [](const AtlasManifest& a, const AtlasManifest& b) { return std::make_pair(rankOf(a.id), a.id) < std::make_pair(rankOf(b.id), b.id); });
  spdlog::debug("atlas registry: {} manifests from {}, data path {}", reg.atlases_.size(), manifestDir.string(), reg.data_.describe());
  return reg;
}

std::vector<const AtlasManifest*> AtlasRegistry::parcellations() const {
  std::vector<const AtlasManifest*> out;
  for (const auto& a : atlases_)
    if (a.kind != AtlasKind::Template) out.push_back(&a);
  return out;
}

std::vector<const AtlasManifest*> AtlasRegistry::paperParcellations() const {
  std::vector<const AtlasManifest*> out;
  for (const auto* m : parcellations())
    if (rankOf(m->id) < static_cast<int>(kPaperOrder.size())) out.push_back(m);
  return out;
}

bool AtlasRegistry::contains(const std::string& id) const {
  return std::any_of(atlases_.begin(), atlases_.end(), [&](const AtlasManifest& a) { return a.id == id; });
}

const AtlasManifest& AtlasRegistry::get(const std::string& id) const {
  for (const auto& a : atlases_)
    if (a.id == id) return a;
  std::string known;
  for (const auto& a : atlases_) known += (known.empty() ? "" : ", ") + a.id;
  throw Error(ErrorCode::NoInput, "unknown atlas '" + id + "' (known: " + known + ")");
}

std::filesystem::path AtlasRegistry::resolve(const std::string& relative) const { return data_.find(std::filesystem::path("atlases") / relative); }

std::filesystem::path AtlasRegistry::volumeFile(const std::string& id, const std::string& resolution) const {
  const auto& m = get(id);
  const std::string res = resolution.empty() ? m.defaultVolume() : resolution;
  auto it = m.volumes.find(res);
  if (it == m.volumes.end()) throw Error(ErrorCode::NoInput, "atlas " + id + " has no " + res + " volume");
  return resolve(it->second);
}

std::vector<AtlasLabel> AtlasRegistry::labels(const std::string& id) const {
  const auto& m = get(id);
  if (m.derivedLabels) {
    std::lock_guard lock(derived_->mutex);
    auto it = derived_->labels.find(id);
    if (it == derived_->labels.end()) it = derived_->labels.emplace(id, deriveLabels(m, *this)).first;
    return it->second;
  }
  if (!m.labelTable) return {};
  return withContext("while reading the label table of atlas " + id, [&] {
    const auto& spec = *m.labelTable;
    const auto table = TextTable::read(resolve(spec.file), spec.format == "csv" ? ',' : '\t');
    const int ci = table.requireColumn(spec.indexColumn);
    const int cn = table.requireColumn(spec.nameColumn);
    const int ch = spec.hemisphereColumn.empty() ? -1 : table.requireColumn(spec.hemisphereColumn);
    const int cw = spec.networkColumn.empty() ? -1 : table.requireColumn(spec.networkColumn);
    const int cc = spec.colorColumn.empty() ? -1 : table.columnIndex(spec.colorColumn);
    std::array<int, 3> cx{-1, -1, -1};
    for (std::size_t k = 0; k < spec.coordinateColumns.size(); ++k) cx[k] = table.requireColumn(spec.coordinateColumns[k]);
    std::vector<AtlasLabel> out;
    out.reserve(table.rows());
    for (std::size_t r = 0; r < table.rows(); ++r) {
      AtlasLabel l;
      l.index = parseInt(table.cell(r, ci), table, r);
      l.name = table.cell(r, cn);
      l.hemisphere = optionalCell(table, r, ch);
      l.network = optionalCell(table, r, cw);
      l.color = optionalCell(table, r, cc);
      if (cx[0] >= 0) {
        std::array<double, 3> xyz{};
        for (int k = 0; k < 3; ++k) {
          try {
            xyz[k] = std::stod(table.cell(r, cx[k]));
          } catch (const std::exception&) {
            throw Error(ErrorCode::Data, "row " + std::to_string(r + 2) + ": coordinate '" + table.cell(r, cx[k]) + "' is not a number");
          }
          if (!std::isfinite(xyz[k])) throw Error(ErrorCode::Data, "row " + std::to_string(r + 2) + ": coordinate is not finite");
        }
        l.mni = xyz;
      }
      out.push_back(std::move(l));
    }
    return out;
  });
}

AtlasVerification AtlasRegistry::verify(const std::string& id, ProgressDelegate& progress) const {
  const auto& m = get(id);
  AtlasVerification v;
  v.id = id;
  v.manifestRoiCount = m.roiCount;
  if (m.kind == AtlasKind::Template) {
    // A template has no labels: check that each of its files reads.
    std::size_t i = 0;
    for (const auto& [name, rel] : m.files) {
      progress.update("reading " + rel, static_cast<double>(i++) / static_cast<double>(m.files.size()));
      progress.throwIfCancelled();
      const auto path = resolve(rel);
      const auto header = readNiftiHeader(path);
      v.verifiedFile = path.string();
      v.shape = header.shapeString();
    }
    v.ok = true;
    progress.update("done", 1.0);
    return v;
  }

  progress.update("reading label table", 0.0);
  const auto table = labels(id);
  v.labelTableRows = static_cast<int>(table.size());
  std::set<int> tableSet;
  for (const auto& l : table) {
    if (!tableSet.insert(l.index).second) throw Error(ErrorCode::Data, "label table of atlas " + id + " lists label " + std::to_string(l.index) + " twice");
  }
  progress.throwIfCancelled();

  if (m.representation == AtlasRepresentation::Coordinates) {
    v.verifiedFile = resolve(m.labelTable.value().file).string();
    v.verifiedRoiCount = static_cast<int>(std::count_if(table.begin(), table.end(), [](const AtlasLabel& l) { return l.mni.has_value(); }));
    v.ok = v.verifiedRoiCount == m.roiCount;
    if (!v.ok) v.problem = "found " + std::to_string(v.verifiedRoiCount) + " coordinates, manifest says " + std::to_string(m.roiCount);
    progress.update("done", 1.0);
    return v;
  }

  const auto path = volumeFile(id);
  progress.update("reading " + path.filename().string(), 0.2);
  const auto vol = readNiftiVolume(path);
  progress.throwIfCancelled();
  v.verifiedFile = path.string();
  v.shape = vol.header.shapeString();
  if (vol.header.ndim > 3 && vol.header.dim[3] > 1)
    throw Error(ErrorCode::Data, path.string() + " is 4D (" + v.shape + "); an atlas must be a 3D label volume");
  progress.update("counting labels", 0.7);
  std::set<int> volumeSet;
  int maxLabel = 0;
  const std::size_t n = static_cast<std::size_t>(vol.header.voxelsPerVolume());
  for (std::size_t i = 0; i < n; ++i) {
    const float x = vol.data[i];
    if (x == 0.0f) continue;
    const float r = std::round(x);
    if (!std::isfinite(x) || std::fabs(x - r) > 1e-3f || r < 0)
      throw Error(ErrorCode::Data, path.string() + " holds non-integer or negative values (" + std::to_string(x) + "); not a label volume");
    const int label = static_cast<int>(r);
    volumeSet.insert(label);
    maxLabel = std::max(maxLabel, label);
  }
  v.verifiedRoiCount = static_cast<int>(volumeSet.size());
  std::set_difference(tableSet.begin(), tableSet.end(), volumeSet.begin(), volumeSet.end(), std::back_inserter(v.tableLabelsMissingInVolume));
  std::set_difference(volumeSet.begin(), volumeSet.end(), tableSet.begin(), tableSet.end(), std::back_inserter(v.volumeLabelsMissingInTable));
  std::vector<std::string> problems;
  if (v.verifiedRoiCount != m.roiCount)
    problems.push_back("volume has " + std::to_string(v.verifiedRoiCount) + " labels, manifest says " + std::to_string(m.roiCount));
  if (!v.tableLabelsMissingInVolume.empty()) problems.push_back(std::to_string(v.tableLabelsMissingInVolume.size()) + " label-table entries have no voxels");
  if (!v.volumeLabelsMissingInTable.empty())
    problems.push_back(std::to_string(v.volumeLabelsMissingInTable.size()) + " volume labels are not in the label table");
  for (int u : m.unusedLabels)
    if (volumeSet.count(u)) problems.push_back("label " + std::to_string(u) + " should be unused but has voxels");
  if (m.maxLabel > 0 && maxLabel != m.maxLabel)
    problems.push_back("largest label is " + std::to_string(maxLabel) + ", manifest says " + std::to_string(m.maxLabel));
  for (const auto& p : problems) v.problem += (v.problem.empty() ? "" : "; ") + p;
  v.ok = problems.empty();
  progress.update("done", 1.0);
  return v;
}

}  // namespace bg
