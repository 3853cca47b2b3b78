#include "methods/MethodCatalog.h"

#include <algorithm>

#include "errors/Error.h"

namespace bg {
namespace {

MethodInfo baseline(const std::string& name, const std::string& classifier, const std::string& features, const std::string& display,
                    const std::string& description) {
  MethodInfo m;
  m.name = name;
  m.family = MethodFamily::Baseline;
  m.displayName = display;
  m.description = description;
  m.classifier = classifier;
  m.features = features;
  const std::string own = features == "tangent" ? "tangent" : "fc";
  m.inputs = {own + "-site", own + "-combat"};  // they standardise every feature anyway: per site is their one input choice
  m.calibrates = classifier != "svm";           // the SVM calibrates itself (Platt scaling on the training data)
  m.writesModel = classifier != "svm";
  m.severalAtlases = classifier != "svm";
  return m;
}

MethodInfo braingfm(const std::string& name, const std::string& adaptation, PretrainedUse pretrained, const std::string& display,
                    const std::string& description) {
  MethodInfo m;
  m.name = name;
  m.family = MethodFamily::BrainGfm;
  m.displayName = display;
  m.description = description;
  m.architecture = "braingfm";
  m.adaptation = adaptation;
  m.pretrained = pretrained;
  m.pretrainsInFolds = pretrained == PretrainedUse::Required;
  return m;
}

MethodInfo zoo(const std::string& name, PretrainedUse pretrained, const std::string& display, const std::string& description) {
  MethodInfo m;
  m.name = name;
  m.family = MethodFamily::Zoo;
  m.displayName = display;
  m.description = description;
  m.architecture = name;
  m.pretrained = pretrained;
  m.pretrainsInFolds = pretrained != PretrainedUse::None;
  return m;
}

std::vector<MethodInfo> makeCatalog() {
  std::vector<MethodInfo> c;
  c.push_back(
      braingfm("prompt", "prompt", PretrainedUse::Required, "BrainGFM, graph prompt", "learns a graph prompt and a head on the frozen pre-trained encoder"));
  c.push_back(braingfm("finetune", "finetune", PretrainedUse::Required, "BrainGFM, fine-tuned", "fine-tunes every weight of the pre-trained encoder"));
  c.push_back(braingfm("lora", "lora", PretrainedUse::Required, "BrainGFM, LoRA", "learns low-rank updates of the frozen encoder's attention"));
  c.push_back(braingfm("prefix", "prefix", PretrainedUse::Required, "BrainGFM, prefix tuning", "learns prefix tokens for the frozen encoder"));
  c.push_back(braingfm("linear", "linear", PretrainedUse::Required, "BrainGFM, linear probe", "learns a head on the frozen pre-trained encoder"));
  c.push_back(braingfm("scratch", "scratch", PretrainedUse::None, "BrainGFM, from scratch", "trains the BrainGFM graph transformer from random weights"));
  auto zeroShot = braingfm("zeroshot", "prompt", PretrainedUse::Meta, "BrainGFM, zero-shot",
                           "uses a meta-learned prompt model as it is, on a task it never saw (language prompt)");
  zeroShot.pretrainsInFolds = false;
  zeroShot.learnsFromLabels = false;
  zeroShot.writesModel = false;
  c.push_back(zeroShot);
  c.push_back(baseline("logreg", "logreg", "fisher", "Logistic regression (Fisher-z FC)", "L2 logistic regression on the Fisher-z FC edges"));
  c.push_back(baseline("logreg-tangent", "logreg", "tangent", "Logistic regression (tangent FC)",
                       "L2 logistic regression on tangent-space FC around the training scans' geometric mean"));
  c.push_back(baseline("svm", "svm", "fisher", "Linear SVM (Fisher-z FC)", "linear SVM on the Fisher-z FC edges, Platt-scaled"));
  c.push_back(baseline("svm-tangent", "svm", "tangent", "Linear SVM (tangent FC)", "linear SVM on tangent-space FC, Platt-scaled"));
  c.push_back(zoo("brainmass", PretrainedUse::Optional, "BrainMass", "BrainMass's transformer, from scratch or fine-tuned from a BrainMass pre-training"));
  auto probe = zoo("brainmass-probe", PretrainedUse::Required, "BrainMass, linear probe", "a linear head on a frozen pre-trained BrainMass encoder");
  probe.architecture = "brainmass";
  probe.adaptation = "linear";
  probe.inputs = {"fc"};  // BrainMass's encoder reads Pearson FC
  c.push_back(probe);
  c.push_back(zoo("lcm", PretrainedUse::Optional, "LCM", "LCM's multitask model, from scratch or fine-tuned from its multitask pre-training"));
  c.push_back(zoo("gcn", PretrainedUse::None, "GCN", "a graph convolutional network"));
  c.push_back(zoo("braingnn", PretrainedUse::None, "BrainGNN", "BrainGNN's ROI-aware graph convolutions and pooling"));
  c.push_back(zoo("transformer", PretrainedUse::None, "Transformer", "a transformer over the ROIs' FC rows"));
  c.push_back(zoo("graph_transformer", PretrainedUse::None, "Graph transformer", "a transformer whose attention follows the graph"));
  c.push_back(zoo("brainnettf", PretrainedUse::None, "BrainNetTF", "Brain Network Transformer with an orthonormal cluster readout"));
  MethodInfo pub;
  pub.name = "braingfm-public";
  pub.family = MethodFamily::PublicGfm;
  pub.displayName = "BrainGFM (public architecture)";
  pub.description = "the public BrainGFM code's architecture: from scratch, or fine-tuned from an imported checkpoint";
  pub.architecture = "braingfm-public";
  pub.pretrained = PretrainedUse::Optional;
  c.push_back(pub);
  return c;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

bool contains(const std::vector<std::string>& names, const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); }

}  // namespace

std::string MethodInfo::configurationKey() const {
  if (family == MethodFamily::BrainGfm) return "braingfm";
  return architecture.empty() ? name : architecture;
}

std::string MethodInfo::pretrainedArchitecture() const {
  if (pretrained == PretrainedUse::None || pretrained == PretrainedUse::Meta || family == MethodFamily::PublicGfm) return {};
  return architecture;
}

const std::vector<std::string>& pretrainableArchitectures() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& m : methodCatalog())
      if (const auto a = m.pretrainedArchitecture(); !a.empty() && !contains(out, a)) out.push_back(a);
    return out;
  }();
  return names;
}

bool isPretrainableArchitecture(const std::string& architecture) { return contains(pretrainableArchitectures(), architecture); }

const std::vector<MethodInfo>& methodCatalog() {
  static const std::vector<MethodInfo> catalog = makeCatalog();
  return catalog;
}

const MethodInfo* findMethod(const std::string& name) {
  const auto& c = methodCatalog();
  const auto it = std::find_if(c.begin(), c.end(), [&](const MethodInfo& m) { return m.name == name; });
  return it == c.end() ? nullptr : &*it;
}

const MethodInfo& methodInfo(const std::string& name) {
  if (const auto* m = findMethod(name)) return *m;
  throw Error(ErrorCode::Usage, "unknown method '" + name + "' (known: " + methodListText() + ")");
}

std::vector<std::string> methodNames(MethodFamily family) {
  std::vector<std::string> out;
  for (const auto& m : methodCatalog())
    if (m.family == family) out.push_back(m.name);
  return out;
}

std::string methodListText() {
  auto baselines = methodNames(MethodFamily::Baseline);
  std::sort(baselines.begin(), baselines.end(), [](const std::string& a, const std::string& b) {  // logreg, svm, then their tangent forms
    const bool ta = a.find("-tangent") != std::string::npos, tb = b.find("-tangent") != std::string::npos;
    return ta != tb ? tb : a < b;
  });
  return join(baselines) + "; BrainGFM: " + join(methodNames(MethodFamily::BrainGfm)) + "; the model zoo: " + join(methodNames(MethodFamily::Zoo)) +
         "; imported checkpoints: " + join(methodNames(MethodFamily::PublicGfm));
}

std::vector<std::string> methodProblems(const MethodRequest& r) {
  std::vector<std::string> p;
  const auto* m = findMethod(r.method);
  if (!m) return {"unknown method '" + r.method + "' (known: " + methodListText() + ")"};
  const bool zeroShot = !m->learnsFromLabels || std::any_of(r.labelFractions.begin(), r.labelFractions.end(), [](double f) { return f <= 0; });
  if (r.configurations > 1 && m->isBaseline())
    p.push_back(m->name + " has no configuration file to choose; its one setting is C (give --c with several values)");
  if (r.configurations > 1 && !m->isBaseline() && zeroShot)
    p.push_back("zero-shot trains nothing and has no validation scans to choose a configuration on: give one --config");
  if (!r.calibration.empty() && !m->calibrates)
    p.push_back("--calibration does not apply to " + m->name + ": the SVM calibrates itself (Platt scaling on the training data)");
  if (r.regularisationGiven && !m->isBaseline())
    p.push_back("--c sets the classical baselines' regularisation; " + m->name + " is regularised through its configuration (weight_decay, dropout)");
  if ((r.ensemble > 1 || r.ensembleValidationGiven) && m->isBaseline())
    p.push_back("--ensemble is for the graph models; " + m->name + " is a convex fit with one solution");
  if (!r.input.empty() && m->isBaseline() && !contains(m->inputs, r.input)) {
    const std::string base = m->classifier, own = m->features == "tangent" ? "tangent" : "fc";
    p.push_back("--input " + r.input + " does not apply to " + m->name + ": the baselines choose their features by name (" + base + " or " + base +
                "-tangent) and take only " + own + "-site or " + own + "-combat (features standardised per acquisition site; " +
                (own == "fc" ? "Fisher-z" : "tangent-space") + " FC z-scored per site)");
  }
  if (!r.input.empty() && r.input != "fc" && m->isGraphModel() && !m->inputs.empty() && !contains(m->inputs, r.input))
    p.push_back(m->displayName + "'s encoder reads Pearson FC: --input " + r.input + " does not apply to " + m->name);
  if (m->isBaseline() && zeroShot) p.push_back("zero-shot (label fraction 0) needs a meta-learned BrainGFM: a baseline learns from labels");
  if (r.kind == "train" && !m->writesModel && m->isBaseline())
    p.push_back("train writes the logistic-regression baselines and the graph models; " + m->name + " is evaluated only (evaluate)");
  if (r.pretrainInFolds && r.hasPretrained) p.push_back("pre-train in each fold (--pretrain-in-folds) or give a Pre-trained file (--pretrained), not both");
  if (r.pretrainInFolds && r.kind == "evaluate" && !m->pretrainsInFolds)
    p.push_back(m->name + " has no encoder to pre-train in each fold (--pretrain-in-folds)");
  if (m->pretrained == PretrainedUse::Required && !r.hasPretrained && !r.hasMeta && !(r.pretrainInFolds && r.kind == "evaluate"))
    p.push_back(m->name + " adapts a pre-trained encoder: give the Pre-trained file (--pretrained)" +
                (r.kind == "evaluate" ? std::string(", or pre-train in each fold (--pretrain-in-folds)") : std::string()));
  return p;
}

std::vector<std::string> methodCommandLine(const MethodArguments& a) {
  std::vector<std::string> out = {"--method", a.method};
  if (!a.pretrained.empty()) out.insert(out.end(), {"--pretrained", a.pretrained});
  if (!a.meta.empty()) out.insert(out.end(), {"--meta", a.meta});
  if (a.pretrainInFolds) out.push_back("--pretrain-in-folds");
  if (!a.calibration.empty()) out.insert(out.end(), {"--calibration", a.calibration});
  if (!a.input.empty()) out.insert(out.end(), {"--input", a.input});
  return out;
}

}  // namespace bg
