#include "pdf/ReportPdf.h"

#include <cmath>
#include <filesystem>
#include <map>

#include <QAbstractTextDocumentLayout>
#include <QFile>
#include <QPageLayout>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QTextBlock>
#include <QTextCursor>
#include <QTextDocument>
#include <QTextLayout>
#include <QTextObjectInterface>
#include <QUrl>
#include <unistd.h>

#include "errors/Error.h"
#include "io/PdfAttachment.h"
#include "pdf/ReportFigures.h"

namespace bg::report {
using nlohmann::json;

namespace {

QString esc(const std::string& s) { return QString::fromStdString(s).toHtmlEscaped(); }
QString esc(const json& j, const char* key, const char* fallback = "—") {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return fallback;
  const auto& v = j[key];
  return esc(v.is_string() ? v.get<std::string>() : v.dump());
}
QString num(double v, int decimals = 3) { return QString::number(v, 'f', decimals); }

QString statusCell(const std::string& status) {
  const char* colour = status == "pass" ? "#1a7f37" : status == "warn" ? "#9a6700" : status == "fail" ? "#cf222e" : "#57606a";
  return QString("<td style=\"color:%1; font-weight:bold\">%2</td>").arg(colour, esc(status));
}

QString row(const QString& a, const QString& b) { return "<tr><td width=\"32%\"><b>" + a + "</b></td><td>" + b + "</td></tr>"; }

// Millimetres to device pixels of the writer.
int mm(double v, double dpi) { return static_cast<int>(std::lround(v / 25.4 * dpi)); }

constexpr double kContentWidthMm = 180.0;

// Report ids, hashes and file names must survive copy and paste and text extraction: without
// ligatures ("ff" and "fi" would become single glyphs). Qt 6.4 has no font-feature switch;
// PreferNoShaping skips shaping (and so ligatures) for scripts that do not need it, such as Latin.
QFont reportFont(double pointSize, bool bold = false) {
  QFont f("DejaVu Sans");
  f.setPointSizeF(pointSize);
  f.setBold(bold);
  f.setStyleStrategy(QFont::PreferNoShaping);
  return f;
}

// Moves a section's heading to the next page when the section would straddle a page break but fits
// on one page, or when only the heading and a few lines would stay behind: no page ends on a stray
// heading or starts with a section's last line.
void keepSectionsTogether(QTextDocument& doc, double pageH) {
  auto* layout = doc.documentLayout();
  for (QTextBlock b = doc.begin(); b.isValid(); b = b.next()) {
    if (b.blockFormat().headingLevel() != 2) continue;
    QTextBlock end = b.next();
    while (end.isValid() && end.blockFormat().headingLevel() != 2) end = end.next();
    const double top = layout->blockBoundingRect(b).top();
    const double bottom = end.isValid() ? layout->blockBoundingRect(end).top() : layout->documentSize().height();
    const int firstPage = static_cast<int>(top / pageH), lastPage = static_cast<int>((bottom - 1) / pageH);
    if (firstPage == lastPage) continue;
    const double room = (firstPage + 1) * pageH - top;
    if (bottom - top <= pageH || room < 0.2 * pageH) {
      QTextBlockFormat f;
      f.setPageBreakPolicy(QTextFormat::PageBreak_AlwaysBefore);
      QTextCursor(b).mergeBlockFormat(f);
    }
  }
}

// The figures as text objects: the layout gives them the size of their <img> and they paint
// themselves as vector paths wherever the page puts them (no raster image in the PDF).
constexpr int kFigureObject = QTextFormat::UserObject + 1;

class FigureObject : public QObject, public QTextObjectInterface {
  Q_OBJECT
  Q_INTERFACES(QTextObjectInterface)
 public:
  FigureObject(const json& explanation, const ReportAssets& assets, bool radiological, double dpi)
      : explanation_(explanation), assets_(assets), radiological_(radiological), dpi_(dpi) {}
  QSizeF intrinsicSize(QTextDocument* doc, int, const QTextFormat& format) override {
    const auto image = format.toImageFormat();
    const double scale = doc->documentLayout()->paintDevice() ? doc->documentLayout()->paintDevice()->logicalDpiX() / 96.0 : 1.0;
    return QSizeF(image.width(), image.height()) * scale;
  }
  void drawObject(QPainter* painter, const QRectF& rect, QTextDocument*, int, const QTextFormat& format) override {
    const QString name = format.toImageFormat().name();
    if (name == "fig://glassbrain")
      paintGlassBrain(*painter, rect, explanation_, assets_.brainMask, dpi_, radiological_);
    else if (name == "fig://networks")
      paintNetworkBars(*painter, rect, explanation_.value("networks", json::object()), dpi_);
  }

 private:
  json explanation_;
  ReportAssets assets_;
  bool radiological_;
  double dpi_;
};

// Turns the <img src="fig://..."> placeholders of the HTML into FigureObjects.
void useFigureObjects(QTextDocument& doc) {
  std::vector<std::pair<int, QTextImageFormat>> found;
  for (QTextBlock b = doc.begin(); b.isValid(); b = b.next())
    for (auto it = b.begin(); !it.atEnd(); ++it) {
      const QTextFragment frag = it.fragment();
      if (frag.charFormat().isImageFormat() && frag.charFormat().toImageFormat().name().startsWith("fig://"))
        found.emplace_back(frag.position(), frag.charFormat().toImageFormat());
    }
  for (auto& [position, format] : found) {
    format.setObjectType(kFigureObject);
    QTextCursor c(&doc);
    c.setPosition(position);
    c.setPosition(position + 1, QTextCursor::KeepAnchor);
    c.setCharFormat(format);
  }
}

}  // namespace

QString reportHtml(const json& r) {
  const auto& result = r.at("result");
  const auto& patient = r.value("patient", json::object());
  QString h;
  h += "<html><body style=\"font-family:'DejaVu Sans'; font-size:9pt\">";
  h += "<h1 style=\"font-size:15pt\">Functional connectivity classification report</h1>";
  h += "<table width=\"100%\" cellpadding=\"2\">";
  h += row("Patient ID", esc(patient, "id") + (patient.value("pseudonymised", false) ? " (pseudonymised)" : ""));
  if (patient.contains("age") || patient.contains("sex"))  // from the workspace's record of the subject
    h += row("Age, sex", (patient.contains("age") ? esc(patient, "age") + " years" : QString("age not recorded")) + ", " +
                             (patient.contains("sex") ? esc(patient, "sex") : QString("sex not recorded")));
  h += row("Report ID", esc(r, "report_id"));
  h += row("Created (UTC)", esc(r, "created"));
  h += row("Operator", r.value("operator", std::string()).empty() ? QString("—") : esc(r, "operator"));
  h += "</table>";

  // ---- result
  h += "<h2 style=\"font-size:12pt\">1. Result</h2>";
  const double p = result.value("probability", 0.0), threshold = result.value("threshold", 0.5);
  const auto positive = result.value("positive_class", json()).is_string() ? result["positive_class"].get<std::string>() : std::string("positive");
  h += "<table width=\"100%\" cellpadding=\"2\" border=\"0.5\" cellspacing=\"0\">";
  if (result.value("in_training_set", json()).is_boolean() && result["in_training_set"].get<bool>())
    h += row("<span style=\"color:#cf222e\">Training scan</span>",
             "<span style=\"color:#cf222e\"><b>This scan was used to train the model: the result is not an independent test.</b></span>");
  h += row("Predicted label", "<b>" + esc(result, "label") + "</b>");
  h += row("Calibrated probability", "p(" + esc(positive) + ") = " + num(p));
  const auto& interval = result.value("interval", json());
  h += row("Uncertainty interval", interval.is_object()
                                       ? num(interval.value("low", 0.0)) + " – " + num(interval.value("high", 0.0)) + " (" + esc(interval, "method") + ")"
                                       : QString("not available for this model"));
  h += row("Decision threshold", "p(" + esc(positive) + ") ≥ " + num(threshold, 2) + " → " + esc(positive) + ", otherwise " + esc(result, "negative_class"));
  const auto& ood = result.value("ood", json());
  if (ood.is_object()) {
    const bool flag = ood.value("flag", false);
    QString text = flag ? "<span style=\"color:#cf222e\"><b>FLAGGED</b></span>: the scan is unlike the training data; treat the result with "
                          "particular caution.<br>"
                        : QString("Within the training distribution.<br>");
    text += "Mahalanobis distance " + num(ood.value("distance", 0.0)) + " (threshold " + num(ood.value("threshold", 0.0)) + ", " +
            num(ood.value("percentile", 0.0), 1) + "th percentile of the training scans)";
    if (ood.contains("template_distance"))
      text += "; dissimilarity to the mean training connectome " + num(ood.value("template_distance", 0.0)) + " (threshold " +
              num(ood.value("template_threshold", 0.0)) + ", " + num(ood.value("template_percentile", 0.0), 1) + "th percentile)";
    if (ood.value("members", json()).is_array())
      text += "; " + QString::number(ood.value("members_flagged", 0)) + " of " + QString::number(ood["members"].size()) +
              " ensemble members flag it (at least half flag: flagged; distances are member 1's)";
    text += ". Space: " + esc(ood, "space") + ".";
    h += row("Out-of-distribution check", text);
  } else {
    h += row("Out-of-distribution check", "not available for this model");
  }
  h += "</table>";
  const bool overridden = r.contains("qc") && r["qc"].value("override", json()).is_object();
  if (overridden)
    h += "<p style=\"color:#cf222e\"><b>Quality control failed and was overridden</b> by " + esc(r["qc"]["override"], "by", "(unnamed)") + ": “" +
         esc(r["qc"]["override"], "reason") + "”.</p>";

  // ---- explanation
  h += "<h2 style=\"font-size:12pt\">2. Explanation</h2>";
  const auto& e = r.value("explanation", json::object());
  h += "<p>Regions and networks that contributed most to the prediction (" +
       (e.contains("method") && e["method"].is_object() ? esc(e["method"], "saliency") : QString("saliency")) +
       "). Discs: the top regions, sized by saliency and numbered by rank (the key beside the figure names them); grey dots: every "
       "region of the atlas. " +
       (radiologicalFigures(r) ? QString("Radiological convention: the patient's left is on the right of the coronal and axial views.")
                               : QString("Neurological convention: the patient's left is on the left of the coronal and axial views.")) +
       "</p>";
  if (e.contains("summary")) h += "<p><b>" + esc(e["summary"], "statement") + "</b></p>";
  const int figW = static_cast<int>(std::lround(kContentWidthMm / 25.4 * 96.0));
  h += QString("<p align=\"center\"><img src=\"fig://glassbrain\" width=\"%1\" height=\"%2\"></p>").arg(figW).arg(std::lround(figW * 62.0 / 180.0));
  h += QString("<p align=\"center\"><img src=\"fig://networks\" width=\"%1\" height=\"%2\"></p>").arg(figW).arg(std::lround(figW * 45.0 / 180.0));
  if (e.contains("top_rois") && !e["top_rois"].empty()) {
    h += "<table width=\"100%\" cellpadding=\"2\" border=\"0.5\" cellspacing=\"0\"><tr><th>#</th><th>Region</th><th>Network</th><th>Saliency "
         "share</th><th>× even share</th><th>MNI (mm)</th></tr>";
    int rank = 0;
    for (const auto& t : e["top_rois"]) {
      QString pos = "—";
      if (t.contains("position_mni"))
        pos = QString("%1, %2, %3")
                  .arg(std::lround(t["position_mni"][0].get<double>()))
                  .arg(std::lround(t["position_mni"][1].get<double>()))
                  .arg(std::lround(t["position_mni"][2].get<double>()));
      h += QString("<tr><td>%1</td><td>%2</td><td>%3</td><td>%4</td><td>%5</td><td>%6</td></tr>")
               .arg(++rank)
               .arg(esc(t, "name"), esc(t, "network"), num(t.value("saliency", 0.0), 4),
                    t.contains("even_multiple") ? num(t.value("even_multiple", 0.0), 2) : QString("—"), pos);
    }
    h += "</table>";
  }
  // Networks by share and by share per region: a large network takes a large share by its size alone.
  if (e.contains("networks") && e["networks"].is_object() && !e["networks"].empty() && e["networks"].begin()->contains("regions")) {
    h += "<p></p><table width=\"100%\" cellpadding=\"2\" border=\"0.5\" cellspacing=\"0\"><tr><th>Network</th><th>Regions</th><th>Saliency "
         "share</th><th>Share per region (1 = even)</th></tr>";
    for (const auto& [name, v] : e["networks"].items())
      h += QString("<tr><td>%1</td><td>%2</td><td>%3</td><td>%4</td></tr>")
               .arg(QString::fromStdString(name).toHtmlEscaped())
               .arg(v.value("regions", 0))
               .arg(num(v.value("saliency", 0.0), 3), v.contains("per_region") ? num(v.value("per_region", 0.0), 2) : QString("—"));
    h += "</table>";
  }

  // ---- QC
  h += "<h2 style=\"font-size:12pt\">3. Quality control</h2>";
  const auto& qc = r.value("qc", json::object());
  h += "<p>Overall: <b>" + esc(qc, qc.contains("verdict") ? "verdict" : "overall") + "</b>" + (qc.contains("note") ? ". " + esc(qc, "note") : QString()) +
       "</p>";
  if (qc.contains("items") && !qc["items"].empty()) {
    h += "<table width=\"100%\" cellpadding=\"2\" border=\"0.5\" cellspacing=\"0\"><tr><th>Check</th><th>Value</th><th>Status</th><th>Rule</th><th>"
         "Note</th></tr>";
    for (const auto& i : qc["items"]) {
      const QString value = i.value("value", json()).is_number() ? QString::number(i["value"].get<double>(), 'g', 4) + " " + esc(i, "unit", "") : QString("—");
      h += "<tr><td>" + esc(i, "name") + "</td><td>" + value + "</td>" + statusCell(i.value("status", std::string("n/a"))) + "<td>" + esc(i, "rule") +
           "</td><td>" + esc(i, "note", "") + "</td></tr>";
    }
    h += "</table>";
  }

  // ---- inputs
  h += "<h2 style=\"font-size:12pt\">4. Inputs</h2>";
  h += "<table width=\"100%\" cellpadding=\"2\" border=\"0.5\" cellspacing=\"0\"><tr><th>Role</th><th>File</th><th>Size</th><th>Hash</th></tr>";
  for (const auto& i : r.value("inputs", json::array()))
    h += "<tr><td>" + esc(i, "role") + "</td><td>" + esc(i, "name") + "</td><td>" +
         (i.contains("bytes") ? QString::number(i["bytes"].get<double>() / 1024.0, 'f', 1) + " KiB" : QString("—")) + "</td><td>" + esc(i, "hash") + " (" +
         esc(i, "hash_algorithm", "") + ")</td></tr>";
  h += "</table>";

  // ---- methods
  h += "<h2 style=\"font-size:12pt\">5. Methods</h2>";
  const auto& m = r.value("methods", json::object());
  if (m.contains("steps") && m["steps"].is_array()) {
    // Prose: only the steps applied to this scan, in order.
    h += "<p>";
    for (const auto& step : m["steps"]) h += esc(step.get<std::string>()) + " ";
    if (m.contains("site_statistics")) h += "Site statistics: " + esc(m, "site_statistics") + ". ";
    h += "Calibration: " + esc(m, "calibration") + ". Decision: " + esc(m, "decision") + ".</p>";
    const auto& model = m.value("model", json::object());
    h += "<p style=\"font-size:7.5pt\">Model file " + esc(model, "file") + ", hash " + esc(model, "hash") + ".</p>";
  } else {
    h += "<table width=\"100%\" cellpadding=\"2\">";
    h += row("Input", esc(m, "input_kind"));
    QString regions;
    if (m.contains("rois") && m["rois"].is_object()) {  // a multi-atlas model: each atlas's count
      QStringList counts;
      for (const auto& [atlas, n] : m["rois"].items()) counts << QString::fromStdString(atlas).toHtmlEscaped() + ": " + QString::number(n.get<long>());
      regions = " (" + counts.join(QStringLiteral(", ")) + " regions)";
    } else if (m.contains("rois")) {
      regions = " (" + esc(m, "rois") + " regions)";
    }
    h += row("Atlas", esc(m, "atlas") + regions);
    const auto& cleaning = m.value("cleaning", json::object());
    QString cl;
    if (cleaning.is_object() && !cleaning.empty()) {
      for (const auto& [k, v] : cleaning.items()) cl += esc(k) + " = " + esc(v.is_string() ? v.get<std::string>() : v.dump()) + "; ";
    } else {
      cl = "pipeline defaults";
    }
    h += row("Signal cleaning", cl);
    h += row("Connectivity", esc(m, "connectivity"));
    if (m.contains("site_statistics")) h += row("Site statistics", esc(m, "site_statistics"));
    const auto& model = m.value("model", json::object());
    h += row("Model", esc(model, "description", "") + " [" + esc(model, "kind") + "]");
    h += row("Model checkpoint", esc(model, "file") + "<br>hash " + esc(model, "hash"));
    h += row("Calibration", esc(m, "calibration"));
    h += row("Decision", esc(m, "decision"));
    h += "</table>";
  }

  // ---- model card
  h += "<h2 style=\"font-size:12pt\">6. Model card</h2>";
  const auto& card = r.value("model_card", json::object());
  const auto& data = card.value("training_data", json::object());
  h += "<table width=\"100%\" cellpadding=\"2\">";
  const auto& v = card.value("validation", json());
  const bool outOfFold = v.is_object() && v.value("out_of_fold", false);
  h += row("Training data", "corpus " + esc(data, "name") + ": " + esc(data, "items") + " scans (" +
                                (outOfFold ? QString("every one trains the model; calibrated on cross-fitted out-of-fold scores")
                                           : esc(data, "train") + " training, " + esc(data, "validation") + " validation") +
                                ")");
  h += row("Label", esc(card, "label_field") + ": " + esc(card, "classes"));
  h += row("Validation metrics", v.is_object()
                                     ? "AUC " + num(v.value("auc", 0.0)) + ", accuracy " + num(v.value("accuracy", 0.0)) + ", balanced accuracy " +
                                           num(v.value("balanced_accuracy", 0.0)) + " on " + esc(v, "n") +
                                           (outOfFold ? QString(" scans, out of fold (each scored by a cross-fitted model that did not see it; calibrated)")
                                                      : QString(" held-out scans (calibrated)"))
                                     : QString("not recorded in this model file"));
  const json ev = card.value("evaluation", json());
  if (ev.is_object() && ev.contains("metrics")) {
    const auto metric = [&ev](const char* name) {
      const json values = ev["metrics"].value(name, json::object());
      const auto ci = values.value("ci95", json::array());
      return num(values.value("mean", 0.0)) + (ci.size() == 2 ? " (95% CI " + num(ci[0].get<double>()) + "–" + num(ci[1].get<double>()) + ")" : QString());
    };
    h += row("Cross-validated evaluation", "AUC " + metric("auc") + ", accuracy " + metric("accuracy") + ", sensitivity " + metric("sensitivity") +
                                               ", specificity " + metric("specificity") + "; " + esc(ev, "folds") + " folds (" + esc(ev, "split") +
                                               ") of corpus " + esc(ev, "corpus") + ", evaluation run " + esc(ev, "evaluation_run"));
  }
  const auto& rel = card.value("release", json());
  if (rel.is_object()) h += row("Release", esc(rel, "name") + ", released by " + esc(rel, "released_by") + " on " + esc(rel, "released_at"));
  h += row("Software", esc(card, "code_version"));
  h += "</table><p><b>Known limits</b></p><ul>";
  for (const auto& l : card.value("limits", json::array())) h += "<li>" + esc(l.get<std::string>()) + "</li>";
  h += "</ul>";

  // ---- sign-off
  h += "<h2 style=\"font-size:12pt\">7. Clinician sign-off</h2>";
  const auto& s = r.value("signoff", json());
  if (s.is_object()) {
    h += "<table width=\"100%\" cellpadding=\"2\">";
    h += row("Reviewed by", esc(s, "clinician"));
    h += row("Signed (UTC)", esc(s, "signed_at"));
    h += row("Impression", esc(s, "impression").replace("\n", "<br>"));
    h += "</table>";
  } else {
    h += "<p style=\"color:#cf222e\"><b>Not signed.</b> This report has not been reviewed by a clinician and must not be used for any "
         "decision.</p>";
  }
  h += "</body></html>";
  return h;
}

void writeReportPdf(const json& record, const std::filesystem::path& out, const ReportAssets& assets) {
  withContext("while writing the report " + out.string(), [&] {
    const auto parent = out.has_parent_path() ? out.parent_path() : std::filesystem::path(".");
    if (!std::filesystem::is_directory(parent)) throw Error(ErrorCode::NoInput, "the folder " + parent.string() + " does not exist");
    const auto tmp = parent / ("." + out.filename().string() + ".tmp-" + std::to_string(::getpid()));
    const QString reportId = QString::fromStdString(record.value("report_id", std::string("?")));
    const QString version = QString::fromStdString(record.value("software", json::object()).value("version", std::string("?")));
    {
      QPdfWriter writer(QString::fromStdString(tmp.string()));
      writer.setResolution(static_cast<int>(kFigureDpi));
      writer.setPageLayout(QPageLayout(QPageSize(QPageSize::A4), QPageLayout::Portrait, QMarginsF(0, 0, 0, 0), QPageLayout::Millimeter));
      writer.setTitle("BrainGraph report " + reportId + " — patient " + QString::fromStdString(record.value("patient", json::object()).value("id", "")));
      writer.setCreator("BrainGraph Workbench " + version);
      const double dpi = kFigureDpi;
      const int pageW = writer.width(), pageH = writer.height();
      const int margin = mm(15, dpi), headerH = mm(18, dpi), footerH = mm(12, dpi);
      const int bodyW = pageW - 2 * margin, bodyH = pageH - headerH - footerH - 2 * mm(4, dpi);

      QTextDocument doc;
      doc.documentLayout()->setPaintDevice(&writer);
      doc.setDocumentMargin(0);
      doc.setDefaultFont(reportFont(9));
      const auto& e = record.value("explanation", json::object());
      FigureObject figures(e, assets, radiologicalFigures(record), dpi);
      doc.documentLayout()->registerHandler(kFigureObject, &figures);
      doc.setHtml(reportHtml(record));
      useFigureObjects(doc);
      doc.setPageSize(QSizeF(bodyW, bodyH));
      keepSectionsTogether(doc, bodyH);
      const int pages = doc.pageCount();

      QPainter painter(&writer);
      if (!painter.isActive()) throw Error(ErrorCode::Io, "cannot write " + tmp.string());
      const QFont small = reportFont(7.5), bannerFont = reportFont(8.5, true);
      for (int page = 0; page < pages; ++page) {
        if (page > 0) writer.newPage();
        // Header: the banner on every page, so no printed page can be mistaken for a clinical result.
        const QRect banner(margin, mm(8, dpi), bodyW, mm(7, dpi));
        painter.fillRect(banner, QColor(207, 34, 46));
        painter.setPen(Qt::white);
        painter.setFont(bannerFont);
        painter.drawText(banner, Qt::AlignCenter, "RESEARCH USE ONLY — AI-generated, requires clinician review");
        painter.setPen(Qt::black);
        painter.setFont(small);
        painter.drawText(QRect(margin, mm(15.5, dpi), bodyW, mm(4, dpi)), Qt::AlignLeft | Qt::AlignVCenter, "BrainGraph Workbench — diagnostic support report");
        painter.drawText(QRect(margin, mm(15.5, dpi), bodyW, mm(4, dpi)), Qt::AlignRight | Qt::AlignVCenter, "Report " + reportId);
        // Footer.
        const int fy = pageH - footerH;
        painter.drawLine(margin, fy, pageW - margin, fy);
        painter.drawText(QRect(margin, fy + mm(1.5, dpi), bodyW, mm(5, dpi)), Qt::AlignLeft | Qt::AlignVCenter,
                         "Report " + reportId + " · BrainGraph Workbench " + version);
        painter.drawText(QRect(margin, fy + mm(1.5, dpi), bodyW, mm(5, dpi)), Qt::AlignRight | Qt::AlignVCenter,
                         QString("Page %1 of %2").arg(page + 1).arg(pages));
        // Body: this page's slice of the paginated document.
        painter.save();
        const int top = headerH + mm(4, dpi);
        painter.translate(margin, top - page * bodyH);
        doc.drawContents(&painter, QRectF(0, page * bodyH, bodyW, bodyH));
        painter.restore();
      }
      painter.end();
    }
    if (!std::filesystem::exists(tmp) || std::filesystem::file_size(tmp) == 0) throw Error(ErrorCode::Io, "the PDF writer produced no file");
    try {
      attachFileToPdf(tmp, "result.json", "application/json", record.dump(2) + "\n", "The diagnosis record this report was rendered from");
      std::filesystem::rename(tmp, out);
    } catch (...) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw;
    }
  });
}

}  // namespace bg::report

#include "ReportPdf.moc"
