// Issue 8: diagnosis records, quality gates and the clinical PDF. The CLI runs on real ABIDE scans
// (one site); the PDF is checked from outside with poppler (pdftotext, pdftoppm, pdfdetach, pdfinfo).
#include <QGuiApplication>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPdfWriter>
#include <QPainter>
#include <QProcess>
#include <QRegularExpression>
#include <QTest>
#include <cmath>

#include <Eigen/LU>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include <SQLiteCpp/SQLiteCpp.h>
#include <nlohmann/json.hpp>

#include "TestSupport.h"
#include "eval/OutOfDistribution.h"
#include "eval/Prediction.h"
#include "report/Diagnosis.h"
#include "io/PdfAttachment.h"
#include "io/NiftiImage.h"
#include "io/Npy.h"
#include "workspace/Corpus.h"
#include "workspace/Workspace.h"
#include "io/TimeSeriesFile.h"
#include "support/SyntheticBold.h"
#include "report/QualityControl.h"
#include "pdf/ReportFigures.h"

using nlohmann::json;

namespace {
QString str(const std::filesystem::path& p) { return QString::fromStdString(p.string()); }

// Runs a poppler tool; returns its standard output.
QString tool(const QString& program, const QStringList& args, int* exitCode = nullptr) {
  QProcess p;
  p.start(program, args);
  p.waitForFinished(60000);
  if (exitCode) *exitCode = p.exitCode();
  return QString::fromUtf8(p.readAllStandardOutput());
}

json readJson(const std::filesystem::path& file) {
  std::ifstream in(file);
  return json::parse(in);
}

std::string slurp(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

class TestReport : public QObject {
  Q_OBJECT
  std::filesystem::path dir_, ws_, series_;
  QString logreg_, scan_;

  bgtest::CliResult run(const QStringList& args) { return bgtest::runCliQuietly(args); }
  int count(const char* table) {
    SQLite::Database db((ws_ / "workspace.sqlite").string());
    return db.execAndGet(std::string("SELECT COUNT(*) FROM ") + table).getInt();
  }

 private Q_SLOTS:
  void initTestCase() {
    dir_ = bgtest::scratchDir("report");
    ws_ = dir_ / "ws";
    series_ = bgtest::dataRoot() / "data/abide1-cc200/rois_cc200";
    if (!std::filesystem::exists(series_)) QSKIP("ABIDE time series not in the data path");
    const QString w = str(ws_);
    for (const QStringList& args :
         {QStringList{"workspace", "init", "-w", w},
          QStringList{"import", "abide", "-w", w, "--pheno", str(bgtest::dataRoot() / "data/abide1-cc200/Phenotypic_V1_0b_preprocessed1.csv"), "--timeseries",
                      str(series_)},
          QStringList{"derive", "-w", w, "--no-bandpass"},
          QStringList{"corpus", "create", "-w", w, "--name", "asd", "--class", "control", "--class", "autism", "--where", "site=NYU", "--folds", "3"}}) {
      const auto r = run(args);
      QVERIFY2(r.exitCode == 0, qPrintable(args.join(' ') + "\n" + r.err));
    }
    logreg_ = str(dir_ / "logreg.json");
    const auto r = run({"train", "-w", w, "--corpus", "asd", "--method", "logreg", "--out", logreg_});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(series_))
      if (e.path().filename().string().rfind("NYU_", 0) == 0) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    scan_ = str(files.at(3));
  }

  // Explanations read against an even share: 0.0072 of 200 ROIs is 1.44 times even (nothing stands
  // out); a network's share is set against its size.
  void explanationsAreReadAgainstAnEvenShare() {
    nlohmann::json e = {{"top_rois", {{{"name", "A"}, {"saliency", 0.0072}}, {{"name", "B"}, {"saliency", 0.0060}}}},
                        {"networks", {{"Visual", {{"saliency", 0.30}}}, {"Default", {{"saliency", 0.20}}}, {"unassigned", {{"saliency", 0.50}}}}}};
    std::vector<std::string> networks(200, "");
    for (int i = 0; i < 60; ++i) networks[static_cast<std::size_t>(i)] = "Visual";
    for (int i = 60; i < 80; ++i) networks[static_cast<std::size_t>(i)] = "Default";
    auto s = bg::summariseExplanation(e, networks, 200);
    QCOMPARE(s["top_rois"][0]["even_multiple"].get<double>(), 0.0072 * 200);
    QVERIFY(s["summary"]["standing_out"].empty());
    QVERIFY2(s["summary"]["statement"].get<std::string>().rfind("No region stands out", 0) == 0, s["summary"].dump().c_str());
    QCOMPARE(s["networks"]["Visual"]["regions"].get<int>(), 60);
    QVERIFY(std::abs(s["networks"]["Visual"]["per_region"].get<double>() - 0.30 / (60.0 / 200)) < 1e-12);   // 1.0: as its size gives
    QVERIFY(std::abs(s["networks"]["Default"]["per_region"].get<double>() - 0.20 / (20.0 / 200)) < 1e-12);  // 2.0: twice its size
    QCOMPARE(s["networks"]["unassigned"]["regions"].get<int>(), 120);
    e["top_rois"][0]["saliency"] = 0.02;  // 4 times even
    s = bg::summariseExplanation(e, networks, 200);
    QCOMPARE(s["summary"]["standing_out"].size(), std::size_t{1});
    QVERIFY(s["summary"]["statement"].get<std::string>().find("A contributed most (4.00 times)") != std::string::npos);
    QVERIFY(s["summary"]["statement"].get<std::string>().find("drove") == std::string::npos);
    // Two atlases (4 and 3 ROIs): a network's regions over both, its even share the mean of its fractions.
    nlohmann::json two = {{"networks", {{"Visual", {{"saliency", 0.40}}}, {"Default", {{"saliency", 0.35}}}, {"unassigned", {{"saliency", 0.25}}}}}};
    const auto t = bg::summariseExplanation(two, std::vector<std::vector<std::string>>{{"Visual", "Visual", "Default", ""}, {"Visual", "Default", "Default"}});
    QCOMPARE(t["networks"]["Visual"]["regions"].get<int>(), 3);
    QCOMPARE(t["networks"]["unassigned"]["regions"].get<int>(), 1);
    QVERIFY(std::abs(t["networks"]["Visual"]["per_region"].get<double>() - 0.40 / ((2.0 / 4 + 1.0 / 3) / 2)) < 1e-12);
    QVERIFY(std::abs(t["networks"]["Default"]["per_region"].get<double>() - 0.35 / ((1.0 / 4 + 2.0 / 3) / 2)) < 1e-12);
    QVERIFY(std::abs(t["networks"]["unassigned"]["per_region"].get<double>() - 0.25 / (1.0 / 4 / 2)) < 1e-12);
  }

  // A check that could not run is "not checked", never a pass: the verdict is incomplete (a warning
  // by default, a block where the site says so), and a recorded mean FD stands in for a confounds file.
  void qualityControlSaysWhatItDidNotCheck() {
    bg::PredictionInput in;
    in.file = "x.1D";
    in.fc = Eigen::MatrixXd::Identity(100, 100);
    in.volumes = 200;
    in.tr = 2.0;
    const auto qc = bg::assessQuality(in, {});
    for (const auto& i : qc.items) {
      if (i.id == "mean_fd" || i.id == "censored")
        QCOMPARE(i.status, std::string("not checked"));
      else
        QCOMPARE(i.status, std::string("pass"));
    }
    QCOMPARE(qc.overall(), std::string("incomplete"));
    QCOMPARE(qc.verdict(), std::string("incomplete — motion not checked"));
    QVERIFY(!qc.failed());  // the default policy warns
    QCOMPARE(qc.toJson()["verdict"].get<std::string>(), qc.verdict());
    const auto blocking = bg::QcThresholds::fromJson({{"incomplete", "block"}});
    const auto blocked = bg::assessQuality(in, blocking);
    QVERIFY(blocked.failed());
    QCOMPARE(blocked.failures().size(), std::size_t(2));
    QVERIFY(bg::QcReport::fromJson(blocked.toJson()).failed());  // the policy travels with the record
    QVERIFY_THROWS_EXCEPTION(bg::Error, bg::QcThresholds::fromJson({{"incomplete", "ignore"}}));
    // ABIDE's mean FD from the workspace: the mean-FD check runs (0.388 mm: warn), censoring still cannot.
    const auto recorded = bg::assessQuality(in, {}, bg::RecordedMotion{0.388, "the workspace's record of this scan"});
    for (const auto& i : recorded.items)
      if (i.id == "mean_fd") {
        QCOMPARE(i.status, std::string("warn"));
        QCOMPARE(*i.value, 0.388);
        QVERIFY(i.note.find("the workspace's record") != std::string::npos);
      }
    QCOMPARE(recorded.verdict(), std::string("incomplete — censored volumes not checked"));
    // A failing check still reads fail, whatever is missing.
    in.volumes = 20;
    QCOMPARE(bg::assessQuality(in, {}).overall(), std::string("fail"));
  }

  // The QC table against values computed here from the same inputs.
  void qualityControlChecksAndThresholds() {
    bg::PredictionInput in;
    in.file = "x.1D";
    in.fc = Eigen::MatrixXd::Identity(100, 100);
    in.volumes = 50;
    in.tr = 2.5;
    in.emptyRois = {"a", "b", "c"};
    const auto tsv = dir_ / "confounds.tsv";
    std::vector<double> fd = {0.0, 0.1, 0.7, 0.2, 0.9, 0.05, 0.3, 0.1, 0.6, 0.15};
    {
      std::ofstream out(tsv);
      out << "trans_x\tframewise_displacement\n";
      for (std::size_t i = 0; i < fd.size(); ++i) out << 0.01 * i << "\t" << (i == 0 ? std::string("n/a") : std::to_string(fd[i])) << "\n";
    }
    in.confounds = tsv;
    const auto qc = bg::assessQuality(in, {});
    auto item = [&](const std::string& id) {
      for (const auto& i : qc.items)
        if (i.id == id) return i;
      throw std::runtime_error("no item " + id);
    };
    QCOMPARE(item("volumes").status, std::string("fail"));  // 50 < 60
    QCOMPARE(item("tr").status, std::string("pass"));
    QVERIFY(std::abs(*item("roi_coverage").value - 0.97) < 1e-12);
    QCOMPARE(item("roi_coverage").status, std::string("warn"));
    double mean = 0;
    int censored = 0;
    for (double v : fd) {
      mean += v;
      censored += v > 0.5;
    }
    mean /= static_cast<double>(fd.size());
    QVERIFY(std::abs(*item("mean_fd").value - mean) < 1e-9);
    QCOMPARE(item("mean_fd").status, std::string("warn"));  // 0.31 mm
    QVERIFY(std::abs(*item("censored").value - censored / 10.0) < 1e-12);
    QCOMPARE(item("censored").status, std::string("warn"));  // 3 of 10
    QCOMPARE(qc.overall(), std::string("fail"));
    QCOMPARE(qc.failures().size(), std::size_t(1));
    // Thresholds from JSON; unknown keys are refused.
    const auto loose = bg::QcThresholds::fromJson({{"volumes_pass", 40}, {"volumes_warn", 20}});
    QCOMPARE(bg::assessQuality(in, loose).overall(), std::string("warn"));
    QVERIFY_THROWS_EXCEPTION(bg::Error, bg::QcThresholds::fromJson({{"volume_pass", 40}}));
    // Round trip of the table.
    QVERIFY(bg::QcReport::fromJson(qc.toJson()).toJson() == qc.toJson());
  }

  // With fewer features than the 10 axes, the principal-axis distance is the full Mahalanobis distance:
  // checked against the inverse covariance, computed here without any PCA.
  void outOfDistributionDistances() {
    const int n = 100, p = 4;
    Eigen::MatrixXd x(n, p);
    for (int r = 0; r < n; ++r)
      for (int c = 0; c < p; ++c) x(r, c) = std::sin(r * 1.7 + c * 0.3) * (c + 1) + c + 0.5 * std::cos(r * 0.37 * (c + 2));
    const auto ref = bg::fitOodReference(x, "test", true);
    const Eigen::RowVectorXd mu = x.colwise().mean();
    Eigen::RowVectorXd sd(p);
    for (int c = 0; c < p; ++c) sd(c) = std::sqrt((x.col(c).array() - mu(c)).square().sum() / (n - 1.0));
    const Eigen::MatrixXd z = (x.rowwise() - mu).array().rowwise() / sd.array();
    const Eigen::MatrixXd cov = z.transpose() * z / (n - 1.0);
    const Eigen::MatrixXd inv = cov.inverse();
    auto mahalanobis = [&](const Eigen::VectorXd& v) { return std::sqrt(v.dot(inv * v) / p); };
    std::vector<double> d, t;
    for (int r = 0; r < n; ++r) {
      d.push_back(mahalanobis(z.row(r).transpose()));
      const Eigen::VectorXd others = (n * mu - x.row(r)).transpose() / (n - 1.0);
      const Eigen::VectorXd a = x.row(r).transpose().array() - x.row(r).mean(), b = others.array() - others.mean();
      t.push_back(1.0 - a.dot(b) / std::sqrt(a.squaredNorm() * b.squaredNorm()));
    }
    std::sort(d.begin(), d.end());
    std::sort(t.begin(), t.end());
    QVERIFY(std::abs(ref["threshold"].get<double>() - d[98]) < 1e-9);  // nearest-rank 99th percentile
    QVERIFY(std::abs(ref["template_threshold"].get<double>() - t[98]) < 1e-12);
    const auto inside = bg::assessOod(ref, x.row(10).transpose());
    QVERIFY(std::abs(inside["distance"].get<double>() - mahalanobis(z.row(10).transpose())) < 1e-9);
    QVERIFY(!inside["flag"].get<bool>());
    const Eigen::VectorXd far = mu.transpose() + 10 * sd.transpose();
    const auto outside = bg::assessOod(ref, far);
    QVERIFY(outside["flag"].get<bool>());
    QCOMPARE(outside["percentile"].get<double>(), 100.0);
    QVERIFY(std::abs(outside["distance"].get<double>() - mahalanobis(Eigen::VectorXd::Constant(p, 10.0))) < 1e-9);
  }

  // An ensemble flags a scan when at least half of its members do; member 1's distances are shown.
  void ensembleOutOfDistributionVote() {
    auto member = [](double distance, bool flag) {
      return nlohmann::json{{"distance", distance}, {"percentile", flag ? 100.0 : 50.0},  {"threshold", 2.0},
                            {"flag", flag},         {"template_distance", distance / 10}, {"template_percentile", 40.0},
                            {"rule", "one member"}};
    };
    const auto one = bg::combineOod({member(3.0, true)});
    QVERIFY(one == member(3.0, true));  // a single model's check is unchanged
    QVERIFY(bg::combineOod({}).is_null());
    QVERIFY(bg::combineOod({nlohmann::json(), nlohmann::json()}).is_null());
    const auto oneOfThree = bg::combineOod({member(1.0, false), member(2.5, true), member(1.2, false)});
    QCOMPARE(oneOfThree["flag"].get<bool>(), false);
    QCOMPARE(oneOfThree["members_flagged"].get<int>(), 1);
    QCOMPARE(oneOfThree["members"].size(), std::size_t(3));
    QCOMPARE(oneOfThree["distance"].get<double>(), 1.0);
    QCOMPARE(oneOfThree["members"][1]["distance"].get<double>(), 2.5);
    QCOMPARE(oneOfThree["members"][1]["template_distance"].get<double>(), 0.25);
    QVERIFY(oneOfThree["rule"].get<std::string>().find("3 ensemble members") != std::string::npos);
    QCOMPARE(bg::combineOod({member(1.0, false), member(2.5, true), member(2.2, true)})["flag"].get<bool>(), true);
    QCOMPARE(bg::combineOod({member(1.0, false), member(2.5, true)})["flag"].get<bool>(), true);  // a tie errs on the side of caution
    // A member without a reference (an older file) does not vote.
    const auto skipped = bg::combineOod({member(1.0, false), nlohmann::json(), member(1.1, false)});
    QCOMPARE(skipped["members"].size(), std::size_t(2));
    QCOMPARE(skipped["flag"].get<bool>(), false);
  }

  // A file attached to a QPdfWriter PDF comes back byte for byte through poppler's pdfdetach.
  void attachmentRoundTripsThroughPoppler() {
    const auto pdf = dir_ / "plain.pdf";
    {
      QPdfWriter w(str(pdf));
      QPainter p(&w);
      p.drawText(100, 100, "hello");
    }
    const std::string content = "{\"a\": [1, 2, 3], \"text\": \"(parentheses) and \\\\ backslash\"}\n";
    bg::attachFileToPdf(pdf, "data.json", "application/json", content, "test (attachment)");
    int rc = -1;
    QVERIFY(tool("pdfdetach", {"-list", str(pdf)}, &rc).contains("data.json"));
    QCOMPARE(rc, 0);
    const auto back = dir_ / "back.json";
    tool("pdfdetach", {"-save", "1", "-o", str(back), str(pdf)}, &rc);
    QCOMPARE(rc, 0);
    QCOMPARE(slurp(back), content);
    QVERIFY(tool("pdftotext", {str(pdf), "-"}).contains("hello"));  // the original content is intact
  }

  // The glass brain: rank numbers overlap neither each other nor any disc, even for a tight cluster,
  // and a left-hemisphere region is drawn on the side labelled L in both conventions.
  void glassBrainLabelsAndOrientation() {
    json top = json::array();
    for (int k = 0; k < 10; ++k)  // ten regions within a few millimetres of each other, left hemisphere
      top.push_back({{"name", "cluster " + std::to_string(k)},
                     {"network", "Default"},
                     {"saliency", 0.02 - 0.001 * k},
                     {"position_mni", {-40.0 + (k % 3), -20.0 + (k / 3), 30.0 + (k % 2)}}});
    top.push_back({{"name", "right"}, {"network", "Vis"}, {"saliency", 0.005}, {"position_mni", {40.0, -80.0, 5.0}}});
    const json e = {{"top_rois", top}};
    const auto mask = bgtest::dataRoot() / "atlases/mni152/tpl-MNI152NLin6Asym_res-02_desc-brain_mask.nii.gz";
    for (const bool radiological : {false, true}) {
      QImage image(2126, 732, QImage::Format_RGB32);
      image.fill(Qt::white);
      QPainter painter(&image);
      bg::report::GlassBrainLayout layout;
      bg::report::paintGlassBrain(painter, QRectF(0, 0, image.width(), image.height()), e, mask, 300, radiological, &layout);
      painter.end();
      QVERIFY(layout.labels.size() >= 20);  // most of the 33 numbers found a free place; the key names all
      for (std::size_t i = 0; i < layout.labels.size(); ++i) {
        for (std::size_t j = i + 1; j < layout.labels.size(); ++j) QVERIFY(!layout.labels[i].intersects(layout.labels[j]));
        for (const auto& disc : layout.discs) QVERIFY(!layout.labels[i].intersects(disc));
      }
      // Coronal (view 1) and axial (view 2): the left region is on the side whose edge says L.
      for (int view : {1, 2}) {
        QPointF left, right;
        for (const auto& c : layout.centres)
          if (c.view == view) (c.rank0 == 10 ? right : left) = c.at;  // rank 0 is one of the cluster
        const auto sides = std::find_if(layout.sideLabels.begin(), layout.sideLabels.end(), [&](const auto& s) { return s.view == view; });
        QVERIFY(sides != layout.sideLabels.end());
        QCOMPARE(sides->left, radiological ? QStringLiteral("R") : QStringLiteral("L"));
        QCOMPARE(left.x() < right.x(), sides->left == QStringLiteral("L"));
      }
      image.save(QString(BRAINGRAPH_TEST_SCRATCH "/../glassbrain_%1.png").arg(radiological ? "radiological" : "neurological"));
    }
  }

  void diagnoseWritesACompleteReport() {
    const auto pdf = dir_ / "report.pdf";
    const auto r = run({"diagnose",
                        "-w",
                        str(ws_),
                        "--model",
                        logreg_,
                        "--in",
                        scan_,
                        "--tr",
                        "2",
                        "--patient-id",
                        "sub-offline01",
                        "--operator",
                        "tester",
                        "--clinician",
                        "Dr. Ada Example",
                        "--impression",
                        "Findings reviewed.",
                        "--out",
                        str(pdf),
                        "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto record = json::parse(r.out.toStdString());
    // The same probability as `predict` gives for this scan and model.
    const auto p = run({"predict", "--model", logreg_, "--in", scan_, "--json"});
    QVERIFY2(p.exitCode == 0, qPrintable(p.err));
    const auto predicted = json::parse(p.out.trimmed().toStdString());
    QVERIFY(std::abs(record["result"]["probability"].get<double>() - predicted["probability"].get<double>()) < 1e-12);
    // The fold models' range holds the five fold probabilities.
    const auto& interval = record["result"]["interval"];
    QVERIFY(interval["low"].get<double>() <= interval["high"].get<double>());
    for (double q : predicted["interval"]["probabilities"].get<std::vector<double>>())
      QVERIFY(q >= interval["low"].get<double>() && q <= interval["high"].get<double>());
    QVERIFY(record["result"]["ood"].is_object());
    // QC volumes against the file itself.
    const auto ts = bg::readRoiTimeSeries(scan_.toStdString());
    QCOMPARE(record["qc"]["items"][0]["value"].get<double>(), static_cast<double>(ts.series.rows()));

    QVERIFY(std::filesystem::exists(pdf));
    const QString text = tool("pdftotext", {"-layout", str(pdf), "-"});
    for (const char* section : {"RESEARCH USE ONLY", "1. Result", "2. Explanation", "3. Quality control", "4. Inputs", "5. Methods", "6. Model card",
                                "7. Clinician sign-off", "Known limits"})
      QVERIFY2(text.contains(section), section);
    QVERIFY(text.contains("sub-offline01"));  // no "ffl" ligature: identifiers survive text extraction
    QVERIFY(text.contains("Dr. Ada Example"));
    QVERIFY(text.contains(QString::fromStdString(record["report_id"].get<std::string>())));
    QVERIFY(text.contains(QString::number(record["result"]["probability"].get<double>(), 'f', 3)));
    QVERIFY(text.contains(QString::number(interval["low"].get<double>(), 'f', 3)));
    QVERIFY(text.contains(QString::number(static_cast<double>(std::filesystem::file_size(scan_.toStdString())) / 1024.0, 'f', 1) + " KiB"));
    QVERIFY(text.contains(QString::fromStdString(record["inputs"][0]["hash"].get<std::string>())));
    const QString top = QString::fromStdString(record["explanation"]["top_rois"][0]["name"].get<std::string>());
    QVERIFY(text.contains(top));
    const int pages = tool("pdfinfo", {str(pdf)}).section("Pages:", 1).trimmed().section('\n', 0, 0).toInt();
    QVERIFY(pages >= 2);
    QVERIFY(text.contains(QString("Page %1 of %1").arg(pages)));
    const QString info = tool("pdfinfo", {str(pdf)});
    QVERIFY(info.contains("Creator:         BrainGraph Workbench"));
    QVERIFY(info.contains(QString::fromStdString(record["report_id"].get<std::string>())));  // in the title
    QVERIFY(info.contains("A4"));
    // Age and sex from the workspace's phenotypes, in the header.
    QVERIFY(record["patient"].contains("age") && record["patient"].contains("sex"));
    QVERIFY(text.contains(QString::fromStdString(record["patient"]["age"].get<std::string>()) + " years, " +
                          QString::fromStdString(record["patient"]["sex"].get<std::string>())));
    // Methods in prose, only what was applied: time series given (no extraction), no confounds file.
    const QString flat = tool("pdftotext", {str(pdf), "-"}).simplified();
    QVERIFY(flat.contains("region time series already extracted in the cc200 parcellation"));
    QVERIFY(flat.contains("No confounds file was given, so no confounds were regressed out"));
    QVERIFY(!flat.contains("motion24"));
    QVERIFY(!flat.contains("band-pass filtered"));  // the corpus was derived without band-pass
    // The figures are vector paths: the PDF holds no raster image at all.
    const QStringList images = tool("pdfimages", {"-list", str(pdf)}).split('\n', Qt::SkipEmptyParts);
    QVERIFY2(images.size() == 2, qPrintable(images.join('\n')));  // the listing's two header lines only
    // Sections are kept together: no page ends with a heading, and no page holds a stray line or two.
    for (int page = 1; page <= pages; ++page) {
      QStringList body;
      for (const auto& line : tool("pdftotext", {"-layout", "-f", QString::number(page), "-l", QString::number(page), str(pdf), "-"}).split('\n')) {
        const QString l = line.trimmed();
        if (l.isEmpty() || l.contains("RESEARCH USE ONLY") || l.contains("diagnostic support report") || l.contains("Page ")) continue;
        body << l;
      }
      QVERIFY2(body.size() >= 4, qPrintable(QString("page %1: %2").arg(page).arg(body.join(" | "))));
      QVERIFY2(!QRegularExpression("^[0-9]\\. [A-Z]").match(body.last()).hasMatch(), qPrintable(body.last()));
    }

    // Page 1's figure area (the glass brain and network bars) is not blank.
    tool("pdftoppm", {"-r", "40", "-f", "1", "-l", "1", "-png", str(pdf), str(dir_ / "page")});
    QImage page(str(dir_ / "page-1.png"));
    QVERIFY(!page.isNull());
    page.save(QStringLiteral(BRAINGRAPH_TEST_SCRATCH "/../report_page1.png"));
    int coloured = 0;
    double sum = 0, sum2 = 0;
    int n = 0;
    for (int y = page.height() * 35 / 100; y < page.height() * 75 / 100; ++y)
      for (int x = 0; x < page.width(); ++x) {
        const QColor c = page.pixelColor(x, y);
        coloured += c.hsvSaturation() > 100 && c.value() > 60;
        const double g = qGray(c.rgb());
        sum += g;
        sum2 += g * g;
        ++n;
      }
    const double sdGray = std::sqrt(sum2 / n - (sum / n) * (sum / n));
    QVERIFY2(sdGray > 15, qPrintable(QString::number(sdGray)));
    QVERIFY2(coloured > 200, qPrintable(QString::number(coloured)));  // network-coloured discs and bars

    // The embedded record is the stored one and the printed one.
    const auto embedded = dir_ / "embedded.json";
    int rc = -1;
    tool("pdfdetach", {"-save", "1", "-o", str(embedded), str(pdf)}, &rc);
    QCOMPARE(rc, 0);
    const auto attached = readJson(embedded);
    QVERIFY(attached == record);
    SQLite::Database db((ws_ / "workspace.sqlite").string());
    SQLite::Statement q(db, "SELECT record_json, signed_by, pdf_path FROM reports WHERE id = ?");
    q.bind(1, record["report_id"].get<std::string>());
    QVERIFY(q.executeStep());
    QVERIFY(json::parse(q.getColumn(0).getString()) == record);
    QCOMPARE(q.getColumn(1).getString(), std::string("Dr. Ada Example"));
    QCOMPARE(q.getColumn(2).getString(), std::filesystem::absolute(pdf).string());
    // The workspace keeps the model's card, not its megabytes of weights; `model` prints the same summary.
    {
      SQLite::Statement m(db, "SELECT card_json FROM models WHERE path = ?");
      m.bind(1, std::filesystem::absolute(logreg_.toStdString()).string());
      QVERIFY(m.executeStep());
      const auto stored = json::parse(m.getColumn(0).getString());
      QVERIFY(!stored.contains("weights") && !stored["ood"].contains("axes"));
      QCOMPARE(stored["ood"]["threshold"].get<double>(), readJson(logreg_.toStdString())["ood"]["threshold"].get<double>());
      const auto shown = run({"model", logreg_});
      QCOMPARE(shown.exitCode, 0);
      QVERIFY(shown.out.size() < 20000);
      QVERIFY(json::parse(shown.out.toStdString()) == stored);
    }

    // Regenerated from its record: the same text and the same embedded record.
    const auto again = dir_ / "again.pdf";
    const auto g = run({"report", "-w", str(ws_), "--prediction", QString::number(record["prediction_id"].get<long long>()), "--out", str(again)});
    QVERIFY2(g.exitCode == 0, qPrintable(g.err));
    QCOMPARE(tool("pdftotext", {"-layout", str(again), "-"}), text);
    tool("pdfdetach", {"-save", "1", "-o", str(dir_ / "again.json"), str(again)}, &rc);
    QVERIFY(readJson(dir_ / "again.json") == record);
    // And from the attachment alone, outside any workspace.
    const auto third = dir_ / "third.pdf";
    QCOMPARE(run({"report", "--from-json", str(embedded), "--out", str(third)}).exitCode, 0);
    QCOMPARE(tool("pdftotext", {"-layout", str(third), "-"}), text);
  }

  // corpus compare (the Matrix tab's group comparison on the command line): Welch's t on Fisher-z FC
  // per edge, against a direct computation, and the arrays it writes.
  void corpusCompareMatchesADirectComputation() {
    const auto out = dir_ / "compare";
    const auto r = run({"corpus", "compare", "-w", str(ws_), "asd", "--json", "--top", "5", "--out", str(out)});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto result = json::parse(r.out.toStdString());
    QCOMPARE(result["top"].size(), std::size_t(5));
    QCOMPARE(result["classes"][0].get<std::string>(), std::string("autism"));
    auto ws = bg::Workspace::open(ws_);
    const auto manifest = bg::loadCorpus(*ws, "asd");
    std::vector<Eigen::MatrixXd> groups[2];
    for (const auto& item : manifest["items"]) groups[item["class_index"].get<int>()].push_back(ws->arrays().read(item["fc_array"].get<std::string>()));
    QCOMPARE(result["n"][0].get<int>(), static_cast<int>(groups[1].size()));
    const auto t = bg::readNpy(out / "t.npy");
    for (const auto& [i, j] : std::vector<std::pair<int, int>>{{3, 5}, {10, 150}}) {
      double mean[2] = {0, 0}, var[2] = {0, 0};
      for (int g = 0; g < 2; ++g) {
        const double n = static_cast<double>(groups[g].size());
        for (const auto& m : groups[g]) mean[g] += std::atanh(m(i, j)) / n;
        for (const auto& m : groups[g]) var[g] += std::pow(std::atanh(m(i, j)) - mean[g], 2) / (n - 1) / n;
      }
      const double expected = (mean[1] - mean[0]) / std::sqrt(var[0] + var[1]);
      QVERIFY2(std::abs(t(i, j) - expected) < 1e-4, qPrintable(QString("%1 vs %2").arg(t(i, j)).arg(expected)));  // float32 on disk
    }
    // The top edge is the largest |t|, named by its regions.
    double largest = 0;
    for (Eigen::Index i = 0; i < t.rows(); ++i)
      for (Eigen::Index j = i + 1; j < t.cols(); ++j) largest = std::max(largest, std::abs(t(i, j)));
    QVERIFY(std::abs(std::abs(result["top"][0]["t"].get<double>()) - largest) < 1e-4);
    QVERIFY(result["top"][0]["a"].get<std::string>().find("(#") != std::string::npos);
    // The same edges as CSV: a header and one row per listed edge, t as in the JSON.
    const auto csv = run({"corpus", "compare", "-w", str(ws_), "asd", "--format", "csv", "--top", "5"});
    QVERIFY2(csv.exitCode == 0, qPrintable(csv.err));
    const auto lines = csv.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 6);
    QCOMPARE(lines[0], QStringLiteral("a,b,t,df,p,q"));
    const auto cells = lines[1].split(',');
    QVERIFY2(cells.size() >= 6 && std::abs(cells[cells.size() - 4].toDouble() - result["top"][0]["t"].get<double>()) < 1e-4, qPrintable(lines[1]));
  }

  void failedQualityControlBlocksUnlessOverridden() {
    const auto strict = dir_ / "strict.json";
    std::ofstream(strict) << R"({"volumes_pass": 5000, "volumes_warn": 4000})";
    const int predictions = count("predictions"), reports = count("reports");
    const auto pdf = dir_ / "blocked.pdf";
    const auto r = run({"diagnose", "-w", str(ws_), "--model", logreg_, "--in", scan_, "--tr", "2", "--qc-thresholds", str(strict), "--out", str(pdf)});
    QCOMPARE(r.exitCode, 65);
    QVERIFY2(r.err.contains("quality control failed") && r.err.contains("Volumes"), qPrintable(r.err));
    QVERIFY(!std::filesystem::exists(pdf));
    QCOMPARE(count("predictions"), predictions);
    QCOMPARE(count("reports"), reports);
    // --qc-only reports the block without failing.
    const auto q = run({"diagnose", "--model", logreg_, "--in", scan_, "--tr", "2", "--qc-thresholds", str(strict), "--qc-only", "--json"});
    QCOMPARE(q.exitCode, 0);
    const auto qc = json::parse(q.out.toStdString());
    QCOMPARE(qc["overall"].get<std::string>(), std::string("fail"));
    QVERIFY(qc["blocked"].get<bool>());
    // The same table as CSV: a row per check, the failing one with its status as in the JSON.
    const auto qcCsv = run({"diagnose", "--model", logreg_, "--in", scan_, "--tr", "2", "--qc-thresholds", str(strict), "--qc-only", "--format", "csv"});
    QCOMPARE(qcCsv.exitCode, 0);
    const auto qcLines = qcCsv.out.trimmed().split('\n');
    QCOMPARE(qcLines.front(), QString("check,value,status,rule"));
    QCOMPARE(qcLines.size() - 1, static_cast<int>(qc["items"].size()));
    for (const auto& item : qc["items"])
      if (item["status"] == "fail")
        QVERIFY2(qcCsv.out.contains(QString::fromStdString(item["name"].get<std::string>() + ",")) && qcCsv.out.contains(",fail,"), qPrintable(qcCsv.out));
    // Overridden with a reason: classified, and the reason is in the record and the PDF.
    const auto o = run({"diagnose", "-w", str(ws_), "--model", logreg_, "--in", scan_, "--tr", "2", "--qc-thresholds", str(strict), "--override-qc",
                        "short research protocol, reviewed", "--operator", "tester", "--out", str(pdf), "--json"});
    QVERIFY2(o.exitCode == 0, qPrintable(o.err));
    const auto record = json::parse(o.out.toStdString());
    QCOMPARE(record["qc"]["override"]["reason"].get<std::string>(), std::string("short research protocol, reviewed"));
    const QString text = tool("pdftotext", {str(pdf), "-"});
    QVERIFY(text.contains("overridden"));
    QVERIFY(text.contains("short research protocol, reviewed"));
    QVERIFY(text.contains("Not signed"));
    QCOMPARE(count("predictions"), predictions + 1);
  }

  void pseudonymsReplaceIdentifiers() {
    const auto a = run({"diagnose", "--model", logreg_, "--in", scan_, "--tr", "2", "--patient-id", "sub-REAL42", "--pseudonymise", "--json"});
    QVERIFY2(a.exitCode == 0, qPrintable(a.err));
    const auto b = run({"diagnose", "--model", logreg_, "--in", scan_, "--tr", "2", "--patient-id", "sub-REAL42", "--pseudonymise", "--json"});
    const auto ra = json::parse(a.out.toStdString()), rb = json::parse(b.out.toStdString());
    const auto id = ra["patient"]["id"].get<std::string>();
    QVERIFY(id.rfind("PSN-", 0) == 0 && id.size() == 16);
    QCOMPARE(rb["patient"]["id"].get<std::string>(), id);  // stable
    QVERIFY(ra.dump().find("REAL42") == std::string::npos);
    // --format csv: one row with the record's result (the same pseudonym, label and probability).
    const auto c = run({"diagnose", "--model", logreg_, "--in", scan_, "--tr", "2", "--patient-id", "sub-REAL42", "--pseudonymise", "--format", "csv"});
    QVERIFY2(c.exitCode == 0, qPrintable(c.err));
    const auto lines = c.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 2);
    QCOMPARE(lines[0], QString("report_id,patient,label,probability,positive_class,interval_low,interval_high,out_of_distribution,training_scan,qc"));
    const auto cells = lines[1].split(',');
    QCOMPARE(cells[1].toStdString(), id);
    QCOMPARE(cells[2].toStdString(), ra["result"]["label"].get<std::string>());
    QVERIFY(std::abs(cells[3].toDouble() - ra["result"]["probability"].get<double>()) < 1e-5);
    QVERIFY(!c.out.contains("REAL42"));
  }

  // Noise is far from every training scan; BrainGFM models give Monte Carlo intervals.
  void outOfDistributionFlagAndBrainGfm() {
    const auto noise = dir_ / "noise.1D";
    {
      std::ofstream out(noise);
      std::mt19937 rng(1);
      std::normal_distribution<double> g;
      for (int t = 0; t < 150; ++t) {
        for (int c = 0; c < 200; ++c) out << (c ? "\t" : "") << g(rng);
        out << "\n";
      }
    }
    const auto r = run({"diagnose", "--model", logreg_, "--in", str(noise), "--tr", "2", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY(json::parse(r.out.toStdString())["result"]["ood"]["flag"].get<bool>());

    const auto tiny = dir_ / "tiny.json";
    std::ofstream(tiny) << R"({"model": {"hidden": 16, "heads": 2, "attention_layers": 1, "gnn_layers": 1, "ffn": 32, "dropout": 0.3},
                               "epochs": 2, "batch_size": 32, "learning_rate": 0.003})";
    const auto model = dir_ / "gfm.pt";
    const auto t = run({"train", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", str(tiny), "--out", str(model)});
    QVERIFY2(t.exitCode == 0, qPrintable(t.err));
    const auto pdf = dir_ / "gfm.pdf";
    const auto d = run({"diagnose", "--model", str(model), "--in", scan_, "--tr", "2", "--out", str(pdf), "--json"});
    QVERIFY2(d.exitCode == 0, qPrintable(d.err));
    const auto record = json::parse(d.out.toStdString());
    const auto& interval = record["result"]["interval"];
    QVERIFY(interval.is_object());
    QVERIFY(interval["low"].get<double>() <= interval["high"].get<double>());
    QVERIFY(interval["low"].get<double>() > 0 && interval["high"].get<double>() < 1);
    QVERIFY(record["result"]["ood"].is_object());
    QVERIFY(record["model_card"]["validation"].is_object());
    // Seeded: the same scan gives the same interval again.
    const auto again = json::parse(run({"diagnose", "--model", str(model), "--in", scan_, "--tr", "2", "--json"}).out.toStdString());
    QVERIFY(again["result"]["interval"] == interval);
    const auto text = tool("pdftotext", {str(pdf), "-"});
    QVERIFY(text.contains("Monte Carlo dropout"));
    // The default file is the cross-fitted ensemble: its card and the report's methods say so.
    QCOMPARE(record["model_card"]["deployment"]["members"].get<int>(), 5);
    QVERIFY2(text.simplified().contains("left-out fold of each of the 5 cross-fitted fold models"), qPrintable(text));
  }

  // A model standardised per site: the report says whose statistics the scan's edges were z-scored
  // with — the site's own (from training scans, or adapted from unlabelled or labelled scans) or the pooled ones.
  void siteStatisticsInTheReport() {
    const auto tiny = dir_ / "tiny-site.json";
    std::ofstream(tiny)
        << R"({"model": {"hidden": 16, "heads": 2, "attention_layers": 1, "gnn_layers": 1, "ffn": 32}, "ensemble": 1, "epochs": 2, "input": "fc-site"})";
    const auto model = dir_ / "gfm-site.pt";
    auto r = run({"train", "-w", str(ws_), "--corpus", "asd", "--method", "scratch", "--config", str(tiny), "--out", str(model)});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto nyuScans = json::parse(run({"model", str(model)}).out.toStdString())["input_transform"]["site_standardisation"]["sites"]["NYU"].get<int>();
    QVERIFY(nyuScans > 100);
    auto methods = [&](const std::filesystem::path& m, const QString& in, const QString& site, const std::filesystem::path& pdf) {
      QStringList args = {"diagnose", "--model", str(m), "--in", in, "--tr", "2", "--json", "--out", str(pdf)};
      if (!site.isEmpty()) args << "--site" << site;
      const auto d = run(args);
      if (d.exitCode != 0) qWarning("%s", qPrintable(d.err));
      return json::parse(d.out.toStdString())["methods"].value("site_statistics", std::string());
    };
    const auto own = methods(model, scan_, "NYU", dir_ / "site-own.pdf");
    QVERIFY2(own.find("site 'NYU': its own statistics, from " + std::to_string(nyuScans) + " of the model's training scans") != std::string::npos, own.c_str());
    const auto pooled = methods(model, scan_, "", dir_ / "site-pooled.pdf");
    QVERIFY2(pooled.find("pooled over the model's") != std::string::npos && pooled.find("no site was given") != std::string::npos, pooled.c_str());
    std::vector<std::filesystem::path> cmu;
    for (const auto& e : std::filesystem::directory_iterator(series_))
      if (e.path().filename().string().rfind("CMU_", 0) == 0) cmu.push_back(e.path());
    std::sort(cmu.begin(), cmu.end());
    const auto adapted = dir_ / "gfm-site-cmu.pt";
    r = run(
        {"adapt-site", "--model", str(model), "--site", "CMU", "--out", str(adapted), "--in", str(cmu[1]), str(cmu[2]), str(cmu[3]), str(cmu[4]), str(cmu[5])});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto pdf = dir_ / "site-adapted.pdf";
    const auto fromAdapted = methods(adapted, str(cmu[0]), "CMU", pdf);
    QVERIFY2(fromAdapted.find("site 'CMU': its own statistics, adapted from 5 unlabelled scans") != std::string::npos, fromAdapted.c_str());
    const auto text = tool("pdftotext", {str(pdf), "-"}).simplified();
    QVERIFY2(text.contains("Site statistics") && text.contains("adapted from 5 unlabelled scans"), qPrintable(text.left(3000)));
    // Adapted with the batch's diagnoses: the methods say so, with the batch's classes and the mix they were weighted to.
    const auto labelled = dir_ / "gfm-site-cmu-labelled.pt";
    r = run({"adapt-site", "--model", str(model), "--site", "CMU", "--out", str(labelled), "--in", str(cmu[1]), str(cmu[2]), str(cmu[3]), str(cmu[4]),
             str(cmu[5]), "--labels", "control", "autism", "autism", "control", "autism"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto counts = nlohmann::json::parse(run({"model", str(labelled)}).out.toStdString())["class_counts"];
    const double share = 100.0 * counts[1].get<double>() / (counts[0].get<double>() + counts[1].get<double>());
    const auto fromLabelled = methods(labelled, str(cmu[0]), "CMU", dir_ / "site-labelled.pdf");
    const auto expected = "adapted from 5 scans of the site with known diagnoses (2 control, 3 autism), weighted to the training mix (" +
                          std::to_string(static_cast<int>(std::lround(share))) + "% autism)";
    QVERIFY2(fromLabelled.find(expected) != std::string::npos, (fromLabelled + " / " + expected).c_str());
  }

  // A BOLD NIfTI in MNI space with fMRIPrep confounds beside it: parcellated with the model's atlas,
  // the motion checks read the confounds' framewise displacement.
  void diagnoseBoldNiftiWithSiblingConfounds() {
    const auto atlasFile = bgtest::dataRoot() / "atlases/schaefer100/tpl-MNI152NLin6Asym_res-02_atlas-Schaefer2018_desc-100Parcels7Networks_dseg.nii.gz";
    if (!std::filesystem::exists(atlasFile)) QSKIP("Schaefer100 not in the data path");
    const auto bold = dir_ / "sub-77_task-rest_space-MNI152NLin6Asym_desc-preproc_bold.nii.gz";
    const int volumes = 80;
    bgtest::writeSyntheticBold(bold, bg::readNiftiVolume(atlasFile), volumes, 2.0, 2.0, 11);
    std::vector<double> fd(volumes);
    {
      std::ofstream out(dir_ / "sub-77_task-rest_desc-confounds_timeseries.tsv");
      out << "framewise_displacement\ttrans_x\n";
      for (int t = 0; t < volumes; ++t) {
        fd[static_cast<std::size_t>(t)] = t == 0 ? 0.0 : (t % 8 == 0 ? 0.8 : 0.05 + 0.001 * t);
        out << (t == 0 ? std::string("n/a") : std::to_string(fd[static_cast<std::size_t>(t)])) << "\t" << 0.01 * t << "\n";
      }
    }
    // A Schaefer100 logistic-regression model file written here (weights from a fixed seed).
    const int n = 100, edges = n * (n - 1) / 2;
    std::mt19937 rng(5);
    std::normal_distribution<double> g(0.0, 0.02);
    auto randomVector = [&](int size, double scale) {
      std::vector<double> v(static_cast<std::size_t>(size));
      for (auto& x : v) x = scale * g(rng);
      return v;
    };
    Eigen::MatrixXd reference(30, edges);
    for (int r = 0; r < 30; ++r)
      for (int c = 0; c < edges; ++c) reference(r, c) = 0.3 + 10 * g(rng);
    json model = {{"kind", "baseline-logreg"},
                  {"format", 1},
                  {"c", 0.01},
                  {"classes", {"control", "patient"}},
                  {"positive_class", "patient"},
                  {"label_field", "dx"},
                  {"atlas", "schaefer100"},
                  {"nodes", n},
                  {"preprocessing",
                   {{"clean", true},
                    {"band_pass", nullptr},
                    {"confounds", json::array()},
                    {"fd_threshold", 0.5},
                    {"zscore", true},
                    {"detrend_order", 1},
                    {"summary", "mean"},
                    {"connectivity", "pearson"},
                    {"pipeline_version", 1}}},
                  {"temperature", 1.3},
                  {"corpus", {{"name", "synthetic"}, {"items", 30}, {"train", 25}, {"validation", 5}}},
                  {"mean", std::vector<double>(static_cast<std::size_t>(edges), 0.2)},
                  {"scale", std::vector<double>(static_cast<std::size_t>(edges), 0.3)},
                  {"weights", randomVector(edges, 1.0)},
                  {"intercept", 0.1},
                  {"fold_models", {{{"weights", randomVector(edges, 1.0)}, {"intercept", 0.0}}, {{"weights", randomVector(edges, 1.0)}, {"intercept", 0.2}}}},
                  {"ood", bg::fitOodReference(reference, "Fisher-z FC features", true)}};
    const auto modelFile = dir_ / "schaefer100-logreg.json";
    std::ofstream(modelFile) << model.dump();

    const auto pdf = dir_ / "bold.pdf";
    const auto r = run({"diagnose", "--model", str(modelFile), "--in", str(bold), "--out", str(pdf), "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto record = json::parse(r.out.toStdString());
    QCOMPARE(record["inputs"][0]["kind"].get<std::string>(), std::string("bold"));
    QCOMPARE(record["inputs"][1]["role"].get<std::string>(), std::string("confounds"));
    QCOMPARE(record["patient"]["id"].get<std::string>(), std::string("sub-77"));
    QCOMPARE(record["methods"]["rois"].get<int>(), 100);
    std::map<std::string, json> items;
    for (const auto& i : record["qc"]["items"]) items[i["id"].get<std::string>()] = i;
    QCOMPARE(items["volumes"]["value"].get<double>(), double(volumes));
    QCOMPARE(items["tr"]["value"].get<double>(), 2.0);
    QCOMPARE(items["roi_coverage"]["value"].get<double>(), 1.0);
    double mean = 0;
    int censored = 0;
    for (double v : fd) {
      mean += v;
      censored += v > 0.5;
    }
    mean /= volumes;
    QVERIFY(std::abs(items["mean_fd"]["value"].get<double>() - mean) < 1e-6);
    QVERIFY(std::abs(items["censored"]["value"].get<double>() - censored / double(volumes)) < 1e-12);
    QCOMPARE(items["censored"]["status"].get<std::string>(), std::string("warn"));  // 9 of 80 > 10%
    // The same answer as `predict` on the same file.
    const auto p = run({"predict", "--model", str(modelFile), "--in", str(bold), "--json"});
    QVERIFY2(p.exitCode == 0, qPrintable(p.err));
    QVERIFY(std::abs(json::parse(p.out.trimmed().toStdString())["probability"].get<double>() - record["result"]["probability"].get<double>()) < 1e-12);
    const QString text = tool("pdftotext", {"-layout", str(pdf), "-"});
    QVERIFY(text.contains("sub-77"));
    QVERIFY(text.contains("Mean framewise"));
    QVERIFY(text.contains(QString("%1 of %2 volumes").arg(censored).arg(volumes)));
    QCOMPARE(record["inputs"][1]["name"].get<std::string>(), std::string("sub-77_task-rest_desc-confounds_timeseries.tsv"));
    QVERIFY(text.contains(QString::fromStdString(record["inputs"][1]["hash"].get<std::string>())));  // listed with its hash
  }

  // A released model's report quotes the evaluation behind it (from the card, not recomputed).
  void releasedModelReportQuotesItsEvaluation() {
    const QString w = str(ws_);
    const auto e = run({"evaluate", "-w", w, "--corpus", "asd", "--method", "logreg", "--cv", "3", "--json"});
    QVERIFY2(e.exitCode == 0, qPrintable(e.err));
    const auto evaluation = json::parse(e.out.toStdString());
    const auto results = json::parse(run({"results", "-w", w, "--format", "json"}).out.toStdString());
    const auto id = results.back()["id"].get<std::int64_t>();
    const auto released = dir_ / "released.json";
    const auto r = run(
        {"release", "-w", w, "--model", logreg_, "--evaluation", QString::number(id), "--name", "NYU screen", "--by", "Dr. Release", "--out", str(released)});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto pdf = dir_ / "released.pdf";
    const auto d = run({"diagnose", "-w", w, "--model", str(released), "--in", scan_, "--out", str(pdf), "--json"});
    QVERIFY2(d.exitCode == 0, qPrintable(d.err));
    const auto record = json::parse(d.out.toStdString());
    QCOMPARE(record["model_card"]["evaluation"]["evaluation_run"].get<std::int64_t>(), id);
    const QString text = tool("pdftotext", {str(pdf), "-"}).simplified();
    const auto& auc = evaluation["metrics"]["auc"];
    const QString expected = QStringLiteral("AUC %1 (95% CI %2–%3)")
                                 .arg(auc["mean"].get<double>(), 0, 'f', 3)
                                 .arg(auc["ci95"][0].get<double>(), 0, 'f', 3)
                                 .arg(auc["ci95"][1].get<double>(), 0, 'f', 3);
    QVERIFY2(text.contains(expected), qPrintable(expected));
    QVERIFY(text.contains(QStringLiteral("NYU screen, released by Dr. Release")));
  }

  void badInputsGiveClearErrors() {
    const auto missing = run({"diagnose", "--model", logreg_, "--in", str(dir_ / "nope.1D"), "--tr", "2"});
    QCOMPARE(missing.exitCode, 66);
    QVERIFY(missing.err.contains("nope.1D"));
    const auto wrong = dir_ / "wrong.1D";
    {
      std::ofstream out(wrong);
      for (int t = 0; t < 100; ++t) out << t % 7 << "\t" << t % 5 << "\t" << t % 3 << "\n";
    }
    const auto w = run({"diagnose", "--model", logreg_, "--in", str(wrong), "--tr", "2"});
    QCOMPARE(w.exitCode, 65);
    QVERIFY2(w.err.contains("wrong.1D") && w.err.contains("3 columns"), qPrintable(w.err));
    const auto r = run({"report", "-w", str(ws_), "--prediction", "99999", "--out", str(dir_ / "x.pdf")});
    QCOMPARE(r.exitCode, 66);
    QVERIFY(!std::filesystem::exists(dir_ / "x.pdf"));
    const auto noDir = run({"diagnose", "--model", logreg_, "--in", scan_, "--tr", "2", "--out", str(dir_ / "no/such/folder/r.pdf")});
    QVERIFY(noDir.exitCode != 0);
    QVERIFY2(noDir.err.contains("does not exist"), qPrintable(noDir.err));
  }
};

QTEST_MAIN(TestReport)
#include "test_report.moc"
