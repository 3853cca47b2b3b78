#pragma once
// The clinical PDF: A4, paginated, every page with a header (the research-use banner, report id) and
// a footer (page x of y, software version), rendered from a diagnosis record (report/Diagnosis.h)
// alone, so a stored record regenerates the same report. The record itself is embedded in the PDF
// as the attachment "result.json". Needs a QGuiApplication (the offscreen platform will do).
#include <filesystem>
#include <optional>

#include <QString>
#include <nlohmann/json.hpp>

namespace bg::report {

struct ReportAssets {
  std::optional<std::filesystem::path> brainMask;  // MNI brain mask for the glass brain outline
};

// The report body as HTML (what the PDF paginates; the wizard previews it).
QString reportHtml(const nlohmann::json& record);

// Writes the PDF through a temporary file and a rename: an existing report is never half-replaced.
void writeReportPdf(const nlohmann::json& record, const std::filesystem::path& out, const ReportAssets& assets = {});

inline constexpr double kFigureDpi = 300.0;

}  // namespace bg::report
