// data fetch against a local stand-in for the data servers (tests/data/http_mirror.py): a full fetch
// equals the released files byte for byte (or, for files kept gzip-compressed, their content), AAL's
// release archives are unpacked, ABIDE scans come by site and number, a dropped connection resumes, a
// changed file is refused and removed, a missing one is named, an unreachable server lists what to
// copy by hand; with no ../shared at all, atlas list and an ABIDE import work from the fetched folder.
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
#include "io/Sha256.h"

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
  fs::path dataset_ = fs::path(BRAINGRAPH_TEST_SOURCE) / ".." / "resources" / "datasets" / "abide1-pcp.json";
  std::vector<std::unique_ptr<QProcess>> servers_;

  // Starts the stand-in server over `root`; returns its base URL.
  QString serve(const fs::path& root, const QStringList& faults, const fs::path& log) {
    auto p = std::make_unique<QProcess>();
    p->start(QStringLiteral("python3"),
             QStringList{QStringLiteral(BRAINGRAPH_TEST_SOURCE "/data/http_mirror.py"), QStringLiteral("--root"), q(root), QStringLiteral("--manifests"),
                         q(manifests_), QStringLiteral("--dataset"), q(dataset_), QStringLiteral("--log"), q(log)} +
                 faults);
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

  bgtest::CliResult fetch(const QStringList& args, const fs::path& xdgData = {}, const QString& what = QStringLiteral("atlases")) {
    QProcess p;
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("XDG_DATA_HOME"), q(xdgData.empty() ? dir_ / "xdg" : xdgData));
    env.remove(QStringLiteral("BRAINGRAPH_DATA_MIRROR"));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(BRAINGRAPH_CLI), QStringList{QStringLiteral("--no-progress"), QStringLiteral("data"), QStringLiteral("fetch"), what} + args);
    p.waitForFinished(300000);
    return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
  }

  static std::vector<bg::DataFile> downloads(const std::vector<std::string>& only = {}) { return bg::atlasDownloads(BRAINGRAPH_TEST_MANIFESTS, only); }

  // A fetched file is the released one: byte for byte, or by content where the folder keeps it compressed.
  static bool sameAsShared(const bg::DataFile& f, const fs::path& to) {
    if (!f.storedGzip) return slurp(to / f.path) == slurp(bgtest::dataRoot() / f.path);
    return bg::gzipContentSha256(to / f.path).sha256 == bg::gzipContentSha256(bgtest::dataRoot() / f.path).sha256;
  }

  bgtest::CliResult cli(const QStringList& args, const fs::path& xdg) {
    QProcess p;
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("XDG_DATA_HOME"), q(xdg));
    env.insert(QStringLiteral("BRAINGRAPH_DATA"), q(dir_ / "nothing-here"));  // no ../shared: only the fetched folder
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(BRAINGRAPH_CLI), QStringList{QStringLiteral("--no-progress")} + args);
    p.waitForFinished(300000);
    return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
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
      if (f.storedGzip) {  // recompressed: the released content's checksum, computed by Python from the gunzipped file
        const auto content = bg::gzipContentSha256(local);
        QCOMPARE(content.sha256, f.contentSha256);
        QCOMPARE(content.size, f.contentSize);
      }
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
    for (const auto& f : downloads()) QVERIFY2(sameAsShared(f, to), f.path.c_str());
    QVERIFY2(r.err.contains(QStringLiteral("licence:")), qPrintable(r.err));
    const auto requests = QString::fromStdString(slurp(log));
    // AAL's files are unpacked from their release zips (AAL116's is a zip inside a zip), each archive
    // downloaded once and removed once its members are in place.
    QCOMPARE(requests.count(QStringLiteral("GET /MRIresearch/PANpipelines/raw/bd551e38/deployment/atlas/AAL/ext-d000035_AAL1Atlas_pub-Release2018_SPM12.zip")),
             1);
    QCOMPARE(requests.count(QStringLiteral("GET /MRIresearch/PANpipelines/raw/bd551e38/deployment/atlas/AAL/AAL3v1_for_SPM12.zip")), 1);
    QVERIFY(!requests.contains(QStringLiteral("GET /atlases/aal116/ROI_MNI_V4.nii.gz")));
    QVERIFY(!fs::exists(to / ".downloads"));
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

  // The ABIDE dataset manifest lists every scan of ../shared in both atlases: the stored file's size and
  // SHA-256, and the released (uncompressed) content's, with PCP's URL for each.
  void datasetManifestListsEveryScan() {
    const auto all = bg::abideDownloads(dataset_, {"cc200", "ho"}, {}, 0);
    QCOMPARE(static_cast<int>(all.size()), 2 * 739 + 4);  // + each atlas's phenotype table and label volume
    int checked = 0;
    for (const auto& f : all) {
      const auto local = bgtest::dataRoot() / f.path;
      QVERIFY2(fs::exists(local), f.path.c_str());
      QCOMPARE(static_cast<std::int64_t>(fs::file_size(local)), f.size);
      QVERIFY2(!f.url.empty() && !f.licence.empty(), f.path.c_str());
      if (f.storedGzip && checked++ % 37 == 0) {  // a sample: hashing all 1,478 takes a while
        QCOMPARE(bg::fileSha256(local), f.sha256);
        QCOMPARE(bg::gzipContentSha256(local).sha256, f.contentSha256);
        QVERIFY2(f.url.find("/Outputs/cpac/filt_") != std::string::npos && f.url.substr(f.url.size() - 3) == ".1D", f.url.c_str());
      }
    }
    QCOMPARE(checked, 2 * 739);
    // By site and number: the sites in turn.
    const auto some = bg::abideDownloads(dataset_, {"cc200"}, {"NYU", "UM_2"}, 6);
    QCOMPARE(static_cast<int>(some.size()), 6 + 2);
    int nyu = 0, um = 0;
    for (const auto& f : some) {
      nyu += f.path.find("/NYU_") != std::string::npos;
      um += f.path.find("/UM_2_") != std::string::npos;
    }
    QCOMPARE(nyu, 3);
    QCOMPARE(um, 3);
    for (const auto& [atlases, sites] : {std::pair<std::vector<std::string>, std::vector<std::string>>{{"cc400"}, {}}, {{"cc200"}, {"MARS"}}}) {
      bool refused = false;
      try {
        bg::abideDownloads(dataset_, atlases, sites, 0);
      } catch (const bg::Error& e) {
        refused = e.code() == bg::ErrorCode::Usage && std::string(e.what()).find(atlases[0] == "cc400" ? "cc200, ho" : "NYU") != std::string::npos;
      }
      QVERIFY(refused);
    }
  }

  // ABIDE from PCP's paths: the plain .1D files are checked by their content and kept gzip-compressed;
  // a changed series is refused and nothing is left; a phenotype table that differs from the project's
  // copy (the released table is longer) is kept and reported, as its manifest entry allows.
  void abideScansBySiteAndNumber() {
    const auto log = dir_ / "abide.log";
    const auto corrupted = QStringLiteral("/fcp-indi/data/Projects/ABIDE_Initiative/Outputs/cpac/filt_noglobal/rois_ho/NYU_0050952_rois_ho.1D");
    const auto mirror = serve(bgtest::dataRoot(), {}, log);
    const auto to = dir_ / "abide";
    auto r = fetch({QStringLiteral("--atlas"), QStringLiteral("cc200,ho"), QStringLiteral("--sites"), QStringLiteral("NYU,UM_2"), QStringLiteral("--max-scans"),
                    QStringLiteral("4"), QStringLiteral("--to"), q(to), QStringLiteral("--mirror"), mirror},
                   {}, QStringLiteral("abide"));
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.err.contains(QStringLiteral("non-commercial research use")), qPrintable(r.err));
    QVERIFY2(r.out.contains(QStringLiteral("fetched 12 file(s)")), qPrintable(r.out));
    const auto files = bg::abideDownloads(dataset_, {"cc200", "ho"}, {"NYU", "UM_2"}, 4);
    for (const auto& f : files) QVERIFY2(sameAsShared(f, to), f.path.c_str());
    const auto requests = QString::fromStdString(slurp(log));
    QVERIFY2(requests.contains(QStringLiteral("GET /fcp-indi/data/Projects/ABIDE_Initiative/Outputs/cpac/filt_global/rois_cc200/NYU_")), qPrintable(requests));
    QVERIFY(requests.contains(QStringLiteral("GET /fcp-indi/data/Projects/ABIDE_Initiative/Phenotypic_V1_0b_preprocessed1.csv")));
    for (const auto& e : fs::recursive_directory_iterator(to)) QVERIFY2(e.path().extension() != ".1D" && e.path().extension() != ".part", e.path().c_str());

    // A server whose copy of one series and of the phenotype table differ from the project's.
    const auto changed = dir_ / "changed-root";
    fs::create_directories(changed / "data");
    fs::copy(bgtest::dataRoot() / "data" / "abide1-cc200", changed / "data" / "abide1-cc200", fs::copy_options::recursive);
    fs::copy(bgtest::dataRoot() / "data" / "abide1-ho", changed / "data" / "abide1-ho", fs::copy_options::recursive);
    for (const char* folder : {"abide1-cc200", "abide1-ho"})  // one released table, copied into both folders
      std::ofstream(changed / "data" / folder / "Phenotypic_V1_0b_preprocessed1.csv", std::ios::app) << "9999,9999,59999,1,59999,NYU,no_filename,1\n";
    const auto other = serve(changed, {QStringLiteral("--corrupt"), corrupted}, dir_ / "abide-changed.log");
    const auto to2 = dir_ / "abide-changed";
    r = fetch({QStringLiteral("--atlas"), QStringLiteral("cc200"), QStringLiteral("--sites"), QStringLiteral("NYU"), QStringLiteral("--max-scans"),
               QStringLiteral("1"), QStringLiteral("--to"), q(to2), QStringLiteral("--mirror"), other},
              {}, QStringLiteral("abide"));
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.out.contains(QStringLiteral("differs from the project's copy (kept): data/abide1-cc200/Phenotypic_V1_0b_preprocessed1.csv")), qPrintable(r.out));
    QVERIFY(slurp(to2 / "data/abide1-cc200/Phenotypic_V1_0b_preprocessed1.csv").find("59999") != std::string::npos);
    r = fetch({QStringLiteral("--atlas"), QStringLiteral("ho"), QStringLiteral("--sites"), QStringLiteral("NYU"), QStringLiteral("--max-scans"),
               QStringLiteral("1"), QStringLiteral("--to"), q(to2), QStringLiteral("--mirror"), other},
              {}, QStringLiteral("abide"));
    // HO's released values may carry more digits than the project's rounded copy: kept and reported too.
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.out.contains(QStringLiteral("differs from the project's copy (kept): data/abide1-ho/rois_ho/NYU_0050952_rois_ho.1D.gz")), qPrintable(r.out));
    // CC200's released content is known: a changed file is refused, and nothing of it is left.
    const auto cc = QStringLiteral("/fcp-indi/data/Projects/ABIDE_Initiative/Outputs/cpac/filt_global/rois_cc200/NYU_0050952_rois_cc200.1D");
    const auto third = serve(changed, {QStringLiteral("--corrupt"), cc}, dir_ / "abide-corrupt.log");
    const auto to3 = dir_ / "abide-corrupt";
    r = fetch({QStringLiteral("--atlas"), QStringLiteral("cc200"), QStringLiteral("--sites"), QStringLiteral("NYU"), QStringLiteral("--max-scans"),
               QStringLiteral("1"), QStringLiteral("--to"), q(to3), QStringLiteral("--mirror"), third},
              {}, QStringLiteral("abide"));
    QCOMPARE(r.exitCode, 65);
    QVERIFY2(r.err.contains(QStringLiteral("NYU_0050952_rois_cc200.1D")) && r.err.contains(QStringLiteral("SHA-256")), qPrintable(r.err));
    QVERIFY(!fs::exists(to3 / "data/abide1-cc200/rois_cc200/NYU_0050952_rois_cc200.1D.gz"));
    QVERIFY(!fs::exists(to3 / "data/abide1-cc200/rois_cc200/NYU_0050952_rois_cc200.1D"));
    QVERIFY(!fs::exists(to3 / "data/abide1-cc200/rois_cc200/NYU_0050952_rois_cc200.1D.part"));
  }

  // Without ../shared, everything from the mirror into the user data folder: atlas list verifies all
  // ten atlases (CC200 and HO from the ABIDE fetch) and ABIDE scans import from the fetched folder.
  void withoutSharedDataEverythingComesFromTheFetch() {
    const auto mirror = serve(bgtest::dataRoot(), {}, dir_ / "hidden.log");
    const auto xdg = dir_ / "xdg-hidden";
    auto r = fetch({QStringLiteral("--mirror"), mirror}, xdg);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
    r = fetch({QStringLiteral("--atlas"), QStringLiteral("cc200,ho"), QStringLiteral("--max-scans"), QStringLiteral("30"), QStringLiteral("--mirror"), mirror},
              xdg, QStringLiteral("abide"));
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
    r = cli({QStringLiteral("atlas"), QStringLiteral("list"), QStringLiteral("--json")}, xdg);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
    const auto list = json::parse(r.out.toStdString().substr(r.out.toStdString().find('[')));
    QCOMPARE(static_cast<int>(list.size()), 10);
    for (const auto& a : list) QVERIFY2(a["status"] == "ok", a.dump().c_str());
    const auto data = xdg / "braingraph" / "data" / "data" / "abide1-cc200";
    const auto ws = dir_ / "hidden-ws";
    r = cli({QStringLiteral("workspace"), QStringLiteral("init"), QStringLiteral("-w"), q(ws)}, xdg);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    r = cli({QStringLiteral("import"), QStringLiteral("abide"), QStringLiteral("-w"), q(ws), QStringLiteral("--pheno"),
             q(data / "Phenotypic_V1_0b_preprocessed1.csv"), QStringLiteral("--timeseries"), q(data / "rois_cc200")},
            xdg);
    QVERIFY2(r.exitCode == 0 && r.out.contains(QStringLiteral("imported 30 scan(s)")), qPrintable(r.err + r.out));
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
    QVERIFY2(r.err.contains(QStringLiteral("/nilearn/nilearn/raw/59fffa2/nilearn/datasets/data/power_2011.csv: not on the server (HTTP 404)")),
             qPrintable(r.err));
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
