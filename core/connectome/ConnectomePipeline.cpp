#include "connectome/ConnectomePipeline.h"

#include <unistd.h>

#include <cmath>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "atlas/AtlasRegistry.h"
#include "atlas/LabelMap.h"
#include "connectome/Connectivity.h"
#include "errors/Error.h"
#include "io/AtomicFile.h"
#include "io/NiftiImage.h"
#include "io/Npy.h"
#include "io/TimeSeriesFile.h"

namespace bg {
namespace {

using nlohmann::json;

// Files are written into a hidden staging folder inside the output folder and moved into
// place only when everything succeeded.
class StagedOutput {
 public:
  explicit StagedOutput(const std::filesystem::path& outDir) : outDir_(outDir) {
    createdOutDir_ = !std::filesystem::exists(outDir_);
    std::filesystem::create_directories(outDir_);
    staging_ = outDir_ / (".staging-" + std::to_string(::getpid()));
    std::filesystem::remove_all(staging_);
    std::filesystem::create_directories(staging_);
  }
  ~StagedOutput() {
    std::error_code ec;
    std::filesystem::remove_all(staging_, ec);
    if (!committed_ && createdOutDir_ && std::filesystem::is_empty(outDir_, ec)) std::filesystem::remove(outDir_, ec);
  }
  std::filesystem::path path(const std::string& name) const { return staging_ / name; }
  std::vector<std::filesystem::path> commit() {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::directory_iterator(staging_)) {
      const auto target = outDir_ / e.path().filename();
      std::filesystem::rename(e.path(), target);
      out.push_back(target);
    }
    committed_ = true;
    return out;
  }

 private:
  std::filesystem::path outDir_, staging_;
  bool createdOutDir_ = false, committed_ = false;
};


json cleaningJson(const PipelineOptions& o, const CleaningReport* report, bool hasConfounds, double tr) {
  json j;
  j["applied"] = o.clean;
  if (!o.clean) return j;
  const auto& c = o.cleaning;
  j["order"] = {"detrend", "band-pass", "confound regression", "scrubbing", "z-score"};
  j["detrend_order"] = c.detrendOrder;
  j["band_pass"] = c.bandpass && tr > 0 ? json{{"low_hz", c.lowHz}, {"high_hz", c.highHz}, {"butterworth_order", c.filterOrder}, {"zero_phase", true}} : json(nullptr);
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
AtlasSummary writeOutputs(StagedOutput& stage, const std::string& id, const Eigen::MatrixXd& series,
                          const std::vector<std::string>& names, const std::vector<std::string>& networks, json qc,
                          const PipelineOptions& options) {
  AtlasSummary s;
  s.atlasId = id;
  s.rois = static_cast<int>(series.cols());
  s.timePoints = static_cast<int>(series.rows());
  writeTimeSeriesTsv(stage.path(id + "_timeseries.tsv"), series, names);
  const auto fc = pearson(series);
  writeNpyFloat32(stage.path(id + "_fc.npy"), fc.matrix);
  json zero = json::array();
  for (int r : fc.zeroVarianceRois) zero.push_back(names[static_cast<std::size_t>(r)]);
  qc["zero_variance_rois"] = zero;
  qc["fc"] = {{"kind", "pearson"}, {"zero_variance_value", 0.0}, {"diagonal", 1.0}};
  if (options.writePartial) writeNpyFloat32(stage.path(id + "_partial.npy"), partialCorrelation(series).matrix);
  if (options.writeGraph) {
    const Eigen::MatrixXd adj = buildAdjacency(fc.matrix, options.adjacency);
    writeNpyFloat32(stage.path(id + "_adjacency.npy"), adj);
    writeNpyFloat32(stage.path(id + "_rwse.npy"), randomWalkEncoding(adj, options.rwseSteps));
    std::map<std::string, int> netIndex;
    std::vector<int> module;
    for (const auto& n : networks) module.push_back(netIndex.emplace(n, static_cast<int>(netIndex.size())).first->second);
    const auto metrics = computeGraphMetrics(fc.matrix, module);
    auto vec = [](const Eigen::VectorXd& v) { return std::vector<double>(v.data(), v.data() + v.size()); };
    json m = {{"weights", "pearson FC (signed, diagonal excluded)"},
              {"degree", vec(metrics.degree)},
              {"strength", vec(metrics.strength)},
              {"clustering", vec(metrics.clustering)},
              {"global_efficiency", metrics.globalEfficiency},
              {"modularity", metrics.modularity},
              {"community", std::vector<int>(metrics.community.data(), metrics.community.data() + metrics.community.size())},
              {"participation_by_network", vec(metrics.participation)},
              {"adjacency", {{"rule", options.adjacency.rule == AdjacencyRule::Threshold ? "threshold"
                                      : options.adjacency.rule == AdjacencyRule::Proportional ? "proportional" : "weighted"},
                             {"threshold", options.adjacency.threshold}, {"density", options.adjacency.density},
                             {"absolute", options.adjacency.absolute}}}};
    writeTextAtomically(stage.path(id + "_metrics.json"), m.dump(2) + "\n");
  }
  writeTextAtomically(stage.path(id + "_qc.json"), qc.dump(2) + "\n");
  return s;
}

}  // namespace

std::vector<std::string> expandAtlasList(const AtlasRegistry& registry, const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  for (const auto& id : ids) {
    if (id == "all") {
      for (const auto* m : registry.parcellations()) out.push_back(m->id);
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

std::vector<AtlasSummary> runConnectome(const AtlasRegistry& registry, const ConnectomeRequest& req, ProgressDelegate& progress) {
  return withContext("while building connectomes from " + req.bold.string(), [&] {
    const auto atlases = expandAtlasList(registry, req.atlases);
    const NiftiHeader header = readNiftiHeader(req.bold);
    if (header.ndim < 4 || header.volumes() < 2)
      throw Error(ErrorCode::Data, req.bold.string() + " is a 3D image (" + header.shapeString() + "); a 4D BOLD series is needed");
    if (header.volumes() < 10)
      throw Error(ErrorCode::Data, req.bold.string() + " has only " + std::to_string(header.volumes()) +
                                       " time points; at least 10 are needed for connectivity");
    std::optional<Confounds> confounds;
    if (req.confounds) {
      confounds = loadFmriprepConfounds(*req.confounds, req.options.confoundStrategies);
      if (confounds->regressors.rows() != header.volumes())
        throw Error(ErrorCode::Data, "the confounds file " + req.confounds->string() + " has " + std::to_string(confounds->regressors.rows()) +
                                         " rows, the scan " + std::to_string(header.volumes()) + " volumes");
    }
    StagedOutput stage(req.outDir);

    // Place every atlas on the scan grid, then read the scan once for all of them.
    const ScanGrid grid = ScanGrid::of(header);
    AtlasResampler resampler(registry);
    std::vector<LabelMap> maps;
    for (std::size_t a = 0; a < atlases.size(); ++a) {
      progress.update("placing " + atlases[a] + " on the scan grid", 0.05 * static_cast<double>(a) / static_cast<double>(atlases.size()));
      progress.throwIfCancelled();
      maps.push_back(resampler.map(atlases[a], grid));
    }
    RoiExtractor extractor(std::move(maps), req.options.summary);
    ProgressRange readRange(progress, 0.05, 0.9);
    const auto signals = extractor.extract(req.bold, readRange);

    std::vector<AtlasSummary> summaries;
    for (std::size_t a = 0; a < signals.size(); ++a) {
      progress.update("connectivity for " + atlases[a], 0.9 + 0.1 * static_cast<double>(a) / static_cast<double>(signals.size()));
      progress.throwIfCancelled();
      const auto& sig = signals[a];
      const auto& map = extractor.maps()[a];
      const int n = map.roiCount();
      int withSignal = 0;
      for (auto v : sig.signalVoxels) withSignal += v > 0 ? 1 : 0;
      if (withSignal < std::max(1, n / 4))
        throw Error(ErrorCode::Data, "atlas " + atlases[a] + " overlaps the scan's signal in only " + std::to_string(withSignal) + " of " +
                                         std::to_string(n) + " ROIs: is " + req.bold.string() + " in MNI space?");
      CleaningReport report;
      Eigen::MatrixXd series = sig.series;
      if (req.options.clean) {
        PipelineOptions o = req.options;
        series = clean(series, header.repetitionTime, o.cleaning, confounds ? &*confounds : nullptr, &report);
      }
      std::vector<std::string> names, networks, empty;
      for (int r = 0; r < n; ++r) {
        names.push_back(map.rois[static_cast<std::size_t>(r)].name);
        networks.push_back(map.rois[static_cast<std::size_t>(r)].network);
        if (sig.voxels[static_cast<std::size_t>(r)] == 0 || sig.signalVoxels[static_cast<std::size_t>(r)] == 0)
          empty.push_back(map.rois[static_cast<std::size_t>(r)].name);
      }
      if (!empty.empty())
        spdlog::warn("{}: {} of {} ROIs have no voxels with signal in {} (kept as flagged columns: {}{})", atlases[a], empty.size(), n,
                     req.bold.filename().string(), empty.front(), empty.size() > 1 ? ", ..." : "");
      double meanTsnr = 0;
      int tsnrCount = 0;
      for (int r = 0; r < n; ++r)
        if (sig.signalVoxels[static_cast<std::size_t>(r)] > 0) {
          meanTsnr += sig.tsnr[static_cast<std::size_t>(r)];
          ++tsnrCount;
        }
      json qc = {{"atlas", atlases[a]},
                 {"bold", req.bold.string()},
                 {"shape", header.shapeString()},
                 {"tr_seconds", header.repetitionTime},
                 {"tr_guessed_from_milliseconds", header.repetitionTimeGuessed},
                 {"roi_count", n},
                 {"roi_names", names},
                 {"voxels_per_roi", sig.voxels},
                 {"signal_voxels_per_roi", sig.signalVoxels},
                 {"coverage", sig.coverage},
                 {"tsnr", sig.tsnr},
                 {"mean_tsnr", tsnrCount ? meanTsnr / tsnrCount : 0.0},
                 {"empty_rois", empty},
                 {"summary", req.options.summary == RoiSummary::Mean ? "mean" : req.options.summary == RoiSummary::Median ? "median" : "pc1"},
                 {"cleaning", cleaningJson(req.options, req.options.clean ? &report : nullptr, confounds.has_value(), header.repetitionTime)}};
      if (confounds && !confounds->framewiseDisplacement.empty()) qc["mean_fd_mm"] = report.meanFramewiseDisplacement >= 0 ? json(report.meanFramewiseDisplacement) : json(nullptr);
      if (confounds && req.options.clean) qc["censored_volumes"] = report.censoredVolumes;
      auto s = writeOutputs(stage, atlases[a], series, names, networks, std::move(qc), req.options);
      s.emptyRois = empty;
      summaries.push_back(std::move(s));
    }
    const auto files = stage.commit();
    for (auto& s : summaries)
      for (const auto& f : files)
        if (f.filename().string().rfind(s.atlasId + "_", 0) == 0) s.files.push_back(f);
    progress.update("done", 1.0);
    return summaries;
  });
}

AtlasSummary runTimeSeriesToGraph(const TimeSeriesRequest& req, ProgressDelegate& progress) {
  return withContext("while building a graph from " + req.input.string(), [&] {
    progress.update("reading time series", 0.0);
    auto ts = readRoiTimeSeries(req.input);
    const auto T = ts.series.rows();
    if (T < 10) throw Error(ErrorCode::Data, req.input.string() + " has only " + std::to_string(T) + " time points; at least 10 are needed");
    std::optional<Confounds> confounds;
    if (req.confounds) confounds = loadFmriprepConfounds(*req.confounds, req.options.confoundStrategies);
    StagedOutput stage(req.outDir);
    CleaningReport report;
    Eigen::MatrixXd series = ts.series;
    PipelineOptions options = req.options;
    if (options.clean) {
      if (req.tr <= 0 && options.cleaning.bandpass) {
        spdlog::warn("{}: no TR given (--tr); band-pass filtering skipped", req.input.filename().string());
        options.cleaning.bandpass = false;
      }
      series = clean(series, req.tr, options.cleaning, confounds ? &*confounds : nullptr, &report);
    }
    json qc = {{"input", req.input.string()},
               {"time_points", T},
               {"roi_count", ts.series.cols()},
               {"roi_names", ts.roiNames},
               {"tr_seconds", req.tr > 0 ? json(req.tr) : json(nullptr)},
               {"cleaning", cleaningJson(options, options.clean ? &report : nullptr, confounds.has_value(), req.tr)}};
    json zero = json::array();
    for (int c : ts.allZeroColumns) zero.push_back(ts.roiNames[static_cast<std::size_t>(c)]);
    qc["all_zero_rois"] = zero;
    if (!ts.allZeroColumns.empty())
      spdlog::warn("{}: {} all-zero column(s) (ROIs outside the field of view), kept and flagged", req.input.filename().string(),
                   ts.allZeroColumns.size());
    if (req.labelVolume) {
      // Each column's label value is its header name ("#17" -> 17); its centroid places it in the brain.
      const auto vol = readNiftiVolume(*req.labelVolume);
      std::map<long, std::array<double, 4>> acc;
      for (std::int64_t k = 0; k < vol.header.dim[2]; ++k)
        for (std::int64_t j = 0; j < vol.header.dim[1]; ++j)
          for (std::int64_t i = 0; i < vol.header.dim[0]; ++i) {
            const float v = vol.at(i, j, k);
            if (v == 0) continue;
            const Eigen::Vector4d w = vol.header.voxelToWorld * Eigen::Vector4d(static_cast<double>(i), static_cast<double>(j), static_cast<double>(k), 1);
            auto& a = acc[std::lround(v)];
            a[0] += w(0); a[1] += w(1); a[2] += w(2); a[3] += 1;
          }
      json centroids = json::array();
      for (const auto& name : ts.roiNames) {
        char* e = nullptr;
        const long label = std::strtol(name.c_str(), &e, 10);
        auto it = (e && *e == '\0') ? acc.find(label) : acc.end();
        if (it == acc.end()) {
          centroids.push_back(nullptr);
        } else {
          const auto& a = it->second;
          centroids.push_back({a[0] / a[3], a[1] / a[3], a[2] / a[3]});
        }
      }
      qc["label_volume"] = req.labelVolume->string();
      qc["centroids_mni"] = centroids;
    }
    std::vector<std::string> networks(ts.roiNames.size(), "");
    options.writeGraph = true;
    auto s = writeOutputs(stage, req.id, series, ts.roiNames, networks, std::move(qc), options);
    s.files = stage.commit();
    for (int c : ts.allZeroColumns) s.emptyRois.push_back(ts.roiNames[static_cast<std::size_t>(c)]);
    progress.update("done", 1.0);
    return s;
  });
}

}  // namespace bg
