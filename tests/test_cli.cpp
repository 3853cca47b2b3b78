// braingraph-cli as other tools see it: output lines, exit codes.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTest>

#include "TestSupport.h"

class TestCli : public QObject {
  Q_OBJECT
  static bgtest::CliResult run(const QStringList& args) { return bgtest::runCli(args); }

 private Q_SLOTS:
  void atlasListVerifiesEveryAtlas() {
    const auto r = run({QStringLiteral("atlas"), QStringLiteral("list")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QStringList lines = r.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 10);  // the paper's eight, then ABIDE's CC200 and Harvard-Oxford
    const QList<QPair<QString, int>> expected = {
        {QStringLiteral("schaefer100"), 100}, {QStringLiteral("schaefer200"), 200}, {QStringLiteral("schaefer300"), 300}, {QStringLiteral("aal116"), 116},
        {QStringLiteral("aal3v1"), 166},      {QStringLiteral("shen268"), 268},     {QStringLiteral("power264"), 264},    {QStringLiteral("gordon333"), 333},
        {QStringLiteral("cc200"), 200},       {QStringLiteral("ho"), 111}};
    for (int i = 0; i < 10; ++i) {
      const QStringList fields = lines[i].split(QLatin1Char(' '), Qt::SkipEmptyParts);
      QCOMPARE(fields[0], expected[i].first);
      QCOMPARE(fields[1].toInt(), expected[i].second);
      QCOMPARE(fields[2], QStringLiteral("ROIs"));
      QCOMPARE(fields[3], QStringLiteral("ok"));
    }
  }

  // The method catalog in every output format; the rows are the methods --method accepts.
  void methodsInEveryFormat() {
    const auto csv = run({QStringLiteral("methods"), QStringLiteral("--format"), QStringLiteral("csv")});
    QVERIFY2(csv.exitCode == 0, qPrintable(csv.err));
    const QStringList lines = csv.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 21);
    QVERIFY(lines[0].startsWith(QStringLiteral("method,family,name,architecture,pretrained")));
    QVERIFY2(lines.filter(QRegularExpression(QStringLiteral("^brainmass-probe,zoo,.*,brainmass,required,brainmass,yes,fc,"))).size() == 1, qPrintable(csv.out));
    const auto json = run({QStringLiteral("methods"), QStringLiteral("--json")});
    QCOMPARE(json.exitCode, 0);
    const auto rows = QJsonDocument::fromJson(json.out.toUtf8()).array();
    QCOMPARE(rows.size(), 20);
    for (const auto& row : rows) {
      const auto o = row.toObject();
      if (o[QStringLiteral("method")].toString() == QStringLiteral("svm")) QCOMPARE(o[QStringLiteral("train")].toString(), QStringLiteral("evaluate only"));
    }
    const auto md = run({QStringLiteral("methods"), QStringLiteral("--format"), QStringLiteral("md")});
    QVERIFY(md.out.startsWith(QStringLiteral("| method | family |")) && md.out.contains(QStringLiteral("| prompt | braingfm |")));
    // Every method in the table is one evaluate's --method knows: its help lists them all.
    const auto help = run({QStringLiteral("evaluate"), QStringLiteral("--help")});
    for (const auto& row : rows) QVERIFY2(help.out.contains(row.toObject()[QStringLiteral("method")].toString()), qPrintable(help.out));
  }

  void atlasListJson() {
    const auto r = run({QStringLiteral("atlas"), QStringLiteral("list"), QStringLiteral("--json")});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains(QStringLiteral("\"id\": \"gordon333\"")));
    QVERIFY(r.out.contains(QStringLiteral("\"roi_count\": 333")));
  }

  // The same list as CSV: a header and a row per atlas with the verified count.
  void atlasListCsv() {
    const auto r = run({QStringLiteral("atlas"), QStringLiteral("list"), QStringLiteral("--format"), QStringLiteral("csv")});
    QCOMPARE(r.exitCode, 0);
    const auto rows = r.out.trimmed().split('\n');
    QCOMPARE(rows.front(), QStringLiteral("id,roi_count,status,kind,display_name"));
    QVERIFY2(rows.filter(QStringLiteral("gordon333,333,ok,")).size() == 1, qPrintable(r.out));
    QVERIFY(rows.size() >= 9);
  }

  void atlasShowPrintsLabelTable() {
    const auto r = run({QStringLiteral("atlas"), QStringLiteral("show"), QStringLiteral("power264")});
    QCOMPARE(r.exitCode, 0);
    QStringList rows;
    for (const auto& line : r.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts))
      if (!line.startsWith(QLatin1Char('#'))) rows << line;
    QCOMPARE(rows.size(), 265);  // header + 264 ROIs
    QCOMPARE(rows[0], QStringLiteral("index\tname\themisphere\tnetwork\tx_mni\ty_mni\tz_mni"));
    QCOMPARE(rows[1], QStringLiteral("1\tPower264_1\tL\tUncertain\t-25\t-98\t-12"));
    // The label table alone as CSV and Markdown; with JSON, the same labels.
    const auto csv = run({QStringLiteral("atlas"), QStringLiteral("show"), QStringLiteral("power264"), QStringLiteral("--format"), QStringLiteral("csv")});
    QCOMPARE(csv.exitCode, 0);
    const auto csvRows = csv.out.trimmed().split('\n');
    QCOMPARE(csvRows.size(), 265);
    QCOMPARE(csvRows[0], QStringLiteral("index,name,hemisphere,network,x_mni,y_mni,z_mni"));
    QCOMPARE(csvRows[1], QStringLiteral("1,Power264_1,L,Uncertain,-25,-98,-12"));
    const auto md = run({QStringLiteral("atlas"), QStringLiteral("show"), QStringLiteral("power264"), QStringLiteral("--format"), QStringLiteral("md")});
    QVERIFY2(md.out.split('\n').value(2) == QStringLiteral("| 1 | Power264_1 | L | Uncertain | -25 | -98 | -12 |"), qPrintable(md.out.left(300)));
    const auto js = run({QStringLiteral("atlas"), QStringLiteral("show"), QStringLiteral("power264"), QStringLiteral("--json")});
    QVERIFY(js.out.contains(QStringLiteral("\"name\": \"Power264_1\"")));
  }

  // Numbers out of range are refused before anything runs (exit 64, the option named), not replaced.
  void numericOptionsAreChecked() {
    for (const QStringList& args :
         {QStringList{"--threads", "-1", "info"}, QStringList{"corpus", "create", "-w", "/nonexistent", "--name", "x", "--split", "fixed", "--train", "1.5"},
          QStringList{"corpus", "create", "-w", "/nonexistent", "--name", "x", "--folds", "1"},
          QStringList{"pretrain", "-w", "/nonexistent", "--corpus", "x", "--out", "/tmp/x.pt", "--epochs", "0"},
          QStringList{"pretrain", "-w", "/nonexistent", "--corpus", "x", "--out", "/tmp/x.pt", "--batch-size", "0"}}) {
      const auto r = run(args);
      QVERIFY2(r.exitCode == 64, qPrintable(args.join(' ') + ": " + QString::number(r.exitCode) + " " + r.err));
      QVERIFY2(r.err.contains(QStringLiteral("--")) && !r.err.contains(QStringLiteral("frame #")), qPrintable(r.err));
    }
  }

  void unknownAtlasFailsWithExitCode() {
    const auto r = run({QStringLiteral("atlas"), QStringLiteral("show"), QStringLiteral("nope")});
    QCOMPARE(r.exitCode, 66);
    QVERIFY(r.err.contains(QStringLiteral("unknown atlas 'nope'")));
  }

  void missingDataPathIsReported() {
    const auto r = run({QStringLiteral("--data"), QStringLiteral("/nonexistent/data"), QStringLiteral("atlas"), QStringLiteral("list")});
    QCOMPARE(r.exitCode, 66);  // every atlas missing: each listed as such, then what to do
    QVERIFY2(r.out.contains(QStringLiteral("/nonexistent/data")), qPrintable(r.out));
    QCOMPARE(r.out.count(QStringLiteral("MISSING")), 10);
    QVERIFY2(r.err.contains(QStringLiteral("data fetch atlases")), qPrintable(r.err));
  }

  void usageErrorsExit64() { QCOMPARE(run({QStringLiteral("atlas"), QStringLiteral("frobnicate")}).exitCode, 64); }

  void versionAndInfo() {
    const auto v = run({QStringLiteral("--version")});
    QCOMPARE(v.exitCode, 0);
    QVERIFY(v.out.startsWith(QStringLiteral("braingraph-cli ")));
    const auto info = run({QStringLiteral("info")});
    QCOMPARE(info.exitCode, 0);
    QVERIFY(info.out.contains(QStringLiteral("LibTorch   1.13")));
    QVERIFY(info.out.contains(QStringLiteral("ITK        5.2")));
    QVERIFY(info.out.contains(QStringLiteral("device     CPU")));
  }

  void settingsSetAndShow() {
    const auto file = bgtest::scratchDir("cli_settings") / "settings.json";
    qputenv("BRAINGRAPH_SETTINGS", QByteArray::fromStdString(file.string()));
    QCOMPARE(run({QStringLiteral("settings"), QStringLiteral("set"), QStringLiteral("compute_threads"), QStringLiteral("1")}).exitCode, 0);
    const auto shown = run({QStringLiteral("settings"), QStringLiteral("show")});
    QVERIFY(shown.out.contains(QStringLiteral("\"compute_threads\": 1")));
    QCOMPARE(run({QStringLiteral("settings"), QStringLiteral("set"), QStringLiteral("device"), QStringLiteral("tpu")}).exitCode, 78);
    qunsetenv("BRAINGRAPH_SETTINGS");
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
