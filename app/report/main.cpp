// braingraph-report: renders a diagnosis record (JSON) into the clinical PDF. A process of its own
// because the PDF needs Qt 6 Gui while braingraph-cli may load the model library, whose LibTorch
// brings Qt 5 (two Qt majors must never share a process). braingraph-cli runs it for `diagnose
// --out` and `report`; the GUI renders in its own process with the same code (ui/pdf).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <string>

#include <QGuiApplication>
#include <nlohmann/json.hpp>

#include "errors/Error.h"
#include "log/Logging.h"
#include "pdf/ReportPdf.h"

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  if (qEnvironmentVariableIsEmpty("XDG_RUNTIME_DIR")) {
    // Qt wants a private runtime folder; batch jobs and containers may have none.
    const auto dir = std::filesystem::temp_directory_path() / ("runtime-" + std::to_string(::getuid()));
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    qputenv("XDG_RUNTIME_DIR", QByteArray::fromStdString(dir.string()));
  }
  std::string recordFile, out, mask;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
    if (a == "--record")
      recordFile = value();
    else if (a == "--out")
      out = value();
    else if (a == "--brain-mask")
      mask = value();
    else if (a == "--help" || a == "-h") {
      std::printf("usage: braingraph-report --record RECORD.json --out REPORT.pdf [--brain-mask MNI_MASK.nii.gz]\n");
      return 0;
    } else {
      std::fprintf(stderr, "error: unknown argument '%s' (see --help)\n", a.c_str());
      return 64;
    }
  }
  if (recordFile.empty() || out.empty()) {
    std::fprintf(stderr, "error: --record and --out are required (see --help)\n");
    return 64;
  }
  int qargc = 1;
  QGuiApplication app(qargc, argv);
  try {
    std::ifstream in(recordFile);
    if (!in) throw bg::Error(bg::ErrorCode::NoInput, "cannot open the record " + recordFile);
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(in);
    } catch (const nlohmann::json::parse_error& e) {
      throw bg::Error(bg::ErrorCode::Data, recordFile + " is not valid JSON: " + e.what());
    }
    if (!record.contains("report_id") || !record.contains("result")) throw bg::Error(bg::ErrorCode::Data, recordFile + " is not a report record");
    bg::report::ReportAssets assets;
    if (!mask.empty()) assets.brainMask = mask;
    bg::report::writeReportPdf(record, out, assets);
    return 0;
  } catch (...) {
    const auto e = bg::currentExceptionAsError();
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exitCode();
  }
}
