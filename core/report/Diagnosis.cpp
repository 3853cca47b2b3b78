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
json modelLimits(const json& card) {
  if (card.contains("limits") && card["limits"].is_array()) return card["limits"];
  json limits = json::array();
  const auto corpus = card.value("corpus", json::object());
  limits.push_back(
      fmt::format("Trained on {} scans of the corpus '{}' ({} parcellation). Accuracy on other sites, scanners, ages, "
                  "populations or preprocessing has not been established.",
                  corpus.value("items", 0), corpus.value("name", std::string("?")), card.value("atlas", std::string("?"))));
  if (card.contains("validation"))
    limits.push_back(card["validation"].value("out_of_fold", false)
                         ? fmt::format("Validation metrics are out-of-fold scores of the {} training scans (each scored by a cross-fitted model that "
                                       "did not see it) in the same corpus, not from an independent clinical cohort.",
                                       card["validation"].value("n", 0))
                         : fmt::format("Validation metrics come from {} held-out scans of the same corpus, not from an independent clinical cohort.",
                                       card["validation"].value("n", 0)));
  limits.push_back(
      "Functional connectivity is sensitive to head motion, scan length and sleep; a poor-quality scan can give a confident but "
      "wrong answer.");
  limits.push_back("Research use only. Not a medical device; the result does not replace a clinical assessment.");
  return limits;
}

// For a model standardised per site: whose statistics the scan's edges were z-scored with.
std::string siteStatisticsDescription(const json& stats, const json& card) {
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
    const auto classes = card.value("classes", json::array());
    const auto counts = record.value("class_counts", json::array());
    if (record.value("labelled", false) && classes.size() == 2 && counts.size() == 2)
      return fmt::format(
          "site '{}': its own statistics, adapted from {} scans of the site with known diagnoses ({} {}, {} {}), weighted to the "
          "training mix ({:.0f}% {}) (adapt-site --labels)",
          site, scans, counts[0].get<int>(), classes[0].get<std::string>(), counts[1].get<int>(), classes[1].get<std::string>(),
          100 * record.value("weighted_positive_fraction", 0.5), classes[1].get<std::string>());
    return fmt::format("site '{}': its own statistics, adapted from {} unlabelled scans of the site (adapt-site)", site, scans);
  }
  const int pooled = standardisation.value("pooled", json::object()).value("scans", 0);
  return fmt::format("pooled over the model's {} training scans: {}; the scan's site offset is not removed", pooled,
                     site.empty() ? std::string("no site was given") : "site '" + site + "' is not one the model knows");
}

// The steps applied to this scan, as sentences: only what ran (no confound regression without a
// confounds file, no extraction for a time-series input).
json methodSteps(const DiagnosisCase& c, const std::string& modelDescription, const std::string& connectivity) {
  const auto& card = c.model.card;
  const auto atlas = card.value("atlas", std::string("?"));
  const auto pre = card.contains("preprocessing") && !card["preprocessing"].empty() ? card["preprocessing"].dump() : std::string();
  const PipelineOptions o = pre.empty() ? PipelineOptions{} : pipelineOptionsFromJson(pre);
  json steps = json::array();
  if (c.input.kind == "bold" && !c.members.empty()) {
    std::vector<std::string> parts;
    for (const auto& a : card.at("atlases"))
      parts.push_back(fmt::format("the {} regions of the {} atlas", c.members.at(a.get<std::string>()).fc.rows(), a.get<std::string>()));
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

json methodsOf(const DiagnosisCase& c, const std::filesystem::path& modelFile) {
  const auto& card = c.model.card;
  json model = {{"file", std::filesystem::absolute(modelFile).lexically_normal().string()},
                {"hash", hashFile(modelFile)},
                {"kind", card.value("kind", std::string())},
                {"atlas", card.value("atlas", std::string())},
                {"classes", card.value("classes", json::array())},
                {"temperature", card.value("temperature", 1.0)},
                {"calibration_bias", card.value("calibration_bias", 0.0)}};
  if (isAtlasEnsemble(card) && card.contains("member_files")) {
    std::vector<std::string> parts;
    for (const auto& m : card.at("members"))
      parts.push_back(fmt::format("{} ({}, {})", m.value("atlas", std::string("?")), m.value("architecture", std::string("braingfm")),
                                  m.value("adaptation", json::object()).value("method", std::string("?"))));
    model["description"] = fmt::format(
        "one graph model per atlas, each trained as a one-atlas model: {}; the result is the mean of the members' "
        "calibrated probabilities",
        fmt::join(parts, ", "));
    model["atlas"] = fmt::format("{}", fmt::join(card.at("atlases").get<std::vector<std::string>>(), " + "));
  } else if (isAtlasEnsemble(card)) {
    std::vector<std::string> parts;
    for (const auto& m : card.at("members"))
      parts.push_back(fmt::format("{} (C = {:g}, {} ROIs)", m.value("atlas", std::string("?")), m.value("c", 0.0), m.value("nodes", 0)));
    const bool tangent = !card.at("members").empty() && card["members"][0].contains("tangent_reference");
    model["description"] =
        fmt::format("one L2 logistic regression per atlas on the standardised {}: {}; the result is the mean of the members' calibrated probabilities",
                    tangent ? "tangent-space embedding of the Ledoit-Wolf covariance" : "Fisher-z upper triangle of the FC matrix", fmt::join(parts, ", "));
    model["atlas"] = fmt::format("{}", fmt::join(card.at("atlases").get<std::vector<std::string>>(), " + "));
  } else if (c.model.baseline) {
    std::string chosen;  // C chosen by cross-validation inside the training scans (train --c LIST)
    if (const auto sel = card.value("c_selection", json()); sel.is_object() && sel.contains("grid")) {
      std::vector<std::string> grid;
      for (const auto& v : sel["grid"]) grid.push_back(fmt::format("{:g}", v.get<double>()));
      chosen = fmt::format(", chosen from {{{}}} by {}-fold cross-validation on the training scans", fmt::join(grid, ", "), sel.value("inner_folds", 0));
    }
    const bool tangent = card.contains("tangent_reference");
    model["description"] = fmt::format(
        "L2 logistic regression (C = {:g}{}) on the standardised {}", card.value("c", 0.0), chosen,
        tangent ? "tangent-space embedding of the Ledoit-Wolf covariance (upper triangle with the diagonal) around the training scans' geometric mean"
                : "Fisher-z upper triangle of the FC matrix");
  } else {
    const auto adaptation = card.value("adaptation", json::object());
    const auto architecture = card.value("architecture", std::string("braingfm"));
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
    auto name = names.count(architecture) ? names.at(architecture) : architecture;
    if (isFusedAtlasModel(card)) {  // a network per atlas under one head
      const auto member = card.at("members").at(0).value("architecture", std::string("braingfm"));
      name = fmt::format("one {} per atlas ({}), their representations combined under one head trained with one loss",
                         names.count(member) ? names.at(member) : member, fmt::join(card.at("atlases").get<std::vector<std::string>>(), " + "));
      model["atlas"] = fmt::format("{}", fmt::join(card.at("atlases").get<std::vector<std::string>>(), " + "));
    }
    const auto method = adaptation.value("method", std::string("?"));
    const std::string how = method == "scratch"  ? "trained from scratch"
                            : method == "linear" ? "linear probe on the pre-trained encoder"
                                                 : "adapted by " + method;
    model["description"] = fmt::format("{}, {}{}", name, how, method == "prompt" ? " (" + adaptation.value("prompt", std::string()) + ")" : "");
    if (card.contains("ensemble") && card["ensemble"].is_array() && card["ensemble"].size() > 1)
      model["description"] =
          model["description"].get<std::string>() +
          fmt::format("; an ensemble of {} members from different initial weights{}, calibrated probabilities averaged", card["ensemble"].size(),
                      card.value("tuning", json::object()).value("ensemble_validation", std::string()) == "folds"
                          ? ", each validated on its own fold of the training scans"
                          : "");
    // The configuration chosen among several by validation AUC (train --config A --config B).
    if (const auto sel = card.value("config_selection", json()); sel.is_object() && sel.contains("candidates")) {
      std::vector<std::string> candidates;
      for (const auto& cand : sel["candidates"]) candidates.push_back(cand.value("name", std::string()));
      model["description"] = model["description"].get<std::string>() + fmt::format("; configuration {} chosen from {{{}}} by AUC on its validation scans",
                                                                                   sel.value("chosen", std::string()), fmt::join(candidates, ", "));
    }
    // An imported published checkpoint: which file, by its SHA-256, and the tokens it read.
    const auto origin = card.value("origin", json::object());
    if (const auto info = origin.value("pretrained_info", json::object()); info.value("kind", std::string()) == "braingfm-public-import") {
      const auto source = info.value("source", json::object());
      const auto tokens = card.value("tokens", json::object());
      model["description"] = model["description"].get<std::string>() +
                             fmt::format(
                                 "; from the published checkpoint {} (SHA-256 {}), imported with model import, read with the atlas token "
                                 "'{}' and the disease token '{}'",
                                 source.value("file_name", std::string("?")), source.value("sha256", std::string("?")), tokens.value("atlas", std::string("?")),
                                 tokens.value("disease", std::string("?")));
      for (const auto& note : tokens.value("notes", json::array()))  // e.g. a stand-in atlas token for CC200
        model["description"] = model["description"].get<std::string>() + "; " + note.get<std::string>();
      model["source_checkpoint"] = {{"file", source.value("file_name", std::string())},
                                    {"sha256", source.value("sha256", std::string())},
                                    {"licence", info.value("licence", std::string())}};
    }
    model["trainable_parameters"] = card.value("trainable_parameters", 0);
  }
  const bool tangentInput =
      card.contains("tangent_reference") || (isAtlasEnsemble(card) && !card.at("members").empty() && card["members"][0].contains("tangent_reference"));
  const std::string connectivity =
      !c.model.baseline ? graphInputOfCard(card).description()
      : tangentInput    ? std::string("Ledoit-Wolf covariance of the cleaned ROI mean time series, in the tangent space at the training scans' geometric mean")
                        : std::string("Pearson correlation of the cleaned ROI mean time series");
  std::string atlas = card.value("atlas", std::string());
  json rois = c.input.fc.rows();
  if (!c.members.empty()) {  // a multi-atlas model: every atlas and its ROI count
    std::vector<std::string> names;
    rois = json::object();
    for (const auto& a : card.at("atlases")) {
      names.push_back(a.get<std::string>());
      rois[a.get<std::string>()] = c.members.at(a.get<std::string>()).fc.rows();
    }
    atlas = fmt::format("{}", fmt::join(names, " + "));
  }
  return {{"input_kind", c.input.kind},
          {"atlas", atlas},
          {"rois", rois},
          {"cleaning", card.value("preprocessing", json::object())},
          {"connectivity", connectivity},
          {"steps", methodSteps(c, model.value("description", model.value("kind", std::string())), connectivity)},
          {"model", model},
          {"calibration",
           [&] {
             if (isAtlasEnsemble(card) && card.contains("member_files"))
               return std::string(
                   "each atlas's model was calibrated on its own validation scans, as a one-atlas model is; the members' "
                   "calibrated probabilities were averaged");
             if (isAtlasEnsemble(card))
               return "each atlas's regression was calibrated (" + card.value("calibration", std::string("temperature")) +
                      ") on its out-of-fold margins from cross-fitting inside its training scans, then refitted on all of them; the members' "
                      "calibrated probabilities were averaged";
             auto d = calibrationDescription(card.value("calibration", std::string("temperature")), cardCalibration(card));
             const std::string split = "the model's validation split";
             if (const auto dep = card.value("deployment", json::object()); dep.value("procedure", std::string()) == "cross-fitted ensemble") {
               // Each fold model has its own calibration; the card's is member 1's.
               d.replace(d.find(split), split.size(),
                         "the left-out fold of each of the " + dep.value("members", json(0)).dump() +
                             " cross-fitted fold models (shown: the first's), whose calibrated probabilities are averaged");
               return d;
             }
             if (card.value("validation", json::object()).value("out_of_fold", false))  // cross-fitted: no validation split
               d.replace(d.find("the model's validation split"), std::string("the model's validation split").size(),
                         "the out-of-fold scores of " + std::to_string(card.value("training", json::object()).value("cross_fit_folds", 0)) +
                             " cross-fitted models, the model itself refitted on every training scan");
             return d;
           }()},
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
  std::map<std::string, int> regions;
  for (int i = 0; i < rois; ++i) {
    const auto& n = i < static_cast<int>(networks.size()) ? networks[static_cast<std::size_t>(i)] : std::string();
    ++regions[n.empty() ? "unassigned" : n];
  }
  if (e.contains("networks") && e["networks"].is_object())
    for (auto& [name, v] : e["networks"].items()) {
      const int count = regions.count(name) ? regions[name] : 0;
      v["regions"] = count;
      if (count > 0) v["per_region"] = v.value("saliency", 0.0) / (static_cast<double>(count) / rois);  // 1 = an even share per region
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
  c.model = readModelCardInfo(r.modelFile);
  PredictionInputOptions o;
  o.tr = r.tr;
  o.confounds = r.confounds;
  o.requireFullCoverage = false;
  if (readsSeveralAtlases(c.model.card)) {
    const auto atlases = c.model.card.at("atlases").get<std::vector<std::string>>();
    if (!isNiftiPath(r.input))
      throw Error(ErrorCode::Usage, r.modelFile.string() + " reads each scan through " + fmt::format("{}", fmt::join(atlases, " and ")) +
                                        ": a diagnosis needs the BOLD file (parcellated with each atlas in one pass), not one time-series file. " +
                                        "With time series, classify the scan with predict and one file per atlas");
    c.members = loadBoldPredictionInputs(r.input, c.model.card.at("members").get<std::vector<json>>(), registry, o, progress);
    for (auto& [atlas, in] : c.members) in.site = r.site;
    c.input = c.members.at(atlases.front());
  } else {
    c.input = loadPredictionInput(r.input, c.model.card, registry, o, progress);
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
    auto row = c.members.empty()                 ? predictInput(r.modelFile, c.model, c.input, r.device, r.threads, pred)
               : isFusedAtlasModel(c.model.card) ? predictFusedInput(r.modelFile, c.model, c.members, r.device, r.threads, pred)
                                                 : predictAtlasEnsemble(r.modelFile, c.model.card, c.members, pred, r.device, r.threads);
    const auto& card = c.model.card;

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
    const auto classes = card.value("classes", json::array());
    record["result"] = {{"label", row.at("label")},
                        {"probability", row.at("probability")},
                        {"positive_class", card.value("positive_class", json())},
                        {"negative_class", classes.size() == 2 ? classes[0] : json()},
                        {"threshold", 0.5},
                        {"interval", row.value("interval", json())},
                        {"ood", row.value("ood", json())},
                        {"in_training_set", row.value("in_training_set", json())}};
    // The explanation with each ROI's place in MNI space, for the glass brain.
    auto explanation = row.value("explanation", json::object());
    explanation.erase("edge_saliency");
    json top = row.value("top_rois", json::array());
    try {
      // A multi-atlas model's top ROIs come from either atlas: each is placed in its own atlas, and its
      // share is weighed against an even share of its own atlas's ROIs.
      const std::string firstAtlas = c.members.empty() ? card.value("atlas", std::string()) : c.members.begin()->first;
      const auto placement =
          roiPlacement(registry, c.members.empty() ? firstAtlas : card.at("atlases").at(0).get<std::string>(), static_cast<int>(c.input.fc.rows()));
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
    record["explanation"] = summariseExplanation(explanation, c.input.networks, static_cast<int>(c.input.fc.rows()));
    record["model_card"] = {{"kind", card.value("kind", std::string())},
                            {"training_data", card.value("corpus", json::object())},
                            {"label_field", card.value("label_field", std::string())},
                            {"classes", classes},
                            {"validation", card.value("validation", json())},
                            {"deployment", card.value("deployment", json())},  // what the file learned from
                            {"evaluation", card.value("evaluation", json())},
                            {"release", card.value("release", json())},
                            {"trainable_parameters", card.value("trainable_parameters", 0)},
                            {"code_version", card.value("code_version", std::string())},
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
  const auto& card = stored->card;
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
  record["methods"] = {{"atlas", card.value("atlas", std::string())},
                       {"cleaning", card.value("preprocessing", json::object())},
                       {"connectivity", graphInputOfCard(card).description()},
                       {"model", {{"file", model.string()}, {"hash", stored->modelHash}, {"kind", card.value("kind", std::string())}}}};
  const auto classes = card.value("classes", json::array());
  record["result"] = {{"label", stored->label},
                      {"probability", stored->probability},
                      {"positive_class", card.value("positive_class", json())},
                      {"negative_class", classes.size() == 2 ? classes[0] : json()},
                      {"threshold", 0.5},
                      {"interval", nullptr},
                      {"ood", nullptr}};
  record["explanation"] = stored->explanation;
  record["model_card"] = {{"kind", card.value("kind", std::string())},
                          {"training_data", card.value("corpus", json::object())},
                          {"classes", classes},
                          {"validation", card.value("validation", json())},
                          {"deployment", card.value("deployment", json())},
                          {"evaluation", card.value("evaluation", json())},
                          {"release", card.value("release", json())},
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
