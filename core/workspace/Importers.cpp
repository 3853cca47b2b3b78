#include "workspace/Importers.h"

#include <set>

#include <algorithm>
#include <map>
#include <regex>

#include <SQLiteCpp/SQLiteCpp.h>
#include <spdlog/spdlog.h>

#include "errors/Error.h"
#include "io/NiftiImage.h"
#include "io/TextTable.h"
#include "io/Utf8.h"
#include "io/TimeSeriesFile.h"
#include "workspace/ContentHash.h"
#include "workspace/Workspace.h"

namespace bg {
namespace {

bool isMissing(const std::string& v) { return v.empty() || v == "n/a" || v == "NA" || v == "nan" || v == "-9999" || v == "-9999.0"; }

bool scanExists(Workspace& ws, const std::string& hash) {
  SQLite::Statement q(ws.db(), "SELECT 1 FROM scans WHERE content_hash = ?");
  q.bind(1, hash);
  return q.executeStep();
}

struct ScanRecord {
  std::int64_t sessionId;
  std::string kind, path, hash, shape, atlas, seriesArray, confounds;
  double tr = 0;
};

void insertScan(Workspace& ws, const ScanRecord& s) {
  // Stored paths end up in JSON records and reports: a name that is not UTF-8 is refused here, not there.
  if (const auto bad = firstInvalidUtf8(s.path))
    throw Error(ErrorCode::Data, "the file name " + std::string(s.path.substr(0, *bad)) + "\u2026 is not UTF-8 text (byte " + std::to_string(*bad + 1) +
                                     " of the path): rename the file and import it again");
  SQLite::Statement q(ws.db(),
                      "INSERT INTO scans(session_id, kind, path, content_hash, tr, shape, atlas, series_array, confounds_path) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, s.sessionId);
  q.bind(2, s.kind);
  q.bind(3, s.path);
  q.bind(4, s.hash);
  if (s.tr > 0)
    q.bind(5, s.tr);
  else
    q.bind(5);
  q.bind(6, s.shape);
  if (s.atlas.empty())
    q.bind(7);
  else
    q.bind(7, s.atlas);
  if (s.seriesArray.empty())
    q.bind(8);
  else
    q.bind(8, s.seriesArray);
  if (s.confounds.empty())
    q.bind(9);
  else
    q.bind(9, s.confounds);
  q.exec();
}

// Subject, session and scan rows together, or none of them.
void insertScanFor(Workspace& ws, const std::string& dataset, const std::string& subject, const std::string& session, ScanRecord s,
                   const std::map<std::string, std::string>& phenotypes = {}) {
  SQLite::Transaction tx(ws.db());
  const auto subjectId = ws.ensureSubject(dataset, subject);
  s.sessionId = ws.ensureSession(subjectId, session);
  insertScan(ws, s);
  for (const auto& [k, v] : phenotypes) ws.setPhenotype(subjectId, k, v);
  tx.commit();
}

std::string absolutePath(const std::filesystem::path& p) { return std::filesystem::absolute(p).lexically_normal().string(); }

}  // namespace

ImportSummary importAbide(Workspace& ws, const std::filesystem::path& phenotypes, const std::filesystem::path& timeseriesDir, ProgressDelegate& progress,
                          bool skipInvalid) {
  return withContext("while importing ABIDE from " + timeseriesDir.string(), [&] {
    const auto table = TextTable::read(phenotypes, ',');
    const int fileId = table.requireColumn("FILE_ID"), subId = table.requireColumn("SUB_ID"), dx = table.requireColumn("DX_GROUP"),
              site = table.requireColumn("SITE_ID");
    const int age = table.columnIndex("AGE_AT_SCAN"), sex = table.columnIndex("SEX"), fd = table.columnIndex("func_mean_fd");
    ImportSummary summary;
    // A wrong folder must not read as "739 without a file".
    if (!std::filesystem::is_directory(timeseriesDir)) throw Error(ErrorCode::NoInput, "the time-series folder does not exist");
    // The parcellation from PCP's file names, <FILE_ID>_rois_<atlas>.1D.gz (cc200, ho, aal, ...).
    std::string atlas;
    {
      std::error_code ec;
      for (const auto& entry : std::filesystem::directory_iterator(timeseriesDir, ec)) {
        const auto name = entry.path().filename().string();
        const auto at = name.find("_rois_"), end = name.rfind(".1D");
        if (at != std::string::npos && end != std::string::npos && end > at + 6) {
          atlas = name.substr(at + 6, end - at - 6);
          break;
        }
      }
    }
    if (atlas.empty()) throw Error(ErrorCode::NoInput, "the folder holds no ABIDE time-series files (<FILE_ID>_rois_<atlas>.1D or .1D.gz)");
    // Labels a classifier would learn wrong: checked over the rows that have a scan, before anything is stored.
    std::set<std::size_t> invalidRows;
    std::vector<std::string> reasons;
    {
      std::map<std::string, std::pair<std::size_t, std::string>> diagnosisOf;  // SUB_ID -> (first row, DX_GROUP)
      for (std::size_t r = 0; r < table.rows(); ++r) {
        const std::string id = table.cell(r, fileId);
        if (id == "no_filename" || !std::filesystem::exists(timeseriesDir / (id + "_rois_" + atlas + ".1D.gz"))) continue;
        const std::string d = table.cell(r, dx), sub = table.cell(r, subId);
        const auto line = std::to_string(r + 2);  // the header is line 1
        if (d != "1" && d != "2") {
          invalidRows.insert(r);
          reasons.push_back("line " + line + " (" + id + "): DX_GROUP '" + d + "' is neither 1 (autism) nor 2 (control)");
          continue;
        }
        const auto [it, first] = diagnosisOf.emplace(sub, std::make_pair(r, d));
        if (!first && it->second.second != d) {
          invalidRows.insert(r);
          invalidRows.insert(it->second.first);
          reasons.push_back("SUB_ID " + sub + ": line " + std::to_string(it->second.first + 2) + " says DX_GROUP " + it->second.second + ", line " + line +
                            " says " + d);
        }
      }
    }
    if (!invalidRows.empty()) {
      std::string list;
      for (std::size_t k = 0; k < reasons.size() && k < 5; ++k) list += (k ? "; " : "") + reasons[k];
      if (reasons.size() > 5) list += "; and " + std::to_string(reasons.size() - 5) + " more";
      if (!skipInvalid)
        throw Error(ErrorCode::Data, phenotypes.string() + ": " + std::to_string(invalidRows.size()) + " row(s) with a scan have a diagnosis a model " +
                                         "would learn wrong (" + list + "). Nothing was imported; correct the table, or give --skip-invalid to " +
                                         "import the other rows");
      summary.invalid = static_cast<int>(invalidRows.size());
      summary.notes = reasons;
    }
    SQLite::Transaction tx(ws.db());
    for (std::size_t r = 0; r < table.rows(); ++r) {
      if (r % 16 == 0 && progress.update("importing ABIDE scans", static_cast<double>(r) / static_cast<double>(table.rows()))) throw CancelledError();
      const std::string id = table.cell(r, fileId);
      const auto file = timeseriesDir / (id + "_rois_" + atlas + ".1D.gz");
      if (id == "no_filename" || !std::filesystem::exists(file)) {
        ++summary.skipped;
        continue;
      }
      if (invalidRows.count(r)) continue;
      try {
        const std::string hash = hashFile(file);
        if (scanExists(ws, hash)) {
          ++summary.alreadyPresent;
          continue;
        }
        const auto ts = readRoiTimeSeries(file);
        const auto subject = ws.ensureSubject("ABIDE_I", table.cell(r, subId));
        ScanRecord s;
        s.sessionId = ws.ensureSession(subject, "1");
        s.kind = "timeseries";
        s.path = absolutePath(file);
        s.hash = hash;
        s.shape = std::to_string(ts.series.rows()) + "x" + std::to_string(ts.series.cols());
        s.atlas = atlas;
        s.seriesArray = ws.arrays().put(ts.series);
        insertScan(ws, s);
        for (std::size_t c = 0; c < table.columns().size(); ++c) {
          const auto& name = table.columns()[c];
          const auto& v = table.cell(r, static_cast<int>(c));
          if (name.rfind("Unnamed", 0) == 0 || isMissing(v)) continue;
          ws.setPhenotype(subject, name, v);
        }
        // Canonical names every corpus and view can rely on.
        const std::string d = table.cell(r, dx);
        if (d == "1" || d == "2") ws.setPhenotype(subject, "diagnosis", d == "1" ? "autism" : "control");
        ws.setPhenotype(subject, "site", table.cell(r, site));
        if (age >= 0 && !isMissing(table.cell(r, age))) ws.setPhenotype(subject, "age", table.cell(r, age));
        if (sex >= 0 && (table.cell(r, sex) == "1" || table.cell(r, sex) == "2"))
          ws.setPhenotype(subject, "sex", table.cell(r, sex) == "1" ? "male" : "female");
        if (fd >= 0 && !isMissing(table.cell(r, fd))) ws.setPhenotype(subject, "mean_fd", table.cell(r, fd));
        ++summary.imported;
      } catch (const Error& e) {
        summary.problems.push_back(e.what());
      }
    }
    tx.commit();
    progress.update("done", 1.0);
    return summary;
  });
}

ImportSummary importBids(Workspace& ws, const std::filesystem::path& root, ProgressDelegate& progress) {
  return withContext("while importing the BIDS folder " + root.string(), [&] {
    if (!std::filesystem::is_directory(root)) throw Error(ErrorCode::NoInput, "folder does not exist");
    static const std::regex boldRe(R"((sub-[A-Za-z0-9]+)(?:_(ses-[A-Za-z0-9]+))?(.*)_space-MNI152[A-Za-z0-9]*(?:_res-[0-9]+)?_desc-preproc_bold\.nii(\.gz)?)");
    std::vector<std::filesystem::path> bolds;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root))
      if (e.is_regular_file() && std::regex_match(e.path().filename().string(), boldRe)) bolds.push_back(e.path());
    std::sort(bolds.begin(), bolds.end());
    // participants.tsv: in the folder (raw BIDS) or its parent (fMRIPrep derivatives inside a dataset).
    std::map<std::string, std::map<std::string, std::string>> participants;
    for (const auto& p : {root / "participants.tsv", root.parent_path() / "participants.tsv"}) {
      if (!std::filesystem::exists(p)) continue;
      const auto t = TextTable::read(p, '\t');
      const int pid = t.requireColumn("participant_id");
      for (std::size_t r = 0; r < t.rows(); ++r)
        for (std::size_t c = 0; c < t.columns().size(); ++c)
          if (static_cast<int>(c) != pid && !isMissing(t.cell(r, static_cast<int>(c))))
            participants[t.cell(r, pid)][t.columns()[c]] = t.cell(r, static_cast<int>(c));
      break;
    }
    ImportSummary summary;
    const std::string dataset = root.filename().empty() ? root.parent_path().filename().string() : root.filename().string();
    for (std::size_t i = 0; i < bolds.size(); ++i) {
      if (progress.update("importing " + bolds[i].filename().string(), static_cast<double>(i) / static_cast<double>(bolds.size()))) throw CancelledError();
      try {
        std::smatch m;
        const std::string name = bolds[i].filename().string();
        std::regex_match(name, m, boldRe);
        const std::string sub = m[1].str(), ses = m[2].matched ? m[2].str() : "1";
        const std::string hash = hashFile(bolds[i]);
        if (scanExists(ws, hash)) {
          ++summary.alreadyPresent;
          continue;
        }
        const auto header = readNiftiHeader(bolds[i]);
        const std::string prefix = sub + (m[2].matched ? "_" + m[2].str() : "") + m[3].str();
        const auto confounds = bolds[i].parent_path() / (prefix + "_desc-confounds_timeseries.tsv");
        ScanRecord s;
        s.kind = "bold";
        s.path = absolutePath(bolds[i]);
        s.hash = hash;
        s.shape = header.shapeString();
        s.tr = header.repetitionTime;
        if (std::filesystem::exists(confounds)) s.confounds = absolutePath(confounds);
        const auto it = participants.find(sub);
        insertScanFor(ws, dataset, sub, ses, s, it == participants.end() ? std::map<std::string, std::string>{} : it->second);
        ++summary.imported;
      } catch (const Error& e) {
        summary.problems.push_back(e.what());
      }
    }
    progress.update("done", 1.0);
    return summary;
  });
}

ImportSummary importFiles(Workspace& ws, const std::vector<std::filesystem::path>& files, const std::string& dataset, const std::string& subject,
                          const std::string& atlas, ProgressDelegate& progress) {
  ImportSummary summary;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    if (progress.update("importing " + f.filename().string(), static_cast<double>(i) / static_cast<double>(files.size()))) throw CancelledError();
    try {
      withContext("while importing " + f.string(), [&] {
        const std::string hash = hashFile(f);
        if (scanExists(ws, hash)) {
          ++summary.alreadyPresent;
          return;
        }
        std::string name = f.filename().string();
        const bool nifti = name.find(".nii") != std::string::npos;
        ScanRecord s;
        s.path = absolutePath(f);
        s.hash = hash;
        if (nifti) {
          const auto h = readNiftiHeader(f);
          if (h.ndim < 4 || h.volumes() < 2) throw Error(ErrorCode::Data, "a 3D image (" + h.shapeString() + "); a 4D BOLD series is needed");
          s.kind = "bold";
          s.shape = h.shapeString();
          s.tr = h.repetitionTime;
        } else {
          const auto ts = readRoiTimeSeries(f);
          s.kind = "timeseries";
          s.shape = std::to_string(ts.series.rows()) + "x" + std::to_string(ts.series.cols());
          s.atlas = atlas;
          s.seriesArray = ws.arrays().put(ts.series);
        }
        insertScanFor(ws, dataset, subject.empty() ? f.stem().string() : subject, "1", s);
        ++summary.imported;
      });
    } catch (const Error& e) {
      summary.problems.push_back(e.what());
    }
  }
  progress.update("done", 1.0);
  return summary;
}

}  // namespace bg
