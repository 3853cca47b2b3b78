// Data-parallel pre-training: two braingraph-cli processes on 127.0.0.1 (Gloo) against one.
#include <QProcess>
#include <QTest>

#include <fstream>

#include <nlohmann/json.hpp>

#include "TestSupport.h"
#include "train/Pretrainer.h"
#include "workspace/Workspace.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <unistd.h>

using namespace bg;

namespace {
QString q(const std::filesystem::path& p) { return QString::fromStdString(p.string()); }
nlohmann::json lastJson(const QString& out) {
  const auto s = out.toStdString();
  return nlohmann::json::parse(s.substr(s.find('{')));
}
}  // namespace

class TestDistributed : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void twoRanksMatchOneProcess() {
    const auto dir = bgtest::scratchDir("distributed");
    const auto ws = dir / "ws";
    const auto data = bgtest::dataRoot() / "data/abide1-cc200";
    QCOMPARE(bgtest::runCli({QStringLiteral("workspace"), QStringLiteral("init"), QStringLiteral("-w"), q(ws)}).exitCode, 0);
    QStringList files = {QStringLiteral("import"), QStringLiteral("file"), QStringLiteral("-w"), q(ws), QStringLiteral("--atlas"), QStringLiteral("cc200")};
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(data / "rois_cc200")) {
      files << q(e.path());
      if (++n == 16) break;
    }
    QCOMPARE(bgtest::runCli(files).exitCode, 0);
    QCOMPARE(bgtest::runCli({QStringLiteral("derive"), QStringLiteral("-w"), q(ws), QStringLiteral("--no-bandpass")}).exitCode, 0);
    // Every scan gets the same label: the corpus only serves pre-training here.
    {
      auto w = Workspace::open(ws);
      w->db().exec("INSERT INTO phenotypes(subject_id, name, value, type) SELECT id, 'diagnosis', 'control', 'text' FROM subjects");
    }
    QCOMPARE(bgtest::runCli({QStringLiteral("corpus"), QStringLiteral("create"), QStringLiteral("-w"), q(ws), QStringLiteral("--name"), QStringLiteral("all"),
                             QStringLiteral("--split"), QStringLiteral("fixed"), QStringLiteral("--train"), QStringLiteral("1.0"),
                             QStringLiteral("--validation"), QStringLiteral("0")})
                 .exitCode,
             0);
    // No dropout: the two runs then compute the same global batch, split differently.
    std::ofstream(dir / "config.json") << R"({"model": {"hidden": 32, "heads": 4, "ffn": 64, "attention_layers": 2, "gnn_layers": 2,
      "feature_width": 256, "text_dimension": 32, "dropout": 0.0}, "mode": "gmae", "epochs": 2, "batch_size": 8,
      "learning_rate": 0.001, "edge_drop": [0.0, 0.0], "mask_ratio": [0.3, 0.3]})";
    const QStringList common = {
        QStringLiteral("--threads"), QStringLiteral("1"),   QStringLiteral("--quiet"),  QStringLiteral("pretrain"), QStringLiteral("-w"), q(ws),
        QStringLiteral("--corpus"),  QStringLiteral("all"), QStringLiteral("--config"), q(dir / "config.json")};
    const auto single = bgtest::runCli(common + QStringList{QStringLiteral("--out"), q(dir / "single.pt")});
    QVERIFY2(single.exitCode == 0, qPrintable(single.err));

    const QString port = QString::number(29500 + (::getpid() % 2000));
    QProcess ranks[2];
    for (int r = 0; r < 2; ++r)
      ranks[r].start(QStringLiteral(BRAINGRAPH_CLI),
                     common + QStringList{QStringLiteral("--out"), q(dir / "ddp.pt"), QStringLiteral("--world-size"), QStringLiteral("2"),
                                          QStringLiteral("--rank"), QString::number(r), QStringLiteral("--master"), QStringLiteral("127.0.0.1:") + port});
    for (auto& p : ranks) {
      QVERIFY(p.waitForFinished(300000));
      QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    }
    const auto s = lastJson(single.out);
    const auto r0 = lastJson(QString::fromUtf8(ranks[0].readAllStandardOutput()));
    const auto r1 = lastJson(QString::fromUtf8(ranks[1].readAllStandardOutput()));
    for (int e = 0; e < 2; ++e) {
      const double global = 0.5 * (r0["losses"][e]["gmae"].get<double>() + r1["losses"][e]["gmae"].get<double>());
      const double one = s["losses"][e]["gmae"].get<double>();
      qInfo("epoch %d: one process %.6f, two ranks %.6f", e + 1, one, global);
      QVERIFY(std::fabs(global - one) < 1e-3 * std::max(1.0, one));
    }
    // Both ranks end with the same parameters, and they match the one-process run.
    auto config = train::PretrainConfig::fromJson(nlohmann::json::parse(std::ifstream(dir / "config.json")));
    config.model.textDimension = 32;
    train::Pretrainer a(config), b(config), c(config);
    a.loadCheckpoint(dir / "ddp.pt");
    b.loadCheckpoint(dir / "ddp.pt.ckpt.rank1");
    c.loadCheckpoint(dir / "single.pt");
    const auto pa = a.parameters(), pb = b.parameters(), pc = c.parameters();
    double maxRank = 0, maxSingle = 0;
    for (std::size_t i = 0; i < pa.size(); ++i) {
      maxRank = std::max(maxRank, (pa[i] - pb[i]).abs().max().item<double>());
      maxSingle = std::max(maxSingle, (pa[i] - pc[i]).abs().max().item<double>());
    }
    qInfo("max parameter difference: between ranks %.3g, to one process %.3g", maxRank, maxSingle);
    QCOMPARE(maxRank, 0.0);
    QVERIFY(maxSingle < 1e-4);
  }
};

QTEST_GUILESS_MAIN(TestDistributed)
#include "test_distributed.moc"
