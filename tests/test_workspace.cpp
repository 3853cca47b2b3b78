// The workspace: schema, array store, imports, derivation, corpora, and what happens when
// things go wrong (a killed process, a full disk, a corrupted array, two processes at once).
#include <cmath>
#include <QProcess>
#include <QRegularExpression>
#include <QTest>

#include <csignal>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include "TestSupport.h"
#include "eval/BaselineModel.h"
#include "atlas/AtlasRegistry.h"
#include "connectome/Connectivity.h"
#include "errors/Error.h"
#include "io/NiftiImage.h"
#include "io/Npy.h"
#include "io/TextTable.h"
#include "io/TimeSeriesFile.h"
#include "support/SyntheticBold.h"
#include "workspace/Corpus.h"
#include "workspace/CorpusDataset.h"
#include "workspace/Derivation.h"
#include "workspace/Importers.h"
#include "workspace/RunTracking.h"
#include "workspace/Workspace.h"

using namespace bg;

namespace {
const auto kPheno = [] { return bgtest::dataRoot() / "data/abide1-cc200/Phenotypic_V1_0b_preprocessed1.csv"; };
const auto kSeries = [] { return bgtest::dataRoot() / "data/abide1-cc200/rois_cc200"; };

int runCli(const QStringList& args, QString* err = nullptr) {
  const auto r = bgtest::runCli(args);
  if (err) *err = r.err;
  return r.exitCode;
}
QString q(const std::filesystem::path& p) { return QString::fromStdString(p.string()); }

std::string failingHookMessage;
int writesBeforeFailure = -1;
// A full disk: the file being written is cut short, then the write fails.
void failingWriter(const std::filesystem::path& file) {
  if (writesBeforeFailure >= 0 && writesBeforeFailure-- == 0) {
    std::filesystem::resize_file(file, std::filesystem::file_size(file) / 2);
    throw Error(ErrorCode::Io, "No space left on device");
  }
}

// A process killed while it writes: the file is cut short and the process is gone, no clean-up runs.
void dieMidWrite(const std::filesystem::path& file) {
  std::filesystem::resize_file(file, std::filesystem::file_size(file) / 2);
  ::_exit(3);
}

// Every array file under its real name maps and passes its checksum (a half-written file would not).
void verifyEveryStoredArray(const ArrayStore& store) {
  int n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(store.root())) {
    if (!e.is_regular_file() || e.path().extension() != ".bga") continue;
    (void)store.map(e.path().stem().string(), true);
    ++n;
  }
  QVERIFY(n > 0);
}

// A small workspace: the first n ABIDE files imported one by one.
void importFirstAbideFiles(Workspace& ws, std::size_t n) {
  NullProgress p;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(kSeries())) {
    files.push_back(e.path());
    if (files.size() == n) break;
  }
  importFiles(ws, files, "ABIDE_I", "", "cc200", p);
}

std::int64_t countRows(Workspace& ws, const char* table) { return ws.db().execAndGet(std::string("SELECT count(*) FROM ") + table).getInt64(); }
}  // namespace

class TestWorkspace : public QObject {
  Q_OBJECT
  std::filesystem::path dir_;
  std::unique_ptr<Workspace> abide_;  // ABIDE imported and derived once, shared by several tests

 private Q_SLOTS:
  void initTestCase() { dir_ = bgtest::scratchDir("workspace"); }

  void schemaWalAndMigrations() {
    auto ws = Workspace::create(dir_ / "empty");
    QCOMPARE(ws->schemaVersion(), Workspace::kSchemaVersion);
    QCOMPARE(ws->db().execAndGet("PRAGMA journal_mode").getString(), std::string("wal"));
    QCOMPARE(ws->db().execAndGet("PRAGMA foreign_keys").getInt(), 1);
    QVERIFY_THROWS_EXCEPTION(Error, Workspace::create(dir_ / "empty"));
    // A scan must belong to a session: foreign keys are enforced.
    QVERIFY_THROWS_EXCEPTION(SQLite::Exception, ws->db().exec("INSERT INTO scans(session_id, kind, path, content_hash) VALUES (999, 'bold', 'x', 'h')"));
    // A workspace from a newer program is refused, not damaged.
    ws->db().exec("PRAGMA user_version = 99");
    ws.reset();
    try {
      Workspace::open(dir_ / "empty");
      QFAIL("no exception");
    } catch (const Error& e) {
      QCOMPARE(e.code(), ErrorCode::Config);
      QVERIFY(std::string(e.what()).find((dir_ / "empty").string()) != std::string::npos);
    }
    QVERIFY_THROWS_EXCEPTION(Error, Workspace::open(dir_ / "nothing-here"));
  }

  void arrayStoreRoundTripAndCorruption() {
    ArrayStore store(dir_ / "store");
    Eigen::MatrixXd m(3, 4);
    m << 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12.5;
    const auto h = store.put(m);
    QCOMPARE(store.put(m), h);  // content-addressed
    QVERIFY(store.read(h) == m);
    const auto mapped = store.map(h);
    QCOMPARE(mapped->rows(), std::int64_t(3));
    QCOMPARE(mapped->matrix()(2, 3), 12.5f);
    Eigen::MatrixXd other = m;
    other(0, 0) = 1.5;
    QVERIFY(store.put(other) != h);
    // Flip one data byte: the checksum catches it and the message names the file.
    const auto file = store.pathOf(h);
    {
      std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(64 + 5);
      f.put('\x7f');
    }
    try {
      store.map(h);
      QFAIL("no exception");
    } catch (const Error& e) {
      QCOMPARE(e.code(), ErrorCode::Data);
      QVERIFY(std::string(e.what()).find(file.string()) != std::string::npos);
      QVERIFY(std::string(e.what()).find("checksum") != std::string::npos);
    }
    std::filesystem::resize_file(file, 70);
    QVERIFY_THROWS_EXCEPTION(Error, store.map(h));
  }

  void abideImport() {
    abide_ = Workspace::create(dir_ / "abide");
    NullProgress p;
    QElapsedTimer timer;
    timer.start();
    const auto s = importAbide(*abide_, kPheno(), kSeries(), p);
    qInfo("ABIDE import: %d scans in %.2f s", s.imported, timer.elapsed() / 1000.0);
    QCOMPARE(s.imported, 739);
    QVERIFY(s.problems.empty());
    const auto c = abide_->counts();
    QCOMPARE(c.scans, std::int64_t(739));
    QCOMPARE(c.subjects, std::int64_t(739));
    // Diagnosis counts against the CSV read independently: 349 autism, 390 control.
    const auto autism = abide_->db().execAndGet("SELECT count(*) FROM phenotypes WHERE name='diagnosis' AND value='autism'").getInt();
    const auto control = abide_->db().execAndGet("SELECT count(*) FROM phenotypes WHERE name='diagnosis' AND value='control'").getInt();
    QCOMPARE(autism, 349);
    QCOMPARE(control, 390);
    QCOMPARE(abide_->db().execAndGet("SELECT type FROM phenotypes WHERE name='age' LIMIT 1").getString(), std::string("number"));
    // The stored series are the file's values (as float32).
    SQLite::Statement qs(abide_->db(), "SELECT path, series_array FROM scans ORDER BY id LIMIT 1");
    qs.executeStep();
    const auto file = readRoiTimeSeries(qs.getColumn(0).getString());
    const auto stored = abide_->arrays().read(qs.getColumn(1).getString());
    QVERIFY((stored - file.series).cwiseAbs().maxCoeff() < 1e-3);
    // A wrong folder is an error naming it, not "739 without a file".
    for (const auto& wrong : {dir_ / "no-such-folder", dir_}) {
      try {
        importAbide(*abide_, kPheno(), wrong, p);
        QFAIL("no exception");
      } catch (const Error& e) {
        QCOMPARE(e.code(), ErrorCode::NoInput);
        QVERIFY2(std::string(e.what()).find(wrong.string()) != std::string::npos, e.what());
      }
    }
    // Importing again changes nothing.
    const auto again = importAbide(*abide_, kPheno(), kSeries(), p);
    QCOMPARE(again.imported, 0);
    QCOMPARE(again.alreadyPresent, 739);
  }

  void deriveSkipsWhatIsUpToDate() {
    const auto reg = AtlasRegistry::load(BRAINGRAPH_TEST_MANIFESTS, DataPaths({bgtest::dataRoot()}));
    DeriveRequest req;
    req.options.cleaning.bandpass = false;
    NullProgress p;
    const auto first = deriveConnectomes(*abide_, reg, req, p);
    QCOMPARE(first.computed, 739);
    const auto second = deriveConnectomes(*abide_, reg, req, p);
    QCOMPARE(second.computed, 0);
    QCOMPARE(second.upToDate, 739);
    // The stored FC equals Pearson of the cleaned series recomputed here.
    SQLite::Statement q(abide_->db(), "SELECT d.series_array, d.fc_array FROM derivatives d ORDER BY d.id LIMIT 1");
    q.executeStep();
    const auto series = abide_->arrays().read(q.getColumn(0).getString());
    const auto fc = abide_->arrays().read(q.getColumn(1).getString());
    QVERIFY((pearson(series).matrix - fc).cwiseAbs().maxCoeff() < 1e-5);
    NullProgress np;
    const auto check = abide_->check(true, np);
    QVERIFY2(check.ok, check.problems.empty() ? "" : check.problems.front().c_str());
    QCOMPARE(check.arraysChecked, std::int64_t(739 * 3));
  }

  // A writer killed mid-file leaves no half-written array under its real name (it writes a temporary
  // file and renames it), and the same array is stored whole afterwards.
  void killedWriterLeavesNoHalfArray() {
    const auto root = dir_ / "killed-store";
    ArrayStore store(root);
    Eigen::MatrixXd m(40, 30);
    for (Eigen::Index i = 0; i < m.size(); ++i) m(i) = std::sin(0.37 * static_cast<double>(i));
    store.put(Eigen::MatrixXd::Identity(3, 3));  // something complete beside it
    const pid_t child = ::fork();
    if (child == 0) {
      ArrayStore::setWriteHook(&dieMidWrite);
      ArrayStore(root).put(m);
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    QVERIFY(WIFEXITED(status) && WEXITSTATUS(status) == 3);  // it died inside the write
    verifyEveryStoredArray(store);
    const auto hash = store.put(m);
    QVERIFY(store.read(hash).isApprox(m.cast<float>().cast<double>(), 1e-12));
  }

  void fullDiskLeavesWorkspaceConsistent() {
    auto ws = Workspace::create(dir_ / "fulldisk");
    NullProgress p;
    importFirstAbideFiles(*ws, 20);
    const auto reg = AtlasRegistry::load(BRAINGRAPH_TEST_MANIFESTS, DataPaths({bgtest::dataRoot()}));
    DeriveRequest req;
    ArrayStore::setWriteHook(&failingWriter);
    writesBeforeFailure = 15;  // the disk fills up in the middle of the batch
    try {
      deriveConnectomes(*ws, reg, req, p);
      QFAIL("no exception");
    } catch (const Error& e) {
      QCOMPARE(e.code(), ErrorCode::Io);
      QVERIFY(std::string(e.what()).find("No space left") != std::string::npos);
    }
    ArrayStore::setWriteHook(nullptr);
    const auto partial = countRows(*ws, "derivatives");
    QVERIFY(partial > 0 && partial < 20);
    const auto check = ws->check(true, p);
    QVERIFY2(check.ok, check.problems.empty() ? "" : check.problems.front().c_str());
    for (const auto& e : std::filesystem::recursive_directory_iterator(ws->arrays().root()))
      QVERIFY2(e.path().filename().string().rfind(".tmp", 0) != 0, "no temporary array may be left");
    verifyEveryStoredArray(ws->arrays());  // nothing half-written under a real name
    // With space again, the batch resumes where it stopped, and everything it holds is intact.
    const auto resumed = deriveConnectomes(*ws, reg, req, p);
    QCOMPARE(resumed.upToDate, static_cast<int>(partial));
    QCOMPARE(countRows(*ws, "derivatives"), std::int64_t(20));
    const auto after = ws->check(true, p);
    QVERIFY2(after.ok, after.problems.empty() ? "" : after.problems.front().c_str());
    QCOMPARE(after.arraysChecked, std::int64_t(20 * 3));
    verifyEveryStoredArray(ws->arrays());
  }

  void cancelledBatchIsConsistent() {
    auto ws = Workspace::create(dir_ / "cancelled");
    NullProgress p;
    importFirstAbideFiles(*ws, 12);
    // Cancel once five scans are done, as a Cancel button or Ctrl-C would.
    struct CancelAfter final : ProgressDelegate {
      Workspace& ws;
      explicit CancelAfter(Workspace& w) : ws(w) {}
      bool update(std::string_view, double) override { return cancelRequested(); }
      bool cancelRequested() const override { return countRows(ws, "derivatives") >= 5; }
    } cancel(*ws);
    const auto reg = AtlasRegistry::load(BRAINGRAPH_TEST_MANIFESTS, DataPaths({bgtest::dataRoot()}));
    QVERIFY_THROWS_EXCEPTION(CancelledError, deriveConnectomes(*ws, reg, DeriveRequest{}, cancel));
    QCOMPARE(countRows(*ws, "derivatives"), std::int64_t(5));
    QVERIFY(ws->check(true, p).ok);
    QCOMPARE(deriveConnectomes(*ws, reg, DeriveRequest{}, p).computed, 7);
  }

  // A damaged or deleted array is derived again (not "up to date"): by derive itself, and by
  // repairDerivatives (workspace check --repair) with each derivative's own recorded parameters.
  void damagedArraysAreDerivedAgain() {
    auto ws = Workspace::create(dir_ / "repair");
    NullProgress p;
    importFirstAbideFiles(*ws, 4);
    const auto reg = AtlasRegistry::load(BRAINGRAPH_TEST_MANIFESTS, DataPaths({bgtest::dataRoot()}));
    DeriveRequest req;
    req.options.cleaning.bandpass = false;
    QCOMPARE(deriveConnectomes(*ws, reg, req, p).computed, 4);
    std::vector<std::string> fcs, series;
    {
      SQLite::Statement q(ws->db(), "SELECT fc_array, series_array FROM derivatives ORDER BY scan_id");
      while (q.executeStep()) {
        fcs.push_back(q.getColumn(0).getString());
        series.push_back(q.getColumn(1).getString());
      }
    }
    const Eigen::MatrixXd original = ws->arrays().read(fcs[0]);
    auto damage = [&](const std::string& hash) {  // one value changed in place, as a bad disk sector would
      std::fstream f(ws->arrays().pathOf(hash), std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(200);
      f.put('\x7f');
    };
    damage(fcs[0]);
    std::filesystem::remove(ws->arrays().pathOf(series[1]));
    QVERIFY(!ws->check(true, p).ok);
    const auto again = deriveConnectomes(*ws, reg, req, p);
    QCOMPARE(again.computed, 2);
    QCOMPARE(again.upToDate, 2);
    QVERIFY(ws->check(true, p).ok);
    QVERIFY((ws->arrays().read(fcs[0]) - original).cwiseAbs().maxCoeff() == 0);  // the same content under the same name
    // The same through repair, which knows each derivative's parameters by itself; a time-series
    // scan's own damaged series is read again from its file.
    damage(fcs[2]);
    SQLite::Statement s3(ws->db(), "SELECT series_array FROM scans ORDER BY id LIMIT 1 OFFSET 3");
    QVERIFY(s3.executeStep());
    const std::string scanSeries = s3.getColumn(0).getString();
    damage(scanSeries);
    damage(fcs[3]);
    const auto actions = repairDerivatives(*ws, reg, p);
    std::string all;
    for (const auto& a : actions) all += a + "\n";
    QVERIFY2(all.find("derived 2 scan(s) again") != std::string::npos, all.c_str());
    const auto check = ws->check(true, p);
    QVERIFY2(check.ok, check.problems.empty() ? "" : check.problems.front().c_str());
    QVERIFY(repairDerivatives(*ws, reg, p).empty());  // nothing left to repair
  }

  // Derivations side by side: a scan another live process has claimed is left to it (no connectome is
  // computed twice); a claim whose process has ended is taken over; the running derivation marks the
  // workspace (derive-PID.lock) for corpus create's warning. Then two real derive processes at once.
  void derivationsSideBySideNeverComputeAScanTwice() {
    auto ws = Workspace::create(dir_ / "side-by-side");
    NullProgress p;
    importFirstAbideFiles(*ws, 4);
    const auto reg = AtlasRegistry::load(BRAINGRAPH_TEST_MANIFESTS, DataPaths({bgtest::dataRoot()}));
    QProcess other;  // stands for another braingraph-cli deriving the same workspace
    other.start(QStringLiteral("sleep"), {QStringLiteral("60")});
    QVERIFY(other.waitForStarted());
    std::ofstream(ws->dir() / ("derive-" + std::to_string(other.processId()) + ".lock")) << other.processId();
    QCOMPARE(runningDerivation(ws->dir()).value_or(0), static_cast<long>(other.processId()));
    std::int64_t second = 0;
    {
      SQLite::Statement q(ws->db(), "SELECT id FROM scans ORDER BY id LIMIT 1 OFFSET 1");
      QVERIFY(q.executeStep());
      second = q.getColumn(0).getInt64();
    }
    ws->db().exec("CREATE TABLE IF NOT EXISTS derive_claims (scan_id INTEGER PRIMARY KEY, pid INTEGER NOT NULL)");
    ws->db().exec("INSERT INTO derive_claims VALUES (" + std::to_string(second) + ", " + std::to_string(other.processId()) + ")");
    auto first = deriveConnectomes(*ws, reg, DeriveRequest{}, p);
    QCOMPARE(first.computed, 3);
    QCOMPARE(first.claimedElsewhere, 1);
    QVERIFY(first.otherProcesses == std::vector<long>{static_cast<long>(other.processId())});
    QCOMPARE(countRows(*ws, "derivatives"), std::int64_t(3));
    QCOMPARE(countRows(*ws, "derive_claims"), std::int64_t(1));  // this process's claims are released, the other's kept
    other.kill();
    QVERIFY(other.waitForFinished());
    QVERIFY(!runningDerivation(ws->dir()));
    const auto again = deriveConnectomes(*ws, reg, DeriveRequest{}, p);
    QCOMPARE(again.computed, 1);  // the ended process's claim taken over
    QCOMPARE(again.upToDate, 3);
    QCOMPARE(again.claimedElsewhere, 0);
    QCOMPARE(countRows(*ws, "derive_claims"), std::int64_t(0));
    for (const auto& e : std::filesystem::directory_iterator(ws->dir()))
      QVERIFY2(e.path().filename().string().rfind("derive-", 0) != 0, e.path().c_str());  // markers removed, the ended one's too
    // Two derive processes started together on 16 scans: between them every scan is computed once.
    const auto path = dir_ / "two-derives";
    {
      auto w2 = Workspace::create(path);
      importFirstAbideFiles(*w2, 16);
    }
    QProcess a, b;
    const QStringList args{QStringLiteral("--no-progress"), QStringLiteral("--threads=1"), QStringLiteral("derive"), QStringLiteral("-w"), q(path)};
    a.start(QStringLiteral(BRAINGRAPH_CLI), args);
    b.start(QStringLiteral(BRAINGRAPH_CLI), args);
    QVERIFY(a.waitForFinished(120000) && b.waitForFinished(120000));
    QCOMPARE(a.exitCode(), 0);
    QCOMPARE(b.exitCode(), 0);
    int computed = 0;
    for (auto* proc : {&a, &b}) {
      const auto out = QString::fromUtf8(proc->readAllStandardOutput());
      const auto m = QRegularExpression(QStringLiteral("derived (\\d+) scan")).match(out);
      QVERIFY2(m.hasMatch(), qPrintable(out));
      computed += m.captured(1).toInt();
    }
    QCOMPARE(computed, 16);
    auto w2 = Workspace::open(path);
    QCOMPARE(countRows(*w2, "derivatives"), std::int64_t(16));
  }

  // export stages its files: a failure or a cancel leaves the folder as it was; corpus create warns
  // while a derivation of the same workspace runs.
  void exportIsStagedAndCorpusCreateWarnsDuringDerive() {
    auto ws = Workspace::create(dir_ / "export");
    NullProgress p;
    importFirstAbideFiles(*ws, 6);
    const auto reg = AtlasRegistry::load(BRAINGRAPH_TEST_MANIFESTS, DataPaths({bgtest::dataRoot()}));
    QCOMPARE(deriveConnectomes(*ws, reg, DeriveRequest{}, p).computed, 6);
    ws->db().exec(
        "INSERT INTO phenotypes (subject_id, name, value, type) SELECT id, 'diagnosis', CASE WHEN id % 2 = 0 THEN 'autism' ELSE 'control' END, 'text' FROM "
        "subjects");
    CorpusSpec spec;
    spec.name = "all";
    spec.split.folds = 2;
    const auto manifest = buildCorpusManifest(*ws, spec);
    saveCorpus(*ws, manifest);
    const auto out = dir_ / "exported";
    QCOMPARE(exportCorpus(*ws, "all", out, p), std::size_t(6));
    auto snapshot = [](const std::filesystem::path& dir) {
      std::map<std::string, std::string> files;
      for (const auto& e : std::filesystem::directory_iterator(dir)) {
        std::ifstream in(e.path(), std::ios::binary);
        files[e.path().filename().string()] = std::string(std::istreambuf_iterator<char>(in), {});
      }
      return files;
    };
    const auto before = snapshot(out);
    QCOMPARE(before.size(), std::size_t(7));  // six FC matrices and the manifest
    const auto first = manifest["items"][0];
    QCOMPARE(bg::readNpy(out / ("scan-" + std::to_string(first["scan_id"].get<std::int64_t>()) + "_fc.npy")).rows(), Eigen::Index(200));
    // corpus create while another process derives this workspace: a warning naming that process.
    QProcess other;
    other.start(QStringLiteral("sleep"), {QStringLiteral("60")});
    QVERIFY(other.waitForStarted());
    std::ofstream(ws->dir() / ("derive-" + std::to_string(other.processId()) + ".lock")) << other.processId();
    QString err;
    QCOMPARE(runCli({QStringLiteral("corpus"), QStringLiteral("create"), QStringLiteral("-w"), q(ws->dir()), QStringLiteral("--name"),
                     QStringLiteral("partial"), QStringLiteral("--split"), QStringLiteral("kfold"), QStringLiteral("--folds"), QStringLiteral("2")},
                    &err),
             0);
    QVERIFY2(err.contains(QStringLiteral("a derivation (process %1) is still running").arg(other.processId())) && err.contains(QStringLiteral("--replace")),
             qPrintable(err));
    other.kill();
    QVERIFY(other.waitForFinished());
    QCOMPARE(runCli({QStringLiteral("corpus"), QStringLiteral("create"), QStringLiteral("-w"), q(ws->dir()), QStringLiteral("--name"), QStringLiteral("after"),
                     QStringLiteral("--split"), QStringLiteral("kfold"), QStringLiteral("--folds"), QStringLiteral("2")},
                    &err),
             0);
    QVERIFY2(!err.contains(QStringLiteral("still running")), qPrintable(err));
    // The last item's array is lost: the second export fails after writing five matrices, and the
    // folder keeps the first export's files, byte for byte, with no staging folder left.
    std::filesystem::remove(ws->arrays().pathOf(manifest["items"][5]["fc_array"].get<std::string>()));
    try {
      exportCorpus(*ws, "all", out, p);
      QFAIL("no exception");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find("while exporting corpus all to " + out.string()) != std::string::npos, e.what());
    }
    QVERIFY(snapshot(out) == before);
    // Cancelled into a new folder: no folder.
    struct CancelNow final : ProgressDelegate {
      bool update(std::string_view, double) override { return true; }
      bool cancelRequested() const override { return true; }
    } cancel;
    QVERIFY_THROWS_EXCEPTION(CancelledError, exportCorpus(*ws, "all", dir_ / "never-exported", cancel));
    QVERIFY(!std::filesystem::exists(dir_ / "never-exported"));
  }

  // A workspace or an output folder the user cannot write: exit 74 naming the file and what to do,
  // no library trace, nothing changed.
  void readOnlyWorkspaceAndOutputAreIoErrors() {
    auto ws = Workspace::create(dir_ / "read-only");
    NullProgress p;
    importFirstAbideFiles(*ws, 2);
    const auto reg = AtlasRegistry::load(BRAINGRAPH_TEST_MANIFESTS, DataPaths({bgtest::dataRoot()}));
    QCOMPARE(deriveConnectomes(*ws, reg, DeriveRequest{}, p).computed, 2);
    const auto dir = ws->dir();
    ws.reset();
    auto modified = [&] {
      std::map<std::string, std::filesystem::file_time_type> times;
      for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) times[e.path().string()] = e.last_write_time();
      return times;
    };
    const auto before = modified();
    for (const QStringList& args :
         {QStringList{QStringLiteral("derive"), QStringLiteral("-w"), q(dir)},
          QStringList{QStringLiteral("corpus"), QStringLiteral("create"), QStringLiteral("-w"), q(dir), QStringLiteral("--name"), QStringLiteral("x")},
          QStringList{QStringLiteral("workspace"), QStringLiteral("check"), QStringLiteral("-w"), q(dir), QStringLiteral("--repair")}}) {
      const auto r = bgtest::runCliWithoutWriteAccess(args, dir);
      QVERIFY2(r.exitCode == 74, qPrintable(args.join(' ') + " -> " + QString::number(r.exitCode) + ": " + r.err));
      QVERIFY2(r.err.contains(q(dir / "workspace.sqlite")) && r.err.contains(QStringLiteral("read")), qPrintable(r.err));
      QVERIFY2(!r.err.contains(QStringLiteral("terminate")) && !r.err.contains(QStringLiteral("frame #")), qPrintable(r.err));
    }
    QVERIFY(modified() == before);
    // An output folder the user cannot write.
    const auto outParent = dir_ / "read-only-output";
    std::filesystem::create_directories(outParent);
    const auto r =
        bgtest::runCliWithoutWriteAccess({QStringLiteral("timeseries2graph"), QStringLiteral("--in"), q(kSeries() / "CMU_a_0050642_rois_cc200.1D.gz"),
                                          QStringLiteral("--out"), q(outParent / "graph"), QStringLiteral("--id"), QStringLiteral("cc200")},
                                         outParent);
    QVERIFY2(r.exitCode == 74 && r.err.contains(q(outParent / "graph")) && r.err.contains(QStringLiteral("choose a folder you can write to")),
             qPrintable(r.err));
    QVERIFY(std::filesystem::is_empty(outParent));
  }

  void killedBatchResumesWithTheSameResult() {
    const auto path = dir_ / "killed";
    QVERIFY(runCli({QStringLiteral("workspace"), QStringLiteral("init"), QStringLiteral("-w"), q(path)}) == 0);
    QVERIFY(runCli({QStringLiteral("import"), QStringLiteral("abide"), QStringLiteral("-w"), q(path), QStringLiteral("--pheno"), q(kPheno()),
                    QStringLiteral("--timeseries"), q(kSeries())}) == 0);
    QProcess derive;
    derive.start(QStringLiteral(BRAINGRAPH_CLI),
                 {QStringLiteral("--quiet"), QStringLiteral("derive"), QStringLiteral("-w"), q(path), QStringLiteral("--no-bandpass")});
    QVERIFY(derive.waitForStarted());
    // Read while the CLI writes (the GUI does this): counts never fail and never go down.
    auto reader = Workspace::open(path);
    std::int64_t seen = 0;
    for (int i = 0; i < 2000 && seen < 60; ++i) {
      const auto c = reader->counts().derivatives;
      QVERIFY(c >= seen);
      seen = c;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ::kill(static_cast<pid_t>(derive.processId()), SIGKILL);
    derive.waitForFinished();
    QCOMPARE(derive.exitStatus(), QProcess::CrashExit);
    reader.reset();

    auto ws = Workspace::open(path);
    NullProgress p;
    const auto check = ws->check(true, p);
    QVERIFY2(check.ok, check.problems.empty() ? "" : check.problems.front().c_str());
    const auto done = countRows(*ws, "derivatives");
    qInfo("killed after %lld of 739 derivatives", static_cast<long long>(done));
    QVERIFY(done < 739);
    QString err;
    QCOMPARE(runCli({QStringLiteral("derive"), QStringLiteral("-w"), q(path), QStringLiteral("--no-bandpass")}, &err), 0);
    QCOMPARE(countRows(*ws, "derivatives"), std::int64_t(739));
    // Same parameters, same content: the resumed batch's arrays are the uninterrupted run's arrays.
    std::map<std::string, std::string> a, b;
    for (auto* w : {ws.get(), abide_.get()}) {
      SQLite::Statement q2(w->db(), "SELECT s.content_hash, d.fc_array FROM derivatives d JOIN scans s ON s.id = d.scan_id");
      while (q2.executeStep()) (w == ws.get() ? a : b)[q2.getColumn(0).getString()] = q2.getColumn(1).getString();
    }
    QCOMPARE(a.size(), std::size_t(739));
    QVERIFY(a == b);
  }

  void corporaAndSplits() {
    CorpusSpec spec;
    spec.name = "asd-vs-control";
    spec.classes = {"control", "autism"};
    spec.split.folds = 10;
    spec.split.seed = 42;
    const auto m = buildCorpusManifest(*abide_, spec);
    const auto& items = m["items"];
    QCOMPARE(items.size(), std::size_t(739));
    std::set<int> allTest;
    for (const auto& fold : m["split"]["folds"]) {
      int autism = 0;
      std::set<int> train(fold["train"].begin(), fold["train"].end()), test(fold["test"].begin(), fold["test"].end()),
          val(fold["validation"].begin(), fold["validation"].end());
      for (int i : test) {
        QVERIFY(!train.count(i) && !val.count(i));
        QVERIFY(allTest.insert(i).second);
        autism += items[static_cast<std::size_t>(i)]["label"] == "autism" ? 1 : 0;
      }
      for (int i : val) QVERIFY(!train.count(i));
      QCOMPARE(train.size() + val.size() + test.size(), std::size_t(739));
      // Stratified: 349/739 autism in every fold, within one scan.
      QVERIFY(std::fabs(autism - 349.0 * static_cast<double>(test.size()) / 739.0) <= 1.0);
    }
    QCOMPARE(allTest.size(), std::size_t(739));
    // The fold as training data: arrays and node counts from the store.
    const auto train = corpusItems(m, 0, "train", abide_->arrays());
    QCOMPARE(train.size(), m["split"]["folds"][0]["train"].size());
    QCOMPARE(train.front().nodes, std::int64_t(200));
    QVERIFY_THROWS_EXCEPTION(Error, corpusItems(m, 10, "train", abide_->arrays()));
    // Deterministic for a seed, different for another.
    QVERIFY(buildCorpusManifest(*abide_, spec)["split"] == m["split"]);
    spec.split.seed = 43;
    QVERIFY(buildCorpusManifest(*abide_, spec)["split"] != m["split"]);
    // Leave-site-out: one fold per site, holding exactly that site.
    spec.split.kind = "leave-site-out";
    const auto lso = buildCorpusManifest(*abide_, spec);
    QCOMPARE(lso["split"]["folds"].size(), std::size_t(15));
    for (const auto& fold : lso["split"]["folds"])
      for (int i : fold["test"]) QVERIFY(lso["items"][static_cast<std::size_t>(i)]["site"] == fold["name"]);
    // A fixed split whose fractions leave no test part (or are out of range) is refused, naming them.
    spec.split.kind = "fixed";
    for (const auto& [train, validation] : std::vector<std::pair<double, double>>{{1.5, -0.2}, {0.7, 0.31}, {0.0, 0.2}, {0.8, -0.1}}) {
      spec.split.trainFraction = train;
      spec.split.validationFraction = validation;
      try {
        buildCorpusManifest(*abide_, spec);
        QFAIL("no exception");
      } catch (const Error& e) {
        QCOMPARE(e.code(), ErrorCode::Usage);
        QVERIFY2(std::string(e.what()).find("the rest is the test part") != std::string::npos, e.what());
      }
    }
    spec.split.trainFraction = 0.7;
    spec.split.validationFraction = 0.15;
    // Filters.
    spec.filters = {CorpusFilter::parse("sex=female"), CorpusFilter::parse("age<20")};
    const auto small = buildCorpusManifest(*abide_, spec);
    QVERIFY(small["items"].size() > 10 && small["items"].size() < 200);
    // Save, export, import into a workspace holding the same scans: items match by content.
    saveCorpus(*abide_, m);
    QVERIFY_THROWS_EXCEPTION(Error, saveCorpus(*abide_, m));
    const auto loaded = loadCorpus(*abide_, spec.name);
    auto other = Workspace::open(dir_ / "killed");
    nlohmann::json copy = loaded;
    copy["name"] = "imported";
    saveCorpus(*other, copy);
    const auto back = loadCorpus(*other, "imported");
    QCOMPARE(back["items"].size(), loaded["items"].size());
    QVERIFY(back["split"] == loaded["split"]);
    for (std::size_t i = 0; i < back["items"].size(); ++i) QVERIFY(back["items"][i]["content_hash"] == loaded["items"][i]["content_hash"]);
    // A manifest whose scans are missing is refused with a reason.
    auto empty = Workspace::create(dir_ / "no-scans");
    QVERIFY_THROWS_EXCEPTION(Error, saveCorpus(*empty, copy));
  }

  // corpus create is safe to run again: the same definition is kept, another is refused unless
  // replaced (in place, so recorded runs keep their corpus); a corpus with runs is not deleted.
  void corpusCreateIsSafeToRunAgain() {
    CorpusSpec spec;
    spec.name = "rerun";
    spec.classes = {"control", "autism"};
    spec.split.folds = 5;
    const auto m = buildCorpusManifest(*abide_, spec);
    const auto id = saveCorpus(*abide_, m, CorpusExisting::KeepIfSame);
    QCOMPARE(saveCorpus(*abide_, buildCorpusManifest(*abide_, spec), CorpusExisting::KeepIfSame), id);
    spec.split.seed = 9;
    const auto other = buildCorpusManifest(*abide_, spec);
    try {
      saveCorpus(*abide_, other, CorpusExisting::KeepIfSame);
      QFAIL("no exception");
    } catch (const Error& e) {
      QCOMPARE(e.code(), ErrorCode::Usage);
      QVERIFY2(std::string(e.what()).find("--replace") != std::string::npos, e.what());
    }
    QVERIFY(loadCorpus(*abide_, "rerun")["split"] == m["split"]);
    abide_->db().exec("INSERT INTO runs (kind, corpus_id, config_json, state) VALUES ('evaluation', " + std::to_string(id) + ", '{}', 'completed')");
    QCOMPARE(saveCorpus(*abide_, other, CorpusExisting::Replace), id);
    QVERIFY(loadCorpus(*abide_, "rerun")["split"] == other["split"]);
    QVERIFY_THROWS_EXCEPTION(Error, deleteCorpus(*abide_, "rerun"));  // a run refers to it
    abide_->db().exec("DELETE FROM runs WHERE corpus_id = " + std::to_string(id));
    deleteCorpus(*abide_, "rerun");
    QVERIFY_THROWS_EXCEPTION(Error, loadCorpus(*abide_, "rerun"));
    QVERIFY_THROWS_EXCEPTION(Error, deleteCorpus(*abide_, "rerun"));
  }

  void bidsFixtureImportAndDerive() {
    // A small fMRIPrep-style tree: two subjects (one with a session), MNI BOLD, confounds, participants.tsv.
    const auto root = dir_ / "bids";
    const auto reg = AtlasRegistry::load(BRAINGRAPH_TEST_MANIFESTS, DataPaths({bgtest::dataRoot()}));
    const auto atlas = readNiftiVolume(reg.volumeFile("schaefer100"));
    const std::vector<std::pair<std::string, std::string>> runs = {{"sub-01", ""}, {"sub-02", "ses-01"}};
    unsigned seed = 9;
    for (const auto& [sub, ses] : runs) {
      const auto func = root / sub / ses / "func";
      std::filesystem::create_directories(func);
      const std::string prefix = sub + (ses.empty() ? "" : "_" + ses) + "_task-rest";
      bgtest::writeSyntheticBold(func / (prefix + "_space-MNI152NLin2009cAsym_res-2_desc-preproc_bold.nii.gz"), atlas, 16, 2.0, 2.0, seed++);
      std::ofstream c(func / (prefix + "_desc-confounds_timeseries.tsv"));
      c << "trans_x\ttrans_y\ttrans_z\trot_x\trot_y\trot_z\twhite_matter\tcsf\tframewise_displacement\n";
      for (int t = 0; t < 16; ++t) c << 0.01 * t << "\t0\t0\t0\t0\t" << 0.001 * (t % 3) << "\t" << 10 + t % 4 << "\t" << 5 - t % 2 << "\t0.1\n";
    }
    std::filesystem::copy_file(bgtest::dataRoot() / "data/nifti-samples/anatomical.nii", root / "sub-01" / "anat.nii",
                               std::filesystem::copy_options::overwrite_existing);
    std::ofstream(root / "participants.tsv") << "participant_id\tage\tdiagnosis\nsub-01\t31\tcontrol\nsub-02\tn/a\tautism\n";
    auto ws = Workspace::create(dir_ / "bids-ws");
    NullProgress p;
    const auto s = importBids(*ws, root, p);
    QCOMPARE(s.imported, 2);
    QCOMPARE(countRows(*ws, "sessions"), std::int64_t(2));
    QCOMPARE(ws->db().execAndGet("SELECT count(*) FROM scans WHERE confounds_path IS NOT NULL").getInt(), 2);
    QCOMPARE(ws->db().execAndGet("SELECT value FROM phenotypes WHERE name='age'").getString(), std::string("31"));
    QCOMPARE(ws->db().execAndGet("SELECT count(*) FROM phenotypes WHERE name='diagnosis'").getInt(), 2);
    QCOMPARE(ws->db().execAndGet("SELECT session_key FROM sessions ORDER BY id DESC LIMIT 1").getString(), std::string("ses-01"));
    DeriveRequest req;
    req.atlases = {"schaefer100", "aal116"};
    req.options.confoundStrategies = {"motion6", "wm_csf"};
    const auto d = deriveConnectomes(*ws, reg, req, p);
    QCOMPARE(d.computed, 2);
    QCOMPARE(countRows(*ws, "derivatives"), std::int64_t(4));
    QVERIFY(ws->db().execAndGet("SELECT qc_json FROM derivatives LIMIT 1").getString().find("mean_fd_mm") != std::string::npos);
  }

  void cliInfoJson() {
    QProcess p;
    p.start(QStringLiteral(BRAINGRAPH_CLI),
            {QStringLiteral("workspace"), QStringLiteral("info"), QStringLiteral("-w"), q(dir_ / "killed"), QStringLiteral("--json")});
    p.waitForFinished();
    const auto j = nlohmann::json::parse(p.readAllStandardOutput().toStdString());
    QCOMPARE(j["scans"].get<int>(), 739);
    QCOMPARE(j["derivatives"].get<int>(), 739);
    QCOMPARE(j["corpora"].get<int>(), 1);
    for (const char* key : {"subjects", "runs", "models", "predictions"}) QVERIFY(j.contains(key));
  }

  // What the run dashboard and the compare view stand on: a command line as configuration, its
  // differences, and curves read while they are still being written.
  void runConfigurationsAndCurves() {
    const auto config = dir_ / "run-config.json";
    std::ofstream(config) << R"({"epochs": 6, "model": {"hidden": 64}})";
    const auto a = describeCommand(
        {"braingraph-cli", "--threads", "1", "pretrain", "-w", "/ws", "--corpus", "asd", "--config", config.string(), "--epochs", "3", "--resume"});
    QCOMPARE(a["command"].get<std::string>(), std::string("pretrain"));
    QCOMPARE(a["options"]["--threads"].get<std::string>(), std::string("1"));
    QCOMPARE(a["options"]["--workspace"].get<std::string>(), std::string("/ws"));
    QVERIFY(a["options"]["--resume"].get<bool>());
    QCOMPARE(a["config"]["model"]["hidden"].get<int>(), 64);
    QCOMPARE(a["argv"].size(), std::size_t{12});
    const auto b = describeCommand({"braingraph-cli", "meta-train", "--corpus", "asd", "--corpus", "sex", "--epochs=4"});
    QVERIFY(b["options"]["--corpus"] == nlohmann::json::array({"asd", "sex"}));
    QCOMPARE(b["options"]["--epochs"].get<std::string>(), std::string("4"));
    std::map<std::string, std::pair<nlohmann::json, nlohmann::json>> diff;
    for (const auto& d : diffConfigurations(a, b)) diff[d.key] = {d.left, d.right};
    QVERIFY(diff.count("command") && diff.count("options.--epochs") && diff.count("config.model.hidden") && diff.count("options.--resume"));
    QVERIFY(diff["config.model.hidden"].second.is_null());
    QVERIFY(!diff.count("argv"));
    QVERIFY(diffConfigurations(a, a).empty());

    const auto log = (dir_ / "curves.log").string();
    QCOMPARE(runMetricsPath(log), (dir_ / "curves.metrics.jsonl").string());
    RunMetricsWriter writer(runMetricsPath(log));
    writer.note("device", "CPU (2 threads)");
    writer.metric("loss/gcl", 0.5, 2.0);
    writer.metric("loss/gcl", 1.0, 1.5);
    RunMetrics read;
    auto offset = readRunMetrics(runMetricsPath(log), 0, read);
    QCOMPARE(read.values("loss/gcl"), (std::vector<double>{2.0, 1.5}));
    QCOMPARE(read.notes["device"].get<std::string>(), std::string("CPU (2 threads)"));
    // Half a line (the writer is in the middle of it) waits for the next read.
    {
      std::ofstream out(runMetricsPath(log), std::ios::app);
      out << R"({"s": "loss/gcl", "x": 1.5, )";
    }
    offset = readRunMetrics(runMetricsPath(log), offset, read);
    QCOMPARE(read.points.size(), std::size_t{2});
    {
      std::ofstream out(runMetricsPath(log), std::ios::app);
      out << R"("y": 1.25, "t": 3})"
          << "\n";
    }
    readRunMetrics(runMetricsPath(log), offset, read);
    QCOMPARE(read.values("loss/gcl"), (std::vector<double>{2.0, 1.5, 1.25}));
    QCOMPARE(read.xs("loss/gcl").back(), 1.5);
    QCOMPARE(read.finalValues()["loss/gcl"].get<double>(), 1.25);
    QCOMPARE(writer.finalValues()["loss/gcl"].get<double>(), 1.5);
    QVERIFY(processResidentMiB(static_cast<int>(::getpid())) > 1);
    QVERIFY(!processPaused(static_cast<int>(::getpid())));
  }

  // An evaluation's curves per fold and member, and its final metrics as means over folds (numbers
  // computed by hand here); what a run used replaces its configuration file in comparisons.
  void foldCurvesAndTheirSummary() {
    QCOMPARE(foldSeriesTag(2), std::string(" [fold 2]"));
    QCOMPARE(foldSeriesTag(3, 2), std::string(" [fold 3, member 2]"));
    QCOMPARE(seriesFold("loss/train [fold 3, member 2] (10% labels)"), 3);
    QCOMPARE(seriesWithoutFold("loss/train [fold 3, member 2] (10% labels)"), std::string("loss/train (10% labels)"));
    QCOMPARE(seriesFold("loss/train"), 0);
    std::vector<MetricPoint> points = {{"loss/train [fold 1]", 1, 0.9, 0}, {"loss/train [fold 1]", 2, 0.7, 0}, {"validation/auc [fold 1]", 2, 0.6, 0},
                                       {"loss/train [fold 2]", 1, 0.8, 0}, {"loss/train [fold 2]", 2, 0.5, 0}, {"validation/auc [fold 2]", 2, 0.8, 0},
                                       {"test/auc", 1, 0.70, 0},           {"test/auc", 2, 0.80, 0},           {"lr", 2, 0.001, 0}};
    const auto summary = summariseRunMetrics(points);
    QCOMPARE(summary["loss/train"].get<double>(), 0.6);  // the folds' last losses, 0.7 and 0.5
    QVERIFY(std::fabs(summary["loss/train sd"].get<double>() - std::sqrt(0.02)) < 1e-12);
    QCOMPARE(summary["validation/auc"].get<double>(), 0.7);
    QVERIFY(std::fabs(summary["test/auc"].get<double>() - 0.75) < 1e-12);  // not the last fold's 0.80
    QVERIFY(std::fabs(summary["test/auc sd"].get<double>() - std::sqrt(0.005)) < 1e-12);
    QCOMPARE(summary["lr"].get<double>(), 0.001);
    QVERIFY(!summary.contains("loss/train [fold 1]"));

    TrackedRun run;
    run.config = {{"command", "evaluate"}, {"options", {{"--epochs", "3"}}}, {"config", {{"epochs", 50}}}, {"argv", {"evaluate"}}};
    QVERIFY(comparableRunSettings(run) == run.config);  // nothing recorded yet: the command line and the file
    run.config["effective"] = effectiveRunSettings({{"method", "scratch"}, {"config", {{"epochs", 3}}}, {"metrics", {{"auc", 0.7}}}, {"prompt", nullptr}});
    const auto shown = comparableRunSettings(run);
    QCOMPARE(shown["used"]["config"]["epochs"].get<int>(), 3);
    QCOMPARE(shown["used"]["method"].get<std::string>(), std::string("scratch"));
    QVERIFY(!shown.contains("config") && !shown["used"].contains("metrics") && !shown["used"].contains("prompt"));
    QCOMPARE(shown["options"]["--epochs"].get<std::string>(), std::string("3"));
  }

  // The same 739 sessions seen through a second atlas (ABIDE's Harvard-Oxford series): each session
  // holds one series per atlas; a corpus over both keeps every subject's graphs on one side of every
  // split; single-atlas methods refuse it by name; single-atlas splits are as before.
  void multiAtlasCorpusKeepsSubjectsTogether() {
    const auto ho = bgtest::dataRoot() / "data/abide1-ho/rois_ho";
    if (!std::filesystem::exists(ho)) QSKIP("ABIDE Harvard-Oxford series not in the data path");
    NullProgress p;
    const auto s = importAbide(*abide_, kPheno(), ho, p);
    QCOMPARE(s.imported, 739);
    QCOMPARE(abide_->counts().subjects, std::int64_t(739));  // the same subjects and sessions
    QCOMPARE(abide_->db().execAndGet("SELECT COUNT(*) FROM (SELECT session_id FROM scans GROUP BY session_id HAVING COUNT(*) = 2)").getInt(), 739);
    const auto reg = AtlasRegistry::load(BRAINGRAPH_TEST_MANIFESTS, DataPaths({bgtest::dataRoot()}));
    DeriveRequest req;
    req.options.cleaning.bandpass = false;
    SQLite::Statement q(abide_->db(), "SELECT id FROM scans WHERE atlas = 'ho'");
    while (q.executeStep()) req.scanIds.push_back(q.getColumn(0).getInt64());
    QCOMPARE(deriveConnectomes(*abide_, reg, req, p).computed, 739);

    CorpusSpec spec;
    spec.name = "asd-two-atlases";
    spec.classes = {"control", "autism"};
    spec.atlases = {"cc200", "ho"};
    spec.split.folds = 10;
    spec.split.seed = 7;
    const auto m = buildCorpusManifest(*abide_, spec);
    QCOMPARE(m["items"].size(), std::size_t(2 * 739));
    QCOMPARE(m["atlas"].get<std::string>(), std::string("cc200+ho"));
    QCOMPARE(corpusAtlases(m), (std::vector<std::string>{"cc200", "ho"}));
    std::map<std::string, int> graphsOf;
    for (const auto& item : m["items"]) ++graphsOf[item["subject"].get<std::string>()];
    QCOMPARE(graphsOf.size(), std::size_t(739));
    for (const auto& [subject, n] : graphsOf) QCOMPARE(n, 2);
    std::set<int> tested;
    for (const auto& fold : m["split"]["folds"]) {
      std::map<std::string, std::set<std::string>> partsOf;  // subject -> the parts its graphs are in
      for (const char* part : {"train", "validation", "test"})
        for (int i : fold[part]) {
          partsOf[m["items"][static_cast<std::size_t>(i)]["subject"].get<std::string>()].insert(part);
          if (std::string(part) == "test") QVERIFY(tested.insert(i).second);
        }
      QCOMPARE(partsOf.size(), std::size_t(739));
      for (const auto& [subject, parts] : partsOf) QVERIFY2(parts.size() == 1, subject.c_str());  // no subject straddles two parts
    }
    QCOMPARE(tested.size(), std::size_t(2 * 739));
    // Methods that learn from one parcellation say so, naming the atlases.
    try {
      trainBaselineModel(*abide_, m, {1.0}, 0, p);
      QFAIL("no exception");
    } catch (const Error& e) {
      QCOMPARE(e.code(), ErrorCode::Usage);
      QVERIFY2(std::string(e.what()).find("several atlases (cc200, ho)") != std::string::npos, e.what());
    }
    QVERIFY_THROWS_EXCEPTION(Error, corpusItems(m, 0, "train", abide_->arrays()));
    // A one-atlas corpus splits exactly as before subjects were grouped (one scan per subject).
    CorpusSpec one;
    one.name = "asd-vs-control";
    one.classes = {"control", "autism"};
    one.split.folds = 10;
    one.split.seed = 42;
    const auto rebuilt = buildCorpusManifest(*abide_, one);
    QVERIFY(rebuilt["split"] == loadCorpus(*abide_, "asd-vs-control")["split"]);
    QVERIFY(!rebuilt.contains("atlases"));
  }

  // Phenotype tables are checked where they come in: bytes that are not UTF-8 are refused with the
  // line and byte; diagnoses a model would learn wrong are listed and refused unless skipped.
  void badPhenotypeTablesAreRefusedAtImport() {
    const auto dir = dir_ / "bad-pheno";
    std::filesystem::create_directories(dir / "rois_cc200");
    const std::vector<std::string> ids = {"CMU_a_0050642", "CMU_a_0050646", "CMU_a_0050647"};
    for (const auto& id : ids)
      std::filesystem::copy_file(kSeries() / (id + "_rois_cc200.1D.gz"), dir / "rois_cc200" / (id + "_rois_cc200.1D.gz"),
                                 std::filesystem::copy_options::overwrite_existing);
    auto table = [&](const std::string& name, const std::vector<std::string>& rows) {
      std::ofstream out(dir / name, std::ios::binary);
      out << "SUB_ID,SITE_ID,FILE_ID,DX_GROUP\n";
      for (const auto& r : rows) out << r << "\n";
      return dir / name;
    };
    auto ws = Workspace::create(dir / "ws");
    NullProgress p;
    // Latin-1 "é" (0xE9) in a site name on line 3.
    const auto latin1 = table("latin1.csv", {"50642,CMU,CMU_a_0050642,1", std::string("50646,CMU_F\xE9vrier,CMU_a_0050646,2"), "50647,CMU,CMU_a_0050647,2"});
    try {
      importAbide(*ws, latin1, dir / "rois_cc200", p);
      QFAIL("no exception");
    } catch (const Error& e) {
      QCOMPARE(e.code(), ErrorCode::Data);
      const std::string what = e.what();
      QVERIFY2(what.find("latin1.csv") != std::string::npos && what.find("line 3, byte") != std::string::npos && what.find("0xE9") != std::string::npos,
               e.what());
    }
    QCOMPARE(ws->counts().scans, std::int64_t(0));
    // A diagnosis code outside 1/2, and one subject listed twice with two diagnoses.
    const auto invalid = table("invalid.csv", {"50642,CMU,CMU_a_0050642,3", "50646,CMU,CMU_a_0050646,2", "50646,CMU,CMU_a_0050647,1"});
    try {
      importAbide(*ws, invalid, dir / "rois_cc200", p);
      QFAIL("no exception");
    } catch (const Error& e) {
      const std::string what = e.what();
      QVERIFY2(what.find("3 row(s)") != std::string::npos && what.find("line 2 (CMU_a_0050642): DX_GROUP '3'") != std::string::npos &&
                   what.find("SUB_ID 50646: line 3 says DX_GROUP 2, line 4 says 1") != std::string::npos && what.find("--skip-invalid") != std::string::npos,
               e.what());
    }
    QCOMPARE(ws->counts().scans, std::int64_t(0));  // nothing imported
    const auto valid = table("valid-and-invalid.csv", {"50642,CMU,CMU_a_0050642,3", "50646,CMU,CMU_a_0050646,2", "50647,CMU,CMU_a_0050647,1"});
    const auto s = importAbide(*ws, valid, dir / "rois_cc200", p, true);
    QCOMPARE(s.imported, 2);
    QCOMPARE(s.invalid, 1);
    QCOMPARE(s.notes.size(), std::size_t(1));
    QCOMPARE(ws->counts().scans, std::int64_t(2));
  }

  void cleanupTestCase() { abide_.reset(); }
};

QTEST_GUILESS_MAIN(TestWorkspace)
#include "test_workspace.moc"
