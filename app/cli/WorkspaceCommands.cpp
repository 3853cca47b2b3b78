// workspace, import, derive, corpus and export: the workspace from the command line.
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
void addCorpusCommands(CLI::App& app, Action& action) {
  auto* corpus = app.add_subcommand("corpus", "Training corpora: selection, labels and splits");
  corpus->require_subcommand(1);
  {
    struct Args {
      std::string dir, name, atlas = "cc200", label = "diagnosis", split = "kfold", params, site = "site";
      std::vector<std::string> classes, where;
      int folds = 10;
      unsigned seed = 0;
      double train = 0.7, validation = 0.15;
      bool replace = false;
    };
    auto a = std::make_shared<Args>();
    auto* create = corpus->add_subcommand("create", "Select derived scans, label them and split them");
    addWorkspaceOption(create, a->dir);
    create->add_option("--name", a->name, "Corpus name")->required();
    create
        ->add_option("--atlas", a->atlas,
                     "Parcellation of the derivatives; several, comma-separated (cc200,ho), make a multi-atlas corpus whose splits keep "
                     "each subject's items together")
        ->capture_default_str();
    create->add_option("--label", a->label, "Phenotype that labels each scan")->capture_default_str();
    create->add_option("--class", a->classes, "Label values to keep, in class order (repeatable; default: all)");
    create->add_option("--where", a->where, "Filter, e.g. site!=NYU or age<30 (repeatable)");
    create->add_option("--split", a->split, "kfold, leave-site-out or fixed")->capture_default_str();
    create->add_option("--folds", a->folds, "k for kfold (2 or more)")->capture_default_str()->check(CLI::Range(2, 100000));
    create->add_option("--train", a->train, "Train fraction for fixed (above 0, at most 1; the test part is what train and validation leave)")
        ->capture_default_str()
        ->check(CLI::Range(1e-9, 1.0));
    create->add_option("--validation", a->validation, "Validation fraction for fixed (0 or more, below 1)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0 - 1e-9));
    create->add_option("--site-field", a->site, "Phenotype naming the site")->capture_default_str();
    create->add_option("--seed", a->seed, "Seed of the split")->capture_default_str();
    create->add_option("--params", a->params, "Only derivatives with this parameter hash");
    create->add_flag("--replace", a->replace,
                     "Replace a corpus of the same name (without it, running the same command again keeps the existing corpus when its "
                     "definition is the same, and refuses otherwise)");
    create->callback([&action, a] {
      action = [a](CliContext& ctx) {
        auto w = Workspace::open(workspaceDir(ctx, a->dir));
        CorpusSpec spec;
        spec.name = a->name;
        spec.atlas = a->atlas;
        if (a->atlas.find(',') != std::string::npos) {
          spec.atlases = splitList(a->atlas, ',');
          spec.atlas = spec.atlases.front();
        }
        spec.labelField = a->label;
        spec.classes = a->classes;
        spec.paramsHash = a->params;
        for (const auto& f : a->where) spec.filters.push_back(CorpusFilter::parse(f));
        spec.split.kind = a->split;
        spec.split.folds = a->folds;
        spec.split.trainFraction = a->train;
        spec.split.validationFraction = a->validation;
        spec.split.siteField = a->site;
        spec.split.seed = a->seed;
        if (const auto pid = runningDerivation(w->dir()))
          spdlog::warn(
              "a derivation (process {}) is still running on this workspace: the corpus holds only the scans derived so far; create it "
              "again with --replace when the derivation has finished",
              *pid);
        const auto manifest = buildCorpusManifest(*w, spec);
        saveCorpus(*w, manifest, a->replace ? CorpusExisting::Replace : CorpusExisting::KeepIfSame);
        if (manifest.contains("atlases")) {
          std::set<std::string> subjects;
          for (const auto& item : manifest["items"]) subjects.insert(item["dataset"].get<std::string>() + "/" + item["subject"].get<std::string>());
          std::printf("corpus '%s': %zu graphs of %zu subjects in %s, classes", a->name.c_str(), manifest["items"].size(), subjects.size(),
                      manifest["atlas"].get<std::string>().c_str());
        } else {
          std::printf("corpus '%s': %zu scans, classes", a->name.c_str(), manifest["items"].size());
        }
        for (const auto& c : manifest["classes"]) std::printf(" %s", c.get<std::string>().c_str());
        std::printf(", %zu fold(s)\n", manifest["split"]["folds"].size());
        return 0;
      };
    });
  }
  {
    auto dir = std::make_shared<std::string>();
    auto delDir = std::make_shared<std::string>();
    auto delName = std::make_shared<std::string>();
    auto* del = corpus->add_subcommand("delete", "Remove a corpus no recorded run refers to (its scans and connectomes stay)");
    addWorkspaceOption(del, *delDir);
    del->add_option("name", *delName, "Corpus name")->required();
    del->callback([&action, delDir, delName] {
      action = [delDir, delName](CliContext& ctx) {
        auto w = Workspace::open(workspaceDir(ctx, *delDir));
        deleteCorpus(*w, *delName);
        std::printf("deleted corpus '%s'\n", delName->c_str());
        return 0;
      };
    });
    auto* list = corpus->add_subcommand("list", "Corpus names");
    addWorkspaceOption(list, *dir);
    list->callback([&action, dir] {
      action = [dir](CliContext& ctx) {
        auto w = Workspace::open(workspaceDir(ctx, *dir));
        for (const auto& n : listCorpora(*w)) std::printf("%s\n", n.c_str());
        return 0;
      };
    });
  }
  for (const char* verb : {"show", "export"}) {
    struct Args {
      std::string dir, name, out;
    };
    auto a = std::make_shared<Args>();
    const bool isExport = std::string(verb) == "export";
    auto* cmd = corpus->add_subcommand(verb, isExport ? "Write the manifest (JSON) to a file" : "Print the manifest (JSON)");
    addWorkspaceOption(cmd, a->dir);
    cmd->add_option("name", a->name, "Corpus name")->required();
    if (isExport) cmd->add_option("--out", a->out, "Manifest file")->required();
    cmd->callback([&action, a, isExport] {
      action = [a, isExport](CliContext& ctx) {
        auto w = Workspace::open(workspaceDir(ctx, a->dir));
        const auto m = loadCorpus(*w, a->name);
        if (isExport)
          writeTextAtomically(a->out, m.dump(2) + "\n");
        else
          std::printf("%s\n", m.dump(2).c_str());
        return 0;
      };
    });
  }
  {
    struct Args {
      std::string dir, file, name;
    };
    auto a = std::make_shared<Args>();
    auto* im = corpus->add_subcommand("import", "Add a corpus from a manifest; its scans must be in this workspace");
    addWorkspaceOption(im, a->dir);
    im->add_option("manifest", a->file, "Manifest file")->required();
    im->add_option("--name", a->name, "Store under another name");
    im->callback([&action, a] {
      action = [a](CliContext& ctx) {
        auto w = Workspace::open(workspaceDir(ctx, a->dir));
        std::ifstream in(a->file);
        if (!in) throw Error(ErrorCode::NoInput, "cannot open " + a->file);
        json m;
        try {
          m = json::parse(in);
        } catch (const json::exception& e) {
          throw Error(ErrorCode::Data, a->file + " is not valid JSON: " + e.what());
        }
        if (!a->name.empty()) m["name"] = a->name;
        saveCorpus(*w, m);
        std::printf("corpus '%s' imported: %zu scans\n", m["name"].get<std::string>().c_str(), m["items"].size());
        return 0;
      };
    });
  }

  {
    // The Matrix tab's group comparison, from the command line.
    struct Args {
      std::string dir, name, out;
      double alpha = 0.05;
      int top = 10;
      bool asJson = false;
    };
    auto a = std::make_shared<Args>();
    auto* cmp = corpus->add_subcommand("compare", "Welch's t per edge between the corpus's two classes (Fisher-z FC), Benjamini-Hochberg FDR");
    addWorkspaceOption(cmp, a->dir);
    cmp->add_option("name", a->name, "Corpus name (two classes)")->required();
    cmp->add_option("--alpha", a->alpha, "FDR level (default 0.05)")->check(CLI::Range(1e-6, 0.5));
    cmp->add_option("--top", a->top, "Edges listed, by |t| (default 10)")->check(CLI::Range(0, 100000));
    cmp->add_option("--out", a->out, "Folder for t.npy, p.npy and q.npy (ROIs x ROIs)");
    cmp->add_flag("--json", a->asJson, "Print JSON");
    cmp->callback([&action, a] {
      action = [a](CliContext& ctx) {
        auto w = Workspace::open(workspaceDir(ctx, a->dir));
        const auto m = loadCorpus(*w, a->name);
        const auto& classes = m.at("classes");
        if (classes.size() != 2)
          throw Error(ErrorCode::Usage, "corpus '" + a->name + "' has " + std::to_string(classes.size()) + " classes; compare needs two");
        GroupMoments first, second;
        ctx.runJob("compare " + a->name, [&](JobContext& job) {
          ProgressRange p0(job, 0.0, 0.5), p1(job, 0.5, 1.0);
          second = groupFisherZMoments(*w, m, 0, p0);
          first = groupFisherZMoments(*w, m, 1, p1);
        });
        const auto c = welchEdgeComparison(first, second, a->alpha);
        if (!a->out.empty()) {
          std::filesystem::create_directories(a->out);
          writeNpyFloat32(std::filesystem::path(a->out) / "t.npy", c.t);
          writeNpyFloat32(std::filesystem::path(a->out) / "p.npy", c.p);
          writeNpyFloat32(std::filesystem::path(a->out) / "q.npy", c.q);
        }
        std::vector<std::string> names;
        if (const auto reg = optionalAtlasRegistry(ctx); reg && reg->contains(m.value("atlas", std::string())))
          for (const auto& l : reg->labels(m.value("atlas", std::string()))) names.push_back(l.name);
        if (static_cast<Eigen::Index>(names.size()) != c.t.rows()) names.clear();
        auto name = [&](Eigen::Index i) { return names.empty() ? "ROI " + std::to_string(i + 1) : names[static_cast<std::size_t>(i)]; };
        std::vector<std::pair<Eigen::Index, Eigen::Index>> edges;
        for (Eigen::Index i = 0; i < c.t.rows(); ++i)
          for (Eigen::Index j = i + 1; j < c.t.cols(); ++j) edges.emplace_back(i, j);
        const auto shown = std::min<std::size_t>(edges.size(), static_cast<std::size_t>(a->top));
        std::partial_sort(edges.begin(), edges.begin() + static_cast<std::ptrdiff_t>(shown), edges.end(),
                          [&](const auto& x, const auto& y) { return std::abs(c.t(x.first, x.second)) > std::abs(c.t(y.first, y.second)); });
        json out = {{"corpus", a->name}, {"classes", {classes[1], classes[0]}}, {"n", {first.n, second.n}}, {"alpha", a->alpha},
                    {"edges", c.tests},  {"significant", c.significant},        {"top", json::array()}};
        for (std::size_t k = 0; k < shown; ++k) {
          const auto [i, j] = edges[k];
          out["top"].push_back({{"a", name(i)}, {"b", name(j)}, {"t", c.t(i, j)}, {"df", c.df(i, j)}, {"p", c.p(i, j)}, {"q", c.q(i, j)}});
        }
        if (a->asJson) {
          std::printf("%s\n", out.dump(2).c_str());
          return 0;
        }
        std::printf("%s vs %s (n = %d vs %d): %d of %d edges significant at FDR q < %g (Welch's t on Fisher-z FC)\n", classes[1].get<std::string>().c_str(),
                    classes[0].get<std::string>().c_str(), first.n, second.n, c.significant, c.tests, a->alpha);
        for (const auto& e : out["top"])
          std::printf("  t = %7.3f  p = %.2e  q = %.2e  %s — %s\n", e["t"].get<double>(), e["p"].get<double>(), e["q"].get<double>(),
                      e["a"].get<std::string>().c_str(), e["b"].get<std::string>().c_str());
        return 0;
      };
    });
  }
}

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
  addCorpusCommands(app, action);
  addExportCommand(app, action);
}

}  // namespace bg::cli
