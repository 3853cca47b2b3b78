#include "report/Diagnosis.h"

#include "platform/Clock.h"
#include "workspace/ReportStore.h"

#include <map>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <regex>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "atlas/AtlasRegistry.h"
#include "atlas/RoiPlacement.h"
#include "connectome/GraphInputSpec.h"
#include "errors/Error.h"
#include "workspace/WorkspaceQueries.h"
#include "eval/AtlasEnsemble.h"
#include "eval/Calibration.h"
#include "io/AtomicFile.h"
#include "platform/Versions.h"
#include "settings/DataPaths.h"
#include "settings/UserDirs.h"
#include "workspace/ContentHash.h"
#include "workspace/Derivation.h"
#include "workspace/Workspace.h"

namespace bg {
using nlohmann::json;

namespace {

std::string randomHex(int digits) {
  std::random_device rd;
  std::string s;
  const char* hex = "0123456789abcdef";
  for (int i = 0; i < digits; ++i) s += hex[rd() % 16];
  return s;
}

std::string newReportId() { return std::string("BGR-").append(utcNow("%Y%m%d")).append("-").append(randomHex(8)); }

json fileEntry(const std::string& role, const std::filesystem::path& file) {
  return {{"role", role},
          {"file", std::filesystem::absolute(file).lexically_normal().string()},
          {"name", file.filename().string()},
          {"bytes", std::filesystem::file_size(file)},
          {"hash", hashFile(file)},
          {"hash_algorithm", "XXH3-128"}};
}

// What a reader of the report must know about where the model can be trusted.
json modelLimits(const ModelCard& card) {
  if (card.stored.contains("limits") && card.stored["limits"].is_array()) return card.stored["limits"];
  json limits = json::array();
  limits.push_back(
      fmt::format("Trained on {} scans of the corpus '{}' ({} parcellation). Accuracy on other sites, scanners, ages, "
                  "populations or preprocessing has not been established.",
                  card.corpusItems, card.corpusName.empty() ? "?" : card.corpusName, card.inputs.empty() ? "?" : card.atlasLabel()));
  if (card.validation)
    limits.push_back(card.validation->outOfFold
                         ? fmt::format("Validation metrics are out-of-fold scores of the {} training scans (each scored by a cross-fitted model that "
                                       "did not see it) in the same corpus, not from an independent clinical cohort.",
                                       card.validation->scans)
                         : fmt::format("Validation metrics come from {} held-out scans of the same corpus, not from an independent clinical cohort.",
                                       card.validation->scans));
  limits.push_back(
      "Functional connectivity is sensitive to head motion, scan length and sleep; a poor-quality scan can give a confident but "
      "wrong answer.");
  limits.push_back("Research use only. Not a medical device; the result does not replace a clinical assessment.");
  return limits;
}

// For a model standardised per site: whose statistics the scan's edges were z-scored with.
std::string siteStatisticsDescription(const json& stats, const ModelCard& model) {
  const auto& card = model.stored;  // the per-site statistics are the transform's own record
  const auto site = stats.value("site", std::string());
  const auto standardisation = card.value("input_transform", json::object()).value("site_standardisation", json::object());
  if (stats.value("own", false)) {
    const auto entry = standardisation.value("sites", json::object()).value(site, json::object());
    const int scans = entry.value("scans", 0);
    if (!stats.value("adapted", false)) return fmt::format("site '{}': its own statistics, from {} of the model's training scans", site, scans);
    // The latest adaptation to this site says whether its batch's diagnoses weighted the statistics.
    json record;
    for (const auto& a : card.value("site_adaptations", json::array()))
      if (a.value("site", std::string()) == site) record = a;
    const auto& classes = model.classes;
    const auto counts = record.value("class_counts", json::array());
    if (record.value("labelled", false) && classes.size() == 2 && counts.size() == 2)
      return fmt::format(
          "site '{}': its own statistics, adapted from {} scans of the site with known diagnoses ({} {}, {} {}), weighted to the "
          "training mix ({:.0f}% {}) (adapt-site --labels)",
          site, scans, counts[0].get<int>(), classes[0], counts[1].get<int>(), classes[1], 100 * record.value("weighted_positive_fraction", 0.5), classes[1]);
    return fmt::format("site '{}': its own statistics, adapted from {} unlabelled scans of the site (adapt-site)", site, scans);
  }
  const int pooled = standardisation.value("pooled", json::object()).value("scans", 0);
  return fmt::format("pooled over the model's {} training scans: {}; the scan's site offset is not removed", pooled,
                     site.empty() ? std::string("no site was given") : "site '" + site + "' is not one the model knows");
}

// The steps applied to this scan, as sentences: only what ran (no confound regression without a
// confounds file, no extraction for a time-series input).
json methodSteps(const DiagnosisCase& c, const std::string& modelDescription, const std::string& connectivity) {
  const auto& card = c.model;
  const auto atlas = card.inputs.empty() ? std::string("?") : card.atlas();
  const PipelineOptions o = card.inputs.empty() ? PipelineOptions{} : card.inputs.front().pipeline;
  json steps = json::array();
  if (c.input.kind == "bold" && !c.members.empty()) {
    std::vector<std::string> parts;
    for (const auto& a : card.atlases()) parts.push_back(fmt::format("the {} regions of the {} atlas", c.members.at(a).fc.rows(), a));
    steps.push_back(
        fmt::format("The BOLD volume's {} time points were reduced, in one pass over the volume, to the mean signal of each of {}, "
                    "each atlas resampled to the scan's grid by nearest neighbour; each atlas's connectome went to its own model.",
                    c.input.volumes, fmt::join(parts, " and of ")));
  } else if (c.input.kind == "bold") {
    steps.push_back(
        fmt::format("The BOLD volume's {} time points were reduced to the mean signal of each of the {} regions of the {} atlas, "
                    "resampled to the scan's grid by nearest neighbour.",
                    c.input.volumes, c.input.fc.rows(), atlas));
  } else
    steps.push_back(
        fmt::format("The input was region time series already extracted in the {} parcellation ({} regions, {} time points); "
                    "no extraction was done here.",
                    atlas, c.input.fc.rows(), c.input.volumes));
  if (!o.clean) {
    steps.push_back("The signals were not cleaned (the model was trained on raw region means).");
  } else {
    std::vector<std::string> done;
    const auto& k = o.cleaning;
    done.push_back(k.detrendOrder == 0 ? "the mean removed" : k.detrendOrder == 1 ? "linearly detrended" : fmt::format("detrended (order {})", k.detrendOrder));
    if (k.bandpass)
      done.push_back(
          fmt::format("band-pass filtered to {:g}–{:g} Hz (zero-phase Butterworth, order {}, TR {:g} s)", k.lowHz, k.highHz, k.filterOrder, c.input.tr));
    const bool fd = c.input.qc.value("mean_fd_mm", json()).is_number() || c.input.qc.contains("censored_volumes");
    if (c.input.confounds) {
      done.push_back(fmt::format("the {} confounds of {} regressed out", fmt::join(o.confoundStrategies, " and "), c.input.confounds->filename().string()));
      if (fd && k.fdThreshold > 0) done.push_back(fmt::format("volumes with framewise displacement above {:g} mm censored", k.fdThreshold));
    }
    if (k.zscore) done.push_back("each region z-scored");
    std::string sentence = "Each region's signal was ";
    for (std::size_t i = 0; i < done.size(); ++i) sentence += (i == 0 ? "" : i + 1 == done.size() ? " and " : ", ") + done[i];
    steps.push_back(sentence + ".");
    if (!c.input.confounds) steps.push_back("No confounds file was given, so no confounds were regressed out and no volumes were censored.");
  }
  steps.push_back("Connectivity: " + connectivity + ".");
  steps.push_back("Model: " + modelDescription + ".");
  return steps;
}

// What a graph model is, in words: its architecture, how it was adapted, its ensemble, the choice of
// configuration and, for an imported checkpoint, which file it came from.
std::string graphModelDescription(const ModelCard& card, json& model) {
  static const std::map<std::string, std::string> names = {
      {"braingfm", "BrainGFM graph transformer"},
      {"brainmass", "BrainMass ROI transformer"},
      {"lcm", "LCM query decoder over FC memory"},
      {"gcn", "graph convolutional network (GCN)"},
      {"braingnn", "BrainGNN-style ROI-aware GNN"},
      {"transformer", "transformer over ROI tokens"},
      {"graph_transformer", "graph transformer"},
      {"brainnettf", "BrainNetTF-style transformer"},
      {"braingfm-public", "BrainGFM, the public code's architecture (graph prompt, mixture-of-experts transformer and GCN)"}};
  const auto nameOf = [&](const std::string& a) { return names.count(a) ? names.at(a) : a; };
  auto name = nameOf(card.architecture);
  if (card.combination == AtlasCombination::Fused)  // a network per atlas under one head
    name = fmt::format("one {} per atlas ({}), their representations combined under one head trained with one loss",
                       nameOf(card.inputs.front().architecture.empty() ? "braingfm" : card.inputs.front().architecture), card.atlasLabel());
  const auto& method = card.adaptation.empty() ? std::string("?") : card.adaptation;
  const std::string how = method == "scratch"  ? "trained from scratch"
                          : method == "linear" ? "linear probe on the pre-trained encoder"
                                               : "adapted by " + method;
  auto description = fmt::format("{}, {}{}", name, how, method == "prompt" ? " (" + card.prompt + ")" : "");
  const auto& stored = card.stored;
  if (card.ensembleMembers > 1)
    description += fmt::format("; an ensemble of {} members from different initial weights{}, calibrated probabilities averaged", card.ensembleMembers,
                               stored.value("tuning", json::object()).value("ensemble_validation", std::string()) == "folds"
                                   ? ", each validated on its own fold of the training scans"
                                   : "");
  // The configuration chosen among several by validation AUC (train --config A --config B).
  if (const auto sel = stored.value("config_selection", json()); sel.is_object() && sel.contains("candidates")) {
    std::vector<std::string> candidates;
    for (const auto& cand : sel["candidates"]) candidates.push_back(cand.value("name", std::string()));
    description +=
        fmt::format("; configuration {} chosen from {{{}}} by AUC on its validation scans", sel.value("chosen", std::string()), fmt::join(candidates, ", "));
  }
  // An imported published checkpoint: which file, by its SHA-256, and the tokens it read.
  const auto origin = stored.value("origin", json::object());
  if (const auto info = origin.value("pretrained_info", json::object()); info.value("kind", std::string()) == kPublicImportKind) {
    const auto source = info.value("source", json::object());
    const auto tokens = stored.value("tokens", json::object());
    description +=
        fmt::format("; from the published checkpoint {} (SHA-256 {}), imported with model import, read with the atlas token '{}' and the disease token '{}'",
                    source.value("file_name", std::string("?")), source.value("sha256", std::string("?")), tokens.value("atlas", std::string("?")),
                    tokens.value("disease", std::string("?")));
    for (const auto& note : tokens.value("notes", json::array()))  // e.g. a stand-in atlas token for CC200
      description += "; " + note.get<std::string>();
    model["source_checkpoint"] = {{"file", source.value("file_name", std::string())},
                                  {"sha256", source.value("sha256", std::string())},
                                  {"licence", info.value("licence", std::string())}};
  }
  return description;
}

std::string regressionDescription(const ModelCard& card) {
  std::string chosen;  // C chosen by cross-validation inside the training scans (train --c LIST)
  if (const auto sel = card.stored.value("c_selection", json()); sel.is_object() && sel.contains("grid")) {
    std::vector<std::string> grid;
    for (const auto& v : sel["grid"]) grid.push_back(fmt::format("{:g}", v.get<double>()));
    chosen = fmt::format(", chosen from {{{}}} by {}-fold cross-validation on the training scans", fmt::join(grid, ", "), sel.value("inner_folds", 0));
  }
  return fmt::format("L2 logistic regression (C = {:g}{}) on the standardised {}", card.c, chosen,
                     card.tangent
                         ? "tangent-space embedding of the Ledoit-Wolf covariance (upper triangle with the diagonal) around the training scans' geometric mean"
                         : "Fisher-z upper triangle of the FC matrix");
}

std::string atlasEnsembleDescription(const ModelCard& card) {
  std::vector<std::string> parts;
  if (!card.baseline) {  // graph-model members, each in its own file
    for (const auto& m : card.inputs)
      parts.push_back(fmt::format("{} ({}, {})", m.atlas, m.architecture.empty() ? "braingfm" : m.architecture, m.adaptation.empty() ? "?" : m.adaptation));
    return fmt::format("one graph model per atlas, each trained as a one-atlas model: {}; the result is the mean of the members' calibrated probabilities",
                       fmt::join(parts, ", "));
  }
  for (const auto& m : card.inputs) parts.push_back(fmt::format("{} (C = {:g}, {} ROIs)", m.atlas, m.c, m.nodes));
  return fmt::format("one L2 logistic regression per atlas on the standardised {}: {}; the result is the mean of the members' calibrated probabilities",
                     card.tangent ? "tangent-space embedding of the Ledoit-Wolf covariance" : "Fisher-z upper triangle of the FC matrix",
                     fmt::join(parts, ", "));
}

std::string calibrationOf(const ModelCard& card) {
  if (card.combination == AtlasCombination::Averaged && !card.baseline)
    return "each atlas's model was calibrated on its own validation scans, as a one-atlas model is; the members' calibrated probabilities were averaged";
  if (card.combination == AtlasCombination::Averaged)
    return "each atlas's regression was calibrated (" + card.calibration +
           ") on its out-of-fold margins from cross-fitting inside its training scans, then refitted on all of them; the members' "
           "calibrated probabilities were averaged";
  auto d = calibrationDescription(card.calibration, cardCalibration(card.stored));
  const std::string split = "the model's validation split";
  if (card.crossFitted) {
    // Each fold model has its own calibration; the card's is member 1's.
    d.replace(d.find(split), split.size(),
              "the left-out fold of each of the " + card.stored.at("deployment").value("members", json(0)).dump() +
                  " cross-fitted fold models (shown: the first's), whose calibrated probabilities are averaged");
    return d;
  }
  if (card.validation && card.validation->outOfFold)  // cross-fitted: no validation split
    d.replace(d.find(split), split.size(),
              "the out-of-fold scores of " + std::to_string(card.stored.value("training", json::object()).value("cross_fit_folds", 0)) +
                  " cross-fitted models, the model itself refitted on every training scan");
  return d;
}

json methodsOf(const DiagnosisCase& c, const std::filesystem::path& modelFile) {
  const auto& card = c.model;
  json model = {{"file", std::filesystem::absolute(modelFile).lexically_normal().string()},
                {"hash", hashFile(modelFile)},
                {"kind", card.kindName},
                {"atlas", card.atlasLabel()},
                {"classes", card.classes},
                {"temperature", card.temperature},
                {"calibration_bias", card.calibrationBias}};
  if (card.combination == AtlasCombination::Averaged)
    model["description"] = atlasEnsembleDescription(card);
  else if (card.baseline)
    model["description"] = regressionDescription(card);
  else {
    model["description"] = graphModelDescription(card, model);
    model["trainable_parameters"] = card.trainableParameters;
  }
  const std::string connectivity =
      !card.baseline ? graphInputOfCard(card.stored).description()
      : card.tangent ? std::string("Ledoit-Wolf covariance of the cleaned ROI mean time series, in the tangent space at the training scans' geometric mean")
                     : std::string("Pearson correlation of the cleaned ROI mean time series");
  json rois = c.input.fc.rows();
  if (!c.members.empty()) {  // a multi-atlas model: every atlas and its ROI count
    rois = json::object();
    for (const auto& a : card.atlases()) rois[a] = c.members.at(a).fc.rows();
  }
  return {{"input_kind", c.input.kind},
          {"atlas", card.atlasLabel()},
          {"rois", rois},
          {"cleaning", card.inputs.empty() ? json::object() : card.inputs.front().preprocessing},
          {"connectivity", connectivity},
          {"steps", methodSteps(c, model.value("description", card.kindName), connectivity)},
          {"model", model},
          {"calibration", calibrationOf(card)},
          {"decision", "the positive class when its calibrated probability is at least the threshold"}};
}

}  // namespace

std::string patientIdFromFileName(const std::filesystem::path& file) {
  const auto name = file.filename().string();
  std::smatch m;
  if (std::regex_search(name, m, std::regex("sub-([A-Za-z0-9]+)"))) return "sub-" + m[1].str();
  auto stem = name.substr(0, name.find('.'));
  if (const auto at = stem.find("_rois_"); at != std::string::npos) stem = stem.substr(0, at);  // ABIDE: SITE_subject_rois_atlas
  return stem;
}

std::string pseudonymFor(const std::string& id) {
  const auto saltFile = userConfigDir() / "pseudonym.salt";
  std::string salt;
  {
    std::ifstream in(saltFile);
    std::getline(in, salt);
  }
  if (salt.size() < 32) {
    salt = randomHex(64);
    std::filesystem::create_directories(saltFile.parent_path());
    writeTextAtomically(saltFile, salt + "\n");
  }
  return "PSN-" + hashBytes(salt.data(), salt.size(), id.data(), id.size()).substr(0, 12);
}

json summariseExplanation(json e, const std::vector<std::string>& networks, int rois) {
  auto padded = networks;
  padded.resize(static_cast<std::size_t>(std::max(rois, 0)));
  return summariseExplanation(std::move(e), std::vector<std::vector<std::string>>{padded});
}

json summariseExplanation(json e, const std::vector<std::vector<std::string>>& networksPerAtlas) {
  const int rois = networksPerAtlas.empty() ? 0 : static_cast<int>(networksPerAtlas.front().size());
  if (rois < 1 || !e.is_object()) return e;
  constexpr double kStandsOut = 1.5;
  const double even = 1.0 / rois;
  std::vector<std::string> standout;
  std::string largest;
  double largestMultiple = 0;
  bool ownAtlas = false;  // a multi-atlas model: each ROI against an even share of its own atlas's ROIs
  if (e.contains("top_rois"))
    for (auto& t : e["top_rois"]) {
      ownAtlas = ownAtlas || t.contains("atlas_rois");
      const double multiple = t.value("saliency", 0.0) * t.value("atlas_rois", rois);
      t["even_multiple"] = multiple;
      const auto name = t.value("name", std::string("?"));
      if (multiple > largestMultiple) {
        largestMultiple = multiple;
        largest = name;
      }
      if (multiple > kStandsOut) standout.push_back(name);
    }
  // A network's regions over every atlas, and its even share: its fraction of each atlas's ROIs,
  // averaged over the atlases as a multi-atlas model's shares are.
  std::map<std::string, int> regions;
  std::map<std::string, double> evenShareOf;
  for (const auto& networks : networksPerAtlas) {
    if (networks.empty()) continue;
    for (const auto& n : networks) {
      const auto name = n.empty() ? std::string("unassigned") : n;
      ++regions[name];
      evenShareOf[name] += 1.0 / static_cast<double>(networks.size()) / static_cast<double>(networksPerAtlas.size());
    }
  }
  if (e.contains("networks") && e["networks"].is_object())
    for (auto& [name, v] : e["networks"].items()) {
      const int count = regions.count(name) ? regions[name] : 0;
      v["regions"] = count;
      if (count > 0) v["per_region"] = v.value("saliency", 0.0) / evenShareOf[name];  // 1 = an even share per region
    }
  const std::string evenShare = ownAtlas ? std::string("1 over the ROI count of the region's own atlas") : "1/" + std::to_string(rois);
  std::string statement;
  if (largest.empty())
    statement = "No regional saliency is available for this model.";
  else if (standout.empty())
    statement = fmt::format(
        "No region stands out: the largest share, {}'s, is {:.2f} times an even share ({}) of the saliency, below the "
        "{:.1f} times that would single a region out; the prediction rests on many regions together.",
        largest, largestMultiple, evenShare, kStandsOut);
  else
    statement = fmt::format("{} region{} carried more than {:.1f} times an even share ({}) of the saliency; {} contributed most ({:.2f} times).",
                            standout.size(), standout.size() == 1 ? "" : "s", kStandsOut, evenShare, largest, largestMultiple);
  e["summary"] = {{"even_share", even}, {"stands_out_above", kStandsOut}, {"standing_out", standout}, {"statement", statement}};
  return e;
}

DiagnosisCase prepareDiagnosis(const DiagnosisRequest& r, const AtlasRegistry* registry, ProgressDelegate& progress, Workspace* ws) {
  DiagnosisCase c;
  c.model = ModelCard::read(r.modelFile);
  PredictionInputOptions o;
  o.tr = r.tr;
  o.confounds = r.confounds;
  o.requireFullCoverage = false;
  if (c.model.readsSeveralAtlases()) {
    const auto atlases = c.model.atlases();
    if (!isNiftiPath(r.input))
      throw Error(ErrorCode::Usage, r.modelFile.string() + " reads each scan through " + fmt::format("{}", fmt::join(atlases, " and ")) +
                                        ": a diagnosis needs the BOLD file (parcellated with each atlas in one pass), not one time-series file. " +
                                        "With time series, classify the scan with predict and one file per atlas");
    c.members = loadBoldPredictionInputs(r.input, c.model.inputs, registry, o, progress);
    for (auto& [atlas, in] : c.members) in.site = r.site;
    c.input = c.members.at(atlases.front());
  } else {
    c.input = loadPredictionInput(r.input, c.model, registry, o, progress);
  }
  c.input.site = r.site;
  std::optional<RecordedMotion> recorded;
  if (ws && !c.input.confounds)
    if (const auto v = scanPhenotype(*ws, c.input.contentHash, "mean_fd")) {
      char* end = nullptr;
      const double fd = std::strtod(v->c_str(), &end);
      if (end != v->c_str() && std::isfinite(fd)) recorded = RecordedMotion{fd, "the workspace's record of this scan (phenotype mean_fd)"};
    }
  c.qc = assessQuality(c.input, r.thresholds, recorded);
  return c;
}

void enforceQualityGate(const DiagnosisRequest& r, const QcReport& qc) {
  if (!qc.failed() || !r.qcOverrideReason.empty()) return;
  std::string list;
  for (const auto& f : qc.failures()) list.append(list.empty() ? "" : "; ").append(f);
  const std::string what =
      qc.overall() == "incomplete" ? "quality control is incomplete (the site's policy blocks incomplete checks) for " : "quality control failed for ";
  throw Error(ErrorCode::Data,
              what + r.input.filename().string() + ": " + list + ". The scan is not classified; override only with a recorded reason (--override-qc REASON)");
}

json runDiagnosis(const DiagnosisRequest& r, const AtlasRegistry* registry, Workspace* ws, ProgressDelegate& progress) {
  return withContext("while diagnosing " + r.input.filename().string(), [&] {
    ProgressRange prep(progress, 0.0, 0.6);
    const auto c = prepareDiagnosis(r, registry, prep, ws);
    enforceQualityGate(r, c.qc);
    ProgressRange pred(progress, 0.6, 0.95);
    const auto& card = c.model;
    auto row = c.members.empty()                             ? predictInput(r.modelFile, card, c.input, r.device, r.threads, pred)
               : card.combination == AtlasCombination::Fused ? predictFusedInput(r.modelFile, card, c.members, r.device, r.threads, pred)
                                                             : predictAtlasEnsemble(r.modelFile, card, c.members, pred, r.device, r.threads);

    json record;
    record["schema"] = "braingraph-report/1";
    record["report_id"] = newReportId();
    record["created"] = nowIso8601();
    record["software"] = {{"name", "BrainGraph Workbench"}, {"version", braingraphVersion()}};
    const std::string given = r.patientId.empty() ? patientIdFromFileName(r.input) : r.patientId;
    record["patient"] = {
        {"id", r.pseudonymise ? pseudonymFor(given) : given}, {"pseudonymised", r.pseudonymise}, {"source", r.patientId.empty() ? "file name" : "entered"}};
    if (ws)  // what the workspace knows of this subject, for the header
      for (const char* field : {"age", "sex"})
        if (const auto v = scanPhenotype(*ws, c.input.contentHash, field)) record["patient"][field] = *v;
    record["operator"] = r.operatorName;
    json inputs = json::array({fileEntry("scan", r.input)});
    inputs[0]["kind"] = c.input.kind;
    if (c.input.confounds) inputs.push_back(fileEntry("confounds", *c.input.confounds));
    inputs.push_back(fileEntry("model", r.modelFile));
    record["inputs"] = inputs;
    auto qc = c.qc.toJson();
    qc["thresholds"] = r.thresholds.toJson();
    qc["volumes"] = c.input.volumes;
    qc["tr_seconds"] = c.input.tr;
    qc["override"] = c.qc.failed() ? json{{"reason", r.qcOverrideReason}, {"by", r.operatorName}} : json(nullptr);
    if (c.qc.overall() == "incomplete" && !c.qc.failed())
      qc["note"] = "The run went ahead with an incomplete check, " + c.qc.verdict().substr(c.qc.verdict().find("— ") + 4) +
                   " (the site's QC policy for incomplete checks: warn)";
    record["qc"] = qc;
    record["methods"] = methodsOf(c, r.modelFile);
    if (row.contains("site_statistics")) record["methods"]["site_statistics"] = siteStatisticsDescription(row["site_statistics"], card);
    record["result"] = {{"label", row.at("label")},
                        {"probability", row.at("probability")},
                        {"positive_class", card.positiveClass},
                        {"negative_class", card.classes.size() == 2 ? json(card.negativeClass()) : json()},
                        {"threshold", 0.5},
                        {"interval", row.value("interval", json())},
                        {"ood", row.value("ood", json())},
                        {"in_training_set", row.value("in_training_set", json())}};
    // The explanation with each ROI's place in MNI space, for the glass brain.
    auto explanation = row.value("explanation", json::object());
    explanation.erase("edge_saliency");
    json top = json::array();  // a region that carried none of the saliency is no top region (a model that ignores it)
    for (const auto& t : row.value("top_rois", json::array()))
      if (!t.contains("saliency") || t["saliency"].get<double>() > 0) top.push_back(t);
    try {
      // A multi-atlas model's top ROIs come from either atlas: each is placed in its own atlas, and its
      // share is weighed against an even share of its own atlas's ROIs.
      const auto placement = roiPlacement(registry, card.atlas(), static_cast<int>(c.input.fc.rows()));
      std::map<std::string, RoiPlacement> memberPlacements;  // once per atlas: a placement may read the label volume
      for (auto& t : top) {
        const auto i = t.at("index").get<std::size_t>();
        if (t.contains("atlas") && c.members.count(t["atlas"].get<std::string>())) {
          const auto atlasId = t["atlas"].get<std::string>();
          const auto& member = c.members.at(atlasId);
          t["atlas_rois"] = static_cast<int>(member.fc.rows());
          auto own = memberPlacements.find(atlasId);
          if (own == memberPlacements.end()) own = memberPlacements.emplace(atlasId, roiPlacement(registry, atlasId, static_cast<int>(member.fc.rows()))).first;
          if (i < own->second.positions.size() && own->second.positions[i]) t["position_mni"] = *own->second.positions[i];
          continue;
        }
        if (i < placement.positions.size() && placement.positions[i]) t["position_mni"] = *placement.positions[i];
      }
      json all = json::array();
      for (const auto& p : placement.positions) all.push_back(p ? json(*p) : json(nullptr));
      explanation["roi_positions_mni"] = all;
    } catch (const Error& e) {
      spdlog::warn("no ROI positions for the glass brain: {}", e.what());
    }
    explanation["top_rois"] = top;
    std::vector<std::vector<std::string>> networks;  // each atlas's ROIs' networks (a multi-atlas model's shares average its atlases)
    const auto addNetworks = [&](const PredictionInput& in) {
      networks.push_back(in.networks);
      networks.back().resize(static_cast<std::size_t>(in.fc.rows()));  // "" = unassigned
    };
    if (c.members.empty())
      addNetworks(c.input);
    else
      for (const auto& a : card.atlases()) addNetworks(c.members.at(a));
    record["explanation"] = summariseExplanation(explanation, networks);
    const auto& stored = card.stored;  // the record quotes these as the card holds them
    record["model_card"] = {{"kind", card.kindName},
                            {"training_data", stored.value("corpus", json::object())},
                            {"label_field", card.labelField},
                            {"classes", card.classes},
                            {"validation", stored.value("validation", json())},
                            {"deployment", stored.value("deployment", json())},  // what the file learned from
                            {"evaluation", stored.value("evaluation", json())},
                            {"release", stored.value("release", json())},
                            {"trainable_parameters", card.trainableParameters},
                            {"code_version", card.codeVersion},
                            {"limits", modelLimits(card)}};
    record["figures"] = {{"convention", r.displayConvention}};  // the glass brain's left-right convention
    record["signoff"] = nullptr;
    if (ws) {
      record["prediction_id"] =
          recordPrediction(*ws, c.input, r.modelFile, card, row.at("label").get<std::string>(), row.at("probability").get<double>(), explanation);
      saveReportRecord(*ws, record);
    }
    progress.update("done", 1.0);
    return record;
  });
}

json recordFromPrediction(Workspace& ws, std::int64_t predictionId) {
  const auto stored = loadPrediction(ws, predictionId);
  if (!stored) throw Error(ErrorCode::NoInput, "the workspace has no prediction " + std::to_string(predictionId));
  const auto card = ModelCard::fromJson(stored->card, "the stored card of prediction " + std::to_string(predictionId));
  const std::filesystem::path scan = stored->scanPath, model = stored->modelPath;
  json record;
  record["schema"] = "braingraph-report/1";
  // Deterministic: regenerating from the same prediction gives the same report id.
  record["report_id"] = "BGR-P" + std::to_string(predictionId) + "-" + stored->scanHash.substr(0, 8);
  record["created"] = stored->createdAt;
  record["software"] = {{"name", "BrainGraph Workbench"}, {"version", braingraphVersion()}};
  record["patient"] = {{"id", patientIdFromFileName(scan)}, {"pseudonymised", false}, {"source", "file name"}};
  record["operator"] = "";
  record["inputs"] = json::array(
      {{{"role", "scan"},
        {"file", scan.string()},
        {"name", scan.filename().string()},
        {"kind", stored->scanKind},
        {"hash", stored->scanHash},
        {"hash_algorithm", "XXH3-128"}},
       {{"role", "model"}, {"file", model.string()}, {"name", model.filename().string()}, {"hash", stored->modelHash}, {"hash_algorithm", "XXH3-128"}}});
  record["qc"] = {{"items", json::array()},
                  {"overall", "not assessed"},
                  {"override", nullptr},
                  {"note", "this prediction was made with `predict`, which runs no quality control; use `diagnose` for a gated report"}};
  record["methods"] = {{"atlas", card.atlasLabel()},
                       {"cleaning", card.inputs.empty() ? json::object() : card.inputs.front().preprocessing},
                       {"connectivity", graphInputOfCard(card.stored).description()},
                       {"model", {{"file", model.string()}, {"hash", stored->modelHash}, {"kind", card.kindName}}}};
  record["result"] = {{"label", stored->label},
                      {"probability", stored->probability},
                      {"positive_class", card.positiveClass},
                      {"negative_class", card.classes.size() == 2 ? json(card.negativeClass()) : json()},
                      {"threshold", 0.5},
                      {"interval", nullptr},
                      {"ood", nullptr}};
  record["explanation"] = stored->explanation;
  record["model_card"] = {{"kind", card.kindName},
                          {"training_data", card.stored.value("corpus", json::object())},
                          {"classes", card.classes},
                          {"validation", card.stored.value("validation", json())},
                          {"deployment", card.stored.value("deployment", json())},
                          {"evaluation", card.stored.value("evaluation", json())},
                          {"release", card.stored.value("release", json())},
                          {"limits", modelLimits(card)}};
  record["signoff"] = nullptr;
  record["prediction_id"] = predictionId;
  return record;
}

void signReport(json& record, const std::string& clinician, const std::string& impression, const std::string& signedAt) {
  if (clinician.empty()) throw Error(ErrorCode::Usage, "a sign-off needs the clinician's name");
  record["signoff"] = {{"clinician", clinician}, {"impression", impression}, {"signed_at", signedAt.empty() ? nowIso8601() : signedAt}};
}

}  // namespace bg
