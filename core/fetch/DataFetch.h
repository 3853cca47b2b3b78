#pragma once
// The data files the workbench can fetch (every atlas manifest's "downloads" list) and the fetch
// itself: what is already there and verified is kept, the rest downloaded and checked.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fetch/Downloader.h"

namespace bg {

class ProgressDelegate;

// One file of a data folder, as a manifest lists it.
struct DataFile {
  std::string owner;         // atlas id
  std::string path;          // relative to a data folder: atlases/schaefer200/...
  std::int64_t size = -1;
  std::string sha256;
  std::string url;           // a direct download; empty when the file is not one
  std::string archiveUrl;    // or a member of this archive
  std::string archiveMember;
  std::string derived;       // or made by the workbench's data maintainers (how)
  std::string note;          // renamed, recompressed, ...
  std::string licence;
};

// The downloads of the atlases in `manifestDir` (`only` empty: all of them). An id without a manifest
// or without a downloads list is a usage error naming the ids that have one.
std::vector<DataFile> atlasDownloads(const std::filesystem::path& manifestDir, const std::vector<std::string>& only);

struct FetchReport {
  int fetched = 0;     // downloaded and verified now
  int present = 0;     // already there with the right checksum
  std::int64_t bytes = 0;
  std::vector<std::string> kept;    // there with another checksum: left alone ("path: why")
  std::vector<std::string> manual;  // no download for it ("path: why")
};

// Fetches every file into `to`, keeping what is there and verified. Files without a direct URL are
// fetched from the mirror's copy of a data folder (MIRROR/<path>) when a mirror is given, else listed
// in `manual`. A server that cannot be reached stops the fetch with the files still missing named.
FetchReport fetchDataFiles(const std::vector<DataFile>& files, const std::filesystem::path& to, const DownloadOptions& options,
                           ProgressDelegate& progress);

}  // namespace bg
