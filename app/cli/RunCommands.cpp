// Runs launched in their own processes (the GUI's Runs dock does the same through these functions):
// list, compare, pause, resume and cancel them; release a trained model with its evaluation.
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "CliContext.h"
#include "Commands.h"
#include "OutputFormat.h"
#include "errors/Error.h"
#include "eval/ModelRelease.h"
#include "workspace/RunActions.h"
#include "workspace/RunTracking.h"
#include "workspace/Workspace.h"

namespace bg::cli {
using nlohmann::json;

namespace {
TrackedRun findRun(Workspace& ws, std::int64_t id) {
  for (const auto& r : listTrackedRuns(ws))
    if (r.id == id) return r;
  throw Error(ErrorCode::NoInput, "the workspace has no tracked run " + std::to_string(id));
}

json runJson(const TrackedRun& r) {
  return {{"id", r.id},
          {"task", r.name},
          {"state", runActions(r, r.state == JobState::Running && processPaused(r.pid)).state},
          {"stage", r.stage},
          {"progress", r.progress},
          {"pid", r.pid},
          {"command", r.command},
          {"log", r.logPath},
          {"started", r.createdAt},
          {"updated", r.updatedAt},
          {"error", r.error},
          {"config", r.config},
          {"metrics", r.metrics}};
}
}  // namespace

void addRunCommands(CLI::App& app, Action& action) {
  struct Args {
    std::string dir, verb;
    std::vector<std::int64_t> ids;
    OutputFormat format;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("runs", "Tracked runs of a workspace: list | compare A B | pause ID | resume ID | cancel ID");
  addWorkspaceOption(cmd, a->dir);
  cmd->add_option("verb", a->verb, "list, compare, pause, resume or cancel")->check(CLI::IsMember({"list", "compare", "pause", "resume", "cancel"}));
  cmd->add_option("ids", a->ids, "Run id(s)");
  a->format.add(cmd);
  cmd->callback([&action, a] {
    action = [a](CliContext& ctx) {
      auto ws = Workspace::open(workspaceDir(ctx, a->dir));
      reconcileTrackedRuns(*ws);
      const std::string verb = a->verb.empty() ? "list" : a->verb;
      if (verb == "list") {
        json all = json::array();
        for (const auto& r : listTrackedRuns(*ws)) all.push_back(runJson(r));
        if (a->format.json()) {
          std::printf("%s\n", all.dump(2).c_str());
        } else if (a->format.value != "text") {
          ResultTable table{{"id", "task", "state", "progress", "stage", "started"}, {}};
          for (const auto& r : all)
            table.rows.push_back({std::to_string(r["id"].get<std::int64_t>()), r["task"].get<std::string>(), r["state"].get<std::string>(),
                                  fmt::format("{:.1f} %", 100.0 * r["progress"].get<double>()), r["stage"].get<std::string>(),
                                  r["started"].get<std::string>()});
          std::printf("%s", table.render(a->format.value).c_str());
        } else {
          for (const auto& r : all)
            std::printf("%4lld  %-10s %-10s %5.1f %%  %s\n", static_cast<long long>(r["id"].get<std::int64_t>()), r["task"].get<std::string>().c_str(),
                        r["state"].get<std::string>().c_str(), 100.0 * r["progress"].get<double>(), r["stage"].get<std::string>().c_str());
        }
        return 0;
      }
      if (verb == "compare") {
        if (a->ids.size() != 2) throw Error(ErrorCode::Usage, "compare needs two run ids");
        const auto left = findRun(*ws, a->ids[0]), right = findRun(*ws, a->ids[1]);
        json out = {{"left", left.id}, {"right", right.id}, {"configuration", json::array()}, {"metrics", json::array()}};
        for (const auto& d : diffConfigurations(comparableRunSettings(left), comparableRunSettings(right)))
          out["configuration"].push_back({{"key", d.key}, {"left", d.left}, {"right", d.right}});
        for (const auto& d : diffConfigurations(left.metrics, right.metrics)) out["metrics"].push_back({{"key", d.key}, {"left", d.left}, {"right", d.right}});
        if (a->format.json()) {
          std::printf("%s\n", out.dump(2).c_str());
        } else if (a->format.value != "text") {
          ResultTable table{{"part", "key", "left", "right"}, {}};
          for (const char* part : {"configuration", "metrics"})
            for (const auto& d : out[part]) table.rows.push_back({part, d["key"].get<std::string>(), d["left"].dump(), d["right"].dump()});
          std::printf("%s", table.render(a->format.value).c_str());
        } else {
          for (const char* part : {"configuration", "metrics"})
            for (const auto& d : out[part])
              std::printf("%-14s %-40s %-24s %s\n", part, d["key"].get<std::string>().c_str(), d["left"].dump().c_str(), d["right"].dump().c_str());
        }
        return 0;
      }
      if (a->ids.size() != 1) throw Error(ErrorCode::Usage, verb + " needs one run id");
      const auto run = findRun(*ws, a->ids[0]);
      const auto can = runActions(run, run.state == JobState::Running && processPaused(run.pid));
      if (!can.cancel)  // pause, resume and cancel signal a live process
        throw Error(
            ErrorCode::Usage,
            "run " + std::to_string(run.id) + " is " + can.state + ", not running" +
                (verb == "resume" && can.relaunch ? "; a stopped pre-training continues from its checkpoint: run its command again with --resume" : ""));
      const RunSignal s = verb == "pause" ? RunSignal::Pause : verb == "resume" ? RunSignal::Resume : RunSignal::Cancel;
      if (!signalRun(run.pid, s)) throw Error(ErrorCode::Io, "cannot signal process " + std::to_string(run.pid));
      return 0;
    };
  });

  struct ReleaseArgs {
    std::string dir;
    ReleaseRequest req;
    std::string model, out;
  };
  auto r = std::make_shared<ReleaseArgs>();
  auto* rel = app.add_subcommand("release", "Release a trained model: a copy whose card carries a stored evaluation, offered by the diagnosis wizard");
  addWorkspaceOption(rel, r->dir);
  rel->add_option("--model", r->model, "Trained model file (train --out)")->required();
  rel->add_option("--evaluation", r->req.evaluationId, "Evaluation run id (see: results --format json)")->required();
  rel->add_option("--name", r->req.name, "Release name, e.g. 'ASD screen v1'")->required();
  rel->add_option("--by", r->req.releasedBy, "Who releases it");
  rel->add_option("--out", r->out, "Released model file to write")->required();
  rel->callback([&action, r] {
    action = [r](CliContext& ctx) {
      auto ws = Workspace::open(workspaceDir(ctx, r->dir));
      auto req = r->req;
      req.model = r->model;
      req.out = r->out;
      const auto card = releaseModel(*ws, req);
      std::printf("%s\n", json{{"released", r->out}, {"release", card["release"]}, {"evaluation", card["evaluation"]}}.dump(2).c_str());
      return 0;
    };
  });
}

}  // namespace bg::cli
