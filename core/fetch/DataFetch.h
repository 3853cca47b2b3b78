#pragma once
// The data files the workbench can fetch (every atlas manifest's "downloads" list, the ABIDE dataset
// manifest's scans) and the fetch itself: what is already there and verified is kept, the rest
// downloaded (or unpacked from its release archive) and checked.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fetch/Downloader.h"

namespace bg {

class ProgressDelegate;

// One file of a data folder, as a manifest lists it.
struct DataFile {
  std::string owner;  // atlas id
  std::string path;   // relative to a data folder: atlases/schaefer200/...
  std::int64_t size = -1;
  std::string sha256;
  std::string url;         // a direct download; empty when the file is not one
  std::string archiveUrl;  // or a member of this archive
  std::string archiveMember;
  std::string derived;  // or made by the workbench's data maintainers (how)
  std::string note;     // renamed, recompressed, ...
  std::string licence;
  // The source holds the file uncompressed; the data folder keeps it gzip-compressed (gzip bytes
  // differ between compressors, so the released content is what is checked).
  bool storedGzip = false;
  std::int64_t contentSize = -1;
  std::string contentSha256;
  // Why the released file may differ from the project's copy (whose checksums these are): such a
  // download is kept and reported instead of refused. Empty: a difference is refused.
  std::string releasedDiffers;
};

// The downloads of the atlases in `manifestDir` (`only` empty: all of them). An id without a manifest
// or without a downloads list is a usage error naming the ids that have one.
std::vector<DataFile> atlasDownloads(const std::filesystem::path& manifestDir, const std::vector<std::string>& only);

// The ABIDE I files of the dataset manifest (resources/datasets/abide1-pcp.json): the phenotype table,
// the label volume and one ROI time-series file per scan for each atlas in `atlases` (cc200, ho), of
// the scans at `sites` (empty: all). maxScans > 0 keeps that many, taken from the sites in turn so a
// small fetch still spans sites. An unknown atlas or site is a usage error naming the known ones.
std::vector<DataFile> abideDownloads(const std::filesystem::path& datasetManifest, const std::vector<std::string>& atlases,
                                     const std::vector<std::string>& sites, int maxScans);

struct FetchReport {
  int fetched = 0;  // downloaded and verified now
  int present = 0;  // already there with the right checksum
  std::int64_t bytes = 0;
  std::vector<std::string> kept;     // there with another checksum: left alone ("path: why")
  std::vector<std::string> manual;   // no download for it ("path: why")
  std::vector<std::string> differs;  // downloaded, differs from the project's copy as its manifest allows ("path: why")
};

// Fetches every file into `to`, keeping what is there and verified. A member of a release archive is
// unpacked from it (downloaded once into TO/.downloads, removed when its members are in place).
// Derived files (no upstream copy) are fetched from the mirror's copy of a data folder (MIRROR/<path>)
// when a mirror is given, else listed in `manual`. A server that cannot be reached stops the fetch with the files still missing named.
FetchReport fetchDataFiles(const std::vector<DataFile>& files, const std::filesystem::path& to, const DownloadOptions& options, ProgressDelegate& progress);

}  // namespace bg
