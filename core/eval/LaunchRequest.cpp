#include "eval/LaunchRequest.h"

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "connectome/SiteStandardizer.h"
#include "errors/Error.h"
#include "eval/RegularisationSearch.h"
#include "methods/MethodCatalog.h"

namespace bg {

namespace {
std::string trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}
// The further configurations the run tries (the fields apply, the main file left out).
std::vector<std::string> alsoTried(const LaunchRequest& r, const LaunchFields& f) {
  std::vector<std::string> out;
  if (!f.alsoConfigs) return out;
  for (const auto& file : r.alsoConfigs)
    if (file != r.config) out.push_back(file);
  return out;
}
bool pretrainsInFolds(const LaunchRequest& r, const LaunchFields& f) { return f.pretrainInFolds && !r.pretrainInFolds.empty(); }
}  // namespace

LaunchFields launchFields(const LaunchRequest& r) {
  LaunchFields f;
  const bool pretrain = r.kind == "pretrain", meta = r.kind == "meta-train", evaluate = r.kind == "evaluate";
  const auto& m = methodInfo(r.method);
  const bool baseline = m.isBaseline();
  f.method = !pretrain && !meta;
  f.foundationModel = pretrain;
  f.corpus = !meta;
  f.tasks = f.firstOrder = meta;
  // A file to adapt: meta-training's start, or the methods that adapt one (not the baselines or scratch).
  f.pretrained = !pretrain && (meta || m.pretrained != PretrainedUse::None);
  f.leaveSiteOut = f.labels = f.name = evaluate;
  f.folds = evaluate && !r.leaveSiteOut;
  // BrainGFM's tuning methods (Run › Compare Models… pre-trains BrainMass and LCM in folds).
  f.pretrainInFolds = evaluate && m.pretrainsInFolds && m.family == MethodFamily::BrainGfm;
  f.calibration = !pretrain && !meta && m.calibrates;  // the SVM calibrates itself
  // Pre-training: BrainGFM learns the chosen input (fine-tune the file with the same one).
  f.input = pretrain ? r.foundationModel == "braingfm" : !meta && (!baseline || evaluate);
  f.ensemble = !pretrain && !meta && !baseline;
  f.ensembleFolds = f.ensemble && r.ensemble != 1;  // 0: the configuration's 5 members
  const bool severalAtlases = r.corpusAtlases.size() > 1;
  f.crossAtlasViews = severalAtlases && ((pretrain && r.foundationModel == "braingfm") || pretrainsInFolds(r, f));
  f.atlasFusion = severalAtlases && !pretrain && !meta && !baseline;
  f.regularisation = !pretrain && !meta && baseline;
  f.alsoConfigs = !pretrain && !meta && !baseline;
  f.adaptNewSites = evaluate && f.input && (r.input.ends_with("-site") || r.input.ends_with("-combat"));
  f.adaptScans = f.adaptShare = f.adaptLabelled = f.adaptNewSites && r.adaptNewSites;
  return f;
}

std::vector<double> launchLabelFractions(const std::string& text) {
  if (trimmed(text).empty()) return {1.0};
  std::vector<double> out;
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    const auto part = trimmed(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    std::string number = part;
    if (!number.empty() && number.back() == '%') number = trimmed(number.substr(0, number.size() - 1));
    char* end = nullptr;
    const double percent = number.empty() ? -1 : std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size() || !(percent >= 0 && percent <= 100))
      throw Error(ErrorCode::Usage, "Labels: '" + part + "' is not a percentage between 0 and 100");
    if (percent == 0)
      throw Error(ErrorCode::Usage, "Labels: zero-shot (0%) needs a meta-learned model; run it with braingraph-cli evaluate --method zeroshot --meta MODEL");
    out.push_back(percent / 100.0);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<std::string> launchProblems(const LaunchRequest& r) {
  std::vector<std::string> p;
  const auto f = launchFields(r);
  const auto& m = methodInfo(r.method);
  const auto also = alsoTried(r, f);
  const bool inFolds = pretrainsInFolds(r, f);
  if (r.corpus.empty()) p.push_back("The workspace has no corpus: create one first (corpus create).");
  if (r.kind != "evaluate" && trimmed(r.output).empty()) p.push_back("Choose the model file to write (Output).");
  if (r.corpusAtlases.size() > 1) {
    std::string list;
    for (const auto& a : r.corpusAtlases) list += (list.empty() ? "" : ", ") + a;
    if (r.kind == "pretrain" && r.foundationModel != "braingfm")
      p.push_back(
          fmt::format("{} has no atlas token and pre-trains on one atlas; corpus {} holds several ({}). Pre-train BrainGFM on it, or choose a "
                      "one-atlas corpus.",
                      r.foundationModel, r.corpus, list));
    else if (r.kind == "meta-train")
      p.push_back(
          fmt::format("Corpus {} holds several atlases ({}): meta-training reads one parcellation per task. Choose a one-atlas corpus.", r.corpus, list));
    else if (r.kind != "pretrain" && !m.severalAtlases)
      p.push_back(
          fmt::format("Corpus {} holds several atlases ({}): {} reads one parcellation. The regressions and the graph models read several (one "
                      "model per atlas, probabilities averaged); or choose a one-atlas corpus.",
                      r.corpus, list, r.method));
    else if (r.kind != "pretrain" && !also.empty())
      p.push_back(
          fmt::format("Corpus {} holds several atlases ({}): choosing among configurations is for one-atlas corpora; keep one configuration.", r.corpus, list));
    else if (f.atlasFusion && r.atlasFusion == "embedding" && f.input && !r.input.empty() && r.input != "fc")
      p.push_back(
          fmt::format("A model over every atlas reads each atlas's stored Pearson FC; input {} is fitted per atlas. Choose the input fc, or one "
                      "model per atlas.",
                      r.input));
  }
  if (f.pretrained && !trimmed(r.pretrained).empty() && !std::filesystem::exists(trimmed(r.pretrained)))
    p.push_back("The pre-trained file " + trimmed(r.pretrained) + " does not exist.");
  if (f.folds && r.folds == 1) p.push_back("Cross-validation needs at least 2 folds.");
  std::vector<double> fractions = {1.0};
  if (f.labels) {
    try {
      fractions = launchLabelFractions(r.labels);
    } catch (const std::exception& e) {
      p.push_back(std::string(e.what()) + ".");
    }
  }
  if (r.kind == "meta-train" && r.tasks.size() < 2) p.push_back("Meta-training needs at least two tasks: tick them under Tasks.");
  if (r.device == "unavailable") p.push_back("This machine has no CUDA device LibTorch can use.");
  if (f.adaptScans && r.adaptScans > 0 && r.adaptScans < SiteStandardizer::kMinScans)
    p.push_back(fmt::format("A new site's statistics need at least {} of its scans.", SiteStandardizer::kMinScans));
  if (f.adaptLabelled && r.adaptLabelled && (r.adaptSharePercent == 0 || r.adaptSharePercent == 100))
    p.push_back("A batch of one class cannot be weighted by its labels: choose a mix between 1% and 99%, or leave the labels out.");
  if (f.regularisation && !trimmed(r.regularisation).empty()) {
    try {
      parseRegularisationGrid(trimmed(r.regularisation));
    } catch (const std::exception& e) {
      p.push_back(std::string(e.what()) + ".");
    }
  }
  if (!also.empty() && r.config.empty())
    p.push_back("Trying other configurations needs a Configuration file to compare them with (the paper defaults are not a file).");
  if (r.kind == "train" || r.kind == "evaluate") {
    // What the method itself accepts: the catalog's checks, the CLI's own.
    MethodRequest q;
    q.kind = r.kind;
    q.method = r.method;
    q.hasPretrained = f.pretrained && !trimmed(r.pretrained).empty();
    q.pretrainInFolds = inFolds;
    q.calibration = f.calibration ? r.calibration : std::string();
    q.regularisationGiven = f.regularisation && !trimmed(r.regularisation).empty();
    q.configurations = (r.config.empty() ? 0 : 1) + static_cast<int>(also.size());
    q.ensemble = f.ensemble ? r.ensemble : 0;
    q.ensembleValidationGiven = f.ensembleFolds;
    q.input = f.input ? r.input : std::string();
    q.labelFractions = fractions;
    for (const auto& problem : methodProblems(q)) p.push_back(problem + ".");
  }
  if (f.input && r.kind != "pretrain" && !r.input.empty() && r.input != "fc" && !m.isBaseline() && m.inputs.empty() &&
      m.pretrained == PretrainedUse::Required && trimmed(r.pretrained).empty() && !inFolds)
    // With a Pre-trained file the CLI checks that it learned this input (pretrain --input) and says so if not.
    p.push_back("Input \"" + r.input +
                "\" needs an encoder that learned it: train from scratch, pre-train BrainGFM in each fold (evaluate), or give a file pre-trained on "
                "it (pretrain with this Input).");
  return p;
}

std::vector<std::string> launchArguments(const LaunchRequest& r) {
  const auto f = launchFields(r);
  std::vector<std::string> a;
  const auto add = [&a](std::initializer_list<std::string> parts) { a.insert(a.end(), parts); };
  if (r.device != "auto") add({"--device", r.device});
  if (r.threads > 0) add({"--threads", std::to_string(r.threads)});
  const auto pretrained = trimmed(r.pretrained), output = trimmed(r.output);
  if (r.kind == "meta-train") {
    add({r.kind, "-w", r.workspace});
    for (const auto& t : r.tasks) add({"--corpus", t});
    if (!pretrained.empty()) add({"--pretrained", pretrained});
    if (!r.config.empty()) add({"--config", r.config});
    if (r.epochs > 0) add({"--meta-epochs", std::to_string(r.epochs)});
    if (r.firstOrder) add({"--first-order"});
    add({"--out", output});
    return a;
  }
  add({r.kind, "-w", r.workspace, "--corpus", r.corpus});
  const std::string input = f.input ? r.input : std::string();
  if (r.kind != "pretrain") {
    // The method's part of the command line, as the catalog spells it.
    MethodArguments m;
    m.method = r.method;
    if (f.pretrained) m.pretrained = pretrained;
    if (f.calibration) m.calibration = r.calibration;
    m.input = input;
    m.pretrainInFolds = pretrainsInFolds(r, f);
    for (const auto& part : methodCommandLine(m)) a.push_back(part);
  } else {
    if (r.foundationModel != "braingfm") add({"--model", r.foundationModel});
    if (!input.empty()) add({"--input", input});
  }
  if (!r.config.empty()) add({"--config", r.config});
  for (const auto& file : alsoTried(r, f)) add({"--config", file});
  if (f.regularisation && !trimmed(r.regularisation).empty()) {
    std::string c;
    for (char ch : r.regularisation)
      if (ch != ' ') c += ch;
    add({"--c", c});
  }
  // The method box keeps its choice while a pre-training is set up: it says nothing about pretrain's epochs.
  if (r.epochs > 0 && (r.kind == "pretrain" || !methodInfo(r.method).isBaseline())) add({"--epochs", std::to_string(r.epochs)});
  if (f.adaptNewSites && r.adaptNewSites) add({"--adapt-new-sites"});
  if (f.adaptScans && r.adaptScans > 0) add({"--adapt-scans", std::to_string(r.adaptScans)});
  if (f.adaptShare && r.adaptSharePercent >= 0) add({"--adapt-share", fmt::format("{:.6g}", r.adaptSharePercent / 100.0)});
  if (f.adaptLabelled && r.adaptLabelled) add({"--adapt-labelled"});
  if (f.ensemble && r.ensemble > 0) add({"--ensemble", std::to_string(r.ensemble)});
  if (f.crossAtlasViews && r.crossAtlasViews) add({"--cross-atlas-views"});
  if (f.atlasFusion && r.atlasFusion == "embedding") add({"--atlas-fusion", "embedding"});
  if (f.ensembleFolds) add({"--ensemble-validation", r.ensembleFolds ? "folds" : "shared"});
  if (pretrainsInFolds(r, f) && r.pretrainInFolds != "paper") add({"--pretrain-config", r.pretrainInFolds});
  if (f.folds && r.folds > 1) add({"--cv", std::to_string(r.folds)});
  if (f.leaveSiteOut && r.leaveSiteOut) add({"--leave-site-out"});
  if (f.labels) {
    try {
      const auto fractions = launchLabelFractions(r.labels);
      std::string list;
      for (double x : fractions) list += (list.empty() ? "" : ",") + fmt::format("{:.6g}", x);
      if (fractions.size() > 1)
        add({"--regimes", list});
      else if (fractions.front() != 1.0)
        add({"--label-fraction", list});
    } catch (const std::exception&) {
      // named by launchProblems, which keeps Launch disabled
    }
  }
  if (r.kind == "evaluate" && !trimmed(r.name).empty()) add({"--name", trimmed(r.name)});
  if (!output.empty()) add({"--out", output});
  return a;
}

}  // namespace bg
