// data fetch against a local stand-in for the data servers (tests/data/http_mirror.py): a full fetch
// equals the released files byte for byte, a dropped connection resumes, a changed file is refused and
// removed, a missing one is named, an unreachable server lists what to copy by hand.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include <QProcess>
#include <QTest>
#include <nlohmann/json.hpp>

#include "TestSupport.h"
#include "errors/Error.h"
#include "fetch/DataFetch.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
QString q(const fs::path& p) { return QString::fromStdString(p.string()); }
}  // namespace

class TestDataFetch : public QObject {
  Q_OBJECT
  fs::path dir_, manifests_ = BRAINGRAPH_TEST_MANIFESTS;
  std::vector<std::unique_ptr<QProcess>> servers_;

  // Starts the stand-in server over `root`; returns its base URL.
  QString serve(const fs::path& root, const QStringList& faults, const fs::path& log) {
    auto p = std::make_unique<QProcess>();
    p->start(QStringLiteral("python3"), QStringList{QStringLiteral(BRAINGRAPH_TEST_SOURCE "/data/http_mirror.py"), QStringLiteral("--root"), q(root),
                                                    QStringLiteral("--manifests"), q(manifests_), QStringLiteral("--log"), q(log)} + faults);
    if (!p->waitForStarted(10000)) qFatal("python3 is needed for the data-fetch tests (packaging/install-deps.sh installs it)");
    QString port;
    while (port.isEmpty() && p->waitForReadyRead(10000)) {
      const auto line = QString::fromUtf8(p->readLine()).trimmed();
      if (line.startsWith(QStringLiteral("PORT "))) port = line.mid(5);
    }
    if (port.isEmpty()) qFatal("the mirror server did not start: %s", p->readAllStandardError().constData());
    servers_.push_back(std::move(p));
    return QStringLiteral("http://127.0.0.1:") + port;
  }

  bgtest::CliResult fetch(const QStringList& args, const fs::path& xdgData = {}) {
    QProcess p;
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("XDG_DATA_HOME"), q(xdgData.empty() ? dir_ / "xdg" : xdgData));
    env.remove(QStringLiteral("BRAINGRAPH_DATA_MIRROR"));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(BRAINGRAPH_CLI), QStringList{QStringLiteral("--no-progress"), QStringLiteral("data"), QStringLiteral("fetch"), QStringLiteral("atlases")} + args);
    p.waitForFinished(300000);
    return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
  }

  static std::vector<bg::DataFile> downloads(const std::vector<std::string>& only = {}) {
    return bg::atlasDownloads(BRAINGRAPH_TEST_MANIFESTS, only);
  }

 private Q_SLOTS:
  void initTestCase() { dir_ = bgtest::scratchDir("data-fetch"); }
  void cleanupTestCase() {
    for (auto& s : servers_) {
      s->kill();
      s->waitForFinished();
    }
  }

  // Every file of the released atlas folders is listed with its size and SHA-256 (hashed here with
  // the workbench's code, listed by packaging/manifest-downloads.py with Python's hashlib), and says
  // where it comes from; every volume and label table a manifest uses is among them.
  void manifestsListEveryFileWithItsChecksum() {
    const auto all = downloads();
    std::set<std::string> listed;
    for (const auto& f : all) {
      listed.insert(f.path);
      const auto local = bgtest::dataRoot() / f.path;
      QVERIFY2(fs::exists(local), f.path.c_str());
      QCOMPARE(static_cast<std::int64_t>(fs::file_size(local)), f.size);
      QCOMPARE(bg::fileSha256(local), f.sha256);
      QVERIFY2(!f.url.empty() + !f.archiveUrl.empty() + !f.derived.empty() == 1, f.path.c_str());
      QVERIFY2(!f.licence.empty(), f.path.c_str());
    }
    int atlases = 0;
    for (const auto& e : fs::directory_iterator(bgtest::dataRoot() / "atlases")) {
      if (!e.is_directory()) continue;
      ++atlases;
      for (const auto& file : fs::directory_iterator(e.path()))
        QVERIFY2(listed.count("atlases/" + e.path().filename().string() + "/" + file.path().filename().string()), file.path().c_str());
    }
    QCOMPARE(atlases, 9);  // the eight parcellations and the MNI152 template
    for (const auto& e : fs::directory_iterator(manifests_)) {
      const auto m = json::parse(slurp(e.path() / "manifest.json"));
      if (!m.contains("downloads")) continue;
      for (const auto& [res, file] : m.at("volumes").items()) QVERIFY2(listed.count("atlases/" + file.get<std::string>()), file.dump().c_str());
      if (m.contains("label_table")) QVERIFY2(listed.count("atlases/" + m["label_table"]["file"].get<std::string>()), e.path().c_str());
    }
    bool refused = false;
    try {
      downloads({"nosuchatlas"});
    } catch (const bg::Error& e) {
      refused = std::string(e.what()).find("nosuchatlas") != std::string::npos;
    }
    QVERIFY(refused);
  }

  // Everything through the mirror into the user data folder, which then joins the data path: atlas list
  // verifies the eight parcellations from there alone. A second fetch downloads nothing.
  void fullFetchIntoTheUserDataFolder() {
    const auto log = dir_ / "full.log";
    const auto mirror = serve(bgtest::dataRoot(), {}, log);
    const auto xdg = dir_ / "xdg-full";
    auto r = fetch({QStringLiteral("--mirror"), mirror}, xdg);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
    const auto to = xdg / "braingraph" / "data";
    for (const auto& f : downloads()) QVERIFY2(slurp(to / f.path) == slurp(bgtest::dataRoot() / f.path), f.path.c_str());
    QVERIFY2(r.err.contains(QStringLiteral("licence:")), qPrintable(r.err));
    const auto requests = QString::fromStdString(slurp(log));
    // Official paths with the mirror's host: TemplateFlow's bucket layout and GitHub's raw paths.
    QVERIFY2(requests.contains(QStringLiteral("GET /tpl-MNI152NLin6Asym/tpl-MNI152NLin6Asym_res-02_T1w.nii.gz")), qPrintable(requests));
    QVERIFY(requests.contains(QStringLiteral("GET /josephdviviano/epitome/raw/dca06ff/assets/shen_2mm_268_parcellation.nii.gz")));
    QVERIFY(requests.contains(QStringLiteral("GET /atlases/schaefer200/labels.tsv")));  // no upstream copy: the mirror's data folder
    // The fetched folder alone holds the parcellations (XDG_DATA_HOME joins the data path; the data path itself is empty).
    QProcess p;
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("XDG_DATA_HOME"), q(xdg));
    env.insert(QStringLiteral("BRAINGRAPH_DATA"), q(dir_ / "nothing-here"));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(BRAINGRAPH_CLI), {QStringLiteral("atlas"), QStringLiteral("list"), QStringLiteral("--json")});
    p.waitForFinished(300000);
    const auto out = p.readAllStandardOutput().toStdString();
    QVERIFY2(out.find('[') != std::string::npos, p.readAllStandardError().constData());
    const auto list = json::parse(out.substr(out.find('[')));
    QCOMPARE(p.exitCode(), 66);  // CC200 and HO are missing: listed, not the end of the list
    for (const auto& a : list)
      if (a["id"] == "cc200" || a["id"] == "ho") QCOMPARE(a["status"].get<std::string>(), std::string("MISSING"));
    int ok = 0;
    for (const auto& a : list)
      if (a["id"] != "cc200" && a["id"] != "ho") ok += a["status"] == "ok" ? 1 : 0;  // CC200 and HO come with the ABIDE data
    QCOMPARE(ok, 8);
    const auto before = requests.count(QStringLiteral("GET "));
    r = fetch({QStringLiteral("--mirror"), mirror}, xdg);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains(QStringLiteral("fetched 0 file(s)")), qPrintable(r.out));
    QCOMPARE(QString::fromStdString(slurp(log)).count(QStringLiteral("GET ")), before);
  }

  // A connection dropped mid-file is resumed from where it stopped (a range request), and so is a
  // partial file left by a killed fetch; the result is the released file.
  void droppedConnectionResumes() {
    const auto log = dir_ / "drop.log";
    const auto t1 = QStringLiteral("/tpl-MNI152NLin6Asym/tpl-MNI152NLin6Asym_res-02_T1w.nii.gz");
    const auto mirror = serve(bgtest::dataRoot(), {QStringLiteral("--drop"), t1 + QStringLiteral(":500000")}, log);
    const auto to = dir_ / "drop";
    auto r = fetch({QStringLiteral("--only"), QStringLiteral("mni152"), QStringLiteral("--to"), q(to), QStringLiteral("--mirror"), mirror});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto requests = QString::fromStdString(slurp(log));
    QVERIFY2(requests.contains(QStringLiteral("GET ") + t1 + QStringLiteral(" bytes=500000-")), qPrintable(requests));
    const auto file = to / "atlases/mni152/tpl-MNI152NLin6Asym_res-02_T1w.nii.gz";
    QVERIFY(slurp(file) == slurp(bgtest::dataRoot() / "atlases/mni152/tpl-MNI152NLin6Asym_res-02_T1w.nii.gz"));
    QVERIFY(!fs::exists(file.string() + ".part"));
    // A killed fetch's partial file: only the rest is asked for.
    const auto released = slurp(bgtest::dataRoot() / "atlases/mni152/tpl-MNI152NLin6Asym_res-02_desc-brain_T1w.nii.gz");
    const auto brain = to / "atlases/mni152/tpl-MNI152NLin6Asym_res-02_desc-brain_T1w.nii.gz";
    fs::remove(brain);
    std::ofstream(brain.string() + ".part", std::ios::binary) << released.substr(0, 100000);
    r = fetch({QStringLiteral("--only"), QStringLiteral("mni152"), QStringLiteral("--to"), q(to), QStringLiteral("--mirror"), mirror});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY(QString::fromStdString(slurp(log)).contains(QStringLiteral("_desc-brain_T1w.nii.gz bytes=100000-")));
    QVERIFY(slurp(brain) == released);
  }

  // A file whose bytes differ from the release is refused with both checksums and nothing is left;
  // a file the server does not have is named with its URL.
  void changedOrMissingFilesAreRefused() {
    const auto volume = QStringLiteral("/josephdviviano/epitome/raw/dca06ff/assets/shen_2mm_268_parcellation.nii.gz");
    const auto mirror = serve(bgtest::dataRoot(), {QStringLiteral("--corrupt"), volume}, dir_ / "corrupt.log");
    const auto to = dir_ / "corrupt";
    auto r = fetch({QStringLiteral("--only"), QStringLiteral("shen268"), QStringLiteral("--to"), q(to), QStringLiteral("--mirror"), mirror});
    QCOMPARE(r.exitCode, 65);
    const auto expected = downloads({"shen268"});
    std::string sha;
    for (const auto& f : expected)
      if (f.path == "atlases/shen268/shen_2mm_268_parcellation.nii.gz") sha = f.sha256;
    QVERIFY2(r.err.contains(QStringLiteral("SHA-256")) && r.err.contains(QString::fromStdString(sha)) && r.err.contains(QStringLiteral("removed")),
             qPrintable(r.err));
    QVERIFY(!r.err.contains(QStringLiteral("frame #")));
    QVERIFY(!fs::exists(to / "atlases/shen268/shen_2mm_268_parcellation.nii.gz"));
    QVERIFY(!fs::exists(to / "atlases/shen268/shen_2mm_268_parcellation.nii.gz.part"));
    // A server without one of the files.
    const auto partial = dir_ / "partial-root";
    fs::create_directories(partial / "atlases/power264");
    for (const auto& e : fs::directory_iterator(bgtest::dataRoot() / "atlases/power264"))
      if (e.path().filename() != "power_2011.csv") fs::copy_file(e.path(), partial / "atlases/power264" / e.path().filename());
    const auto other = serve(partial, {}, dir_ / "missing.log");
    r = fetch({QStringLiteral("--only"), QStringLiteral("power264"), QStringLiteral("--to"), q(dir_ / "missing"), QStringLiteral("--mirror"), other});
    QCOMPARE(r.exitCode, 66);
    QVERIFY2(r.err.contains(QStringLiteral("/nilearn/nilearn/raw/59fffa2/nilearn/datasets/data/power_2011.csv: not on the server (HTTP 404)")), qPrintable(r.err));
    QVERIFY(!fs::exists(dir_ / "missing/atlases/power264/power_2011.csv.part"));
  }

  // No server: one message with the host, the folder and every file still missing with its source.
  void unreachableServerSaysWhatToCopy() {
    const auto to = dir_ / "offline";
    const auto r = fetch({QStringLiteral("--only"), QStringLiteral("schaefer100"), QStringLiteral("--to"), q(to), QStringLiteral("--mirror"),
                          QStringLiteral("http://127.0.0.1:9"), QStringLiteral("--attempts"), QStringLiteral("1")});
    QCOMPARE(r.exitCode, 69);
    QVERIFY2(r.err.contains(QStringLiteral("cannot reach 127.0.0.1:9")) && r.err.contains(QStringLiteral("copy the files by hand into ") + q(to)),
             qPrintable(r.err));
    QVERIFY2(r.err.contains(QStringLiteral("atlases/schaefer100/tpl-MNI152NLin6Asym_res-02_atlas-Schaefer2018_desc-100Parcels7Networks_dseg.nii.gz  <- "
                                           "https://templateflow.s3.amazonaws.com/")),
             qPrintable(r.err));
  }
};

QTEST_GUILESS_MAIN(TestDataFetch)
#include "test_data_fetch.moc"
