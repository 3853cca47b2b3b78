#include <cstdio>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "CliContext.h"
#include "Commands.h"
#include "atlas/AtlasRegistry.h"
#include "connectome/ConnectomePipeline.h"
#include "errors/Error.h"
#include "platform/Strings.h"

namespace bg::cli {
namespace {

struct PipelineArgs {
  bool noClean = false, noBandpass = false, noZscore = false, graph = false, absolute = false, partial = false;
  std::string strategy = "motion24,wm_csf", summary = "mean", adjacency = "threshold";
  double low = 0.01, high = 0.1, fd = 0.5, threshold = 0.3, density = 0.1;
  int detrend = 1, filterOrder = 5, rwse = 5;

  void add(CLI::App* cmd) {
    cmd->add_flag("--no-clean", noClean, "Skip all cleaning: raw ROI means, then Pearson");
    cmd->add_option("--strategy", strategy, "Confound strategies: motion6, motion24, wm_csf, global_signal, acompcor")->capture_default_str();
    cmd->add_option("--summary", summary, "ROI summary: mean, median or pc1")->capture_default_str();
    cmd->add_option("--detrend", detrend, "Polynomial detrending order (0 = mean only)")->capture_default_str();
    cmd->add_option("--low", low, "High-pass cut-off, Hz")->capture_default_str();
    cmd->add_option("--high", high, "Low-pass cut-off, Hz")->capture_default_str();
    cmd->add_option("--filter-order", filterOrder, "Butterworth order")->capture_default_str();
    cmd->add_flag("--no-bandpass", noBandpass, "Skip band-pass filtering");
    cmd->add_option("--fd", fd, "Scrub volumes with framewise displacement above this (mm; 0 = off)")->capture_default_str();
    cmd->add_flag("--no-zscore", noZscore, "Keep the cleaned signals' scale");
    cmd->add_flag("--graph", graph, "Also write adjacency, RWSE and graph metrics");
    cmd->add_flag("--partial", partial, "Also write Ledoit-Wolf partial correlation (<atlas>_partial.npy)");
    cmd->add_option("--adjacency", adjacency, "threshold, proportional or weighted")->capture_default_str();
    cmd->add_option("--threshold", threshold, "Edge threshold for --adjacency threshold")->capture_default_str();
    cmd->add_option("--density", density, "Edge density for --adjacency proportional")->capture_default_str();
    cmd->add_flag("--absolute", absolute, "Threshold |r| instead of r");
    cmd->add_option("--rwse-steps", rwse, "Random-walk steps of the structural encoding")->capture_default_str();
  }

  PipelineOptions options() const {
    PipelineOptions o;
    o.clean = !noClean;
    o.confoundStrategies = parseStrategies(strategy);
    o.summary = parseRoiSummary(summary);
    o.cleaning.detrendOrder = detrend;
    o.cleaning.bandpass = !noBandpass;
    o.cleaning.lowHz = low;
    o.cleaning.highHz = high;
    o.cleaning.filterOrder = filterOrder;
    o.cleaning.fdThreshold = fd;
    o.cleaning.zscore = !noZscore;
    o.writeGraph = graph;
    o.writePartial = partial;
    if (adjacency == "threshold")
      o.adjacency.rule = AdjacencyRule::Threshold;
    else if (adjacency == "proportional")
      o.adjacency.rule = AdjacencyRule::Proportional;
    else if (adjacency == "weighted")
      o.adjacency.rule = AdjacencyRule::Weighted;
    else
      throw Error(ErrorCode::Usage, "--adjacency must be threshold, proportional or weighted");
    o.adjacency.threshold = threshold;
    o.adjacency.density = density;
    o.adjacency.absolute = absolute;
    o.rwseSteps = rwse;
    return o;
  }
};

void printSummary(const AtlasSummary& s) {
  std::printf("%-12s %4d ROIs  %4d time points  %zu empty", s.atlasId.c_str(), s.rois, s.timePoints, s.emptyRois.size());
  for (const auto& f : s.files)
    if (f.string().find("_fc.npy") != std::string::npos) std::printf("  %s", f.c_str());
  std::printf("\n");
}

}  // namespace

void addConnectomeCommands(CLI::App& app, Action& action) {
  {
    auto* cmd = app.add_subcommand("connectome", "BOLD NIfTI -> per-atlas ROI time series, Pearson FC (.npy) and QC (.json)");
    struct Args {
      std::string bold, confounds, atlas, out;
      PipelineArgs pipeline;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("--bold", a->bold, "4D BOLD NIfTI (.nii or .nii.gz) in MNI space")->required();
    cmd->add_option("--confounds", a->confounds, "fMRIPrep *_desc-confounds_timeseries.tsv");
    cmd->add_option("--atlas", a->atlas, "Atlas id(s), comma-separated, or all")->required();
    cmd->add_option("--out", a->out, "Output folder")->required();
    a->pipeline.add(cmd);
    cmd->callback([&action, a] {
      action = [a](CliContext& ctx) {
        const auto registry = AtlasRegistry::load(DataPaths::manifestDir(), ctx.dataPaths());
        ConnectomeRequest req;
        req.bold = a->bold;
        if (!a->confounds.empty()) req.confounds = a->confounds;
        req.atlases = splitList(a->atlas);
        req.outDir = a->out;
        req.options = a->pipeline.options();
        std::vector<AtlasSummary> result;
        ctx.runJob("connectome", [&](JobContext& job) { result = runConnectome(registry, req, job); });
        for (const auto& s : result) printSummary(s);
        return 0;
      };
    });
  }
  {
    auto* cmd = app.add_subcommand("timeseries2graph", "ROI time-series file (.1D[.gz], .csv, .tsv, .npy) -> the connectome outputs and a graph");
    struct Args {
      std::string in, out, id = "custom", labels, confounds;
      double tr = 0;
      PipelineArgs pipeline;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("--in", a->in, "Time-series file: rows are time points, columns ROIs")->required();
    cmd->add_option("--out", a->out, "Output folder")->required();
    cmd->add_option("--id", a->id, "Prefix of the output files")->capture_default_str();
    cmd->add_option("--labels", a->labels, "Label volume whose values name the columns (e.g. CC200.nii.gz): adds centroids");
    cmd->add_option("--confounds", a->confounds, "fMRIPrep confounds TSV");
    cmd->add_option("--tr", a->tr, "Repetition time in seconds (needed for band-pass filtering)");
    a->pipeline.add(cmd);
    cmd->callback([&action, a] {
      action = [a](CliContext& ctx) {
        TimeSeriesRequest req;
        req.input = a->in;
        req.outDir = a->out;
        req.id = a->id;
        if (!a->labels.empty()) req.labelVolume = a->labels;
        if (!a->confounds.empty()) req.confounds = a->confounds;
        req.tr = a->tr;
        req.options = a->pipeline.options();
        AtlasSummary result;
        ctx.runJob("timeseries2graph", [&](JobContext& job) { result = runTimeSeriesToGraph(req, job); });
        printSummary(result);
        return 0;
      };
    });
  }
}

}  // namespace bg::cli
