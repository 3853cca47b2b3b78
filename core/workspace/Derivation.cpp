#include "workspace/Derivation.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cerrno>
#include <fstream>
#include <map>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "atlas/AtlasRegistry.h"
#include "errors/Error.h"
#include "io/TimeSeriesFile.h"
#include "platform/Process.h"
#include "platform/Versions.h"
#include "workspace/ContentHash.h"
#include "workspace/Workspace.h"

namespace bg {

std::string pipelineParamsJson(const PipelineOptions& o) {
  nlohmann::json j = {{"clean", o.clean},
                      {"summary", o.summary == RoiSummary::Mean     ? "mean"
                                  : o.summary == RoiSummary::Median ? "median"
                                                                    : "pc1"},
                      {"connectivity", "pearson"},
                      {"pipeline_version", 1}};
  if (o.clean) {
    j["detrend_order"] = o.cleaning.detrendOrder;
    j["band_pass"] = o.cleaning.bandpass ? nlohmann::json{o.cleaning.lowHz, o.cleaning.highHz, o.cleaning.filterOrder} : nlohmann::json(nullptr);
    j["fd_threshold"] = o.cleaning.fdThreshold;
    j["zscore"] = o.cleaning.zscore;
    j["confounds"] = o.confoundStrategies;
  }
  return j.dump();
}

std::string pipelineParamsHash(const PipelineOptions& o) {
  const auto s = pipelineParamsJson(o);
  return hashBytes(s.data(), s.size()).substr(0, 16);
}

PipelineOptions pipelineOptionsFromJson(const std::string& text) {
  PipelineOptions o;
  const auto j = nlohmann::json::parse(text);
  o.clean = j.value("clean", true);
  const auto summary = j.value("summary", std::string("mean"));
  o.summary = summary == "median" ? RoiSummary::Median : summary == "pc1" ? RoiSummary::FirstPrincipalComponent : RoiSummary::Mean;
  if (o.clean) {
    o.cleaning.detrendOrder = j.value("detrend_order", o.cleaning.detrendOrder);
    const auto& bp = j.contains("band_pass") ? j.at("band_pass") : nlohmann::json(nullptr);
    o.cleaning.bandpass = !bp.is_null();
    if (o.cleaning.bandpass) {
      o.cleaning.lowHz = bp.at(0).get<double>();
      o.cleaning.highHz = bp.at(1).get<double>();
      o.cleaning.filterOrder = bp.at(2).get<int>();
    }
    o.cleaning.fdThreshold = j.value("fd_threshold", o.cleaning.fdThreshold);
    o.cleaning.zscore = j.value("zscore", o.cleaning.zscore);
    if (j.contains("confounds")) o.confoundStrategies = j.at("confounds").get<std::vector<std::string>>();
  }
  return o;
}

std::vector<ParameterSet> derivationParameterSets(Workspace& ws) {
  SQLite::Statement q(ws.db(), "SELECT params_hash, MIN(params_json), COUNT(*) AS n FROM derivatives GROUP BY params_hash ORDER BY n DESC, params_hash");
  std::vector<ParameterSet> out;
  while (q.executeStep()) out.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getInt()});
  return out;
}

std::vector<std::string> derivedAtlases(Workspace& ws) {
  SQLite::Statement q(ws.db(), "SELECT atlas, COUNT(*) AS n FROM derivatives GROUP BY atlas ORDER BY n DESC, atlas");
  std::vector<std::string> out;
  while (q.executeStep()) out.push_back(q.getColumn(0).getString());
  return out;
}

std::string describePipeline(const PipelineOptions& o) {
  if (!o.clean) return "not cleaned (raw region means), Pearson correlation";
  const auto& c = o.cleaning;
  std::string s = c.detrendOrder == 0 ? "mean removed" : c.detrendOrder == 1 ? "linear detrend" : "detrend order " + std::to_string(c.detrendOrder);
  if (c.bandpass)
    s += fmt::format(", band-pass {:g}-{:g} Hz", c.lowHz, c.highHz);
  else
    s += ", no band-pass";
  std::string confounds;
  for (const auto& strategy : o.confoundStrategies) confounds += (confounds.empty() ? "" : "+") + strategy;
  s += ", confounds " + (confounds.empty() ? std::string("none") : confounds) + " (when a confounds file is present)";
  if (c.fdThreshold > 0) s += fmt::format(", censoring FD > {:g} mm", c.fdThreshold);
  if (c.zscore) s += ", z-scored";
  return "cleaned (" + s + "), Pearson correlation";
}

std::string derivationParamsJson(Workspace& ws, const std::string& paramsHash) {
  SQLite::Statement q(ws.db(), "SELECT params_json FROM derivatives WHERE params_hash = ? LIMIT 1");
  q.bind(1, paramsHash);
  return q.executeStep() ? q.getColumn(0).getString() : std::string();
}

namespace {

struct ScanRow {
  std::int64_t id;
  std::string kind, path, hash, atlas, seriesArray, confounds;
  double tr;
};

std::vector<ScanRow> selectScans(Workspace& ws, const std::vector<std::int64_t>& ids) {
  std::vector<ScanRow> out;
  SQLite::Statement q(ws.db(),
                      "SELECT id, kind, path, content_hash, coalesce(atlas, ''), coalesce(series_array, ''), "
                      "coalesce(confounds_path, ''), coalesce(tr, 0) FROM scans ORDER BY id");
  while (q.executeStep()) {
    ScanRow r{q.getColumn(0).getInt64(),  q.getColumn(1).getString(), q.getColumn(2).getString(), q.getColumn(3).getString(),
              q.getColumn(4).getString(), q.getColumn(5).getString(), q.getColumn(6).getString(), q.getColumn(7).getDouble()};
    if (ids.empty() || std::find(ids.begin(), ids.end(), r.id) != ids.end()) out.push_back(std::move(r));
  }
  if (!ids.empty() && out.size() != ids.size()) throw Error(ErrorCode::NoInput, "some of the requested scan ids are not in the workspace");
  return out;
}

bool upToDate(Workspace& ws, std::int64_t scan, const std::string& atlas, const std::string& params, const std::string& input) {
  SQLite::Statement q(ws.db(), "SELECT input_hash, series_array, fc_array FROM derivatives WHERE scan_id = ? AND atlas = ? AND params_hash = ?");
  q.bind(1, scan);
  q.bind(2, atlas);
  q.bind(3, params);
  if (!q.executeStep()) return false;
  if (q.getColumn(0).getString() != input) return false;
  // Present and intact (checksum): a damaged or deleted array is computed again, not reported up to date.
  for (int c : {1, 2}) {
    try {
      (void)ws.arrays().map(q.getColumn(c).getString(), true);
    } catch (const Error& e) {
      spdlog::warn("scan {}, {}: {}; deriving it again", scan, atlas, e.what());
      return false;
    }
  }
  return true;
}

// A time-series scan's stored series, read again from its file when the stored copy is missing or
// damaged and the file is still the one imported (same content hash).
Eigen::MatrixXd storedSeries(Workspace& ws, const ScanRow& scan) {
  try {
    return ws.arrays().read(scan.seriesArray);
  } catch (const Error& e) {
    if (!std::filesystem::exists(scan.path) || hashFile(scan.path) != scan.hash)
      throw Error(ErrorCode::Data, std::string(e.what()) + ", and the imported file " + scan.path + " is gone or changed: import it again");
    spdlog::warn("{}; reading the series again from {}", e.what(), scan.path);
    const auto series = readRoiTimeSeries(scan.path).series;
    const auto hash = ws.arrays().put(series);
    if (hash != scan.seriesArray) {
      SQLite::Statement u(ws.db(), "UPDATE scans SET series_array = ? WHERE id = ?");
      u.bind(1, hash);
      u.bind(2, scan.id);
      u.exec();
    }
    return series;
  }
}

// derive-PID.lock marks the workspace while this process derives (what corpus create warns about);
// markers of processes that have ended are removed.
class DerivationMarker {
 public:
  explicit DerivationMarker(const std::filesystem::path& dir) : file_(dir / ("derive-" + std::to_string(::getpid()) + ".lock")) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      const auto name = e.path().filename().string();
      if (name.rfind("derive-", 0) == 0 && name.size() > 12 && name.compare(name.size() - 5, 5, ".lock") == 0 && !processExists(std::atol(name.c_str() + 7)))
        std::filesystem::remove(e.path(), ec);
    }
    if (std::filesystem::exists(file_, ec)) return;  // this process derives already (a repair inside a derive)
    // A read-only workspace: no marker, and the derivation fails at its first write, naming the file.
    owner_ = static_cast<bool>(std::ofstream(file_) << ::getpid());
  }
  ~DerivationMarker() {
    std::error_code ec;
    if (owner_) std::filesystem::remove(file_, ec);
  }

 private:
  std::filesystem::path file_;
  bool owner_ = false;
};

// A scan's claim in the workspace database while this process computes it.
void ensureClaimTable(Workspace& ws) { ws.db().exec("CREATE TABLE IF NOT EXISTS derive_claims (scan_id INTEGER PRIMARY KEY, pid INTEGER NOT NULL)"); }

// Claims `scan` for this process, or returns the live process that holds it.
std::optional<long> claimScan(Workspace& ws, std::int64_t scan) {
  SQLite::Transaction tx(ws.db(), SQLite::TransactionBehavior::IMMEDIATE);  // no other writer between the read and the write
  SQLite::Statement q(ws.db(), "SELECT pid FROM derive_claims WHERE scan_id = ?");
  q.bind(1, scan);
  if (q.executeStep()) {
    const long pid = q.getColumn(0).getInt64();
    if (pid != static_cast<long>(::getpid()) && processExists(pid)) return pid;
  }
  SQLite::Statement claim(ws.db(), "INSERT OR REPLACE INTO derive_claims (scan_id, pid) VALUES (?, ?)");
  claim.bind(1, scan);
  claim.bind(2, static_cast<std::int64_t>(::getpid()));
  claim.exec();
  tx.commit();
  return std::nullopt;
}

class ScanClaim {
 public:
  ScanClaim(Workspace& ws, std::int64_t scan) : ws_(ws), scan_(scan) {}
  ~ScanClaim() {
    try {
      SQLite::Statement q(ws_.db(), "DELETE FROM derive_claims WHERE scan_id = ? AND pid = ?");
      q.bind(1, scan_);
      q.bind(2, static_cast<std::int64_t>(::getpid()));
      q.exec();
    } catch (...) {
      // a claim that cannot be released is taken over once this process has ended
    }
  }
  ScanClaim(const ScanClaim&) = delete;
  ScanClaim& operator=(const ScanClaim&) = delete;

 private:
  Workspace& ws_;
  std::int64_t scan_;
};

}  // namespace

std::optional<long> runningDerivation(const std::filesystem::path& workspaceDir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(workspaceDir, ec)) {
    const auto name = e.path().filename().string();
    if (name.rfind("derive-", 0) != 0 || name.size() <= 12 || name.compare(name.size() - 5, 5, ".lock") != 0) continue;
    const long pid = std::atol(name.c_str() + 7);
    if (pid != static_cast<long>(::getpid()) && processExists(pid)) return pid;
  }
  return std::nullopt;
}

DeriveSummary deriveConnectomes(Workspace& ws, const AtlasRegistry& registry, const DeriveRequest& req, ProgressDelegate& progress) {
  DerivationMarker marker(ws.dir());
  const auto scans = selectScans(ws, req.scanIds);
  const auto boldAtlases = expandAtlasList(registry, req.atlases.empty() ? std::vector<std::string>{"all"} : req.atlases);
  const std::string paramsJson = pipelineParamsJson(req.options), paramsHash = pipelineParamsHash(req.options);
  DeriveSummary summary;
  bool claimTableReady = false;
  for (std::size_t i = 0; i < scans.size(); ++i) {
    const auto& scan = scans[i];
    if (progress.update("deriving scan " + std::to_string(i + 1) + " of " + std::to_string(scans.size()),
                        static_cast<double>(i) / static_cast<double>(scans.size())))
      throw CancelledError();
    const std::string inputHash = scan.hash + (scan.confounds.empty() ? "" : "+" + scan.confounds);
    std::vector<std::string> needed;
    for (const auto& a : scan.kind == "timeseries" ? std::vector<std::string>{scan.atlas} : boldAtlases)
      if (!upToDate(ws, scan.id, a, paramsHash, inputHash)) needed.push_back(a);
    if (needed.empty()) {
      ++summary.upToDate;
      continue;
    }
    if (!claimTableReady) {
      ensureClaimTable(ws);
      claimTableReady = true;
    }
    if (const auto other = claimScan(ws, scan.id)) {
      ++summary.claimedElsewhere;
      if (std::find(summary.otherProcesses.begin(), summary.otherProcesses.end(), *other) == summary.otherProcesses.end())
        summary.otherProcesses.push_back(*other);
      continue;
    }
    ScanClaim claim(ws, scan.id);
    // Another process may have finished this scan between the check above and the claim.
    needed.erase(std::remove_if(needed.begin(), needed.end(), [&](const std::string& a) { return upToDate(ws, scan.id, a, paramsHash, inputHash); }),
                 needed.end());
    if (needed.empty()) {
      ++summary.upToDate;
      continue;
    }
    try {
      std::vector<ConnectomeData> results;
      withContext("while deriving scan " + std::to_string(scan.id) + " (" + scan.path + ")", [&] {
        const std::optional<std::filesystem::path> confounds = scan.confounds.empty() ? std::nullopt : std::optional<std::filesystem::path>(scan.confounds);
        if (scan.kind == "timeseries") {
          const auto series = storedSeries(ws, scan);
          std::vector<std::string> names;
          for (Eigen::Index c = 0; c < series.cols(); ++c) names.push_back(std::to_string(c + 1));
          results.push_back(computeFromTimeSeries(scan.atlas, series, names, scan.tr, confounds, req.options));
        } else {
          ProgressRange range(progress, static_cast<double>(i) / static_cast<double>(scans.size()),
                              static_cast<double>(i + 1) / static_cast<double>(scans.size()));
          results = computeConnectomes(registry, scan.path, confounds, needed, req.options, range);
        }
      });
      // Arrays first, then the rows that name them, in one transaction.
      std::vector<std::pair<std::string, std::string>> stored;
      for (const auto& r : results) stored.emplace_back(ws.arrays().put(r.series), ws.arrays().put(r.fc));
      SQLite::Transaction tx(ws.db());
      for (std::size_t k = 0; k < results.size(); ++k) {
        SQLite::Statement ins(ws.db(),
                              "INSERT OR REPLACE INTO derivatives(scan_id, atlas, params_hash, params_json, input_hash, series_array, "
                              "fc_array, qc_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
        ins.bind(1, scan.id);
        ins.bind(2, results[k].atlasId);
        ins.bind(3, paramsHash);
        ins.bind(4, paramsJson);
        ins.bind(5, inputHash);
        ins.bind(6, stored[k].first);
        ins.bind(7, stored[k].second);
        ins.bind(8, results[k].qcJson);
        ins.exec();
      }
      tx.commit();
      ++summary.computed;
    } catch (const CancelledError&) {
      throw;
    } catch (...) {
      const Error e = currentExceptionAsError();
      if (e.code() == ErrorCode::Cancelled) throw e;
      // Out of disk space stops the batch; bad input in one scan does not stop the others.
      if (e.code() == ErrorCode::Io) throw e;
      ++summary.failed;
      summary.failures.push_back(e.what());
      spdlog::warn("{}", e.what());
    }
  }
  progress.update("done", 1.0);
  return summary;
}

std::vector<std::string> repairDerivatives(Workspace& ws, const AtlasRegistry& registry, ProgressDelegate& progress) {
  struct Group {
    std::string paramsJson;
    std::vector<std::int64_t> scans;
    std::vector<std::string> atlases;
  };
  std::map<std::string, Group> broken;  // by parameter set
  std::vector<std::string> actions;
  {
    SQLite::Statement q(ws.db(), "SELECT scan_id, atlas, params_hash, params_json, series_array, fc_array FROM derivatives ORDER BY scan_id, atlas");
    while (q.executeStep()) {
      std::string why;
      for (int c : {4, 5}) {
        if (!why.empty()) break;
        try {
          (void)ws.arrays().map(q.getColumn(c).getString(), true);
        } catch (const Error& e) {
          why = e.what();
        }
      }
      if (why.empty()) continue;
      auto& g = broken[q.getColumn(2).getString()];
      g.paramsJson = q.getColumn(3).getString();
      const auto scan = q.getColumn(0).getInt64();
      const auto atlas = q.getColumn(1).getString();
      if (std::find(g.scans.begin(), g.scans.end(), scan) == g.scans.end()) g.scans.push_back(scan);
      if (std::find(g.atlases.begin(), g.atlases.end(), atlas) == g.atlases.end()) g.atlases.push_back(atlas);
      actions.push_back("scan " + std::to_string(scan) + ", " + atlas + ": " + why);
    }
  }
  if (broken.empty()) return actions;
  std::size_t k = 0;
  for (const auto& [hash, g] : broken) {
    ProgressRange part(progress, static_cast<double>(k) / static_cast<double>(broken.size()), static_cast<double>(k + 1) / static_cast<double>(broken.size()));
    ++k;
    DeriveRequest req;
    req.scanIds = g.scans;
    req.atlases = g.atlases;
    req.options = pipelineOptionsFromJson(g.paramsJson);
    const auto summary = deriveConnectomes(ws, registry, req, part);
    actions.push_back("derived " + std::to_string(summary.computed) + " scan(s) again with parameter set " + hash.substr(0, 12) +
                      (summary.failed ? ", " + std::to_string(summary.failed) + " could not be (" + summary.failures.front() + ")" : std::string()));
  }
  return actions;
}

}  // namespace bg
