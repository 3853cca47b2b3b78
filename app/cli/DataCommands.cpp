#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "CliContext.h"
#include "Commands.h"
#include "errors/Error.h"
#include "fetch/DataFetch.h"
#include "platform/Strings.h"
#include "settings/UserDirs.h"

namespace bg::cli {
namespace {

struct FetchArgs {
  std::string only, to, mirror;
  int attempts = 4;
  std::string atlases = "cc200", sites;  // data fetch abide
  int maxScans = 0;
};

int runFetch(CliContext& ctx, const FetchArgs& a, const std::vector<DataFile>& files) {
  const std::filesystem::path to = a.to.empty() ? userFetchedDataDir() : std::filesystem::path(a.to);
  DownloadOptions options;
  options.attempts = a.attempts;
  options.mirror = a.mirror;
  if (options.mirror.empty())
    if (const char* env = std::getenv("BRAINGRAPH_DATA_MIRROR"); env && *env) options.mirror = env;
  // Each source's terms, once, before anything is downloaded.
  std::map<std::string, std::string> licences;
  for (const auto& f : files) licences.emplace(f.owner, f.licence);
  for (const auto& [id, licence] : licences) std::fprintf(stderr, "%s\n", fmt::format("{:<12} licence: {}", id, licence).c_str());
  FetchReport report;
  ctx.runJob("data fetch", [&](JobContext& job) { report = fetchDataFiles(files, to, options, job); });
  std::printf("%s\n", fmt::format("fetched {} file(s) ({:.1f} MB), {} already present and verified, into {}", report.fetched,
                                  static_cast<double>(report.bytes) / 1e6, report.present, to.string())
                          .c_str());
  for (const auto& k : report.kept) std::printf("kept: %s\n", k.c_str());
  for (const auto& d : report.differs) std::printf("differs from the project's copy (kept): %s\n", d.c_str());
  for (const auto& m : report.manual) std::printf("not fetched: %s\n", m.c_str());
  if (!report.manual.empty())
    std::printf("%s\n", fmt::format("{} file(s) have no direct download: copy them from a BrainGraph data folder into {} "
                                    "(or give --mirror with a server that holds one)",
                                    report.manual.size(), to.string())
                            .c_str());
  return 0;
}

int runFetchAtlases(CliContext& ctx, const FetchArgs& a) { return runFetch(ctx, a, atlasDownloads(DataPaths::manifestDir(), splitList(a.only))); }

int runFetchAbide(CliContext& ctx, const FetchArgs& a) {
  return runFetch(ctx, a, abideDownloads(DataPaths::resourceDir() / "datasets" / "abide1-pcp.json", splitList(a.atlases), splitList(a.sites), a.maxScans));
}

}  // namespace

void addDataCommands(CLI::App& app, Action& action) {
  auto* data = app.add_subcommand("data", "Atlases, templates and example data from their official sources, verified by SHA-256");
  data->require_subcommand(1);
  auto* fetch = data->add_subcommand("fetch", "Download data files (resumable; kept files are checked, not fetched again)");
  fetch->require_subcommand(1);
  auto a = std::make_shared<FetchArgs>();
  auto* atlases = fetch->add_subcommand("atlases", "The atlases' volumes, label tables and the MNI152 template");
  atlases->add_option("--only", a->only, "Only these atlas ids, comma-separated (default: every atlas with downloads)");
  atlases->add_option("--to", a->to, "Data folder to fill (default: the user data folder, which joins the data path)");
  atlases->add_option("--mirror", a->mirror,
                      "Replace every URL's scheme and host with this one (a local copy of the servers; also BRAINGRAPH_DATA_MIRROR); "
                      "files without a direct download are read from MIRROR/<path>");
  atlases->add_option("--attempts", a->attempts, "Tries per file (1 to 20); a dropped connection resumes")->check(CLI::Range(1, 20))->capture_default_str();
  atlases->callback([&action, a] { action = [a](CliContext& ctx) { return runFetchAtlases(ctx, *a); }; });

  auto b = std::make_shared<FetchArgs>();
  auto* abide = fetch->add_subcommand("abide",
                                      "ABIDE I ROI time series and phenotypes from the Preprocessed Connectomes Project "
                                      "(non-commercial research use)");
  abide->add_option("--atlas", b->atlases, "Parcellations, comma-separated: cc200 (band-passed, global signal regressed), ho (no GSR)")->capture_default_str();
  abide->add_option("--sites", b->sites, "Only these sites (SITE_ID), comma-separated (default: all 15)");
  abide->add_option("--max-scans", b->maxScans, "At most this many scans, taken from the sites in turn (default: all)")->check(CLI::NonNegativeNumber);
  abide->add_option("--to", b->to, "Data folder to fill (default: the user data folder, which joins the data path)");
  abide->add_option("--mirror", b->mirror, "Replace every URL's scheme and host with this one (also BRAINGRAPH_DATA_MIRROR)");
  abide->add_option("--attempts", b->attempts, "Tries per file (1 to 20); a dropped connection resumes")->check(CLI::Range(1, 20))->capture_default_str();
  abide->callback([&action, b] { action = [b](CliContext& ctx) { return runFetchAbide(ctx, *b); }; });
}

}  // namespace bg::cli
