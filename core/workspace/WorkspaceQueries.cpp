#include "workspace/WorkspaceQueries.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include "errors/Error.h"
#include "workspace/Corpus.h"
#include "workspace/Workspace.h"

namespace bg {

std::optional<std::string> scanPhenotype(Workspace& ws, const std::string& contentHash, const std::string& name) {
  SQLite::Statement q(ws.db(),
                      "SELECT p.value FROM scans s JOIN sessions se ON se.id = s.session_id JOIN phenotypes p ON p.subject_id = se.subject_id "
                      "WHERE s.content_hash = ? AND p.name = ?");
  q.bind(1, contentHash);
  q.bind(2, name);
  if (q.executeStep()) return q.getColumn(0).getString();
  return std::nullopt;
}

std::vector<std::string> phenotypeNames(Workspace& ws) {
  std::vector<std::string> out;
  SQLite::Statement q(ws.db(), "SELECT name FROM phenotypes GROUP BY name ORDER BY count(*) DESC, name");
  while (q.executeStep()) out.push_back(q.getColumn(0).getString());
  return out;
}

std::vector<ScanListing> listScans(Workspace& ws, const std::vector<std::string>& columns) {
  std::vector<ScanListing> out;
  std::map<std::int64_t, std::size_t> bySubject;
  std::multimap<std::int64_t, std::size_t> rowsOfSubject;
  SQLite::Statement q(ws.db(),
                      "SELECT sc.id, su.dataset, su.subject_key, se.session_key, sc.kind, sc.path, coalesce(sc.atlas, ''), "
                      "(SELECT count(*) FROM derivatives d WHERE d.scan_id = sc.id), su.id "
                      "FROM scans sc JOIN sessions se ON se.id = sc.session_id JOIN subjects su ON su.id = se.subject_id "
                      "ORDER BY sc.id");
  while (q.executeStep()) {
    ScanListing s{q.getColumn(0).getInt64(),  q.getColumn(1).getString(), q.getColumn(2).getString(),
                  q.getColumn(3).getString(), q.getColumn(4).getString(), q.getColumn(5).getString(),
                  q.getColumn(6).getString(), q.getColumn(7).getInt(),    {}};
    rowsOfSubject.emplace(q.getColumn(8).getInt64(), out.size());
    out.push_back(std::move(s));
  }
  if (columns.empty()) return out;
  SQLite::Statement p(ws.db(), "SELECT subject_id, name, value FROM phenotypes");
  while (p.executeStep()) {
    const auto name = p.getColumn(1).getString();
    if (std::find(columns.begin(), columns.end(), name) == columns.end()) continue;
    const auto [from, to] = rowsOfSubject.equal_range(p.getColumn(0).getInt64());
    for (auto it = from; it != to; ++it) out[it->second].phenotypes[name] = p.getColumn(2).getString();
  }
  return out;
}

std::vector<DerivativeListing> scanDerivatives(Workspace& ws, std::int64_t scanId) {
  std::vector<DerivativeListing> out;
  SQLite::Statement q(ws.db(), "SELECT atlas, params_hash, fc_array, series_array FROM derivatives WHERE scan_id = ? ORDER BY atlas, created_at DESC");
  q.bind(1, scanId);
  while (q.executeStep()) out.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getString(), q.getColumn(3).getString()});
  return out;
}

Eigen::MatrixXd groupMeanFc(Workspace& ws, const nlohmann::json& manifest, int classIndex, ProgressDelegate& progress) {
  requireSingleAtlas(manifest, "a group mean");
  Eigen::MatrixXd sum;
  int n = 0;
  const auto& items = manifest.at("items");
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (classIndex >= 0 && items[i].at("class_index").get<int>() != classIndex) continue;
    if (i % 64 == 0 && progress.update("averaging FC matrices", static_cast<double>(i) / static_cast<double>(items.size()))) throw CancelledError();
    const auto fc = ws.arrays().read(items[i].at("fc_array").get<std::string>());
    if (n == 0) sum = Eigen::MatrixXd::Zero(fc.rows(), fc.cols());
    if (fc.rows() != sum.rows()) throw Error(ErrorCode::Data, "the corpus mixes FC matrices of different sizes");
    sum += fc;
    ++n;
  }
  if (n == 0) throw Error(ErrorCode::Data, "no item of class " + std::to_string(classIndex) + " in the corpus");
  return sum / n;
}

GroupMoments groupFisherZMoments(Workspace& ws, const nlohmann::json& manifest, int classIndex, ProgressDelegate& progress) {
  requireSingleAtlas(manifest, "the group comparison");
  GroupMoments m;
  const auto& items = manifest.at("items");
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].at("class_index").get<int>() != classIndex) continue;
    if (i % 64 == 0 && progress.update("reading FC matrices", static_cast<double>(i) / static_cast<double>(items.size()))) throw CancelledError();
    m.add(fisherZ(ws.arrays().read(items[i].at("fc_array").get<std::string>())));
  }
  if (m.n == 0) throw Error(ErrorCode::Data, "no item of class " + std::to_string(classIndex) + " in the corpus");
  return m;
}

int countScans(Workspace& ws) { return ws.db().execAndGet("SELECT COUNT(*) FROM scans").getInt(); }

std::optional<double> scanRepetitionTime(Workspace& ws, const std::string& path) {
  SQLite::Statement q(ws.db(), "SELECT tr FROM scans WHERE path = ? AND tr IS NOT NULL");
  q.bind(1, path);
  if (!q.executeStep()) return std::nullopt;
  return q.getColumn(0).getDouble();
}

std::optional<std::string> scanSite(Workspace& ws, const std::string& path) {
  SQLite::Statement q(ws.db(),
                      "SELECT p.value FROM scans s JOIN sessions se ON se.id = s.session_id JOIN phenotypes p ON p.subject_id = se.subject_id "
                      "WHERE s.path = ? AND p.name = 'site'");
  q.bind(1, path);
  if (!q.executeStep()) return std::nullopt;
  return q.getColumn(0).getString();
}

}  // namespace bg
