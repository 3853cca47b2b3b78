#include <QTest>

#include <cstdlib>
#include <fstream>

#include "TestSupport.h"
#include "errors/Error.h"
#include "io/AtomicFile.h"
#include "settings/DataPaths.h"
#include "settings/Settings.h"
#include "train/ConfigurationReference.h"

#include <iterator>
#include <map>

using namespace bg;

class TestSettings : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  // The configuration reference and the readers agree: every key it lists is read by its file's reader
  // (alone, at its default), every key the readers accept is listed with a meaning, no meaning is
  // left for a key that is gone, and docs/configuration.md is the generated reference.
  void configurationReferenceMatchesTheReaders() {
    const auto reference = train::configurationReference();
    QVERIFY2(reference.size() >= 90, qPrintable(QString::number(reference.size())));
    // Keys the readers write only when on: a value that turns them on.
    const std::map<std::string, nlohmann::json> on = {{"adaptation.edge_readout", "learned"}, {"input.site_shrinkage", "empirical-bayes"}};
    for (const auto& k : reference) {
      const auto id = k.file + "|" + k.key;
      QVERIFY2(!k.meaning.empty(), qPrintable(QString::fromStdString("no meaning for " + id)));
      QVERIFY2(!k.type.empty(), id.c_str());
      nlohmann::json value = k.defaultValue;
      if (value.is_null()) {
        QVERIFY2(on.count(k.key), id.c_str());
        value = on.at(k.key);
      }
      try {
        if (k.key == "input.site_shrinkage")  // a shrinkage of per-site statistics needs them
          train::readSingleKey(k.file, "input", {{"standardise_edges", true}, {"per_site", true}, {"site_shrinkage", value}});
        else
          train::readSingleKey(k.file, k.key, value);
      } catch (const Error& e) {
        QFAIL(qPrintable(QString::fromStdString(id + " is not read: " + e.what())));
      }
    }
    const auto stale = train::meaningsWithoutKey();
    QVERIFY2(stale.empty(), stale.empty() ? "" : stale.front().c_str());
    // A key no reader has is refused, so the check above can fail.
    for (const auto& [file, key] :
         std::vector<std::pair<std::string, std::string>>{{"tuning", "model.hiden"}, {"pretrain", "epoch"}, {"settings", "devices"}}) {
      bool refused = false;
      try {
        train::readSingleKey(file, key, 1);
      } catch (const Error&) {
        refused = true;
      }
      QVERIFY2(refused, key.c_str());
    }
    std::ifstream doc(BRAINGRAPH_TEST_MANIFESTS "/../docs/configuration.md");
    QVERIFY(doc.good());
    const std::string text{std::istreambuf_iterator<char>(doc), {}};
    QVERIFY2(text == train::configurationReferenceMarkdown(),
             "docs/configuration.md is not the generated reference: braingraph-cli config reference --format md > docs/configuration.md");
  }

  void roundTrip() {
    const auto dir = bgtest::scratchDir("settings_rt");
    Settings s;
    s.dataPath = {"/a/b", "/c"};
    s.device = "cuda:1";
    s.computeThreads = 3;
    s.jobWorkers = 4;
    s.save(dir / "settings.json");
    const auto back = Settings::load(dir / "settings.json");
    QCOMPARE(back.dataPath, s.dataPath);
    QCOMPARE(back.device, std::string("cuda:1"));
    QCOMPARE(back.computeThreads, 3);
    QCOMPARE(back.jobWorkers, 4);
    // No temporary files left beside it.
    int files = 0;
    for (auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file() ? 1 : 0;
    QCOMPARE(files, 1);
  }

  void missingFileGivesDefaults() {
    const auto s = Settings::load(bgtest::scratchDir("settings_none") / "nope.json");
    QCOMPARE(s.device, std::string("auto"));
    QCOMPARE(s.jobWorkers, 2);
  }

  void invalidFileNamesItself() {
    const auto file = bgtest::scratchDir("settings_bad") / "settings.json";
    std::ofstream(file) << "{ \"device\": ";
    try {
      Settings::load(file);
      QFAIL("no exception");
    } catch (const Error& e) {
      QCOMPARE(e.code(), ErrorCode::Config);
      QVERIFY2(std::string(e.what()).find(file.string()) != std::string::npos, e.what());
    }
    std::ofstream(file) << R"({"device": "gpu7"})";
    QVERIFY_THROWS_EXCEPTION(Error, Settings::load(file));
  }

  void setValidates() {
    Settings s;
    s.set("compute_threads", "2");
    QCOMPARE(s.computeThreads, 2);
    s.set("data_path", "/x:/y");
    QCOMPARE(s.dataPath.size(), std::size_t(2));
    QVERIFY_THROWS_EXCEPTION(Error, s.set("compute_threads", "two"));
    QVERIFY_THROWS_EXCEPTION(Error, s.set("job_workers", "0"));
    QVERIFY_THROWS_EXCEPTION(Error, s.set("colour", "blue"));
  }

  void dataPathPrecedence() {
    Settings s;
    s.dataPath = {"/from/settings"};
    const char* saved = std::getenv("BRAINGRAPH_DATA");
    const std::string savedValue = saved ? saved : "";
    ::setenv("BRAINGRAPH_DATA", "/env/one:/env/two", 1);
    QCOMPARE(DataPaths::resolve({"/explicit"}, s).roots().front(), std::filesystem::path("/explicit"));
    QCOMPARE(DataPaths::resolve({}, s).roots().size(), std::size_t(2));
    QCOMPARE(DataPaths::resolve({}, s).roots()[1], std::filesystem::path("/env/two"));
    ::unsetenv("BRAINGRAPH_DATA");
    QCOMPARE(DataPaths::resolve({}, s).roots().front(), std::filesystem::path("/from/settings"));
    QCOMPARE(DataPaths::resolve({}, Settings{}).roots().front(), DataPaths::builtinDefault());
    if (saved) ::setenv("BRAINGRAPH_DATA", savedValue.c_str(), 1);
  }

  void findSearchesRootsInOrder() {
    const auto a = bgtest::scratchDir("paths_a"), b = bgtest::scratchDir("paths_b");
    std::filesystem::create_directories(b / "atlases");
    std::ofstream(b / "atlases" / "x.txt") << "b";
    DataPaths paths({a, b});
    QCOMPARE(paths.find("atlases/x.txt"), b / "atlases" / "x.txt");
    try {
      paths.find("atlases/missing.nii.gz");
      QFAIL("no exception");
    } catch (const Error& e) {
      QCOMPARE(e.code(), ErrorCode::NoInput);
      QVERIFY(std::string(e.what()).find("atlases/missing.nii.gz") != std::string::npos);
      QVERIFY(std::string(e.what()).find(a.string()) != std::string::npos);
    }
  }

  void atomicWriteKeepsOldContentOnFailure() {
    const auto file = bgtest::scratchDir("atomic") / "report.txt";
    writeTextAtomically(file, "old");
    QVERIFY_THROWS_EXCEPTION(Error, writeFileAtomically(file, [](std::ostream& out) {
                               out << "half written";
                               throw Error(ErrorCode::Io, "disk full");
                             }));
    std::ifstream in(file);
    std::string content;
    std::getline(in, content);
    QCOMPARE(content, std::string("old"));
    int files = 0;
    for (auto& e : std::filesystem::directory_iterator(file.parent_path())) files += e.is_regular_file() ? 1 : 0;
    QCOMPARE(files, 1);
  }
};

QTEST_APPLESS_MAIN(TestSettings)
#include "test_settings.moc"
