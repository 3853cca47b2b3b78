// diagnose, report: a patient's scan to a quality-controlled, explained, signed PDF report, and a
// stored prediction or report record back to its PDF. The PDF needs Qt Gui; it runs on Qt's offscreen
// platform, so no display is needed.
#include <cstdio>
#include <fstream>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <QGuiApplication>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "CliContext.h"
#include "Commands.h"
#include "atlas/AtlasRegistry.h"
#include "errors/Error.h"
#include "report/Diagnosis.h"
#include "report/ReportPdf.h"
#include "settings/DataPaths.h"
#include "workspace/Workspace.h"
#include <SQLiteCpp/SQLiteCpp.h>

namespace bg::cli {
using nlohmann::json;

namespace {

// QPdfWriter and QPainter need a QGuiApplication; the offscreen platform needs no display.
void ensureGuiApplication() {
  if (QGuiApplication::instance()) return;
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  static int argc = 1;
  static char name[] = "braingraph-cli";
  static char* argv[] = {name, nullptr};
  static auto* app = new QGuiApplication(argc, argv);
  (void)app;
}

std::unique_ptr<AtlasRegistry> loadRegistry(CliContext& ctx) {
  try {
    return std::make_unique<AtlasRegistry>(AtlasRegistry::load(DataPaths::manifestDir(), ctx.dataPaths()));
  } catch (const Error& e) {
    spdlog::debug("no atlas registry: {}", e.what());
    return nullptr;
  }
}

report::ReportAssets reportAssets(const AtlasRegistry* registry) {
  report::ReportAssets a;
  try {
    if (registry && registry->contains("mni152")) a.brainMask = registry->resolve(registry->get("mni152").files.at("brain_mask_2mm"));
  } catch (const std::exception& e) {
    spdlog::warn("no MNI brain mask for the glass brain: {}", e.what());
  }
  return a;
}

void renderPdf(const json& record, const std::string& out, const AtlasRegistry* registry, Workspace* ws) {
  ensureGuiApplication();
  report::writeReportPdf(record, out, reportAssets(registry));
  if (ws) {
    SQLite::Statement s(ws->db(), "UPDATE reports SET pdf_path = ?, updated_at = datetime('now') WHERE id = ?");
    s.bind(1, std::filesystem::absolute(out).string());
    s.bind(2, record.at("report_id").get<std::string>());
    s.exec();
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

void printSummary(const json& record) {
  const auto& r = record.at("result");
  std::printf("report %s: %s, p(%s) = %.3f", record.at("report_id").get<std::string>().c_str(), r.at("label").get<std::string>().c_str(),
              r.value("positive_class", std::string("positive")).c_str(), r.at("probability").get<double>());
  if (r.value("interval", json()).is_object()) std::printf(" [%.3f, %.3f]", r["interval"]["low"].get<double>(), r["interval"]["high"].get<double>());
  if (r.value("ood", json()).is_object()) std::printf(", %s", r["ood"].value("flag", false) ? "OUT OF DISTRIBUTION" : "in distribution");
  std::printf(", QC %s\n", record.at("qc").value("overall", std::string("?")).c_str());
}

}  // namespace

void addReportCommands(CLI::App& app, Action& action) {
  // ---- diagnose
  {
    struct Args {
      std::string model, input, confounds, patient, overrideReason, operatorName, clinician, impression, thresholds, out, dir;
      double tr = 0;
      bool pseudonymise = false, qcOnly = false, json = false;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = app.add_subcommand("diagnose", "One patient's scan to a quality-controlled, explained prediction and PDF report");
    cmd->add_option("--model", a->model, "Model file (train --out)")->required();
    cmd->add_option("--in", a->input, "The scan: BOLD .nii[.gz], or ROI time series in the model's atlas")->required();
    cmd->add_option("--out", a->out, "Write the PDF report here");
    cmd->add_option("--confounds", a->confounds, "fMRIPrep confounds TSV (default: the one beside a BOLD file, if any)");
    cmd->add_option("--tr", a->tr, "Repetition time (s) of a time-series file");
    cmd->add_option("--patient-id", a->patient, "Patient identifier (default: sub-XXX from the file name)");
    cmd->add_flag("--pseudonymise", a->pseudonymise, "Replace the identifier by a salted pseudonym in the report");
    cmd->add_option("--override-qc", a->overrideReason, "Classify even when quality control fails; the reason is printed in the report");
    cmd->add_option("--operator", a->operatorName, "Who runs the diagnosis (recorded)");
    cmd->add_option("--clinician", a->clinician, "Sign the report: the reviewing clinician's name");
    cmd->add_option("--impression", a->impression, "The clinician's impression (with --clinician)");
    cmd->add_option("--qc-thresholds", a->thresholds, "JSON file of QC thresholds (keys as in the report's QC table)");
    cmd->add_flag("--qc-only", a->qcOnly, "Only load the scan and run quality control (prints the QC table)");
    cmd->add_flag("--json", a->json, "Print the record (or the QC table) as one JSON object");
    addWorkspaceOption(cmd, a->dir);
    cmd->callback([&action, a] {
      action = [a](CliContext& ctx) {
        DiagnosisRequest r;
        r.modelFile = a->model;
        r.input = a->input;
        if (!a->confounds.empty()) r.confounds = a->confounds;
        r.tr = a->tr;
        r.patientId = a->patient;
        r.pseudonymise = a->pseudonymise;
        r.qcOverrideReason = a->overrideReason;
        r.operatorName = a->operatorName;
        r.thresholds = readThresholds(a->thresholds);
        r.device = ctx.settings().device;
        r.threads = ctx.settings().computeThreads;
        if (!a->impression.empty() && a->clinician.empty()) throw Error(ErrorCode::Usage, "--impression needs --clinician (who signs it)");
        const auto registry = loadRegistry(ctx);
        if (a->qcOnly) {
          DiagnosisCase c;
          ctx.runJob("quality control " + a->input, [&](JobContext& job) { c = prepareDiagnosis(r, registry.get(), job); });
          json out = c.qc.toJson();
          out["input"] = {{"file", a->input}, {"kind", c.input.kind}, {"volumes", c.input.volumes}, {"tr_seconds", c.input.tr},
                          {"rois", c.input.fc.rows()}, {"confounds", c.input.confounds ? json(c.input.confounds->string()) : json(nullptr)}};
          out["patient_id"] = patientIdFromFileName(r.input);
          out["blocked"] = c.qc.failed() && r.qcOverrideReason.empty();
          if (a->json) {
            std::printf("%s\n", out.dump().c_str());
          } else {
            for (const auto& i : c.qc.items)
              std::printf("%-30s %-10s %-5s %s\n", i.name.c_str(), i.value ? fmt::format("{:.4g}", *i.value).c_str() : "-", i.status.c_str(),
                          i.rule.c_str());
            std::printf("overall: %s\n", c.qc.overall().c_str());
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
        if (!a->clinician.empty()) {
          signReport(record, a->clinician, a->impression);
          if (ws) saveReportRecord(*ws, record);
        }
        if (!a->out.empty()) renderPdf(record, a->out, registry.get(), ws.get());
        if (a->json)
          std::printf("%s\n", record.dump().c_str());
        else
          printSummary(record);
        return 0;
      };
    });
  }

  // ---- report
  {
    struct Args {
      std::string dir, reportId, fromJson, out, clinician, impression;
      std::int64_t prediction = -1;
      bool json = false;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = app.add_subcommand("report", "The PDF report of a stored prediction or report record (regenerated from the record)");
    cmd->add_option("--prediction", a->prediction, "Prediction id (predict --record, diagnose): its newest report");
    cmd->add_option("--report", a->reportId, "Report id (BGR-...)");
    cmd->add_option("--from-json", a->fromJson, "A report record file (e.g. the result.json attached to a report)");
    cmd->add_option("--out", a->out, "The PDF to write")->required();
    cmd->add_option("--clinician", a->clinician, "Sign the report (stored with the record)");
    cmd->add_option("--impression", a->impression, "The clinician's impression (with --clinician)");
    cmd->add_flag("--json", a->json, "Print the record");
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
        if (!a->clinician.empty()) {
          signReport(record, a->clinician, a->impression);
          if (ws) saveReportRecord(*ws, record);
        }
        const auto registry = loadRegistry(ctx);
        renderPdf(record, a->out, registry.get(), ws.get());
        if (a->json)
          std::printf("%s\n", record.dump().c_str());
        else
          printSummary(record);
        return 0;
      };
    });
  }
}

}  // namespace bg::cli
