// Published BrainGFM checkpoints through braingraph-cli: model import of both kinds of state dict
// from the public code's fixture, check-reference (exit 0 within 1e-4, 65 past it), bad files
// (exit 65, the file named, nothing written), and an imported model adapted on real ABIDE scans
// (Harvard-Oxford series, one site), then used by predict and diagnose with a PDF report.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include <QCryptographicHash>
#include <QFile>
#include <QProcess>
#include <QTest>
#include <nlohmann/json.hpp>

#include "TestSupport.h"

namespace fs = std::filesystem;
using nlohmann::json;

class TestCheckpointCli : public QObject {
  Q_OBJECT
  fs::path dir_, fixture_, data_;

  static bgtest::CliResult run(const QStringList& args) { return bgtest::runCliQuietly(args); }
  static QString q(const fs::path& p) { return QString::fromStdString(p.string()); }
  static QString sha256(const fs::path& p) {
    QFile f(q(p));
    return f.open(QIODevice::ReadOnly) ? QString::fromLatin1(QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256).toHex()) : QString();
  }

 private Q_SLOTS:
  void initTestCase() {
    data_ = fs::path(BRAINGRAPH_TEST_DATA);
    fixture_ = data_ / "fixtures" / "braingfm-public";
    if (!fs::exists(fixture_ / "classifier_state.pt")) QFAIL("the braingfm-public fixture is missing from the data path");
    dir_ = bgtest::scratchDir("checkpoint_cli");
  }

  void importsBothKindsAndMatchesTheReference() {
    for (const char* kind : {"pretrain_state", "classifier_state"}) {
      const auto out = dir_ / (std::string(kind) + "-imported.pt");
      const auto r = run({QStringLiteral("model"), QStringLiteral("import"), QStringLiteral("--format"), QStringLiteral("braingfm-public"),
                          q(fixture_ / (std::string(kind) + ".pt")), QStringLiteral("--out"), q(out)});
      QVERIFY2(r.exitCode == 0, qPrintable(r.err));
      const auto card = json::parse(r.out.toStdString());
      QCOMPARE(QString::fromStdString(card["source"]["sha256"].get<std::string>()), sha256(fixture_ / (std::string(kind) + ".pt")));
      QCOMPARE(card["inferred"]["hidden"].get<int>(), 64);
      QVERIFY2(card["assumed"]["heads"].get<std::string>().find("manifest.json") != std::string::npos, card["assumed"].dump().c_str());
      QCOMPARE(card["head"]["from_checkpoint"].get<bool>(), std::string(kind) == "classifier_state");
      const auto shown = run({QStringLiteral("model"), q(out)});
      QVERIFY2(shown.exitCode == 0 && shown.out.contains(QStringLiteral("braingfm-public-import")), qPrintable(shown.err));
    }
    // Every batch of the public code's outputs, through the imported file.
    const auto check =
        run({QStringLiteral("model"), QStringLiteral("check-reference"), q(fixture_), QStringLiteral("--model"), q(dir_ / "classifier_state-imported.pt")});
    QVERIFY2(check.exitCode == 0, qPrintable(check.err));
    const auto result = json::parse(check.out.toStdString());
    QCOMPARE(result["batches"].size(), std::size_t{2});
    for (const auto& b : result["batches"]) {
      QVERIFY(b["embedding"]["max_abs"].get<double>() <= 1e-4);
      QVERIFY(b["logits"]["max_abs"].get<double>() <= 1e-4);
    }
    // The encoder before fine-tuning does not give the fine-tuned outputs: exit 65, the reason said.
    const auto other =
        run({QStringLiteral("model"), QStringLiteral("check-reference"), q(fixture_), QStringLiteral("--state"), q(fixture_ / "pretrain_state.pt")});
    QCOMPARE(other.exitCode, 65);
    QVERIFY(other.err.contains(QStringLiteral("exceeds the tolerance")));
    QVERIFY(json::parse(other.out.toStdString())["max_abs"].get<double>() > 1e-3);
  }

  void badFilesAreRefusedAndNothingIsWritten() {
    std::ifstream in(fixture_ / "classifier_state.pt", std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto truncated = dir_ / "truncated.pt";
    std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    const auto text = dir_ / "notes.pt";
    std::ofstream(text) << "not a checkpoint\n";
    const auto outDir = dir_ / "refused";
    fs::create_directories(outDir);
    for (const auto& bad : {truncated, text, dir_ / "absent.pt"}) {
      const auto r = run({QStringLiteral("model"), QStringLiteral("import"), q(bad), QStringLiteral("--out"), q(outDir / "model.pt")});
      QVERIFY2(r.exitCode == (bad.filename() == "absent.pt" ? 66 : 65), qPrintable(r.err));
      QVERIFY2(r.err.contains(q(bad)), qPrintable(r.err));
      QVERIFY2(!r.err.contains(QStringLiteral("frame #")), qPrintable(r.err));
    }
    QVERIFY(fs::is_empty(outDir));  // no model, no temporary file
  }

  void adaptedOnAbideThenDiagnoses() {
    const auto ho = data_ / "data" / "abide1-ho";
    if (!fs::exists(ho / "rois_ho")) QFAIL("ABIDE's Harvard-Oxford series are missing from the data path");
    const auto ws = q(dir_ / "ws");
    QCOMPARE(run({QStringLiteral("workspace"), QStringLiteral("init"), QStringLiteral("-w"), ws}).exitCode, 0);
    auto r = run({QStringLiteral("import"), QStringLiteral("abide"), QStringLiteral("-w"), ws, QStringLiteral("--pheno"),
                  q(ho / "Phenotypic_V1_0b_preprocessed1.csv"), QStringLiteral("--timeseries"), q(ho / "rois_ho")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QCOMPARE(run({QStringLiteral("derive"), QStringLiteral("-w"), ws, QStringLiteral("--no-bandpass")}).exitCode, 0);
    r = run({QStringLiteral("corpus"), QStringLiteral("create"), QStringLiteral("-w"), ws, QStringLiteral("--name"), QStringLiteral("pitt"),
             QStringLiteral("--atlas"), QStringLiteral("ho"), QStringLiteral("--where"), QStringLiteral("site=PITT"), QStringLiteral("--class"),
             QStringLiteral("control"), QStringLiteral("--class"), QStringLiteral("autism"), QStringLiteral("--folds"), QStringLiteral("3")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto pretrained = q(dir_ / "pretrain_state-imported.pt");
    for (const char* method : {"prompt", "finetune"}) {
      const auto out = q(dir_ / (std::string(method) + ".pt"));
      r = run({QStringLiteral("train"), QStringLiteral("-w"), ws, QStringLiteral("--corpus"), QStringLiteral("pitt"), QStringLiteral("--method"),
               QString::fromLatin1(method), QStringLiteral("--pretrained"), pretrained, QStringLiteral("--epochs"), QStringLiteral("2"),
               QStringLiteral("--ensemble"), QStringLiteral("1"), QStringLiteral("--out"), out});
      QVERIFY2(r.exitCode == 0, qPrintable(r.err));
      QVERIFY(r.err.contains(QStringLiteral("nearest by ROI count")));  // HO is not one of the checkpoint's atlases
      const auto card = json::parse(run({QStringLiteral("model"), out}).out.toStdString());
      QCOMPARE(card["architecture"].get<std::string>(), std::string("braingfm-public"));
      QCOMPARE(card["tokens"]["atlas"].get<std::string>(), std::string("aal116"));  // 116 ROIs, nearest to HO's 111
      QCOMPARE(card["tokens"]["disease"].get<std::string>(), std::string("asd"));
      QCOMPARE(card["adaptation"]["method"].get<std::string>(), std::string(method));
      QCOMPARE(QString::fromStdString(card["origin"]["pretrained_info"]["source"]["sha256"].get<std::string>()), sha256(fixture_ / "pretrain_state.pt"));
    }
    // evaluate measures the same procedure in folds, under its own name.
    r = run({QStringLiteral("evaluate"), QStringLiteral("-w"), ws, QStringLiteral("--corpus"), QStringLiteral("pitt"), QStringLiteral("--method"),
             QStringLiteral("linear"), QStringLiteral("--pretrained"), pretrained, QStringLiteral("--epochs"), QStringLiteral("2"),
             QStringLiteral("--ensemble"), QStringLiteral("1"), QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto ev = json::parse(r.out.toStdString().substr(r.out.toStdString().find('{')));
    QCOMPARE(ev["method"].get<std::string>(), std::string("braingfm-public-linear"));
    QCOMPARE(ev["metrics"]["auc"]["folds"].size(), std::size_t{3});
    // A scan from another site: predicted, then diagnosed with a report naming the checkpoint.
    const auto scan = q(ho / "rois_ho" / "CMU_a_0050642_rois_ho.1D.gz");
    r = run({QStringLiteral("predict"), QStringLiteral("--model"), q(dir_ / "prompt.pt"), QStringLiteral("--in"), scan, QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto row = json::parse(r.out.toStdString().substr(0, r.out.toStdString().find('\n')));
    QVERIFY(row["probability"].get<double>() > 0 && row["probability"].get<double>() < 1);
    QVERIFY(row.contains("interval"));  // Monte Carlo dropout
    QCOMPARE(row["in_training_set"].get<bool>(), false);
    // A scan of the training corpus is flagged: the model learned from it (graph model and baseline alike).
    QVERIFY(run({QStringLiteral("train"), QStringLiteral("-w"), ws, QStringLiteral("--corpus"), QStringLiteral("pitt"), QStringLiteral("--method"),
                 QStringLiteral("logreg"), QStringLiteral("--out"), q(dir_ / "logreg.json")})
                .exitCode == 0);
    const auto trained = q(ho / "rois_ho" / "Pitt_0050003_rois_ho.1D.gz");
    for (const auto& m : {q(dir_ / "prompt.pt"), q(dir_ / "logreg.json")}) {
      r = run({QStringLiteral("predict"), QStringLiteral("--model"), m, QStringLiteral("--in"), trained, QStringLiteral("--json")});
      QVERIFY2(r.exitCode == 0, qPrintable(r.err));
      const auto t = json::parse(r.out.toStdString().substr(0, r.out.toStdString().find('\n')));
      QVERIFY2(t.value("in_training_set", false), t.dump().c_str());
      QVERIFY(t["training_set_warning"].get<std::string>().find("not an independent test") != std::string::npos);
    }
    const auto trainedPdf = dir_ / "trained-scan.pdf";
    r = run({QStringLiteral("diagnose"), QStringLiteral("-w"), ws, QStringLiteral("--model"), q(dir_ / "logreg.json"), QStringLiteral("--in"), trained,
             QStringLiteral("--tr"), QStringLiteral("2.0"), QStringLiteral("--out"), q(trainedPdf)});
    QVERIFY2(r.exitCode == 0 && r.out.contains(QStringLiteral("A TRAINING SCAN OF THE MODEL")), qPrintable(r.out + r.err));
    {
      QProcess t;
      t.start(QStringLiteral("pdftotext"), {q(trainedPdf), QStringLiteral("-")});
      QVERIFY(t.waitForFinished(60000));
      QVERIFY(QString::fromUtf8(t.readAllStandardOutput()).simplified().contains(QStringLiteral("the result is not an independent test")));
    }
    const auto pdf = dir_ / "report.pdf";
    r = run({QStringLiteral("diagnose"), QStringLiteral("-w"), ws, QStringLiteral("--model"), q(dir_ / "finetune.pt"), QStringLiteral("--in"), scan,
             QStringLiteral("--tr"), QStringLiteral("2.0"), QStringLiteral("--operator"), QStringLiteral("test"), QStringLiteral("--out"), q(pdf)});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QProcess text;
    text.start(QStringLiteral("pdftotext"), {q(pdf), QStringLiteral("-")});
    QVERIFY(text.waitForFinished(60000));
    const auto pages = QString::fromUtf8(text.readAllStandardOutput()).simplified().remove(QLatin1Char(' '));
    QVERIFY2(pages.contains(QStringLiteral("pretrain_state.pt")), qPrintable(pages.left(2000)));
    QVERIFY2(pages.contains(sha256(fixture_ / "pretrain_state.pt").left(40)), qPrintable(pages.left(4000)));
    QVERIFY2(pages.contains(QStringLiteral("nearestbyROIcount")), qPrintable(pages.left(4000)));  // the stand-in atlas token, said
    // No confounds file: the workspace's recorded mean FD (ABIDE's func_mean_fd) is checked, censoring is not, and the report says so.
    QVERIFY2(pages.contains(QStringLiteral("Overall:incomplete—censoredvolumesnotchecked")), qPrintable(pages.left(4000)));
    QVERIFY2(pages.contains(QStringLiteral("theworkspace'srecordofthisscan")), qPrintable(pages.left(4000)));
    // The imported file itself has no task: refused with advice, not run.
    r = run({QStringLiteral("predict"), QStringLiteral("--model"), pretrained, QStringLiteral("--in"), scan, QStringLiteral("--json")});
    QVERIFY(r.exitCode != 0);
    QVERIFY2((r.out + r.err).contains(QStringLiteral("not yet adapted to a task")), qPrintable(r.out + r.err));
  }

  // The same Pitt subjects through CC200 and Harvard-Oxford: BrainGFM pre-trains on both atlases at
  // once (one atlas token each), with one brain in two atlases as its contrastive pair; the encoder
  // then fine-tunes on one atlas. BrainMass and LCM say they cannot mix atlases.
  void multiAtlasPretrainingOnAbide() {
    const auto ws = q(dir_ / "ws");  // from adaptedOnAbideThenDiagnoses: HO imported and derived
    const auto cc = data_ / "data" / "abide1-cc200";
    auto r = run({QStringLiteral("import"), QStringLiteral("abide"), QStringLiteral("-w"), ws, QStringLiteral("--pheno"),
                  q(cc / "Phenotypic_V1_0b_preprocessed1.csv"), QStringLiteral("--timeseries"), q(cc / "rois_cc200")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QCOMPARE(run({QStringLiteral("derive"), QStringLiteral("-w"), ws, QStringLiteral("--no-bandpass")}).exitCode, 0);
    r = run({QStringLiteral("corpus"), QStringLiteral("create"), QStringLiteral("-w"), ws, QStringLiteral("--name"), QStringLiteral("pitt2"),
             QStringLiteral("--atlas"), QStringLiteral("cc200,ho"), QStringLiteral("--where"), QStringLiteral("site=PITT"), QStringLiteral("--class"),
             QStringLiteral("control"), QStringLiteral("--class"), QStringLiteral("autism"), QStringLiteral("--folds"), QStringLiteral("3")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto config = dir_ / "tiny-pre.json";
    std::ofstream(config) << R"({"model": {"hidden": 16, "heads": 2, "attention_layers": 1, "gnn_layers": 1, "ffn": 32, "text_dimension": 16},
                                 "mode": "sum", "epochs": 2, "batch_size": 16})";
    const auto pre = q(dir_ / "two-atlases.pt");
    r = run({QStringLiteral("pretrain"), QStringLiteral("-w"), ws, QStringLiteral("--corpus"), QStringLiteral("pitt2"), QStringLiteral("--all-items"),
             QStringLiteral("--config"), q(config), QStringLiteral("--cross-atlas-views"), QStringLiteral("--out"), pre});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains(QStringLiteral("have the same scan in another atlas")), qPrintable(r.err));
    const auto summary = json::parse(r.out.toStdString());
    QVERIFY(summary["atlases"] == json({"cc200", "ho"}));
    QCOMPARE(summary["cross_atlas_views"].get<bool>(), true);
    const int subjects = summary["items"].get<int>() / 2;
    QVERIFY(subjects > 40);  // Pitt: 56 labelled subjects, each with a CC200 and an HO graph
    for (const auto& l : summary["losses"]) QVERIFY(l["gcl"].get<double>() > 0 && l["gmae"].get<double>() > 0);
    // The multi-atlas encoder adapts to one atlas's corpus.
    r = run({QStringLiteral("train"), QStringLiteral("-w"), ws, QStringLiteral("--corpus"), QStringLiteral("pitt"), QStringLiteral("--method"),
             QStringLiteral("finetune"), QStringLiteral("--pretrained"), pre, QStringLiteral("--epochs"), QStringLiteral("1"), QStringLiteral("--ensemble"),
             QStringLiteral("1"), QStringLiteral("--out"), q(dir_ / "from-two.pt")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    // Cross-atlas views need two atlases; the zoo models need one.
    r = run({QStringLiteral("pretrain"), QStringLiteral("-w"), ws, QStringLiteral("--corpus"), QStringLiteral("pitt"), QStringLiteral("--config"), q(config),
             QStringLiteral("--cross-atlas-views"), QStringLiteral("--out"), q(dir_ / "never.pt")});
    QCOMPARE(r.exitCode, 78);
    QVERIFY2(r.err.contains(QStringLiteral("corpus create --atlas cc200,ho")), qPrintable(r.err));
    for (const char* zoo : {"brainmass", "lcm"}) {
      r = run({QStringLiteral("pretrain"), QStringLiteral("-w"), ws, QStringLiteral("--model"), QString::fromLatin1(zoo), QStringLiteral("--corpus"),
               QStringLiteral("pitt2"), QStringLiteral("--out"), q(dir_ / "never.pt")});
      QCOMPARE(r.exitCode, 64);
      QVERIFY2(r.err.contains(QStringLiteral("no atlas token")), qPrintable(r.err));
    }
    QVERIFY(!fs::exists(dir_ / "never.pt"));

    // One prediction from both atlases: a regression per atlas, their calibrated probabilities averaged.
    const auto twoModel = q(dir_ / "logreg-two.json");
    r = run({QStringLiteral("train"), QStringLiteral("-w"), ws, QStringLiteral("--corpus"), QStringLiteral("pitt2"), QStringLiteral("--method"),
             QStringLiteral("logreg"), QStringLiteral("--out"), twoModel});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto card = json::parse(run({QStringLiteral("model"), twoModel}).out.toStdString());
    QCOMPARE(card["kind"].get<std::string>(), std::string("atlas-ensemble"));
    QVERIFY(card["atlases"] == json({"cc200", "ho"}));
    const auto cmuCc200 = q(cc / "rois_cc200" / "CMU_a_0050642_rois_cc200.1D.gz");
    const auto cmuHo = q(data_ / "data" / "abide1-ho" / "rois_ho" / "CMU_a_0050642_rois_ho.1D.gz");
    r = run({QStringLiteral("predict"), QStringLiteral("--model"), twoModel, QStringLiteral("--in"), cmuHo, QStringLiteral("--in"), cmuCc200,
             QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto row = json::parse(r.out.toStdString().substr(0, r.out.toStdString().find('\n')));
    QCOMPARE(row["members"].size(), std::size_t{2});
    QCOMPARE(row["files"]["ho"].get<std::string>(), cmuHo.toStdString());
    const double pCc200 = row["members"][0]["probability"].get<double>(), pHo = row["members"][1]["probability"].get<double>();
    QVERIFY(std::abs(row["probability"].get<double>() - (pCc200 + pHo) / 2) < 1e-12);
    // The HO member is the HO baseline of the same scans (corpus pitt, trained in adaptedOnAbideThenDiagnoses).
    r = run({QStringLiteral("predict"), QStringLiteral("--model"), q(dir_ / "logreg.json"), QStringLiteral("--in"), cmuHo, QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const double alone = json::parse(r.out.toStdString().substr(0, r.out.toStdString().find('\n')))["probability"].get<double>();
    QVERIFY2(std::abs(alone - pHo) < 1e-9, qPrintable(QString("%1 vs %2").arg(alone).arg(pHo)));
    QVERIFY(std::abs(pCc200 - pHo) > 1e-6);  // two regressions, two answers
    // A scan given through one atlas only: the missing file is named.
    r = run({QStringLiteral("predict"), QStringLiteral("--model"), twoModel, QStringLiteral("--in"), cmuCc200});
    QCOMPARE(r.exitCode, 64);
    QVERIFY2(r.err.contains(QStringLiteral("no ho time series")) && r.err.contains(QStringLiteral("CMU_a_0050642_rois_ho.1D.gz")), qPrintable(r.err));
    // Cross-validated the same way: every Pitt acquisition scored once, from both atlases.
    r = run({QStringLiteral("evaluate"), QStringLiteral("-w"), ws, QStringLiteral("--corpus"), QStringLiteral("pitt2"), QStringLiteral("--method"),
             QStringLiteral("logreg"), QStringLiteral("--cv"), QStringLiteral("3"), QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto ev = json::parse(r.out.toStdString().substr(r.out.toStdString().find('{')));
    QCOMPARE(ev["items"].get<int>(), subjects);
    int tested = 0;
    for (const auto& f : ev["folds_detail"]) tested += f["test"].get<int>();
    QCOMPARE(tested, subjects);  // each acquisition tested once, not once per atlas
    QCOMPARE(ev["acquisitions_missing_an_atlas"].get<int>(), 0);
    QCOMPARE(ev["members"].size(), std::size_t{2});
    // A diagnosis reads the BOLD volume through both atlases in one pass; one time-series file is
    // refused with the way out.
    r = run({QStringLiteral("diagnose"), QStringLiteral("--model"), twoModel, QStringLiteral("--in"), cmuCc200, QStringLiteral("--tr"), QStringLiteral("2")});
    QCOMPARE(r.exitCode, 64);
    QVERIFY2(r.err.contains(QStringLiteral("needs the BOLD file")) && r.err.contains(QStringLiteral("predict")), qPrintable(r.err));
    const auto bold = dir_ / "sub-synthetic_bold.nii.gz";  // on the CC200 label grid (3 mm, what C-PAC used for both atlases)
    {
      QProcess make;
      make.start(QStringLiteral(BRAINGRAPH_MAKE_BOLD), {q(cc / "atlas" / "CC200.nii.gz"), q(bold), QStringLiteral("80"), QStringLiteral("2.0")});
      QVERIFY(make.waitForFinished(120000) && make.exitCode() == 0);
    }
    const auto twoPdf = dir_ / "two-atlases.pdf";
    r = run({QStringLiteral("diagnose"), QStringLiteral("--model"), twoModel, QStringLiteral("--in"), q(bold), QStringLiteral("--out"), q(twoPdf),
             QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto record = json::parse(r.out.toStdString().substr(r.out.toStdString().find('{')));
    // The same probability predict gives from the same BOLD file, the mean of the two members.
    r = run({QStringLiteral("predict"), QStringLiteral("--model"), twoModel, QStringLiteral("--in"), q(bold), QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto boldRow = json::parse(r.out.toStdString().substr(0, r.out.toStdString().find('\n')));
    QVERIFY(std::abs(record["result"]["probability"].get<double>() - boldRow["probability"].get<double>()) < 1e-12);
    QVERIFY(std::abs(boldRow["probability"].get<double>() -
                     (boldRow["members"][0]["probability"].get<double>() + boldRow["members"][1]["probability"].get<double>()) / 2) < 1e-12);
    QCOMPARE(record["methods"]["atlas"].get<std::string>(), std::string("cc200 + ho"));
    QCOMPARE(record["methods"]["rois"]["ho"].get<int>(), 111);
    QCOMPARE(record["methods"]["rois"]["cc200"].get<int>(), 200);
    std::set<std::string> topAtlases;
    for (const auto& t : record["explanation"]["top_rois"]) topAtlases.insert(t["atlas"].get<std::string>());
    QVERIFY2(topAtlases.size() == 2, record["explanation"]["top_rois"].dump().c_str());  // ranked against each atlas's even share, not its raw share
    QProcess text;
    text.start(QStringLiteral("pdftotext"), {q(twoPdf), QStringLiteral("-")});
    QVERIFY(text.waitForFinished(60000));
    const auto pages = QString::fromUtf8(text.readAllStandardOutput()).simplified();
    QVERIFY2(pages.contains(QStringLiteral("the 200 regions of the cc200 atlas and of the 111 regions of the ho atlas")) &&
                 pages.contains(QStringLiteral("one L2 logistic regression per atlas")) && pages.contains(QStringLiteral("in one pass over the volume")) &&
                 pages.contains(QStringLiteral("calibrated probabilities were averaged. Decision")),
             qPrintable(pages));

    // Graph models on both atlases: one model per atlas, written beside the card with their hashes,
    // their calibrated probabilities averaged; evaluated on the same subject folds.
    const auto tinyTune = dir_ / "tiny-tune.json";
    std::ofstream(tinyTune) << R"({"model": {"hidden": 16, "heads": 2, "attention_layers": 1, "gnn_layers": 1, "ffn": 32, "text_dimension": 16},
                                  "epochs": 1, "ensemble": 1})";
    const auto graphTwo = dir_ / "scratch-two.json";
    r = run({QStringLiteral("train"), QStringLiteral("-w"), ws, QStringLiteral("--corpus"), QStringLiteral("pitt2"), QStringLiteral("--method"),
             QStringLiteral("scratch"), QStringLiteral("--config"), q(tinyTune), QStringLiteral("--out"), q(graphTwo)});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto graphCard = json::parse(run({QStringLiteral("model"), q(graphTwo)}).out.toStdString());
    QCOMPARE(graphCard["kind"].get<std::string>(), std::string("atlas-ensemble"));
    QCOMPARE(graphCard["member_files"].size(), std::size_t{2});
    QVERIFY(fs::exists(dir_ / "scratch-two.cc200.pt") && fs::exists(dir_ / "scratch-two.ho.pt"));
    r = run({QStringLiteral("predict"), QStringLiteral("--model"), q(graphTwo), QStringLiteral("--in"), cmuHo, QStringLiteral("--in"), cmuCc200,
             QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto graphRow = json::parse(r.out.toStdString().substr(0, r.out.toStdString().find('\n')));
    QVERIFY(std::abs(graphRow["probability"].get<double>() -
                     (graphRow["members"][0]["probability"].get<double>() + graphRow["members"][1]["probability"].get<double>()) / 2) < 1e-12);
    // The HO member alone gives the HO member's probability.
    r = run({QStringLiteral("predict"), QStringLiteral("--model"), q(dir_ / "scratch-two.ho.pt"), QStringLiteral("--in"), cmuHo, QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY(std::abs(json::parse(r.out.toStdString().substr(0, r.out.toStdString().find('\n')))["probability"].get<double>() -
                     graphRow["members"][1]["probability"].get<double>()) < 1e-9);
    r = run({QStringLiteral("evaluate"), QStringLiteral("-w"), ws, QStringLiteral("--corpus"), QStringLiteral("pitt2"), QStringLiteral("--method"),
             QStringLiteral("scratch"), QStringLiteral("--config"), q(tinyTune), QStringLiteral("--cv"), QStringLiteral("3"), QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto graphEval = json::parse(r.out.toStdString().substr(r.out.toStdString().find('{')));
    QCOMPARE(graphEval["items"].get<int>(), subjects);
    QCOMPARE(graphEval["members"].size(), std::size_t{2});
    QVERIFY(graphEval["procedure"].get<std::string>().find("one scratch model per atlas") != std::string::npos);
    // Pre-trained inside the folds: each fold's encoder learns from the training part's scans in both
    // atlases (one brain in two atlases as the contrastive pair), and both atlases' members share it.
    const auto cache = dir_ / "ws" / "models" / "cache";
    const auto cached = [&] {
      std::set<std::string> names;
      if (fs::exists(cache))
        for (const auto& e : fs::directory_iterator(cache)) names.insert(e.path().filename().string());
      return names;
    };
    const auto before = cached();
    r = run({QStringLiteral("evaluate"), QStringLiteral("-w"), ws, QStringLiteral("--corpus"), QStringLiteral("pitt2"), QStringLiteral("--method"),
             QStringLiteral("finetune"), QStringLiteral("--config"), q(tinyTune), QStringLiteral("--pretrain-in-folds"), QStringLiteral("--pretrain-config"),
             q(config), QStringLiteral("--cross-atlas-views"), QStringLiteral("--cv"), QStringLiteral("3"), QStringLiteral("--json"), QStringLiteral("--out"),
             q(dir_ / "pretrained-eval")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto pretrainedEval = json::parse(r.out.toStdString().substr(r.out.toStdString().find('{')));
    for (const auto& m : pretrainedEval["members"]) QVERIFY2(m["pretrain_atlases"] == json({"cc200", "ho"}), m.dump().c_str());
    QCOMPARE(pretrainedEval.value("pretrained", std::string()), std::string("in-folds"));  // the ensemble says what its members are
    QVERIFY2(!pretrainedEval.contains("features"), pretrainedEval.dump().c_str());         // graph models have no feature vector
    {  // the written table names the model; the predictions file has every subject once
      std::ifstream md(dir_ / "pretrained-eval.md");
      const std::string table((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
      QVERIFY2(table.find("| finetune, pre-trained | pitt2 |") != std::string::npos, table.c_str());
      std::ifstream csv(dir_ / "pretrained-eval-predictions.csv");
      int lines = 0;
      for (std::string line; std::getline(csv, line);) ++lines;
      QCOMPARE(lines, 1 + subjects);
    }
    int added = 0;
    for (const auto& name : cached()) added += before.count(name) ? 0 : 1;
    QCOMPARE(added, 3);                                                              // one pre-training per fold, not one per fold and atlas
    QCOMPARE(r.err.count(QStringLiteral("using the cached fold pre-training")), 3);  // the second atlas's member reuses it
    QVERIFY2(r.err.contains(QStringLiteral("have the same scan in another atlas")), qPrintable(r.err));
    r = run({QStringLiteral("evaluate"), QStringLiteral("-w"), ws, QStringLiteral("--corpus"), QStringLiteral("pitt2"), QStringLiteral("--method"),
             QStringLiteral("finetune"), QStringLiteral("--cross-atlas-views"), QStringLiteral("--cv"), QStringLiteral("3")});
    QCOMPARE(r.exitCode, 64);
    QVERIFY2(r.err.contains(QStringLiteral("give both")), qPrintable(r.err));
    // A member file that is not the one trained: refused, naming it.
    { std::ofstream(dir_ / "scratch-two.ho.pt", std::ios::app) << "x"; }
    r = run({QStringLiteral("predict"), QStringLiteral("--model"), q(graphTwo), QStringLiteral("--in"), cmuHo, QStringLiteral("--in"), cmuCc200});
    QCOMPARE(r.exitCode, 65);
    QVERIFY2(r.err.contains(q(dir_ / "scratch-two.ho.pt")) && r.err.contains(QStringLiteral("SHA-256 differs")), qPrintable(r.err));
  }
  // One fused model over both atlases (--atlas-fusion embedding): one file whose network reads each
  // scan's CC200 and HO graphs under one head. Evaluated on the subject folds, used by predict (both
  // graphs read: another scan's HO graph changes the answer) and by diagnose on a BOLD volume.
  void fusedModelReadsBothAtlases() {
    const auto ws = q(dir_ / "ws");  // from multiAtlasPretrainingOnAbide: corpus pitt2 (CC200 + HO), tiny-tune.json, the BOLD file
    const auto cc = data_ / "data" / "abide1-cc200";
    const auto tinyTune = q(dir_ / "tiny-tune.json");
    const auto fused = q(dir_ / "fused.pt");
    auto r = run({QStringLiteral("train"), QStringLiteral("-w"), ws, QStringLiteral("--corpus"), QStringLiteral("pitt2"), QStringLiteral("--method"),
                  QStringLiteral("scratch"), QStringLiteral("--config"), tinyTune, QStringLiteral("--atlas-fusion"), QStringLiteral("embedding"),
                  QStringLiteral("--out"), fused});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto card = json::parse(run({QStringLiteral("model"), fused}).out.toStdString());
    QCOMPARE(card["architecture"].get<std::string>(), std::string("atlas-fusion"));
    QVERIFY(card["atlases"] == json({"cc200", "ho"}));
    QVERIFY(card["atlas_nodes"] == json({200, 111}));
    QCOMPARE(card["members"].size(), std::size_t{2});
    QVERIFY(!fs::exists(dir_ / "fused.cc200.pt"));  // one file
    // The card's facts as a table (model FILE --format csv): the atlases it reads, its classes.
    const auto facts = run({QStringLiteral("model"), fused, QStringLiteral("--format"), QStringLiteral("csv")}).out;
    QVERIFY2(facts.startsWith(QStringLiteral("field,value\n")) && facts.contains(QStringLiteral("\natlases,cc200 + ho\n")) &&
                 facts.contains(QStringLiteral("\nnodes,200 + 111\n")) && facts.contains(QStringLiteral("architecture,atlas-fusion")) &&
                 facts.contains(QStringLiteral("control (negative), autism (positive)")),
             qPrintable(facts));

    const auto cmuCc200 = q(cc / "rois_cc200" / "CMU_a_0050642_rois_cc200.1D.gz");
    const auto cmuHo = q(data_ / "data" / "abide1-ho" / "rois_ho" / "CMU_a_0050642_rois_ho.1D.gz");
    const auto predictOne = [&](const QString& a, const QString& b) {
      const auto out =
          run({QStringLiteral("predict"), QStringLiteral("--model"), fused, QStringLiteral("--in"), a, QStringLiteral("--in"), b, QStringLiteral("--json")});
      if (out.exitCode != 0) return json{{"error", out.err.toStdString()}};
      return json::parse(out.out.toStdString().substr(0, out.out.toStdString().find('\n')));
    };
    const auto row = predictOne(cmuHo, cmuCc200);
    QVERIFY2(row.contains("probability"), row.dump().c_str());
    QVERIFY(row["atlases"] == json({"cc200", "ho"}));
    std::set<std::string> topAtlases;
    for (const auto& t : row["top_rois"]) {
      topAtlases.insert(t["atlas"].get<std::string>());
      QVERIFY2(t["name"].get<std::string>().find(" [" + t["atlas"].get<std::string>() + "]") != std::string::npos, t.dump().c_str());
    }
    QVERIFY2(!topAtlases.empty(), row.dump().c_str());
    // Both graphs are read: the same name with another subject's HO (or CC200) series gives another probability.
    const auto swapped = dir_ / "swapped";
    fs::create_directories(swapped);
    fs::copy_file(data_ / "data" / "abide1-ho" / "rois_ho" / "Pitt_0050003_rois_ho.1D.gz", swapped / "CMU_a_0050642_rois_ho.1D.gz",
                  fs::copy_options::overwrite_existing);
    fs::copy_file(cc / "rois_cc200" / "Pitt_0050003_rois_cc200.1D.gz", swapped / "CMU_a_0050642_rois_cc200.1D.gz", fs::copy_options::overwrite_existing);
    const double p = row["probability"].get<double>();
    const auto otherHo = predictOne(cmuCc200, q(swapped / "CMU_a_0050642_rois_ho.1D.gz"));
    const auto otherCc200 = predictOne(q(swapped / "CMU_a_0050642_rois_cc200.1D.gz"), cmuHo);
    QVERIFY2(otherHo.contains("probability") && std::abs(otherHo["probability"].get<double>() - p) > 1e-6, otherHo.dump().c_str());
    QVERIFY2(otherCc200.contains("probability") && std::abs(otherCc200["probability"].get<double>() - p) > 1e-6, otherCc200.dump().c_str());
    // One atlas missing: named.
    r = run({QStringLiteral("predict"), QStringLiteral("--model"), fused, QStringLiteral("--in"), cmuCc200});
    QCOMPARE(r.exitCode, 64);
    QVERIFY2(r.err.contains(QStringLiteral("no ho time series")), qPrintable(r.err));

    // A diagnosis parcellates the BOLD volume with both atlases and gives predict's probability.
    const auto bold = q(dir_ / "sub-synthetic_bold.nii.gz");
    const auto pdf = dir_ / "fused.pdf";
    r = run({QStringLiteral("diagnose"), QStringLiteral("--model"), fused, QStringLiteral("--in"), bold, QStringLiteral("--out"), q(pdf),
             QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto record = json::parse(r.out.toStdString().substr(r.out.toStdString().find('{')));
    r = run({QStringLiteral("predict"), QStringLiteral("--model"), fused, QStringLiteral("--in"), bold, QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto boldRow = json::parse(r.out.toStdString().substr(0, r.out.toStdString().find('\n')));
    QVERIFY(std::abs(record["result"]["probability"].get<double>() - boldRow["probability"].get<double>()) < 1e-12);
    QCOMPARE(record["methods"]["atlas"].get<std::string>(), std::string("cc200 + ho"));
    QCOMPARE(record["methods"]["rois"]["ho"].get<int>(), 111);
    QVERIFY2(record["methods"]["model"]["description"].get<std::string>().find("per atlas (cc200 + ho), their representations combined under one head") !=
                 std::string::npos,
             record["methods"].dump().c_str());
    // Each network's regions are counted over both atlases (200 + 111 ROIs), and its share, a mean over
    // the atlases, is set against the mean of its fractions of each atlas's ROIs.
    int regions = 0;
    for (const auto& [name, v] : record["explanation"]["networks"].items()) {
      regions += v["regions"].get<int>();
      if (v.contains("per_region")) QVERIFY(v["per_region"].get<double>() > 0);
    }
    QVERIFY2(regions == 311, record["explanation"]["networks"].dump().c_str());
    QVERIFY(fs::file_size(pdf) > 10000);

    // Cross-validated as train trains it: every subject tested once, by one fused model per fold.
    r = run({QStringLiteral("evaluate"), QStringLiteral("-w"), ws, QStringLiteral("--corpus"), QStringLiteral("pitt2"), QStringLiteral("--method"),
             QStringLiteral("scratch"), QStringLiteral("--config"), tinyTune, QStringLiteral("--atlas-fusion"), QStringLiteral("embedding"),
             QStringLiteral("--cv"), QStringLiteral("3"), QStringLiteral("--json")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto ev = json::parse(r.out.toStdString().substr(r.out.toStdString().find('{')));
    QVERIFY(ev["fused_atlases"] == json({"cc200", "ho"}));
    QVERIFY(!ev.contains("members"));
    QVERIFY2(ev["procedure"].get<std::string>().find("one fused model over cc200 + ho") != std::string::npos, ev.dump().c_str());
    int tested = 0;
    for (const auto& f : ev["folds_detail"]) tested += f["test"].get<int>();
    QCOMPARE(tested, ev["items"].get<int>());  // the CC200 part: one item per subject
    QVERIFY(ev["items"].get<int>() > 40);
    // What fusion cannot do is refused before any work.
    r = run({QStringLiteral("evaluate"), QStringLiteral("-w"), ws, QStringLiteral("--corpus"), QStringLiteral("pitt2"), QStringLiteral("--method"),
             QStringLiteral("logreg"), QStringLiteral("--atlas-fusion"), QStringLiteral("embedding")});
    QCOMPARE(r.exitCode, 64);
    QVERIFY2(r.err.contains(QStringLiteral("for the graph models")), qPrintable(r.err));
    r = run({QStringLiteral("evaluate"), QStringLiteral("-w"), ws, QStringLiteral("--corpus"), QStringLiteral("pitt"), QStringLiteral("--method"),
             QStringLiteral("scratch"), QStringLiteral("--config"), tinyTune, QStringLiteral("--atlas-fusion"), QStringLiteral("embedding")});
    QCOMPARE(r.exitCode, 64);
    QVERIFY2(r.err.contains(QStringLiteral("corpus create --atlas cc200,ho")), qPrintable(r.err));
  }
};

QTEST_GUILESS_MAIN(TestCheckpointCli)
#include "test_checkpoint_cli.moc"
