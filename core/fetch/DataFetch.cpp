#include "fetch/DataFetch.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>

#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <zlib.h>

#include "errors/Error.h"
#include "io/AtomicFile.h"
#include "io/JsonText.h"
#include "io/Sha256.h"
#include "io/ZipArchive.h"
#include "jobs/Progress.h"
#include "platform/Strings.h"

namespace bg {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json readManifest(const fs::path& file, const std::string& what) {
  std::ifstream in(file);
  if (!in) throw Error(ErrorCode::Config, file.string() + ": cannot read the " + what);
  return parseJsonText(std::string(std::istreambuf_iterator<char>(in), {}), what + " " + file.string());
}

void checkInside(const std::string& path, const fs::path& manifest) {
  if (path.find("..") != std::string::npos || fs::path(path).is_absolute())
    throw Error(ErrorCode::Config, manifest.string() + ": download path '" + path + "' leaves the data folder");
}

// The manifest's fields of one file (path, size, sha256, url or archive or derived, note, stored...).
DataFile dataFileOf(const json& d) {
  DataFile f;
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
  f.storedGzip = d.value("stored", std::string()) == "gzip";
  f.contentSize = d.value("content_size", std::int64_t{-1});
  f.contentSha256 = d.value("content_sha256", std::string());
  f.releasedDiffers = d.value("released_differs", std::string());
  return f;
}

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) text.replace(at, from.size(), to);
  return text;
}

std::string gzipBytes(const std::uint8_t* data, std::size_t size, const std::string& what) {
  z_stream z{};
  // windowBits 15 + 16: a gzip wrapper with no name and no time stamp.
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw Error(ErrorCode::Internal, "zlib cannot start");
  std::string out(deflateBound(&z, static_cast<uLong>(size)), '\0');
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw Error(ErrorCode::Internal, "cannot gzip " + what);
  return out;
}

std::string readAll(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorCode::Io, "cannot read " + file.string());
  return {std::istreambuf_iterator<char>(in), {}};
}

// Whether a file already in the data folder is the manifest's: its checksum, or (kept compressed) its
// content's, or any copy when the released file may differ from the project's.
bool isVerifiedCopy(const DataFile& f, const fs::path& dest) {
  if (f.sha256.empty() || !f.releasedDiffers.empty()) return true;
  if (fileSha256(dest) == f.sha256) return true;
  return f.storedGzip && !f.contentSha256.empty() && gzipContentSha256(dest).sha256 == f.contentSha256;
}

// The released bytes (a download or an archive member) checked and written as the data folder keeps them.
void storeReleased(const DataFile& f, const std::uint8_t* data, std::size_t size, const fs::path& dest, const std::string& source, FetchReport& report) {
  const std::string expected = f.storedGzip ? f.contentSha256 : f.sha256;
  const std::string found = sha256Hex(data, size);
  if (!expected.empty() && found != expected) {
    if (f.releasedDiffers.empty())
      throw Error(ErrorCode::Data,
                  source + ": SHA-256 " + found + " differs from the manifest's " + expected + " (a changed or damaged file); nothing was written");
    report.differs.push_back(f.path + ": " + f.releasedDiffers);
  }
  fs::create_directories(dest.parent_path());
  const std::string bytes = f.storedGzip ? gzipBytes(data, size, f.path) : std::string(reinterpret_cast<const char*>(data), size);
  writeFileAtomically(dest, [&](std::ostream& out) { out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

// One member (INNER/MEMBER for a zip inside the zip) of a downloaded release archive.
std::vector<std::uint8_t> unpackMember(const fs::path& archive, const std::string& url, const std::string& memberPath) {
  const std::string bytes = readAll(archive);
  ZipArchive outer(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), url);
  std::string inner, member = memberPath;
  if (const auto slash = memberPath.find('/');
      slash != std::string::npos && memberPath.substr(0, slash).size() > 4 && memberPath.compare(slash - 4, 4, ".zip") == 0) {
    inner = memberPath.substr(0, slash);
    member = memberPath.substr(slash + 1);
  }
  auto entryOf = [&](const ZipArchive& zip, const std::string& name, const std::string& where) {
    const auto entry = zip.find(name);
    if (entry.empty()) throw Error(ErrorCode::Data, where + " holds no single entry named " + name + " (has the release changed?)");
    return entry;
  };
  constexpr std::uint64_t kLimit = 1ull << 31;
  if (inner.empty()) return outer.read(entryOf(outer, member, url), kLimit);
  const auto innerBytes = outer.read(entryOf(outer, inner, url), kLimit);
  ZipArchive nested(innerBytes.data(), innerBytes.size(), url + " > " + inner);
  return nested.read(entryOf(nested, member, url + " > " + inner), kLimit);
}

std::string archiveFileName(const std::string& url) {
  auto name = url.substr(url.find_last_of('/') + 1);
  return name.empty() ? std::string("archive.zip") : name;
}

}  // namespace

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
    const auto manifest = readManifest(file, "atlas manifest");
    if (!manifest.contains("downloads")) continue;
    fetchable.insert(id);
    if (!wanted.empty() && !wanted.count(id)) continue;
    for (const auto& d : manifest.at("downloads")) {
      DataFile f = dataFileOf(d);
      f.owner = id;
      f.licence = manifest.value("licence", std::string());
      checkInside(f.path, file);
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

std::vector<DataFile> abideDownloads(const fs::path& datasetManifest, const std::vector<std::string>& atlases, const std::vector<std::string>& sites,
                                     int maxScans) {
  const auto manifest = readManifest(datasetManifest, "dataset manifest");
  const auto& known = manifest.at("atlases");
  auto knownList = [&] {
    std::string list;
    for (const auto& [id, a] : known.items()) list += (list.empty() ? "" : ", ") + id;
    return list;
  };
  if (atlases.empty()) throw Error(ErrorCode::Usage, "name at least one atlas of the ABIDE data (" + knownList() + ")");
  for (const auto& id : atlases)
    if (!known.contains(id)) throw Error(ErrorCode::Usage, "the ABIDE data has no atlas '" + id + "' (fetchable: " + knownList() + ")");
  const std::string licence = manifest.value("licence", std::string());
  // The scans wanted, by site, in the manifest's order.
  std::map<std::string, std::vector<const json*>> bySite;
  for (const auto& scan : manifest.at("scans")) bySite[scan.at("site").get<std::string>()].push_back(&scan);
  for (const auto& site : sites)
    if (!bySite.count(site)) {
      std::string list;
      for (const auto& [name, scans] : bySite) list += (list.empty() ? "" : ", ") + name;
      throw Error(ErrorCode::Usage, "the ABIDE data has no site '" + site + "' (sites: " + list + ")");
    }
  std::vector<std::vector<const json*>> queues;
  for (const auto& [site, scans] : bySite)
    if (sites.empty() || std::find(sites.begin(), sites.end(), site) != sites.end()) queues.push_back(scans);
  std::vector<const json*> chosen;
  for (std::size_t round = 0;; ++round) {  // the sites in turn, so a few scans still span sites
    bool any = false;
    for (const auto& q : queues)
      if (round < q.size()) {
        any = true;
        if (maxScans <= 0 || static_cast<int>(chosen.size()) < maxScans) chosen.push_back(q[round]);
      }
    if (!any || (maxScans > 0 && static_cast<int>(chosen.size()) >= maxScans)) break;
  }
  std::sort(chosen.begin(), chosen.end(), [](const json* a, const json* b) { return a->at("file_id") < b->at("file_id"); });
  std::vector<DataFile> out;
  for (const auto& id : atlases) {
    const auto& a = known.at(id);
    for (const auto& d : a.at("files")) {
      DataFile f = dataFileOf(d);
      f.owner = "abide1-" + id;
      f.licence = licence;
      checkInside(f.path, datasetManifest);
      if (std::none_of(out.begin(), out.end(), [&](const DataFile& o) { return o.path == f.path; })) out.push_back(std::move(f));
    }
    for (const json* scan : chosen) {
      const auto& file = scan->at("files");
      if (!file.contains(id)) continue;
      const auto fileId = scan->at("file_id").get<std::string>();
      json d = file.at(id);
      d["path"] = replaceAll(a.at("path").get<std::string>(), "{file_id}", fileId);
      d["url"] = replaceAll(a.at("url").get<std::string>(), "{file_id}", fileId);
      d["stored"] = a.value("stored", std::string());
      d["note"] = a.value("note", std::string());
      if (a.contains("released_differs")) d["released_differs"] = a["released_differs"];
      DataFile f = dataFileOf(d);
      f.owner = "abide1-" + id;
      f.licence = licence;
      checkInside(f.path, datasetManifest);
      out.push_back(std::move(f));
    }
  }
  return out;
}

FetchReport fetchDataFiles(const std::vector<DataFile>& files, const fs::path& to, const DownloadOptions& options, ProgressDelegate& progress) {
  FetchReport report;
  std::int64_t total = 0, done = 0;
  for (const auto& f : files) total += std::max<std::int64_t>(f.size, 0);
  std::map<std::string, fs::path> archives;  // archive URL -> its download in TO/.downloads
  const fs::path cache = to / ".downloads";
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    progress.throwIfCancelled();
    const fs::path dest = to / f.path;
    const double begin = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0.0;
    done += std::max<std::int64_t>(f.size, 0);
    const double end = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
    if (fs::exists(dest)) {
      if (isVerifiedCopy(f, dest)) {
        ++report.present;
        continue;
      }
      report.kept.push_back(f.path + ": differs from the manifest's SHA-256; left as it is (remove it to fetch the released file)");
      continue;
    }
    if (f.url.empty() && f.archiveUrl.empty() && options.mirror.empty()) {
      report.manual.push_back(f.path + ": no upstream copy (" + f.derived + ")");
      continue;
    }
    ProgressRange part(progress, begin, end);
    try {
      withContext("while fetching " + f.path, [&] {
        if (!f.archiveUrl.empty()) {
          auto& archive = archives[f.archiveUrl];
          if (archive.empty()) {
            archive = cache / archiveFileName(f.archiveUrl);
            if (!fs::exists(archive)) report.bytes += downloadFile({f.archiveUrl, -1, ""}, archive, options, part);
          }
          const auto bytes = unpackMember(archive, f.archiveUrl, f.archiveMember);
          storeReleased(f, bytes.data(), bytes.size(), dest, f.archiveUrl + " > " + f.archiveMember, report);
          return;
        }
        ExpectedFile expected{f.url, f.releasedDiffers.empty() ? f.size : -1, f.releasedDiffers.empty() ? f.sha256 : ""};
        auto fileOptions = options;
        if (f.url.empty()) {  // a derived file: the mirror's copy of a data folder
          expected.url = options.mirror + (options.mirror.back() == '/' ? "" : "/") + f.path;
          fileOptions.mirror.clear();
        }
        if (!f.storedGzip) {
          report.bytes += downloadFile(expected, dest, fileOptions, part);
          if (!f.releasedDiffers.empty() && !f.sha256.empty() && fileSha256(dest) != f.sha256) report.differs.push_back(f.path + ": " + f.releasedDiffers);
          return;
        }
        // Released uncompressed: downloaded beside the destination (resumable), checked, compressed.
        fs::path plain = dest;
        plain.replace_extension();
        if (plain == dest) plain += ".released";
        expected.size = f.releasedDiffers.empty() ? f.contentSize : -1;
        expected.sha256 = f.releasedDiffers.empty() ? f.contentSha256 : "";
        report.bytes += downloadFile(expected, plain, fileOptions, part);
        const std::string bytes = readAll(plain);
        storeReleased(f, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), dest, expected.url, report);
        fs::remove(plain);
      });
      ++report.fetched;
      spdlog::info("fetched {} ({} bytes{})", f.path, fs::file_size(dest), f.sha256.empty() ? "" : ", SHA-256 verified");
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
  // Every member is in place: the archives are no longer needed.
  std::error_code ec;
  for (const auto& [url, archive] : archives) fs::remove(archive, ec);
  if (fs::is_empty(cache, ec)) fs::remove(cache, ec);
  return report;
}

}  // namespace bg
