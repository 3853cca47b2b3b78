#include "fetch/DataFetch.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "errors/Error.h"
#include "io/JsonText.h"
#include "jobs/Progress.h"

namespace bg {
namespace fs = std::filesystem;
using nlohmann::json;

std::vector<DataFile> atlasDownloads(const fs::path& manifestDir, const std::vector<std::string>& only) {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(manifestDir, ec))
    if (fs::exists(entry.path() / "manifest.json")) ids.push_back(entry.path().filename().string());
  if (ec) throw Error(ErrorCode::Config, manifestDir.string() + ": " + ec.message() + " (the atlas manifests are missing)");
  std::sort(ids.begin(), ids.end());
  std::vector<DataFile> out;
  std::set<std::string> fetchable, wanted(only.begin(), only.end());
  for (const auto& id : ids) {
    const auto file = manifestDir / id / "manifest.json";
    std::ifstream in(file);
    const auto manifest = parseJsonText(std::string(std::istreambuf_iterator<char>(in), {}), "atlas manifest " + file.string());
    if (!manifest.contains("downloads")) continue;
    fetchable.insert(id);
    if (!wanted.empty() && !wanted.count(id)) continue;
    for (const auto& d : manifest.at("downloads")) {
      DataFile f;
      f.owner = id;
      f.path = d.at("path").get<std::string>();
      f.size = d.value("size", std::int64_t{-1});
      f.sha256 = d.value("sha256", std::string());
      f.url = d.value("url", std::string());
      if (d.contains("archive")) {
        f.archiveUrl = d["archive"].value("url", std::string());
        f.archiveMember = d["archive"].value("inner", std::string());
        f.archiveMember += (f.archiveMember.empty() ? "" : "/") + d["archive"].value("member", std::string());
      }
      f.derived = d.value("derived", std::string());
      f.note = d.value("note", std::string());
      f.licence = manifest.value("licence", std::string());
      if (f.path.find("..") != std::string::npos || fs::path(f.path).is_absolute())
        throw Error(ErrorCode::Config, (manifestDir / id / "manifest.json").string() + ": download path '" + f.path + "' leaves the data folder");
      out.push_back(std::move(f));
    }
  }
  for (const auto& id : wanted)
    if (!fetchable.count(id)) {
      std::string list;
      for (const auto& f : fetchable) list += (list.empty() ? "" : ", ") + f;
      throw Error(ErrorCode::Usage, "no downloads are listed for atlas '" + id + "' (fetchable: " + list + ")");
    }
  return out;
}

FetchReport fetchDataFiles(const std::vector<DataFile>& files, const fs::path& to, const DownloadOptions& options, ProgressDelegate& progress) {
  FetchReport report;
  std::int64_t total = 0, done = 0;
  for (const auto& f : files) total += std::max<std::int64_t>(f.size, 0);
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    progress.throwIfCancelled();
    const fs::path dest = to / f.path;
    const double begin = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0.0;
    done += std::max<std::int64_t>(f.size, 0);
    const double end = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
    if (fs::exists(dest)) {
      if (f.sha256.empty() || fileSha256(dest) == f.sha256) {
        ++report.present;
        continue;
      }
      report.kept.push_back(f.path + ": differs from the manifest's SHA-256; left as it is (remove it to fetch the released file)");
      continue;
    }
    ExpectedFile expected{f.url, f.size, f.sha256};
    auto fileOptions = options;
    if (f.url.empty()) {
      if (options.mirror.empty()) {
        report.manual.push_back(f.path + ": " + (!f.archiveUrl.empty() ? "inside the archive " + f.archiveUrl + " (" + f.archiveMember + "), not unpacked yet"
                                                                       : "no upstream copy (" + f.derived + ")"));
        continue;
      }
      expected.url = options.mirror + (options.mirror.back() == '/' ? "" : "/") + f.path;  // a mirror holds a data folder's layout
      fileOptions.mirror.clear();
    }
    ProgressRange part(progress, begin, end);
    try {
      report.bytes += withContext("while fetching " + f.path, [&] { return downloadFile(expected, dest, fileOptions, part); });
      ++report.fetched;
      spdlog::info("fetched {} ({} bytes, SHA-256 verified)", f.path, f.size);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::Unavailable || e.cause().rfind("cannot reach", 0) != 0) throw;
      std::string missing;
      for (std::size_t k = 0; k < files.size(); ++k)
        if (!fs::exists(to / files[k].path))
          missing += "\n  " + files[k].path +
                     (!files[k].url.empty()          ? "  <- " + files[k].url
                      : !files[k].archiveUrl.empty() ? "  <- " + files[k].archiveMember + " in " + files[k].archiveUrl
                                                     : "  <- a BrainGraph data folder (derived here, no upstream copy)");
      throw Error(ErrorCode::Unavailable, e.cause() + "; copy the files by hand into " + to.string() + ":" + missing);
    }
  }
  return report;
}

}  // namespace bg
