// workspace, import, derive and export: the workspace from the command line (corpus: CorpusCommands.cpp).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "CliContext.h"
#include "Commands.h"
#include "OutputFormat.h"
#include "atlas/AtlasRegistry.h"
#include "errors/Error.h"
#include "io/AtomicFile.h"
#include "io/Npy.h"
#include "platform/Strings.h"
#include "workspace/Corpus.h"
#include "workspace/Derivation.h"
#include "workspace/Importers.h"
#include "workspace/Workspace.h"
#include "workspace/WorkspaceQueries.h"

namespace bg::cli {
namespace {

using nlohmann::json;

int reportImport(const ImportSummary& s) {
  std::printf("imported %d scan(s), %d already present, %d without a file, %d left out as invalid, %zu problem(s)\n", s.imported, s.alreadyPresent, s.skipped,
              s.invalid, s.problems.size());
  for (const auto& n : s.notes) spdlog::warn("left out: {}", n);
  for (const auto& p : s.problems) spdlog::error("{}", p);
  return s.problems.empty() ? 0 : static_cast<int>(ErrorCode::Data);
}

// ---- workspace init | info | check
void addWorkspaceFolderCommands(CLI::App& app, Action& action) {
  auto* ws = app.add_subcommand("workspace", "Create, describe or check a workspace");
  ws->require_subcommand(1);
  {
    auto dir = std::make_shared<std::string>();
    auto* init = ws->add_subcommand("init", "Create a workspace folder");
    addWorkspaceOption(init, *dir);
    init->callback([&action, dir] {
      action = [dir](CliContext& ctx) {
        const auto path = workspaceDir(ctx, *dir);
        Workspace::create(path);
        std::printf("created workspace %s (schema %d)\n", path.c_str(), Workspace::kSchemaVersion);
        return 0;
      };
    });
  }
  {
    auto dir = std::make_shared<std::string>();
    auto format = std::make_shared<OutputFormat>();
    auto* info = ws->add_subcommand("info", "Counts of subjects, scans, derivatives, runs, models and predictions");
    addWorkspaceOption(info, *dir);
    format->add(info);
    info->callback([&action, dir, format] {
      action = [dir, format](CliContext& ctx) {
        auto w = Workspace::open(workspaceDir(ctx, *dir));
        const auto c = w->counts();
        json j = {
            {"workspace", w->dir().string()}, {"schema_version", w->schemaVersion()}, {"subjects", c.subjects}, {"sessions", c.sessions}, {"scans", c.scans},
            {"phenotypes", c.phenotypes},     {"derivatives", c.derivatives},         {"corpora", c.corpora},   {"runs", c.runs},         {"models", c.models},
            {"predictions", c.predictions}};
        if (format->json()) {
          std::printf("%s\n", j.dump(2).c_str());
        } else if (format->value != "text") {
          ResultTable table{{"key", "value"}, {}};
          for (const auto& [k, v] : j.items()) table.rows.push_back({k, v.is_string() ? v.get<std::string>() : v.dump()});
          std::printf("%s", table.render(format->value).c_str());
        } else {
          for (const auto& [k, v] : j.items()) std::printf("%-15s %s\n", k.c_str(), v.is_string() ? v.get<std::string>().c_str() : v.dump().c_str());
        }
        return 0;
      };
    });
  }
  {
    auto dir = std::make_shared<std::string>();
    auto verify = std::make_shared<bool>(false);
    auto* check = ws->add_subcommand("check", "Integrity: SQLite, foreign keys, arrays present (--verify-arrays: checksums)");
    addWorkspaceOption(check, *dir);
    check->add_flag("--verify-arrays", *verify, "Read every array and verify its checksum");
    auto repair = std::make_shared<bool>(false);
    check->add_flag("--repair", *repair,
                    "Derive again every connectome whose arrays are missing or damaged (with its recorded parameters), remove killed "
                    "processes' temporary files, and say what was done; then check");
    check->callback([&action, dir, verify, repair] {
      action = [dir, verify, repair](CliContext& ctx) {
        auto w = Workspace::open(workspaceDir(ctx, *dir), *repair);  // without --repair, killed processes' temporaries are reported, not removed
        if (*repair) {
          const auto registry = optionalAtlasRegistry(ctx);
          if (!registry) throw Error(ErrorCode::Config, "--repair derives BOLD connectomes again and needs the atlases (--data or BRAINGRAPH_DATA)");
          std::vector<std::string> actions;
          ctx.runJob("repair workspace", [&](JobContext& job) { actions = repairDerivatives(*w, *registry, job); });
          for (const auto& a : actions) std::printf("repair: %s\n", a.c_str());
          if (actions.empty()) std::printf("repair: every derivative's arrays are present and intact\n");
        }
        WorkspaceCheck r;
        ctx.runJob("check workspace", [&](JobContext& job) { r = w->check(*verify || *repair, job); });
        for (const auto& n : r.notes) std::printf("note: %s\n", n.c_str());
        for (const auto& p : r.problems) std::printf("problem: %s\n", p.c_str());
        std::printf("%s: %lld array(s) checked, %zu problem(s)\n", r.ok ? "ok" : "FAILED", static_cast<long long>(r.arraysChecked), r.problems.size());
        return r.ok ? 0 : static_cast<int>(ErrorCode::Data);
      };
    });
  }
}

// ---- import abide | bids | file
void addImportCommands(CLI::App& app, Action& action) {
  auto* imp = app.add_subcommand("import", "Bring scans into a workspace");
  imp->require_subcommand(1);
  {
    struct Args {
      std::string dir, pheno;
      std::vector<std::string> timeseries;
      bool skipInvalid = false;
    };
    auto a = std::make_shared<Args>();
    auto* abide = imp->add_subcommand(
        "abide", "ABIDE Preprocessed Connectomes layout: phenotype CSV + <FILE_ID>_rois_<atlas>.1D.gz (cc200, ho, ...: the atlas from the names)");
    addWorkspaceOption(abide, a->dir);
    abide->add_option("--pheno", a->pheno, "Phenotypic_V1_0b_preprocessed1.csv")->required();
    abide->add_option("--timeseries", a->timeseries, "Folder of .1D.gz files; repeat it for several atlases (each session then holds one series per atlas)")
        ->required();
    abide->add_flag("--skip-invalid", a->skipInvalid,
                    "Import the valid rows when some have an invalid DX_GROUP or a subject listed with two diagnoses (they are listed); "
                    "without it such a table is refused as a whole");
    abide->callback([&action, a] {
      action = [a](CliContext& ctx) {
        auto w = Workspace::open(workspaceDir(ctx, a->dir));
        ImportSummary total;
        ctx.runJob("import ABIDE", [&](JobContext& job) {
          for (std::size_t k = 0; k < a->timeseries.size(); ++k) {
            const double n = static_cast<double>(a->timeseries.size());
            ProgressRange part(job, static_cast<double>(k) / n, static_cast<double>(k + 1) / n);
            const auto s = importAbide(*w, a->pheno, a->timeseries[k], part, a->skipInvalid);
            total.imported += s.imported;
            total.alreadyPresent += s.alreadyPresent;
            total.skipped += s.skipped;
            total.invalid += s.invalid;
            total.notes.insert(total.notes.end(), s.notes.begin(), s.notes.end());
            total.problems.insert(total.problems.end(), s.problems.begin(), s.problems.end());
          }
        });
        return reportImport(total);
      };
    });
  }
  {
    struct Args {
      std::string dir, root;
    };
    auto a = std::make_shared<Args>();
    auto* bids = imp->add_subcommand("bids", "BIDS / fMRIPrep derivatives: *_space-MNI152*_desc-preproc_bold.nii.gz, confounds, participants.tsv");
    addWorkspaceOption(bids, a->dir);
    bids->add_option("folder", a->root, "Dataset or derivatives folder")->required();
    bids->callback([&action, a] {
      action = [a](CliContext& ctx) {
        auto w = Workspace::open(workspaceDir(ctx, a->dir));
        ImportSummary s;
        ctx.runJob("import BIDS", [&](JobContext& job) { s = importBids(*w, a->root, job); });
        return reportImport(s);
      };
    });
  }
  {
    struct Args {
      std::string dir, dataset = "local", subject, atlas = "custom";
      std::vector<std::string> files;
    };
    auto a = std::make_shared<Args>();
    auto* file = imp->add_subcommand("file", "Single BOLD NIfTI or ROI time-series files");
    addWorkspaceOption(file, a->dir);
    file->add_option("files", a->files, "Files")->required();
    file->add_option("--dataset", a->dataset, "Dataset name")->capture_default_str();
    file->add_option("--subject", a->subject, "Subject key (default: the file name)");
    file->add_option("--atlas", a->atlas, "Parcellation the columns of time-series files follow")->capture_default_str();
    file->callback([&action, a] {
      action = [a](CliContext& ctx) {
        auto w = Workspace::open(workspaceDir(ctx, a->dir));
        std::vector<std::filesystem::path> paths(a->files.begin(), a->files.end());
        ImportSummary s;
        ctx.runJob("import files", [&](JobContext& job) { s = importFiles(*w, paths, a->dataset, a->subject, a->atlas, job); });
        return reportImport(s);
      };
    });
  }
}

// ---- derive
void addDeriveCommand(CLI::App& app, Action& action) {
  {
    struct Args {
      std::string dir, atlas;
      std::vector<std::int64_t> scans;
      bool noClean = false, noBandpass = false;
      double fd = 0.5;
      std::string strategy = "motion24,wm_csf";
    };
    auto a = std::make_shared<Args>();
    auto* derive = app.add_subcommand("derive", "Connectomes for every scan x atlas, skipping what is up to date (resumable)");
    addWorkspaceOption(derive, a->dir);
    derive->add_option("--atlas", a->atlas, "Atlases for BOLD scans, comma-separated or all (default all)");
    derive->add_option("--scan", a->scans, "Only these scan ids (repeatable)");
    derive->add_flag("--no-clean", a->noClean, "Skip all cleaning");
    derive->add_flag("--no-bandpass", a->noBandpass, "Skip band-pass filtering");
    derive->add_option("--fd", a->fd, "Scrubbing threshold (mm)")->capture_default_str();
    derive->add_option("--strategy", a->strategy, "Confound strategies")->capture_default_str();
    derive->callback([&action, a] {
      action = [a](CliContext& ctx) {
        auto w = Workspace::open(workspaceDir(ctx, a->dir));
        const auto registry = AtlasRegistry::load(DataPaths::manifestDir(), ctx.dataPaths());
        DeriveRequest req;
        req.scanIds = a->scans;
        req.atlases = splitList(a->atlas);
        req.options.clean = !a->noClean;
        req.options.cleaning.bandpass = !a->noBandpass;
        req.options.cleaning.fdThreshold = a->fd;
        req.options.confoundStrategies = parseStrategies(a->strategy);
        DeriveSummary s;
        ctx.runJob("derive connectomes", [&](JobContext& job) { s = deriveConnectomes(*w, registry, req, job); });
        std::printf("derived %d scan(s), %d up to date, %d failed (parameters %s)\n", s.computed, s.upToDate, s.failed,
                    pipelineParamsHash(req.options).c_str());
        if (s.claimedElsewhere > 0) {
          std::string pids;
          for (long pid : s.otherProcesses) pids += (pids.empty() ? "" : ", ") + std::to_string(pid);
          std::printf("%d scan(s) left to the derivation already computing them (process %s)\n", s.claimedElsewhere, pids.c_str());
        }
        for (const auto& f : s.failures) spdlog::error("{}", f);
        return s.failed ? static_cast<int>(ErrorCode::Data) : 0;
      };
    });
  }
}

// ---- corpus create | list | show | export | import
// ---- export: a corpus as files for other tools
void addExportCommand(CLI::App& app, Action& action) {
  {
    struct Args {
      std::string dir, name, out;
    };
    auto a = std::make_shared<Args>();
    auto* ex = app.add_subcommand("export", "Write a corpus's FC matrices (.npy) and its manifest to a folder");
    addWorkspaceOption(ex, a->dir);
    ex->add_option("--corpus", a->name, "Corpus name")->required();
    ex->add_option("--out", a->out, "Output folder")->required();
    ex->callback([&action, a] {
      action = [a](CliContext& ctx) {
        auto w = Workspace::open(workspaceDir(ctx, a->dir));
        std::size_t exported = 0;
        ctx.runJob("export corpus", [&](JobContext& job) { exported = exportCorpus(*w, a->name, a->out, job); });
        std::printf("exported %zu FC matrices to %s\n", exported, a->out.c_str());
        return 0;
      };
    });
  }
}

}  // namespace

void addWorkspaceCommands(CLI::App& app, Action& action) {
  addWorkspaceFolderCommands(app, action);
  addImportCommands(app, action);
  addDeriveCommand(app, action);
  addExportCommand(app, action);
}

}  // namespace bg::cli
