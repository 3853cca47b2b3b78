// The method catalog (core/methods): every --method once, consistent with the model library's
// architectures and adaptations, and the checks the CLI and the Launch form share.
#include <set>

#include <QTest>
#include <nlohmann/json.hpp>

#include "errors/Error.h"
#include "methods/MethodCatalog.h"
#include "model/ModelConfig.h"

namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + " | ";
  return out;
}

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
  for (const auto& p : problems)
    if (p.find(text) != std::string::npos) return true;
  return false;
}

bg::MethodRequest request(const std::string& kind, const std::string& method) {
  bg::MethodRequest r;
  r.kind = kind;
  r.method = method;
  return r;
}

}  // namespace

class TestMethods : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void everyMethodOnceAndFound() {
    std::set<std::string> names;
    for (const auto& m : bg::methodCatalog()) {
      QVERIFY2(names.insert(m.name).second, m.name.c_str());
      QCOMPARE(bg::findMethod(m.name), &m);
      QVERIFY2(bg::methodListText().find(m.name) != std::string::npos, m.name.c_str());
      QVERIFY2(!m.displayName.empty() && !m.description.empty(), m.name.c_str());
    }
    QCOMPARE(names.size(), std::size_t{20});
    QVERIFY(bg::findMethod("logistic") == nullptr);
    try {
      (void)bg::methodInfo("logistic");
      QFAIL("an unknown method was accepted");
    } catch (const bg::Error& e) {
      QCOMPARE(e.code(), bg::ErrorCode::Usage);
      QVERIFY2(std::string(e.what()).find("'logistic'") != std::string::npos && std::string(e.what()).find("brainnettf") != std::string::npos, e.what());
    }
  }

  // What the catalog says a method trains is what the model library builds.
  void consistentWithTheModelLibrary() {
    for (const auto& m : bg::methodCatalog()) {
      switch (m.family) {
        case bg::MethodFamily::Baseline:
          QVERIFY2(m.architecture.empty() && (m.classifier == "logreg" || m.classifier == "svm"), m.name.c_str());
          QVERIFY2(m.features == (m.name.find("-tangent") != std::string::npos ? "tangent" : "fisher"), m.name.c_str());
          break;
        case bg::MethodFamily::BrainGfm: {
          QCOMPARE(m.architecture, std::string("braingfm"));
          nlohmann::json a = {{"method", m.adaptation}};
          (void)bg::model::AdaptationSpec::fromJson(a);  // throws for an adaptation BrainGFM does not have
          QCOMPARE(m.configurationKey(), std::string("braingfm"));
          break;
        }
        case bg::MethodFamily::Zoo:
          QVERIFY2(bg::model::isZooArchitecture(m.architecture), m.name.c_str());
          QCOMPARE(m.configurationKey(), m.architecture);
          break;
        case bg::MethodFamily::PublicGfm:
          QVERIFY(bg::model::isPublicArchitecture(m.architecture));
          break;
      }
    }
    for (const auto& arch : bg::model::zooArchitectures()) QVERIFY2(bg::findMethod(arch) != nullptr, arch.c_str());
    QCOMPARE(bg::methodInfo("brainmass-probe").configurationKey(), std::string("brainmass"));
    QCOMPARE(bg::methodInfo("zeroshot").adaptation, std::string("prompt"));
    QCOMPARE(bg::methodInfo("svm").calibrates, false);
    const std::vector<std::string> pretrainable = {"braingfm", "brainmass", "lcm"};  // what pretrain --model accepts
    QCOMPARE(bg::pretrainableArchitectures(), pretrainable);
    QCOMPARE(bg::methodInfo("brainmass-probe").pretrainedArchitecture(), std::string("brainmass"));
    QCOMPARE(bg::methodInfo("gcn").pretrainedArchitecture(), std::string());
    QCOMPARE(bg::methodInfo("braingfm-public").pretrainedArchitecture(), std::string());  // imported, never pre-trained here
  }

  void problemsTheCliAndTheFormShare() {
    QVERIFY2(bg::methodProblems(request("evaluate", "logreg")).empty(), joined(bg::methodProblems(request("evaluate", "logreg"))).c_str());
    auto r = request("evaluate", "finetune");
    QVERIFY(mentions(bg::methodProblems(r), "pre-train in each fold"));
    r.pretrainInFolds = true;
    QVERIFY2(bg::methodProblems(r).empty(), joined(bg::methodProblems(r)).c_str());
    r.hasPretrained = true;
    QVERIFY(mentions(bg::methodProblems(r), "not both"));
    r = request("train", "prompt");
    QVERIFY(mentions(bg::methodProblems(r), "Pre-trained file"));
    QVERIFY(!mentions(bg::methodProblems(r), "pre-train in each fold"));  // train has no folds
    r.hasMeta = true;                                                     // a meta-learned prompt model is a start too
    QVERIFY(bg::methodProblems(r).empty());
    QVERIFY(mentions(bg::methodProblems(request("train", "svm-tangent")), "evaluated only"));
    QVERIFY(bg::methodProblems(request("train", "logreg-tangent")).empty());
    r = request("evaluate", "svm");
    r.calibration = "platt";
    QVERIFY(mentions(bg::methodProblems(r), "calibrates itself"));
    r = request("evaluate", "logreg-tangent");
    r.input = "fc-site";
    QVERIFY(mentions(bg::methodProblems(r), "tangent-site or tangent-combat"));
    r.input = "tangent-combat";
    QVERIFY(bg::methodProblems(r).empty());
    r.labelFractions = {1.0, 0.0};
    QVERIFY(mentions(bg::methodProblems(r), "a baseline learns from labels"));
    r = request("evaluate", "gcn");
    r.regularisationGiven = true;
    QVERIFY(mentions(bg::methodProblems(r), "weight_decay"));
    r = request("evaluate", "logreg");
    r.ensemble = 3;
    QVERIFY(mentions(bg::methodProblems(r), "convex fit"));
    r = request("evaluate", "brainmass-probe");
    r.pretrainInFolds = true;
    r.input = "tangent";
    QVERIFY(mentions(bg::methodProblems(r), "reads Pearson FC"));
    r = request("evaluate", "scratch");
    r.configurations = 2;
    r.labelFractions = {0.0};
    QVERIFY(mentions(bg::methodProblems(r), "zero-shot trains nothing"));
    r = request("evaluate", "gcn");
    r.pretrainInFolds = true;
    QVERIFY(mentions(bg::methodProblems(r), "no encoder to pre-train"));
    QVERIFY(mentions(bg::methodProblems(request("evaluate", "nonsense")), "unknown method 'nonsense'"));
  }

  void commandLineForm() {
    bg::MethodArguments a;
    a.method = "prompt";
    a.pretrained = "/m/pre.pt";
    a.calibration = "platt";
    const std::vector<std::string> expected = {"--method", "prompt", "--pretrained", "/m/pre.pt", "--calibration", "platt"};
    QCOMPARE(bg::methodCommandLine(a), expected);
  }
};

QTEST_GUILESS_MAIN(TestMethods)
#include "test_methods.moc"
