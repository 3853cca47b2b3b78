#include <QTest>

#include <fstream>
#include <algorithm>
#include <map>

#include <Eigen/LU>

#include "TestSupport.h"
#include "atlas/AtlasRegistry.h"
#include "errors/Error.h"
#include "io/NiftiImage.h"

using namespace bg;

class TestAtlasRegistry : public QObject {
  Q_OBJECT
  AtlasRegistry registry() const { return AtlasRegistry::load(BRAINGRAPH_TEST_MANIFESTS, DataPaths({bgtest::dataRoot()})); }
  // A data root holding Schaefer100's label table only; returns it.
  static std::filesystem::path rootWithLabelTable(const std::string& name) {
    const auto root = bgtest::scratchDir(name);
    std::filesystem::create_directories(root / "atlases" / "schaefer100");
    std::filesystem::copy_file(bgtest::dataRoot() / "atlases/schaefer100/labels.tsv", root / "atlases/schaefer100/labels.tsv");
    return root;
  }
  // Verifying schaefer100 from `root` fails with `code` and a message containing `needle`.
  static void expectVerifyError(const std::filesystem::path& root, ErrorCode code, const std::string& needle) {
    const auto reg = AtlasRegistry::load(BRAINGRAPH_TEST_MANIFESTS, DataPaths({root}));
    NullProgress p;
    try {
      reg.verify("schaefer100", p);
      QFAIL("no exception");
    } catch (const Error& e) {
      QCOMPARE(e.code(), code);
      QVERIFY2(std::string(e.what()).find(needle) != std::string::npos, e.what());
    }
  }

 private Q_SLOTS:
  void listsEightParcellationsInPaperOrder() {
    const auto reg = registry();
    std::vector<std::string> ids, paper;
    for (const auto* m : reg.parcellations()) ids.push_back(m->id);
    for (const auto* m : reg.paperParcellations()) paper.push_back(m->id);
    const std::vector<std::string> eight{"schaefer100", "schaefer200", "schaefer300", "aal116", "aal3v1", "shen268", "power264", "gordon333"};
    QCOMPARE(paper, eight);
    // ABIDE's CC200 and Harvard-Oxford follow the paper's eight; "all" still means the eight.
    auto all = eight;
    all.insert(all.end(), {"cc200", "ho"});
    QCOMPARE(ids, all);
    QVERIFY(reg.contains("mni152"));
    QCOMPARE(reg.get("mni152").kind, AtlasKind::Template);
  }

  void verifiesRoiCountsAgainstFiles_data() {
    QTest::addColumn<QString>("id");
    QTest::addColumn<int>("rois");
    const std::map<std::string, int> expected = {{"schaefer100", 100}, {"schaefer200", 200}, {"schaefer300", 300}, {"aal116", 116}, {"aal3v1", 166},
                                                 {"shen268", 268},     {"power264", 264},    {"gordon333", 333},   {"cc200", 200},  {"ho", 111}};
    for (const auto& [id, n] : expected) QTest::newRow(id.c_str()) << QString::fromStdString(id) << n;
  }
  void verifiesRoiCountsAgainstFiles() {
    QFETCH(QString, id);
    QFETCH(int, rois);
    const auto reg = registry();
    NullProgress progress;
    const auto v = reg.verify(id.toStdString(), progress);
    QVERIFY2(v.ok, v.problem.c_str());
    QCOMPARE(v.verifiedRoiCount, rois);
    QCOMPARE(v.labelTableRows, rois);
    QCOMPARE(static_cast<int>(reg.labels(id.toStdString()).size()), rois);
  }

  // CC200 and HO come without label tables: names from the AAL116 regions they overlap most, networks
  // from Schaefer200's Yeo-7 labels, checked against anatomy (HO's codes are FreeSurfer's subcortical
  // codes and region x 100 + side for the cortex) and against an overlap count done here.
  void abideAtlasesHaveReadableDerivedNames() {
    const auto reg = registry();
    std::map<int, AtlasLabel> ho;
    for (const auto& l : reg.labels("ho")) ho[l.index] = l;
    QCOMPARE(ho.size(), std::size_t(111));
    const std::map<int, std::string> subcortical = {{10, "Thalamus L"}, {49, "Thalamus R"}, {11, "Caudate L"},     {50, "Caudate R"},
                                                    {12, "Putamen L"},  {51, "Putamen R"},  {17, "Hippocampus L"}, {53, "Hippocampus R"}};
    for (const auto& [code, name] : subcortical) {
      QVERIFY2(ho[code].name.rfind(name, 0) == 0, ho[code].name.c_str());
      QCOMPARE(ho[code].network, std::string("Subcortical/cerebellum"));
      QCOMPARE(ho[code].hemisphere, std::string(name.substr(name.size() - 1)));
    }
    // HO cortical region 7 is the precentral gyrus, one code per hemisphere.
    QVERIFY2(ho[701].name.rfind("Precentral", 0) == 0, ho[701].name.c_str());
    QVERIFY2(ho[702].name.rfind("Precentral", 0) == 0, ho[702].name.c_str());
    QVERIFY(ho[701].hemisphere != ho[702].hemisphere);
    QCOMPARE(ho[701].network, std::string("SomMot"));
    for (const auto& id : {"cc200", "ho"}) {
      const auto labels = reg.labels(id);
      int cortical = 0;
      for (const auto& l : labels) {
        QVERIFY2(l.name.find(" (#" + std::to_string(l.index) + ")") != std::string::npos, l.name.c_str());  // unique and readable
        QVERIFY(l.mni.has_value());
        if (!l.hemisphere.empty()) QCOMPARE(l.hemisphere, std::string((*l.mni)[0] < 0 ? "L" : "R"));
        cortical += l.network != "Subcortical/cerebellum";
      }
      QVERIFY2(cortical > static_cast<int>(labels.size()) / 2, id);
    }
    // CC200 region 1's name starts with the AAL region most of its voxels fall in, counted here.
    const auto cc = readNiftiVolume(reg.volumeFile("cc200"));
    const auto aal = readNiftiVolume(reg.volumeFile("aal116"));
    std::map<long, std::string> aalName;
    for (const auto& l : reg.labels("aal116")) aalName[l.index] = l.name;
    const Eigen::Matrix4d toAal = aal.header.voxelToWorld.inverse();
    std::map<long, int> counts;
    for (std::int64_t k = 0; k < cc.header.dim[2]; ++k)
      for (std::int64_t j = 0; j < cc.header.dim[1]; ++j)
        for (std::int64_t i = 0; i < cc.header.dim[0]; ++i) {
          if (std::lround(cc.at(i, j, k)) != 1) continue;
          const Eigen::Vector4d v = toAal * (cc.header.voxelToWorld * Eigen::Vector4d(double(i), double(j), double(k), 1));
          const auto a = std::lround(aal.at(std::llround(v(0)), std::llround(v(1)), std::llround(v(2))));
          if (a != 0) ++counts[a];
        }
    const auto top = std::max_element(counts.begin(), counts.end(), [](const auto& x, const auto& y) { return x.second < y.second; });
    std::string expected = aalName[top->first];
    std::replace(expected.begin(), expected.end(), '_', ' ');
    QVERIFY2(reg.labels("cc200")[0].name.rfind(expected, 0) == 0, (reg.labels("cc200")[0].name + " vs " + expected).c_str());
  }

  void aal116UsesCodeValues() {
    const auto reg = registry();
    const auto labels = reg.labels("aal116");
    QCOMPARE(labels.front().index, 2001);
    QCOMPARE(labels.front().name, std::string("Precentral_L"));
    int maxCode = 0;
    for (const auto& l : labels) maxCode = std::max(maxCode, l.index);
    QCOMPARE(maxCode, 9170);
    // The volume holds the codes themselves.
    const auto vol = readNiftiVolume(reg.volumeFile("aal116"));
    float maxValue = 0;
    for (float x : vol.data) maxValue = std::max(maxValue, x);
    QCOMPARE(maxValue, 9170.0f);
  }

  void aal3v1LeavesFourLabelsUnused() {
    const auto reg = registry();
    const auto& m = reg.get("aal3v1");
    QCOMPARE(m.unusedLabels, (std::vector<int>{35, 36, 81, 82}));
    NullProgress p;
    const auto v = reg.verify("aal3v1", p);
    QVERIFY(v.ok);
    for (const auto& l : reg.labels("aal3v1")) QVERIFY(l.index != 35 && l.index != 36 && l.index != 81 && l.index != 82);
  }

  void power264IsCoordinates() {
    const auto reg = registry();
    const auto& m = reg.get("power264");
    QCOMPARE(m.representation, AtlasRepresentation::Coordinates);
    QCOMPARE(m.sphereRadiusMm, 5.0);
    const auto labels = reg.labels("power264");
    QCOMPARE(labels.size(), std::size_t(264));
    QVERIFY(labels.front().mni.has_value());
    QCOMPARE((*labels.front().mni)[0], -25.0);
    QCOMPARE((*labels.front().mni)[1], -98.0);
  }

  void schaeferNetworksAndOrientation() {
    const auto reg = registry();
    QCOMPARE(reg.get("schaefer100").networks.size(), std::size_t(7));
    // Left-hemisphere parcels lie at negative x (RAS), from the label table's centroids.
    for (const auto& l : reg.labels("schaefer100")) {
      QVERIFY(l.mni.has_value());
      if (l.hemisphere == "L") QVERIFY((*l.mni)[0] < 0);
      if (l.hemisphere == "R") QVERIFY((*l.mni)[0] > 0);
    }
  }

  void unknownAtlasListsKnownIds() {
    try {
      registry().get("destrieux");
      QFAIL("no exception");
    } catch (const Error& e) {
      QCOMPARE(e.code(), ErrorCode::NoInput);
      QVERIFY(std::string(e.what()).find("schaefer100") != std::string::npos);
    }
  }

  void missingVolumeNamesTheFile() {
    // A data root with the label table but without the volume.
    expectVerifyError(rootWithLabelTable("atlas_missing"), ErrorCode::NoInput,
                      "tpl-MNI152NLin6Asym_res-02_atlas-Schaefer2018_desc-100Parcels7Networks_dseg.nii.gz");
  }

  void truncatedVolumeNamesTheFile() {
    const auto root = rootWithLabelTable("atlas_truncated");
    const auto rel = std::filesystem::path("atlases/schaefer100/tpl-MNI152NLin6Asym_res-02_atlas-Schaefer2018_desc-100Parcels7Networks_dseg.nii.gz");
    {
      std::ifstream in(bgtest::dataRoot() / rel, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::ofstream(root / rel, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
    }
    expectVerifyError(root, ErrorCode::Data, (root / rel).string());
  }

  void corruptManifestNamesTheFile() {
    const auto dir = bgtest::scratchDir("manifests_bad");
    std::filesystem::create_directories(dir / "broken");
    std::ofstream(dir / "broken" / "manifest.json") << R"({"schema": 1, "id": "broken", "display_name": "x"})";
    try {
      AtlasRegistry::load(dir, DataPaths({bgtest::dataRoot()}));
      QFAIL("no exception");
    } catch (const Error& e) {
      QCOMPARE(e.code(), ErrorCode::Config);
      QVERIFY2(std::string(e.what()).find((dir / "broken" / "manifest.json").string()) != std::string::npos, e.what());
    }
  }
};

QTEST_APPLESS_MAIN(TestAtlasRegistry)
#include "test_atlas_registry.moc"
