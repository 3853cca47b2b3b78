// braingraph-cli connectome / timeseries2graph: the output contract and bad input.
#include <QProcess>
#include <QTest>

#include <fstream>

#include "TestSupport.h"
#include "atlas/AtlasRegistry.h"
#include "io/NiftiImage.h"
#include "io/Npy.h"
#include "support/SyntheticBold.h"

class TestConnectomeCli : public QObject {
  Q_OBJECT
  std::filesystem::path dir_;
  static bgtest::CliResult run(const QStringList& args) { return bgtest::runCli(args); }
  static QString q(const std::filesystem::path& p) { return QString::fromStdString(p.string()); }
  std::filesystem::path sample(const char* name) const { return bgtest::dataRoot() / "data/nifti-samples" / name; }

  // Runs connectome on `bold` into a fresh folder and checks the failure leaves nothing behind.
  void expectFailure(const std::filesystem::path& bold, int code, const QString& cause) {
    const auto out = dir_ / "failed-out";
    std::filesystem::remove_all(out);
    const auto r = run({QStringLiteral("connectome"), QStringLiteral("--bold"), q(bold), QStringLiteral("--atlas"), QStringLiteral("schaefer100"),
                        QStringLiteral("--out"), q(out)});
    QCOMPARE(r.exitCode, code);
    QVERIFY2(r.err.contains(q(bold)), qPrintable(r.err));
    QVERIFY2(r.err.contains(cause), qPrintable(r.err));
    QVERIFY2(!std::filesystem::exists(out), "no partial output may be left");
  }

 private Q_SLOTS:
  void initTestCase() {
    dir_ = bgtest::scratchDir("connectome_cli");
    const auto reg = bg::AtlasRegistry::load(BRAINGRAPH_TEST_MANIFESTS, bg::DataPaths({bgtest::dataRoot()}));
    const auto atlas = bg::readNiftiVolume(reg.volumeFile("schaefer100"));
    bgtest::writeSyntheticBold(dir_ / "bold.nii.gz", atlas, 20, 2.0, 2.0, 3);
    bgtest::writeSyntheticBold(dir_ / "bold.nii", atlas, 12, 2.0, 2.0, 4);
  }

  void allAtlasesInOneRun() {
    const auto out = dir_ / "all";
    const auto r = run({QStringLiteral("connectome"), QStringLiteral("--bold"), q(dir_ / "bold.nii.gz"), QStringLiteral("--atlas"), QStringLiteral("all"),
                        QStringLiteral("--out"), q(out), QStringLiteral("--no-clean")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const std::map<std::string, int> rois = {{"schaefer100", 100}, {"schaefer200", 200}, {"schaefer300", 300}, {"aal116", 116},
                                             {"aal3v1", 166},      {"shen268", 268},     {"power264", 264},    {"gordon333", 333}};
    for (const auto& [id, n] : rois) {
      const auto fc = bg::readNpy(out / (id + "_fc.npy"));
      QCOMPARE(fc.rows(), Eigen::Index(n));
      QCOMPARE(fc.cols(), Eigen::Index(n));
      QVERIFY(fc.allFinite());
      QVERIFY(std::filesystem::exists(out / (id + "_timeseries.tsv")));
      QVERIFY(std::filesystem::exists(out / (id + "_qc.json")));
    }
    // The .npy header is exactly what NumPy writes for float32.
    std::ifstream in(out / "schaefer100_fc.npy", std::ios::binary);
    std::string head(128, '\0');
    in.read(head.data(), 128);
    QVERIFY(head.find("{'descr': '<f4', 'fortran_order': False, 'shape': (100, 100), }") != std::string::npos);
    QCOMPARE(std::filesystem::file_size(out / "schaefer100_fc.npy"), std::uintmax_t(128 + 100 * 100 * 4));
  }

  void cleaningWithConfounds() {
    const auto conf = dir_ / "confounds.tsv";
    {
      std::ofstream f(conf);
      f << "trans_x\ttrans_y\ttrans_z\trot_x\trot_y\trot_z\twhite_matter\tcsf\tframewise_displacement\n";
      for (int t = 0; t < 20; ++t)
        f << 0.01 * t << "\t" << 0.02 * (t % 3) << "\t0\t0.001\t" << 0.002 * t << "\t0\t" << 100 + t % 5 << "\t" << 50 - t % 4 << "\t"
          << (t == 0 ? "n/a" : (t == 7 ? "0.8" : "0.1")) << "\n";
    }
    const auto out = dir_ / "cleaned";
    const auto r = run({QStringLiteral("connectome"), QStringLiteral("--bold"), q(dir_ / "bold.nii.gz"), QStringLiteral("--confounds"), q(conf),
                        QStringLiteral("--atlas"), QStringLiteral("schaefer100"), QStringLiteral("--out"), q(out), QStringLiteral("--strategy"),
                        QStringLiteral("motion6,wm_csf"), QStringLiteral("--partial"), QStringLiteral("--graph")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    std::ifstream qc(out / "schaefer100_qc.json");
    const std::string text((std::istreambuf_iterator<char>(qc)), std::istreambuf_iterator<char>());
    QVERIFY(text.find("\"mean_fd_mm\"") != std::string::npos);
    QVERIFY(text.find("\"censored_volumes\": 1") != std::string::npos);
    const auto fc = bg::readNpy(out / "schaefer100_fc.npy");
    QVERIFY(fc.allFinite());
    const auto partial = bg::readNpy(out / "schaefer100_partial.npy");
    QCOMPARE(partial.rows(), Eigen::Index(100));
    QVERIFY(partial.allFinite());
    QVERIFY((partial - fc).cwiseAbs().maxCoeff() > 1e-3);  // a different estimator, not a copy
    QVERIFY(std::filesystem::exists(out / "schaefer100_metrics.json"));
  }

  void truncatedGzip() {
    const auto bad = dir_ / "truncated_bold.nii.gz";
    std::ifstream in(dir_ / "bold.nii.gz", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(bad, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() * 2 / 3));
    expectFailure(bad, 65, QStringLiteral("truncated"));
  }

  void headerDataMismatch() {
    const auto bad = dir_ / "short_bold.nii";
    std::filesystem::copy_file(dir_ / "bold.nii", bad, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::resize_file(bad, std::filesystem::file_size(bad) - 1000);
    expectFailure(bad, 65, QStringLiteral("header/data size mismatch"));
  }

  void threeDimensionalFile() { expectFailure(sample("anatomical.nii"), 65, QStringLiteral("3D image")); }
  void tooFewTimePoints() { expectFailure(sample("0040071_COBRE_3mm_functional_segment.nii.gz"), 65, QStringLiteral("only 5 time points")); }
  void notInMniSpace() { expectFailure(sample("nitime_fmri1.nii.gz"), 65, QStringLiteral("MNI")); }
  void missingFile() { expectFailure(dir_ / "nope.nii.gz", 66, QStringLiteral("does not exist")); }
  void notNifti() {
    std::ofstream(dir_ / "text.nii") << "this is not an image";
    expectFailure(dir_ / "text.nii", 65, QStringLiteral("not a NIfTI file"));
  }

  void failureKeepsExistingOutput() {
    const auto out = dir_ / "existing";
    std::filesystem::create_directories(out);
    std::ofstream(out / "schaefer100_fc.npy") << "precious";
    const auto r = run({QStringLiteral("connectome"), QStringLiteral("--bold"), q(sample("anatomical.nii")), QStringLiteral("--atlas"),
                        QStringLiteral("schaefer100"), QStringLiteral("--out"), q(out)});
    QCOMPARE(r.exitCode, 65);
    std::ifstream in(out / "schaefer100_fc.npy");
    std::string content;
    in >> content;
    QCOMPARE(content, std::string("precious"));
    int entries = 0;
    for (const auto& e : std::filesystem::directory_iterator(out)) entries += e.exists() ? 1 : 0;
    QCOMPARE(entries, 1);
  }

  // One writer per output: a lock beside --out holds the writing process's id. Held by a live
  // process, the command is refused naming both; left by a process that has ended, it is taken over.
  // A staging folder left by a killed run goes with the next run.
  void secondWriterOfOneOutputIsRefused() {
    const auto out = dir_ / "locked";
    const auto lock = dir_ / ".locked.braingraph-lock";
    const auto input = bgtest::dataRoot() / "data/abide1-cc200/rois_cc200/CMU_a_0050642_rois_cc200.1D.gz";
    const QStringList args{
        QStringLiteral("timeseries2graph"), QStringLiteral("--in"), q(input), QStringLiteral("--out"), q(out), QStringLiteral("--id"), QStringLiteral("cc200")};
    QProcess writer;  // stands for another braingraph-cli writing the same folder
    writer.start(QStringLiteral("sleep"), {QStringLiteral("60")});
    QVERIFY(writer.waitForStarted());
    std::ofstream(lock) << writer.processId();
    auto r = run(args);
    QCOMPARE(r.exitCode, 64);
    QVERIFY2(r.err.contains(QStringLiteral("process %1) is writing %2").arg(writer.processId()).arg(q(out))), qPrintable(r.err));
    QVERIFY(!std::filesystem::exists(out));
    QVERIFY(std::filesystem::exists(lock));  // the other process's lock is left alone
    writer.kill();
    QVERIFY(writer.waitForFinished());
    std::filesystem::create_directories(out / ".staging-999999999");
    r = run(args);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QCOMPARE(bg::readNpy(out / "cc200_fc.npy").rows(), Eigen::Index(200));
    QVERIFY(!std::filesystem::exists(lock));                        // taken over, then released
    QVERIFY(!std::filesystem::exists(out / ".staging-999999999"));  // a killed run's staging folder
  }

  void timeseries2graphFromAbide() {
    const auto out = dir_ / "abide";
    const auto input = bgtest::dataRoot() / "data/abide1-cc200/rois_cc200/CMU_a_0050642_rois_cc200.1D.gz";
    const auto r = run({QStringLiteral("timeseries2graph"), QStringLiteral("--in"), q(input), QStringLiteral("--out"), q(out), QStringLiteral("--id"),
                        QStringLiteral("cc200"), QStringLiteral("--tr"), QStringLiteral("2.0")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QCOMPARE(bg::readNpy(out / "cc200_fc.npy").rows(), Eigen::Index(200));
    QCOMPARE(bg::readNpy(out / "cc200_rwse.npy").cols(), Eigen::Index(5));
    QVERIFY(std::filesystem::exists(out / "cc200_metrics.json"));
  }
};

QTEST_GUILESS_MAIN(TestConnectomeCli)
#include "test_connectome_cli.moc"
