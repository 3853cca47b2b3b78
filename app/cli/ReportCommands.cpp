// diagnose, report: a patient's scan to a quality-controlled, explained, signed PDF report, and a
// stored prediction or report record back to its PDF. The PDF is drawn by braingraph-report (Qt Gui on
// the offscreen platform, no display needed) in a process of its own: this one may hold LibTorch,
// which brings Qt 5.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>
#include <fstream>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "CliContext.h"
#include "Commands.h"
#include "OutputFormat.h"
#include "atlas/AtlasRegistry.h"
#include "errors/Error.h"
#include "report/Diagnosis.h"
#include "io/AtomicFile.h"
#include "settings/DataPaths.h"
#include "workspace/ReportStore.h"
#include "workspace/Workspace.h"

namespace bg::cli {
using nlohmann::json;

namespace {

extern "C" char** environ;

// braingraph-report: $BRAINGRAPH_REPORT, else beside this executable.
std::filesystem::path reportRenderer() {
  if (const char* env = std::getenv("BRAINGRAPH_REPORT"); env && *env) return env;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  const auto beside = exe.parent_path() / "braingraph-report";
  if (ec || !std::filesystem::exists(beside))
    throw Error(ErrorCode::Config, "PDF reports need braingraph-report (built with the GUI, BRAINGRAPH_BUILD_GUI=ON); it is not beside " + exe.string() +
                                       " and $BRAINGRAPH_REPORT is not set");
  return beside;
}

// Runs the renderer (no shell); its own error message goes to our standard error.
void runRenderer(const std::vector<std::string>& args) {
  const auto program = reportRenderer().string();
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (const int rc = posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv.data(), environ); rc != 0)
    throw Error(ErrorCode::Io, "cannot start " + program + ": " + std::strerror(rc));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status)) throw Error(ErrorCode::Internal, program + " was killed by signal " + std::to_string(WTERMSIG(status)));
  if (const int code = WEXITSTATUS(status); code != 0) {
    const auto known = code == 64 || code == 65 || code == 66 || code == 74 || code == 78 || code == 130;
    throw Error(known ? static_cast<ErrorCode>(code) : ErrorCode::Internal, "the report renderer failed (see its message above)");
  }
}

std::optional<std::filesystem::path> brainMask(const AtlasRegistry* registry) {
  try {
    if (registry && registry->contains("mni152")) return registry->resolve(registry->get("mni152").files.at("brain_mask_2mm"));
  } catch (const std::exception& e) {
    spdlog::warn("no MNI brain mask for the glass brain: {}", e.what());
  }
  return std::nullopt;
}

void renderPdf(const json& record, const std::string& out, const AtlasRegistry* registry, Workspace* ws) {
  const auto parent = std::filesystem::absolute(out).parent_path();
  if (!std::filesystem::is_directory(parent))
    throw Error(ErrorCode::NoInput, "while writing the report " + out + ": the folder " + parent.string() + " does not exist");
  const auto recordFile = parent / (".report-record-" + std::to_string(::getpid()) + ".json");
  writeTextAtomically(recordFile, record.dump());
  std::vector<std::string> args = {"--record", recordFile.string(), "--out", out};
  if (const auto mask = brainMask(registry)) {
    args.push_back("--brain-mask");
    args.push_back(mask->string());
  }
  try {
    runRenderer(args);
  } catch (...) {
    std::filesystem::remove(recordFile);
    throw;
  }
  std::filesystem::remove(recordFile);
  if (ws) {
    setReportPdf(*ws, record.at("report_id").get<std::string>(), std::filesystem::absolute(out).string());
  }
  spdlog::info("wrote {} (report {})", out, record.at("report_id").get<std::string>());
}

QcThresholds readThresholds(const std::string& file) {
  if (file.empty()) return {};
  std::ifstream in(file);
  if (!in) throw Error(ErrorCode::NoInput, "cannot open the QC thresholds file " + file);
  try {
    return QcThresholds::fromJson(json::parse(in));
  } catch (const json::parse_error& e) {
    throw Error(ErrorCode::Config, file + " is not valid JSON: " + e.what());
  }
}

// --clinician/--impression: sign the record (and store the signed record in the workspace).
void applySignOff(json& record, const std::string& clinician, const std::string& impression, Workspace* ws) {
  if (clinician.empty()) return;
  signReport(record, clinician, impression);
  if (ws) saveReportRecord(*ws, record);
}

void printSummary(const json& record) {
  const auto& r = record.at("result");
  std::printf("report %s: %s, p(%s) = %.3f", record.at("report_id").get<std::string>().c_str(), r.at("label").get<std::string>().c_str(),
              r.value("positive_class", std::string("positive")).c_str(), r.at("probability").get<double>());
  if (r.value("interval", json()).is_object()) std::printf(" [%.3f, %.3f]", r["interval"]["low"].get<double>(), r["interval"]["high"].get<double>());
  if (r.value("ood", json()).is_object()) std::printf(", %s", r["ood"].value("flag", false) ? "OUT OF DISTRIBUTION" : "in distribution");
  if (r.value("in_training_set", json()).is_boolean() && r["in_training_set"].get<bool>())
    std::printf(", A TRAINING SCAN OF THE MODEL (not an independent test)");
  std::printf(", QC %s\n", record.at("qc").value("verdict", record.at("qc").value("overall", std::string("?"))).c_str());
}

// One row per report (csv, md): what the summary line says, in columns.
ResultTable reportRow(const json& record) {
  const auto& r = record.at("result");
  const auto number = [](const json& v) { return v.is_number() ? fmt::format("{:.6g}", v.get<double>()) : std::string(); };
  const auto interval = r.value("interval", json());
  const auto ood = r.value("ood", json());
  const auto inTraining = r.value("in_training_set", json());
  return {{"report_id", "patient", "label", "probability", "positive_class", "interval_low", "interval_high", "out_of_distribution", "training_scan", "qc"},
          {{record.at("report_id").get<std::string>(), record.value("patient", json::object()).value("id", std::string()), r.at("label").get<std::string>(),
            number(r.at("probability")), r.value("positive_class", std::string()), interval.is_object() ? number(interval.value("low", json())) : "",
            interval.is_object() ? number(interval.value("high", json())) : "", ood.is_object() ? (ood.value("flag", false) ? "yes" : "no") : "",
            inTraining.is_boolean() ? (inTraining.get<bool>() ? "yes" : "no") : "",
            record.at("qc").value("verdict", record.at("qc").value("overall", std::string()))}}};
}

void printRecord(const json& record, const OutputFormat& format) {
  if (format.json())
    std::printf("%s\n", record.dump().c_str());
  else if (format.value == "text")
    printSummary(record);
  else
    std::printf("%s", reportRow(record).render(format.value).c_str());
}

}  // namespace

void addReportCommands(CLI::App& app, Action& action) {
  // ---- diagnose
  {
    struct Args {
      std::string model, input, confounds, patient, overrideReason, operatorName, clinician, impression, thresholds, out, dir;
      double tr = 0;
      std::string site;
      bool pseudonymise = false, qcOnly = false;
      OutputFormat format;  // text: the summary line (the QC table with --qc-only); csv, md: one row (a row per QC check)
    };
    auto a = std::make_shared<Args>();
    auto* cmd = app.add_subcommand("diagnose", "One patient's scan to a quality-controlled, explained prediction and PDF report");
    cmd->add_option("--model", a->model, "Model file (train --out)")->required();
    cmd->add_option("--in", a->input, "The scan: BOLD .nii[.gz], or ROI time series in the model's atlas")->required();
    cmd->add_option("--out", a->out, "Write the PDF report here");
    cmd->add_option("--confounds", a->confounds, "fMRIPrep confounds TSV (default: the one beside a BOLD file, if any)");
    cmd->add_option("--tr", a->tr, "Repetition time (s) of a time-series file");
    cmd->add_option("--site", a->site, "Acquisition site, for a model whose input is standardised per site (one of its training sites)");
    cmd->add_option("--patient-id", a->patient, "Patient identifier (default: sub-XXX from the file name)");
    cmd->add_flag("--pseudonymise", a->pseudonymise, "Replace the identifier by a salted pseudonym in the report");
    cmd->add_option("--override-qc", a->overrideReason, "Classify even when quality control fails; the reason is printed in the report");
    cmd->add_option("--operator", a->operatorName, "Who runs the diagnosis (recorded)");
    cmd->add_option("--clinician", a->clinician, "Sign the report: the reviewing clinician's name");
    cmd->add_option("--impression", a->impression, "The clinician's impression (with --clinician)");
    cmd->add_option("--qc-thresholds", a->thresholds, "JSON file of QC thresholds (keys as in the report's QC table)");
    cmd->add_flag("--qc-only", a->qcOnly, "Only load the scan and run quality control (prints the QC table)");
    a->format.add(cmd);  // json: the record (or the QC table) as one object
    addWorkspaceOption(cmd, a->dir);
    cmd->callback([&action, a] {
      action = [a](CliContext& ctx) {
        DiagnosisRequest r;
        r.modelFile = a->model;
        r.input = a->input;
        if (!a->confounds.empty()) r.confounds = a->confounds;
        r.tr = a->tr;
        r.site = a->site;
        r.patientId = a->patient;
        r.pseudonymise = a->pseudonymise;
        r.qcOverrideReason = a->overrideReason;
        r.operatorName = a->operatorName;
        r.thresholds = readThresholds(a->thresholds);
        r.device = ctx.settings().device;
        r.threads = ctx.settings().computeThreads;
        r.displayConvention = ctx.settings().displayConvention;
        if (!a->impression.empty() && a->clinician.empty()) throw Error(ErrorCode::Usage, "--impression needs --clinician (who signs it)");
        const auto registry = optionalAtlasRegistry(ctx);
        if (a->qcOnly) {
          DiagnosisCase c;
          std::unique_ptr<Workspace> qcWs;  // a scan it holds takes its recorded motion from it
          try {
            qcWs = Workspace::open(workspaceDir(ctx, a->dir));
          } catch (const Error&) {
            if (!a->dir.empty()) throw;
          }
          ctx.runJob("quality control " + a->input, [&](JobContext& job) { c = prepareDiagnosis(r, registry.get(), job, qcWs.get()); });
          json out = c.qc.toJson();
          out["input"] = {{"file", a->input},           {"kind", c.input.kind},
                          {"volumes", c.input.volumes}, {"tr_seconds", c.input.tr},
                          {"rois", c.input.fc.rows()},  {"confounds", c.input.confounds ? json(c.input.confounds->string()) : json(nullptr)}};
          out["patient_id"] = patientIdFromFileName(r.input);
          out["blocked"] = c.qc.failed() && r.qcOverrideReason.empty();
          if (a->format.json()) {
            std::printf("%s\n", out.dump().c_str());
          } else if (a->format.value == "text") {
            for (const auto& i : c.qc.items)
              std::printf("%-30s %-10s %-5s %s\n", i.name.c_str(), i.value ? fmt::format("{:.4g}", *i.value).c_str() : "-", i.status.c_str(), i.rule.c_str());
            std::printf("overall: %s\n", c.qc.verdict().c_str());
          } else {
            ResultTable t{{"check", "value", "status", "rule"}, {}};
            for (const auto& i : c.qc.items) t.rows.push_back({i.name, i.value ? fmt::format("{:.6g}", *i.value) : "", i.status, i.rule});
            std::printf("%s", t.render(a->format.value).c_str());
          }
          return 0;
        }
        // Recorded in the given (or the configured) workspace; without one the run still gives its report.
        std::unique_ptr<Workspace> ws;
        try {
          ws = Workspace::open(workspaceDir(ctx, a->dir));
        } catch (const Error& e) {
          if (!a->dir.empty()) throw;
          spdlog::warn("not recorded in a workspace: {}", e.cause());
        }
        json record;
        ctx.runJob("diagnose " + a->input, [&](JobContext& job) { record = runDiagnosis(r, registry.get(), ws.get(), job); });
        applySignOff(record, a->clinician, a->impression, ws.get());
        if (!a->out.empty()) renderPdf(record, a->out, registry.get(), ws.get());
        printRecord(record, a->format);
        return 0;
      };
    });
  }

  // ---- report
  {
    struct Args {
      std::string dir, reportId, fromJson, out, clinician, impression;
      std::int64_t prediction = -1;
      OutputFormat format;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = app.add_subcommand("report", "The PDF report of a stored prediction or report record (regenerated from the record)");
    cmd->add_option("--prediction", a->prediction, "Prediction id (predict --record, diagnose): its newest report");
    cmd->add_option("--report", a->reportId, "Report id (BGR-...)");
    cmd->add_option("--from-json", a->fromJson, "A report record file (e.g. the result.json attached to a report)");
    cmd->add_option("--out", a->out, "The PDF to write")->required();
    cmd->add_option("--clinician", a->clinician, "Sign the report (stored with the record)");
    cmd->add_option("--impression", a->impression, "The clinician's impression (with --clinician)");
    a->format.add(cmd);  // json: the record
    addWorkspaceOption(cmd, a->dir);
    cmd->callback([&action, a] {
      action = [a](CliContext& ctx) {
        const int sources = (a->prediction >= 0) + !a->reportId.empty() + !a->fromJson.empty();
        if (sources != 1) throw Error(ErrorCode::Usage, "give exactly one of --prediction, --report, --from-json");
        if (!a->impression.empty() && a->clinician.empty()) throw Error(ErrorCode::Usage, "--impression needs --clinician (who signs it)");
        std::unique_ptr<Workspace> ws;
        json record;
        if (!a->fromJson.empty()) {
          std::ifstream in(a->fromJson);
          if (!in) throw Error(ErrorCode::NoInput, "cannot open " + a->fromJson);
          try {
            record = json::parse(in);
          } catch (const json::parse_error& e) {
            throw Error(ErrorCode::Data, a->fromJson + " is not valid JSON: " + e.what());
          }
          if (!record.contains("report_id") || !record.contains("result")) throw Error(ErrorCode::Data, a->fromJson + " is not a report record");
        } else {
          ws = Workspace::open(workspaceDir(ctx, a->dir));
          if (!a->reportId.empty()) {
            auto r = loadReportRecord(*ws, a->reportId);
            if (!r) throw Error(ErrorCode::NoInput, "the workspace has no report " + a->reportId);
            record = *r;
          } else if (auto r = loadReportForPrediction(*ws, a->prediction)) {
            record = *r;
          } else {
            record = recordFromPrediction(*ws, a->prediction);
            saveReportRecord(*ws, record);
          }
        }
        applySignOff(record, a->clinician, a->impression, ws.get());
        const auto registry = optionalAtlasRegistry(ctx);
        renderPdf(record, a->out, registry.get(), ws.get());
        printRecord(record, a->format);
        return 0;
      };
    });
  }
}

}  // namespace bg::cli
