// corpus create | list | delete | show | export | import | compare: training corpora from the command line.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
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
#include "workspace/Workspace.h"
#include "workspace/WorkspaceQueries.h"

namespace bg::cli {
namespace {
using nlohmann::json;

// corpus create: select derived scans, label them, split them (grouped by subject)
void addCorpusCreate(CLI::App* corpus, Action& action) {
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

// corpus list | delete
void addCorpusListAndDelete(CLI::App* corpus, Action& action) {
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

// corpus show | export | import: the manifest as JSON
void addCorpusManifestCommands(CLI::App* corpus, Action& action) {
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
}

// corpus compare: the Matrix tab's group comparison, from the command line
void addCorpusCompare(CLI::App* corpus, Action& action) {
  // The Matrix tab's group comparison, from the command line.
  struct Args {
    std::string dir, name, out;
    double alpha = 0.05;
    int top = 10;
    OutputFormat format;
  };
  auto a = std::make_shared<Args>();
  auto* cmp = corpus->add_subcommand("compare", "Welch's t per edge between the corpus's two classes (Fisher-z FC), Benjamini-Hochberg FDR");
  addWorkspaceOption(cmp, a->dir);
  cmp->add_option("name", a->name, "Corpus name (two classes)")->required();
  cmp->add_option("--alpha", a->alpha, "FDR level (default 0.05)")->check(CLI::Range(1e-6, 0.5));
  cmp->add_option("--top", a->top, "Edges listed, by |t| (default 10)")->check(CLI::Range(0, 100000));
  cmp->add_option("--out", a->out, "Folder for t.npy, p.npy and q.npy (ROIs x ROIs)");
  a->format.add(cmp);  // csv, md: the listed edges as a table
  cmp->callback([&action, a] {
    action = [a](CliContext& ctx) {
      auto w = Workspace::open(workspaceDir(ctx, a->dir));
      const auto m = loadCorpus(*w, a->name);
      const auto& classes = m.at("classes");
      if (classes.size() != 2) throw Error(ErrorCode::Usage, "corpus '" + a->name + "' has " + std::to_string(classes.size()) + " classes; compare needs two");
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
      if (a->format.json()) {
        std::printf("%s\n", out.dump(2).c_str());
        return 0;
      }
      if (a->format.value != "text") {
        ResultTable table{{"a", "b", "t", "df", "p", "q"}, {}};
        for (const auto& e : out["top"])
          table.rows.push_back({e["a"].get<std::string>(), e["b"].get<std::string>(), fmt::format("{:.6g}", e["t"].get<double>()),
                                fmt::format("{:.6g}", e["df"].get<double>()), fmt::format("{:.6g}", e["p"].get<double>()),
                                fmt::format("{:.6g}", e["q"].get<double>())});
        std::printf("%s", table.render(a->format.value).c_str());
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

}  // namespace

void addCorpusCommands(CLI::App& app, Action& action) {
  auto* corpus = app.add_subcommand("corpus", "Training corpora: selection, labels and splits");
  corpus->require_subcommand(1);
  addCorpusCreate(corpus, action);
  addCorpusListAndDelete(corpus, action);
  addCorpusManifestCommands(corpus, action);
  addCorpusCompare(corpus, action);
}

}  // namespace bg::cli
