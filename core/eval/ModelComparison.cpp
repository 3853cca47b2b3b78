#include "eval/ModelComparison.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "connectome/GraphInputSpec.h"
#include "errors/Error.h"
#include "io/AtomicFile.h"
#include "methods/MethodCatalog.h"

namespace bg {
using nlohmann::json;

namespace {
// Methods that adapt a pre-trained encoder: a comparison pre-trains it in each fold.
bool needsPretraining(const std::string& method) {
  const auto* m = findMethod(method);
  return m && m->pretrained == PretrainedUse::Required;
}
bool isBrainGfmMethod(const std::string& method) {
  const auto* m = findMethod(method);
  return m && m->family == MethodFamily::BrainGfm;
}
// An evaluation of `corpus` on the split id `split`, with metrics to show.
bool evaluatedOn(const EvaluationRecord& e, const std::string& corpus, const std::string& split) {
  return e.corpus == corpus && e.result.contains("metrics") && e.result.contains("split") && splitId(e.result) == split;
}
// Adds a label fraction unless an equal one is there already.
void addDistinct(std::vector<double>& fractions, double f) {
  if (std::none_of(fractions.begin(), fractions.end(), [&](double g) { return std::fabs(g - f) <= 1e-9; })) fractions.push_back(f);
}
}  // namespace

std::string ComparisonEntry::label() const { return pretrainInFolds ? method + " (pre-trained in folds)" : method; }

ComparisonEntry parseComparisonEntry(const std::string& token) {
  ComparisonEntry e;
  e.method = token;
  if (const auto plus = token.find("+pretrained"); plus != std::string::npos) {
    e.method = token.substr(0, plus);
    e.pretrainInFolds = true;
  }
  if (e.method.empty()) throw Error(ErrorCode::Usage, "empty method in the comparison list");
  if (needsPretraining(e.method)) e.pretrainInFolds = true;
  return e;
}

std::vector<std::string> defaultComparisonMethods() {
  return {"logreg",         "svm",       "logreg-tangent",  "gcn",      "braingnn", "transformer", "graph_transformer", "brainnettf", "scratch", "lcm",
          "lcm+pretrained", "brainmass", "brainmass-probe", "finetune", "prompt"};
}

json comparisonTuningConfig(const json& file, const std::string& method) {
  json out = file.value("default", json::object());
  const auto* info = findMethod(method);
  const std::string key = info ? info->configurationKey() : method;
  if (isBrainGfmMethod(method)) out.erase("model");  // the zoo's sizes mean nothing to BrainGFM
  if (file.contains(key)) out.merge_patch(file.at(key));
  return out;
}

json comparisonPretrainConfig(const json& file, const std::string& architecture) {
  if (!file.contains("pretrain")) return json::object();
  return file.at("pretrain").value(architecture, json::object());
}

std::string splitId(const json& result) {
  const auto& s = result.at("split");
  return s.value("kind", std::string()) + "/" + std::to_string(s.value("folds", 0)) + "-folds/seed-" + std::to_string(s.value("seed", 0u));
}

std::vector<std::string> comparisonSplits(const std::vector<EvaluationRecord>& evaluations, const std::string& corpus) {
  std::vector<std::string> out;
  for (auto it = evaluations.rbegin(); it != evaluations.rend(); ++it) {
    if (it->corpus != corpus || !it->result.contains("split")) continue;
    const auto id = splitId(it->result);
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

std::string resolveComparisonSplit(const std::vector<EvaluationRecord>& evaluations, const std::string& corpus, const std::string& split) {
  if (split.find('/') != std::string::npos) return split;
  const auto splits = comparisonSplits(evaluations, corpus);  // a kind alone (or nothing): its most recent folds
  const auto it = std::find_if(splits.begin(), splits.end(), [&](const std::string& s) { return split.empty() || s.rfind(split + "/", 0) == 0; });
  return it == splits.end() ? std::string() : *it;
}

std::vector<double> comparisonLabelFractions(const std::vector<EvaluationRecord>& evaluations, const std::string& corpus, const std::string& split) {
  std::vector<double> out;
  for (const auto& e : evaluations)
    if (evaluatedOn(e, corpus, split)) addDistinct(out, e.result.value("label_fraction", 1.0));
  std::sort(out.begin(), out.end(), std::greater<>());
  return out;
}

std::vector<std::pair<std::string, std::vector<RegimePoint>>> labelRegimeCurves(const std::vector<EvaluationRecord>& evaluations, const std::string& corpus,
                                                                                const std::string& split) {
  std::map<std::string, std::map<double, RegimePoint>> latest;  // evaluations are listed oldest first
  for (const auto& e : evaluations) {
    if (!evaluatedOn(e, corpus, split)) continue;
    const auto& auc = e.result.at("metrics").at("auc");
    RegimePoint p;
    p.labelFraction = e.result.value("label_fraction", 1.0);
    p.auc = auc.at("mean").get<double>();
    p.low = auc.at("ci95")[0].get<double>();
    p.high = auc.at("ci95")[1].get<double>();
    p.evaluationId = e.id;
    double labelled = 0;
    int folds = 0;
    for (const auto& f : e.result.value("folds_detail", json::array()))
      if (f.contains("train_labels")) labelled += f["train_labels"].get<double>(), ++folds;
    p.labelledScans = folds > 0 ? labelled / folds : 0;
    latest[comparisonModelName(e)][p.labelFraction] = p;
  }
  std::vector<std::pair<std::string, std::vector<RegimePoint>>> out;
  for (auto& [model, points] : latest) {
    std::vector<RegimePoint> curve;
    for (const auto& [fraction, p] : points) curve.push_back(p);
    out.emplace_back(model, std::move(curve));
  }
  return out;
}

std::string renderLabelRegimeCurves(const std::vector<std::pair<std::string, std::vector<RegimePoint>>>& curves, const std::string& format) {
  auto percent = [](double f) { return fmt::format("{:g}%", 100 * f); };
  if (format == "json") {
    json a = json::array();
    for (const auto& [model, curve] : curves)
      for (const auto& p : curve)
        a.push_back({{"model", model},
                     {"label_fraction", p.labelFraction},
                     {"auc", p.auc},
                     {"ci95", {p.low, p.high}},
                     {"labelled_scans_per_fold", p.labelledScans},
                     {"evaluation", p.evaluationId}});
    return a.dump(2) + "\n";
  }
  std::ostringstream out;
  if (format == "csv") {
    out << "model,label_fraction,auc,ci95_low,ci95_high,labelled_scans_per_fold,evaluation\n";
    for (const auto& [model, curve] : curves)
      for (const auto& p : curve)
        out << csvCell(model)
            << fmt::format(",{:.17g},{:.17g},{:.17g},{:.17g},{:.17g},{}\n", p.labelFraction, p.auc, p.low, p.high, p.labelledScans, p.evaluationId);
    return out.str();
  }
  if (format != "md") throw Error(ErrorCode::Usage, "label regime format '" + format + "' is not md, csv or json");
  std::vector<double> fractions;
  for (const auto& c : curves)
    for (const auto& p : c.second) addDistinct(fractions, p.labelFraction);
  std::sort(fractions.begin(), fractions.end());
  out << "| model |";
  for (double f : fractions) out << " " << percent(f) << " |";
  out << "\n|---|";
  for (std::size_t i = 0; i < fractions.size(); ++i) out << "---|";
  out << "\n";
  for (const auto& [model, curve] : curves) {
    out << "| " << model << " |";
    for (double f : fractions) {
      const auto it = std::find_if(curve.begin(), curve.end(), [&](const RegimePoint& p) { return std::fabs(p.labelFraction - f) <= 1e-9; });
      out << (it == curve.end() ? std::string(" |") : fmt::format(" {:.3f} [{:.3f}, {:.3f}] |", it->auc, it->low, it->high));
    }
    out << "\n";
  }
  return out.str();
}

std::string comparisonModelName(const EvaluationRecord& e) {
  // A name given at evaluation keeps configurations of one method apart.
  const auto name = e.request.value("name", json());
  if (name.is_string() && !name.get<std::string>().empty()) return name.get<std::string>();
  ComparisonEntry entry;
  entry.method = e.result.value("method", e.request.value("method", std::string()));
  entry.pretrainInFolds = e.request.value("pretrain_in_folds", false) || e.result.value("pretrained", json()) == "in-folds";
  if (const auto* m = findMethod(entry.method);
      m && m->learnsFromLabels && m->adaptation == "prompt" && e.result.contains("prompt") && e.result["prompt"].is_string())
    entry.method += " (" + e.result["prompt"].get<std::string>() + ")";
  // New sites adapted from their own test scans are another model in effect.
  std::string adapted = e.result.value("input_adapted_site_scans", json()).is_number() ? ", new sites adapted" : "";
  if (const auto limit = e.result.value("input_adaptation_scans", json()); !adapted.empty() && limit.is_number())
    adapted += " from " + std::to_string(limit.get<int>()) + " scans";
  if (const auto share = e.result.value("input_adaptation_positive_share", json()); !adapted.empty() && share.is_number())
    adapted += fmt::format(" (batches {:.0f}% positive)", 100 * share.get<double>());
  if (!adapted.empty() && e.result.value("input_adaptation_labelled", json()) == json(true)) adapted += ", labelled";
  // A configuration chosen in each fold is its own model, whatever the candidates' readouts, members
  // or inputs: named by its candidates.
  if (const auto sel = e.result.value("config_selection", json()); sel.is_object()) {
    std::string names;
    for (const auto& c : sel.at("candidates")) names += (names.empty() ? "" : " / ") + c.at("name").get<std::string>();
    entry.method += ", configuration chosen in folds from " + names;
    return entry.label() + adapted;
  }
  // The graph input keeps one method's evaluations on Pearson and on tangent-space FC apart.
  const auto config = e.result.value("config", json());
  // So does a linear edge readout beside the encoder.
  if (config.is_object() && config.contains("adaptation") && config["adaptation"].contains("edge_readout")) {
    const auto& edge = config["adaptation"]["edge_readout"];
    entry.method += edge.is_string() ? ", " + edge.get<std::string>() + " edge readout" : std::string(", learned edge readout");
  }
  // One model over every atlas of a multi-atlas corpus, not one per atlas averaged.
  if (e.result.value("atlas_fusion", json()) == json("embedding")) entry.method += ", one model over every atlas";
  // Members, and whether each validated on its own fold of the training part.
  if (config.is_object() && config.value("ensemble", 1) > 1)
    entry.method += ", ensemble of " + std::to_string(config["ensemble"].get<int>()) +
                    (config.value("ensemble_validation", std::string("shared")) == "folds" ? " (cross-fitted)" : "");
  // A baseline whose C was chosen inside each fold is another model than one with C fixed.
  if (e.result.contains("c_selection")) entry.method += ", C chosen in folds";
  if (config.is_object() && config.contains("input")) {
    const auto input = GraphInputSpec::fromJson(config["input"]);
    if (!input.identity()) return entry.label() + ", " + input.name() + " input" + adapted;
  }
  // The baselines' only input choice, per-site standardisation, is recorded as a name.
  if (const auto baselineInput = e.result.value("input", json()); baselineInput.is_string() && !config.is_object())
    return entry.label() + ", " + baselineInput.get<std::string>() + " input" + adapted;
  return entry.label();
}

std::vector<ComparisonRow> comparisonTable(const std::vector<EvaluationRecord>& evaluations, const std::string& corpus, std::string split,
                                           double labelFraction) {
  if (!(labelFraction >= 0 && labelFraction <= 1)) throw Error(ErrorCode::Usage, "a label fraction is between 0 and 1, not " + std::to_string(labelFraction));
  split = resolveComparisonSplit(evaluations, corpus, split);
  if (split.empty()) return {};
  std::map<std::string, ComparisonRow> latest;
  for (const auto& e : evaluations) {  // listed oldest first: later ones replace earlier ones
    if (!evaluatedOn(e, corpus, split) || std::fabs(e.result.value("label_fraction", 1.0) - labelFraction) > 1e-9) continue;
    ComparisonRow row;
    row.evaluationId = e.id;
    row.model = comparisonModelName(e);
    row.createdAt = e.createdAt;
    row.metrics = e.result["metrics"];
    row.trainableParameters = e.result.value("trainable_parameters", json());
    row.totalParameters = e.result.value("total_parameters", json());
    row.trainingSeconds = e.result.value("training_seconds", 0.0);
    row.pretrainingSeconds = e.result.value("pretraining_seconds", 0.0);
    row.items = e.result.value("items", 0);
    row.folds = e.result["split"].value("folds", 0);
    row.labelFraction = labelFraction;
    latest[row.model] = row;
  }
  std::vector<ComparisonRow> rows;
  for (auto& [k, v] : latest) rows.push_back(v);
  std::sort(rows.begin(), rows.end(), [](const ComparisonRow& a, const ComparisonRow& b) {
    return a.metrics.value("auc", json::object()).value("mean", 0.0) > b.metrics.value("auc", json::object()).value("mean", 0.0);
  });
  return rows;
}

std::string renderComparison(const std::vector<ComparisonRow>& rows, const std::string& format) {
  static const char* metrics[] = {"auc", "accuracy", "sensitivity", "specificity"};
  auto cell = [](const json& m) {
    if (!m.is_object() || !m.contains("mean") || !m.contains("ci95")) return std::string("-");
    char buf[96];
    // Bounded metrics: intervals stored by older versions may cross [0, 1].
    std::snprintf(buf, sizeof buf, "%.3f ± %.3f [%.3f, %.3f]", m.value("mean", 0.0), m.value("sd", 0.0), std::max(0.0, m["ci95"][0].get<double>()),
                  std::min(1.0, m["ci95"][1].get<double>()));
    return std::string(buf);
  };
  auto params = [](const json& p) { return p.is_number() ? std::to_string(p.get<std::int64_t>()) : std::string("-"); };
  std::ostringstream out;
  if (format == "json") {
    json a = json::array();
    for (const auto& r : rows)
      a.push_back({{"model", r.model},
                   {"evaluation_id", r.evaluationId},
                   {"metrics", r.metrics},
                   {"trainable_parameters", r.trainableParameters},
                   {"total_parameters", r.totalParameters},
                   {"training_seconds", r.trainingSeconds},
                   {"pretraining_seconds", r.pretrainingSeconds},
                   {"items", r.items},
                   {"folds", r.folds},
                   {"created_at", r.createdAt}});
    return a.dump(2) + "\n";
  }
  if (format == "csv") {
    out << "model,auc,auc_low,auc_high,accuracy,sensitivity,specificity,trainable_parameters,training_seconds,pretraining_seconds\n";
    for (const auto& r : rows) {
      out << '"' << r.model << '"';
      const auto auc = r.metrics.value("auc", json::object());
      const auto ci = auc.value("ci95", json::array({0.0, 0.0}));
      out << ',' << auc.value("mean", 0.0) << ',' << ci[0].get<double>() << ',' << ci[1].get<double>();
      for (const char* m : {"accuracy", "sensitivity", "specificity"}) out << ',' << r.metrics.value(m, json::object()).value("mean", 0.0);
      out << ',' << params(r.trainableParameters) << ',' << r.trainingSeconds << ',' << r.pretrainingSeconds << '\n';
    }
    return out.str();
  }
  if (format != "md") throw Error(ErrorCode::Usage, "comparison format '" + format + "' is not md, csv or json");
  out << "| model | AUC | accuracy | sensitivity | specificity | trainable params | training s | pre-training s |\n";
  out << "|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    out << "| " << r.model;
    for (const char* m : metrics) out << " | " << cell(r.metrics.value(m, json()));
    char secs[64];
    std::snprintf(secs, sizeof secs, " | %.0f | %.0f |", r.trainingSeconds, r.pretrainingSeconds);
    out << " | " << params(r.trainableParameters) << secs << "\n";
  }
  return out.str();
}

std::vector<PairedComparisonRow> pairedAucComparison(const std::vector<std::pair<std::string, json>>& outOfFold, const std::string& reference) {
  const json* ref = nullptr;
  for (const auto& [model, predictions] : outOfFold)
    if (model == reference) ref = &predictions;
  if (!ref) throw Error(ErrorCode::Usage, "no out-of-fold predictions of the reference model " + reference);
  std::map<std::int64_t, std::pair<int, double>> refByScan;  // scan -> (label, probability)
  for (const auto& p : ref->value("predictions", json::array()))
    refByScan[p.at("scan_id").get<std::int64_t>()] = {p.at("label").get<int>(), p.at("probability").get<double>()};
  std::vector<PairedComparisonRow> rows;
  for (const auto& [model, predictions] : outOfFold) {
    if (model == reference) continue;
    std::vector<int> labels;
    std::vector<double> a, b;
    for (const auto& p : predictions.value("predictions", json::array())) {
      const auto it = refByScan.find(p.at("scan_id").get<std::int64_t>());
      if (it == refByScan.end()) continue;
      if (it->second.first != p.at("label").get<int>())
        throw Error(ErrorCode::Data, model + " and " + reference + " disagree on scan " + std::to_string(it->first) + "'s label");
      labels.push_back(it->second.first);
      a.push_back(p.at("probability").get<double>());
      b.push_back(it->second.second);
    }
    if (labels.empty()) continue;  // no common scans (another corpus): nothing to pair
    rows.push_back({model, reference, delongTest(labels, a, b)});
  }
  std::vector<double> p;
  for (const auto& r : rows) p.push_back(r.test.p);
  const auto adjusted = holmAdjusted(p);
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i].pHolm = adjusted[i];
  return rows;
}

std::vector<double> holmAdjusted(const std::vector<double>& p) {
  std::vector<std::size_t> order(p.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p[a] < p[b]; });
  std::vector<double> out(p.size());
  double running = 0;  // adjusted p-values never decrease along the sorted order
  for (std::size_t k = 0; k < order.size(); ++k) {
    running = std::max(running, std::min(1.0, static_cast<double>(p.size() - k) * p[order[k]]));
    out[order[k]] = running;
  }
  return out;
}

std::string renderPairedComparison(const std::vector<PairedComparisonRow>& rows, const std::string& format) {
  if (format == "json") {
    json a = json::array();
    for (const auto& r : rows)
      a.push_back({{"model", r.model},
                   {"reference", r.reference},
                   {"pooled_auc", r.test.aucA},
                   {"reference_pooled_auc", r.test.aucB},
                   {"difference", r.test.difference},
                   {"se", r.test.se},
                   {"z", r.test.z},
                   {"p", r.test.p},
                   {"p_holm", r.pHolm},
                   {"scans", r.test.positives + r.test.negatives},
                   {"test", "DeLong 1988, paired, two-sided"}});
    return a.dump(2) + "\n";
  }
  std::ostringstream out;
  char line[256];
  if (format == "csv") {
    out << "model,reference,pooled_auc,reference_pooled_auc,difference,se,z,p,p_holm,scans\n";
    for (const auto& r : rows) {
      std::snprintf(line, sizeof line, ",%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%d\n", r.test.aucA, r.test.aucB, r.test.difference, r.test.se, r.test.z,
                    r.test.p, r.pHolm, r.test.positives + r.test.negatives);
      out << csvCell(r.model) << ',' << csvCell(r.reference) << line;
    }
    return out.str();
  }
  if (format != "md") throw Error(ErrorCode::Usage, "comparison format '" + format + "' is not md, csv or json");
  if (rows.empty()) return {};
  out << "\nPaired DeLong test against " << rows.front().reference << " (out-of-fold predictions pooled over the folds; p (Holm): adjusted for the "
      << rows.size() << (rows.size() == 1 ? " test" : " tests") << "):\n\n";
  out << "| model | pooled AUC | " << rows.front().reference << " pooled AUC | difference | 95% CI | p | p (Holm) |\n|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line, " | %.3f | %.3f | %+.3f | [%+.3f, %+.3f] | %.3g | %.3g |\n", r.test.aucA, r.test.aucB, r.test.difference,
                  r.test.difference - 1.959964 * r.test.se, r.test.difference + 1.959964 * r.test.se, r.test.p, r.pHolm);
    out << "| " << r.model << line;
  }
  return out.str();
}

StoredPairedComparison storedPairedComparison(Workspace& ws, const std::vector<ComparisonRow>& rows, const std::string& reference) {
  if (std::none_of(rows.begin(), rows.end(), [&](const ComparisonRow& r) { return r.model == reference; }))
    throw Error(ErrorCode::Usage, "the reference " + reference + " is not one of the compared models");
  StoredPairedComparison out;
  for (const auto& r : rows) {
    auto predictions = evaluationPredictions(ws, r.evaluationId);
    if (predictions.empty()) {
      out.missing.push_back(r.model);
      continue;
    }
    out.outOfFold.emplace_back(r.model, json{{"model", r.model}, {"label_fraction", r.labelFraction}, {"predictions", std::move(predictions)}});
  }
  if (std::find(out.missing.begin(), out.missing.end(), reference) == out.missing.end()) out.rows = pairedAucComparison(out.outOfFold, reference);
  return out;
}

std::vector<RocPoint> outOfFoldRocCurve(const json& outOfFold) {
  std::vector<int> labels;
  std::vector<double> scores;
  for (const auto& p : outOfFold.value("predictions", json::array())) {
    labels.push_back(p.at("label").get<int>());
    scores.push_back(p.at("probability").get<double>());
  }
  if (labels.empty()) return {};
  return rocCurve(labels, scores);
}

std::string renderRocCurvesCsv(const std::vector<std::pair<std::string, json>>& outOfFold) {
  std::ostringstream out;
  out << "model,threshold,false_positive_rate,true_positive_rate\n";
  char line[128];
  for (const auto& [model, predictions] : outOfFold) {
    for (const auto& point : outOfFoldRocCurve(predictions)) {
      std::snprintf(line, sizeof line, ",%.17g,%.17g,%.17g\n", point.threshold, point.falsePositiveRate, point.truePositiveRate);
      out << csvCell(model) << line;
    }
  }
  return out.str();
}

std::vector<std::string> writeComparisonFiles(const std::string& prefix, const std::vector<ComparisonRow>& rows, const std::vector<PairedComparisonRow>& paired,
                                              const std::vector<std::pair<std::string, json>>& outOfFold) {
  std::vector<std::string> written;
  for (const char* f : {"md", "csv", "json"}) {
    writeTextAtomically(written.emplace_back(prefix + "." + f), renderComparison(rows, f));
    writeTextAtomically(written.emplace_back(prefix + "-paired." + f), renderPairedComparison(paired, f));
  }
  std::vector<json> predictions;
  for (const auto& m : outOfFold) {
    predictions.push_back(m.second);
    predictions.back()["model"] = m.first;
  }
  writeTextAtomically(written.emplace_back(prefix + "-predictions.csv"), renderPredictionsCsv(predictions));
  writeTextAtomically(written.emplace_back(prefix + "-roc.csv"), renderRocCurvesCsv(outOfFold));
  return written;
}

std::string defaultComparisonReference(const std::vector<ComparisonRow>& rows) {
  if (rows.empty()) return {};
  for (const auto& r : rows)
    if (r.model == "logreg") return r.model;
  return rows.front().model;
}

}  // namespace bg
