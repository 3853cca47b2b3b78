#include <algorithm>
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "CliContext.h"
#include "atlas/AtlasCheck.h"
#include "Commands.h"
#include "OutputFormat.h"
#include "atlas/AtlasRegistry.h"
#include "errors/Error.h"

namespace bg::cli {
namespace {

AtlasRegistry loadRegistry(CliContext& ctx) { return AtlasRegistry::load(DataPaths::manifestDir(), ctx.dataPaths()); }

int runAtlasList(CliContext& ctx, bool verifyFiles, const std::string& format) {
  const bool json = format == "json";
  ResultTable table{{"id", "roi_count", "status", "kind", "display_name"}, {}};
  const auto registry = loadRegistry(ctx);
  const auto atlases = registry.parcellations();
  std::vector<AtlasVerification> results(atlases.size());
  if (verifyFiles) {
    ctx.runJob("verify atlases", [&](JobContext& job) { results = verifyAllAtlases(registry, job); });
  }
  bool allOk = true;
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i = 0; i < atlases.size(); ++i) {
    const auto& m = *atlases[i];
    const auto& v = results[i];
    const int count = verifyFiles ? v.verifiedRoiCount : m.roiCount;
    const std::string status = !verifyFiles ? "unverified" : v.ok ? "ok" : v.missing ? "MISSING" : "MISMATCH";
    allOk = allOk && (!verifyFiles || v.ok);
    if (json) {
      nlohmann::json j = {{"id", m.id},
                          {"display_name", m.displayName},
                          {"kind", atlasKindName(m.kind)},
                          {"roi_count", count},
                          {"manifest_roi_count", m.roiCount},
                          {"status", status},
                          {"representation", m.representation == AtlasRepresentation::Volume ? "volume" : "coordinates"}};
      if (verifyFiles) {
        j["file"] = v.verifiedFile;
        j["shape"] = v.shape;
        if (!v.ok) j["problem"] = v.problem;
      }
      out.push_back(j);
    } else if (format != "text") {
      table.rows.push_back({m.id, std::to_string(count), status, std::string(atlasKindName(m.kind)), m.displayName});
    } else {
      std::string detail = m.displayName;
      if (m.representation == AtlasRepresentation::Coordinates) detail += fmt::format(" ({:g} mm spheres from coordinates)", m.sphereRadiusMm);
      if (!m.unusedLabels.empty()) detail += fmt::format(" (labels up to {}, {} unused)", m.maxLabel, m.unusedLabels.size());
      if (verifyFiles && !v.ok) detail += " -- " + v.problem;
      std::printf("%s\n", fmt::format("{:<12} {:>4} ROIs  {:<10} {:<11} {}", m.id, count, status, atlasKindName(m.kind), detail).c_str());
    }
  }
  if (json) std::printf("%s\n", out.dump(2).c_str());
  if (!json && format != "text") std::printf("%s", table.render(format).c_str());
  const bool onlyMissing = std::all_of(results.begin(), results.end(), [](const AtlasVerification& v) { return v.ok || v.missing; });
  if (!allOk)
    throw Error(onlyMissing ? ErrorCode::NoInput : ErrorCode::Data,
                "one or more atlases are missing or do not match their manifests (see above; 'braingraph-cli data fetch atlases' "
                "downloads the released files)");
  return 0;
}

// text: the description as comments above a tab-separated label table; json: both; csv, md: the label table.
int runAtlasShow(CliContext& ctx, const std::string& id, const std::string& format) {
  const auto registry = loadRegistry(ctx);
  const auto& m = registry.get(id);
  const auto labels = registry.labels(id);
  const bool coords = !labels.empty() && labels.front().mni.has_value();
  if (format == "csv" || format == "md") {
    ResultTable table{{"index", "name", "hemisphere", "network"}, {}};
    if (coords) table.header.insert(table.header.end(), {"x_mni", "y_mni", "z_mni"});
    for (const auto& l : labels) {
      std::vector<std::string> row{std::to_string(l.index), l.name, l.hemisphere, l.network};
      if (l.mni) row.insert(row.end(), {fmt::format("{:g}", (*l.mni)[0]), fmt::format("{:g}", (*l.mni)[1]), fmt::format("{:g}", (*l.mni)[2])});
      table.rows.push_back(std::move(row));
    }
    std::printf("%s", table.render(format).c_str());
    return 0;
  }
  if (format == "json") {
    nlohmann::json j = {{"id", m.id},
                        {"display_name", m.displayName},
                        {"kind", atlasKindName(m.kind)},
                        {"roi_count", m.roiCount},
                        {"networks", m.networks},
                        {"citation", m.citation},
                        {"licence", m.licence},
                        {"source", m.source},
                        {"labels", nlohmann::json::array()}};
    for (const auto& l : labels) {
      nlohmann::json lj = {{"index", l.index}, {"name", l.name}, {"hemisphere", l.hemisphere}, {"network", l.network}};
      if (l.mni) lj["mni"] = {(*l.mni)[0], (*l.mni)[1], (*l.mni)[2]};
      j["labels"].push_back(lj);
    }
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("# %s: %s\n", m.id.c_str(), m.displayName.c_str());
  std::printf("# kind: %s, %d ROIs, space %s\n", std::string(atlasKindName(m.kind)).c_str(), m.roiCount, m.space.c_str());
  for (const auto& [res, file] : m.volumes) std::printf("# volume %s: %s\n", res.c_str(), file.c_str());
  for (const auto& [name, file] : m.files) std::printf("# file %s: %s\n", name.c_str(), file.c_str());
  if (!m.notes.empty()) std::printf("# notes: %s\n", m.notes.c_str());
  std::printf("# citation: %s\n# licence: %s\n# source: %s\n", m.citation.c_str(), m.licence.c_str(), m.source.c_str());
  if (labels.empty()) return 0;
  std::printf("index\tname\themisphere\tnetwork%s\n", coords ? "\tx_mni\ty_mni\tz_mni" : "");
  for (const auto& l : labels) {
    std::string line = fmt::format("{}\t{}\t{}\t{}", l.index, l.name, l.hemisphere.empty() ? "n/a" : l.hemisphere, l.network.empty() ? "n/a" : l.network);
    if (l.mni) line += fmt::format("\t{:g}\t{:g}\t{:g}", (*l.mni)[0], (*l.mni)[1], (*l.mni)[2]);
    std::printf("%s\n", line.c_str());
  }
  return 0;
}

}  // namespace

void addAtlasCommands(CLI::App& app, Action& action) {
  auto* atlas = app.add_subcommand("atlas", "Atlases: list them with verified ROI counts, show a label table");
  atlas->require_subcommand(1);

  auto* list = atlas->add_subcommand("list", "One line per atlas: id, ROI count verified against its files, status");
  auto noVerify = std::make_shared<bool>(false);
  auto listFormat = std::make_shared<OutputFormat>();
  list->add_flag("--no-verify", *noVerify, "Print the manifests' counts without reading the volumes");
  listFormat->add(list);
  list->callback(
      [&action, noVerify, listFormat] { action = [noVerify, listFormat](CliContext& ctx) { return runAtlasList(ctx, !*noVerify, listFormat->value); }; });

  auto* show = atlas->add_subcommand("show", "Print an atlas's description and label table");
  auto id = std::make_shared<std::string>();
  auto showFormat = std::make_shared<OutputFormat>();
  show->add_option("id", *id, "Atlas id (see 'atlas list')")->required();
  showFormat->add(show);  // csv, md: the label table alone
  show->callback([&action, id, showFormat] { action = [id, showFormat](CliContext& ctx) { return runAtlasShow(ctx, *id, showFormat->value); }; });
}

}  // namespace bg::cli
