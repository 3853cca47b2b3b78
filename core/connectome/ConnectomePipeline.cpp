#include "connectome/ConnectomePipeline.h"

#include <unistd.h>

#include <cmath>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "atlas/AtlasRegistry.h"
#include "atlas/LabelMap.h"
#include "atlas/RoiPlacement.h"
#include "connectome/Connectivity.h"
#include "errors/Error.h"
#include "io/AtomicFile.h"
#include "io/NiftiImage.h"
#include "io/Npy.h"
#include "io/StagedOutput.h"
#include "io/TimeSeriesFile.h"

namespace bg {
namespace {

using nlohmann::json;

json cleaningJson(const PipelineOptions& o, const CleaningReport* report, bool hasConfounds, double tr) {
  json j;
  j["applied"] = o.clean;
  if (!o.clean) return j;
  const auto& c = o.cleaning;
  j["order"] = {"detrend", "band-pass", "confound regression", "scrubbing", "z-score"};
  j["detrend_order"] = c.detrendOrder;
  j["band_pass"] =
      c.bandpass && tr > 0 ? json{{"low_hz", c.lowHz}, {"high_hz", c.highHz}, {"butterworth_order", c.filterOrder}, {"zero_phase", true}} : json(nullptr);
  j["confound_strategies"] = hasConfounds ? json(o.confoundStrategies) : json::array();
  j["fd_threshold_mm"] = hasConfounds ? json(c.fdThreshold) : json(nullptr);
  j["zscore"] = c.zscore;
  if (report) {
    j["censored_volumes"] = report->censoredVolumes;
    j["kept_volumes"] = report->keptVolumes.size();
  }
  return j;
}

// Writes time series, FC, QC (and graph files) for one parcellation into the staging folder.
AtlasSummary writeOutputs(StagedOutput& stage, const ConnectomeData& d, const PipelineOptions& options) {
  AtlasSummary s;
  const std::string& id = d.atlasId;
  s.atlasId = id;
  s.rois = static_cast<int>(d.series.cols());
  s.timePoints = static_cast<int>(d.series.rows());
  s.emptyRois = d.emptyRois;
  writeTimeSeriesTsv(stage.path(id + "_timeseries.tsv"), d.series, d.roiNames);
  writeNpyFloat32(stage.path(id + "_fc.npy"), d.fc);
  if (options.writePartial) writeNpyFloat32(stage.path(id + "_partial.npy"), partialCorrelation(d.series).matrix);
  if (options.writeGraph) {
    const Eigen::MatrixXd adj = buildAdjacency(d.fc, options.adjacency);
    writeNpyFloat32(stage.path(id + "_adjacency.npy"), adj);
    writeNpyFloat32(stage.path(id + "_rwse.npy"), randomWalkEncoding(adj, options.rwseSteps));
    std::map<std::string, int> netIndex;
    std::vector<int> module;
    for (const auto& n : d.networks) module.push_back(netIndex.emplace(n, static_cast<int>(netIndex.size())).first->second);
    const auto metrics = computeGraphMetrics(d.fc, module);
    auto vec = [](const Eigen::VectorXd& v) { return std::vector<double>(v.data(), v.data() + v.size()); };
    json m = {{"weights", "pearson FC (signed, diagonal excluded)"},
              {"degree", vec(metrics.degree)},
              {"strength", vec(metrics.strength)},
              {"clustering", vec(metrics.clustering)},
              {"global_efficiency", metrics.globalEfficiency},
              {"modularity", metrics.modularity},
              {"community", std::vector<int>(metrics.community.data(), metrics.community.data() + metrics.community.size())},
              {"participation_by_network", vec(metrics.participation)},
              {"adjacency",
               {{"rule", options.adjacency.rule == AdjacencyRule::Threshold      ? "threshold"
                         : options.adjacency.rule == AdjacencyRule::Proportional ? "proportional"
                                                                                 : "weighted"},
                {"threshold", options.adjacency.threshold},
                {"density", options.adjacency.density},
                {"absolute", options.adjacency.absolute}}}};
    writeTextAtomically(stage.path(id + "_metrics.json"), m.dump(2) + "\n");
  }
  writeTextAtomically(stage.path(id + "_qc.json"), d.qcJson);
  return s;
}

// Pearson FC plus the QC fields every result shares.
void finish(ConnectomeData& d, json& qc) {
  const auto fc = pearson(d.series);
  d.fc = fc.matrix;
  json zero = json::array();
  for (int r : fc.zeroVarianceRois) zero.push_back(d.roiNames[static_cast<std::size_t>(r)]);
  qc["zero_variance_rois"] = zero;
  qc["fc"] = {{"kind", "pearson"}, {"zero_variance_value", 0.0}, {"diagonal", 1.0}};
  d.qcJson = qc.dump(2) + "\n";
}

}  // namespace

std::vector<std::string> expandAtlasList(const AtlasRegistry& registry, const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  for (const auto& id : ids) {
    if (id == "all") {
      for (const auto* m : registry.paperParcellations()) out.push_back(m->id);
    } else {
      const auto& m = registry.get(id);
      if (m.kind == AtlasKind::Template) throw Error(ErrorCode::Usage, "'" + id + "' is a template, not a parcellation");
      out.push_back(id);
    }
  }
  std::vector<std::string> unique;
  for (const auto& id : out)
    if (std::find(unique.begin(), unique.end(), id) == unique.end()) unique.push_back(id);
  if (unique.empty()) throw Error(ErrorCode::Usage, "no atlas given (use --atlas ID[,ID...] or all)");
  return unique;
}

std::vector<ConnectomeData> computeConnectomes(const AtlasRegistry& registry, const std::filesystem::path& bold,
                                               const std::optional<std::filesystem::path>& confoundsPath, const std::vector<std::string>& requested,
                                               const PipelineOptions& options, ProgressDelegate& progress) {
  return withContext("while building connectomes from " + bold.string(), [&] {
    const auto atlases = expandAtlasList(registry, requested);
    const NiftiHeader header = readNiftiHeader(bold);
    if (header.ndim < 4 || header.volumes() < 2)
      throw Error(ErrorCode::Data, bold.string() + " is a 3D image (" + header.shapeString() + "); a 4D BOLD series is needed");
    if (header.volumes() < 10)
      throw Error(ErrorCode::Data, bold.string() + " has only " + std::to_string(header.volumes()) + " time points; at least 10 are needed for connectivity");
    std::optional<Confounds> confounds;
    if (confoundsPath) {
      confounds = loadFmriprepConfounds(*confoundsPath, options.confoundStrategies);
      if (confounds->regressors.rows() != header.volumes())
        throw Error(ErrorCode::Data, "the confounds file " + confoundsPath->string() + " has " + std::to_string(confounds->regressors.rows()) +
                                         " rows, the scan " + std::to_string(header.volumes()) + " volumes");
    }
    // Place every atlas on the scan grid, then read the scan once for all of them.
    const ScanGrid grid = ScanGrid::of(header);
    AtlasResampler resampler(registry);
    std::vector<LabelMap> maps;
    for (std::size_t a = 0; a < atlases.size(); ++a) {
      progress.update("placing " + atlases[a] + " on the scan grid", 0.05 * static_cast<double>(a) / static_cast<double>(atlases.size()));
      progress.throwIfCancelled();
      maps.push_back(resampler.map(atlases[a], grid));
    }
    RoiExtractor extractor(std::move(maps), options.summary);
    ProgressRange readRange(progress, 0.05, 0.9);
    const auto signals = extractor.extract(bold, readRange);

    std::vector<ConnectomeData> out;
    for (std::size_t a = 0; a < signals.size(); ++a) {
      progress.update("connectivity for " + atlases[a], 0.9 + 0.1 * static_cast<double>(a) / static_cast<double>(signals.size()));
      progress.throwIfCancelled();
      const auto& sig = signals[a];
      const auto& map = extractor.maps()[a];
      const int n = map.roiCount();
      int withSignal = 0;
      for (auto v : sig.signalVoxels) withSignal += v > 0 ? 1 : 0;
      std::int64_t nonFinite = 0;
      for (auto v : sig.nonFiniteVoxels) nonFinite += v;
      if (nonFinite > 0) {
        // NaN or infinite voxels are left out of their ROIs; a scan they leave without enough usable ROIs is refused.
        const double usable = static_cast<double>(withSignal) / std::max(1, n);
        if (usable < kFailingRoiCoverage)
          throw Error(ErrorCode::Data, bold.string() + ": " + std::to_string(nonFinite) + " voxels inside " + atlases[a] +
                                           " ROIs hold NaN or infinite values; left out, they leave " + std::to_string(withSignal) + " of " +
                                           std::to_string(n) + " ROIs with usable signal, below the QC's failing coverage (" +
                                           fmt::format("{:g}", kFailingRoiCoverage) +
                                           "). Check the scan's preprocessing (masking, "
                                           "division by zero) before parcellating it");
        spdlog::warn("{}: {} voxels inside {} ROIs hold NaN or infinite values and were left out of their ROIs", bold.filename().string(), nonFinite,
                     atlases[a]);
      }
      if (withSignal < std::max(1, n / 4))
        throw Error(ErrorCode::Data, "atlas " + atlases[a] + " overlaps the scan's signal in only " + std::to_string(withSignal) + " of " + std::to_string(n) +
                                         " ROIs: is " + bold.string() + " in MNI space?");
      ConnectomeData d;
      d.atlasId = atlases[a];
      CleaningReport report;
      d.series = options.clean ? clean(sig.series, header.repetitionTime, options.cleaning, confounds ? &*confounds : nullptr, &report) : sig.series;
      for (int r = 0; r < n; ++r) {
        d.roiNames.push_back(map.rois[static_cast<std::size_t>(r)].name);
        d.networks.push_back(map.rois[static_cast<std::size_t>(r)].network);
        if (sig.voxels[static_cast<std::size_t>(r)] == 0 || sig.signalVoxels[static_cast<std::size_t>(r)] == 0)
          d.emptyRois.push_back(map.rois[static_cast<std::size_t>(r)].name);
      }
      if (!d.emptyRois.empty())
        spdlog::warn("{}: {} of {} ROIs have no voxels with signal in {} (kept as flagged columns: {}{})", atlases[a], d.emptyRois.size(), n,
                     bold.filename().string(), d.emptyRois.front(), d.emptyRois.size() > 1 ? ", ..." : "");
      double meanTsnr = 0;
      int tsnrCount = 0;
      for (int r = 0; r < n; ++r)
        if (sig.signalVoxels[static_cast<std::size_t>(r)] > 0) {
          meanTsnr += sig.tsnr[static_cast<std::size_t>(r)];
          ++tsnrCount;
        }
      json qc = {{"atlas", atlases[a]},
                 {"bold", bold.string()},
                 {"shape", header.shapeString()},
                 {"tr_seconds", header.repetitionTime},
                 {"tr_guessed_from_milliseconds", header.repetitionTimeGuessed},
                 {"roi_count", n},
                 {"roi_names", d.roiNames},
                 {"voxels_per_roi", sig.voxels},
                 {"signal_voxels_per_roi", sig.signalVoxels},
                 {"coverage", sig.coverage},
                 {"non_finite_voxels", nonFinite},
                 {"non_finite_voxels_per_roi", sig.nonFiniteVoxels},
                 {"tsnr", sig.tsnr},
                 {"mean_tsnr", tsnrCount ? meanTsnr / tsnrCount : 0.0},
                 {"empty_rois", d.emptyRois},
                 {"summary", options.summary == RoiSummary::Mean     ? "mean"
                             : options.summary == RoiSummary::Median ? "median"
                                                                     : "pc1"},
                 {"cleaning", cleaningJson(options, options.clean ? &report : nullptr, confounds.has_value(), header.repetitionTime)}};
      if (confounds && !confounds->framewiseDisplacement.empty())
        qc["mean_fd_mm"] = report.meanFramewiseDisplacement >= 0 ? json(report.meanFramewiseDisplacement) : json(nullptr);
      if (confounds && options.clean) qc["censored_volumes"] = report.censoredVolumes;
      finish(d, qc);
      out.push_back(std::move(d));
    }
    return out;
  });
}

std::vector<AtlasSummary> runConnectome(const AtlasRegistry& registry, const ConnectomeRequest& req, ProgressDelegate& progress) {
  // The staging folder (and the output folder, if new) disappear again unless everything succeeds.
  StagedOutput stage(req.outDir);
  const auto data = computeConnectomes(registry, req.bold, req.confounds, req.atlases, req.options, progress);
  std::vector<AtlasSummary> summaries;
  for (const auto& d : data) summaries.push_back(writeOutputs(stage, d, req.options));
  const auto files = stage.commit();
  for (auto& s : summaries)
    for (const auto& f : files)
      if (f.filename().string().rfind(s.atlasId + "_", 0) == 0) s.files.push_back(f);
  progress.update("done", 1.0);
  return summaries;
}

ConnectomeData computeFromTimeSeries(const std::string& id, const Eigen::MatrixXd& series, const std::vector<std::string>& roiNames, double tr,
                                     const std::optional<std::filesystem::path>& confoundsPath, const PipelineOptions& options) {
  if (series.rows() < 10) throw Error(ErrorCode::Data, "only " + std::to_string(series.rows()) + " time points; at least 10 are needed");
  std::optional<Confounds> confounds;
  if (confoundsPath) confounds = loadFmriprepConfounds(*confoundsPath, options.confoundStrategies);
  PipelineOptions o = options;
  if (o.clean && tr <= 0 && o.cleaning.bandpass) {
    spdlog::debug("{}: no TR; band-pass filtering skipped", id);
    o.cleaning.bandpass = false;
  }
  ConnectomeData d;
  d.atlasId = id;
  d.roiNames = roiNames;
  d.networks.assign(roiNames.size(), "");
  CleaningReport report;
  d.series = o.clean ? clean(series, tr, o.cleaning, confounds ? &*confounds : nullptr, &report) : series;
  json qc = {{"time_points", series.rows()},
             {"roi_count", series.cols()},
             {"roi_names", roiNames},
             {"tr_seconds", tr > 0 ? json(tr) : json(nullptr)},
             {"cleaning", cleaningJson(o, o.clean ? &report : nullptr, confounds.has_value(), tr)}};
  json zeroCols = json::array();
  for (Eigen::Index c = 0; c < series.cols(); ++c)
    if ((series.col(c).array() == 0.0).all()) {
      zeroCols.push_back(roiNames[static_cast<std::size_t>(c)]);
      d.emptyRois.push_back(roiNames[static_cast<std::size_t>(c)]);
    }
  qc["all_zero_rois"] = zeroCols;
  finish(d, qc);
  return d;
}

AtlasSummary runTimeSeriesToGraph(const TimeSeriesRequest& req, ProgressDelegate& progress) {
  return withContext("while building a graph from " + req.input.string(), [&] {
    progress.update("reading time series", 0.0);
    const auto ts = readRoiTimeSeries(req.input);
    if (req.options.clean && req.tr <= 0 && req.options.cleaning.bandpass)
      spdlog::warn("{}: no TR given (--tr); band-pass filtering skipped", req.input.filename().string());
    if (!ts.allZeroColumns.empty())
      spdlog::warn("{}: {} all-zero column(s) (ROIs outside the field of view), kept and flagged", req.input.filename().string(), ts.allZeroColumns.size());
    auto d = computeFromTimeSeries(req.id, ts.series, ts.roiNames, req.tr, req.confounds, req.options);
    json qc = json::parse(d.qcJson);
    qc["input"] = req.input.string();
    if (req.labelVolume) {
      // Each column's label value is its header name ("#17" -> 17); its centroid places it in the brain.
      const auto acc = labelCentroids(readNiftiVolume(*req.labelVolume));
      json centroids = json::array();
      for (const auto& name : ts.roiNames) {
        char* e = nullptr;
        const long label = std::strtol(name.c_str(), &e, 10);
        auto it = (e && *e == '\0') ? acc.find(label) : acc.end();
        if (it == acc.end())
          centroids.push_back(nullptr);
        else
          centroids.push_back({it->second[0], it->second[1], it->second[2]});
      }
      qc["label_volume"] = req.labelVolume->string();
      qc["centroids_mni"] = centroids;
    }
    d.qcJson = qc.dump(2) + "\n";
    StagedOutput stage(req.outDir);
    PipelineOptions options = req.options;
    options.writeGraph = true;
    auto s = writeOutputs(stage, d, options);
    s.files = stage.commit();
    progress.update("done", 1.0);
    return s;
  });
}

}  // namespace bg
