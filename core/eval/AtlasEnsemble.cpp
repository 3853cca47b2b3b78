#include "eval/AtlasEnsemble.h"

#include <algorithm>
#include <chrono>
#include <regex>
#include <set>

#include "errors/Error.h"
#include "workspace/ContentHash.h"
#include "eval/BaselineModel.h"
#include "eval/Calibration.h"
#include "eval/Metrics.h"
#include "eval/OutOfDistribution.h"
#include "eval/Prediction.h"
#include "eval/Results.h"
#include "workspace/Corpus.h"
#include "workspace/Workspace.h"

namespace bg {
using nlohmann::json;

json atlasPart(const json& manifest, const std::string& atlas) {
  json part = manifest;
  part.erase("atlases");
  part["atlas"] = atlas;
  part["items"] = json::array();
  std::map<int, int> index;  // the whole corpus's item index -> the part's
  const auto& items = manifest.at("items");
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].value("atlas", manifest.value("atlas", std::string())) != atlas) continue;
    index[static_cast<int>(i)] = static_cast<int>(part["items"].size());
    part["items"].push_back(items[i]);
  }
  if (part["items"].empty()) throw Error(ErrorCode::Data, "corpus '" + manifest.value("name", std::string()) + "' has no graph in atlas " + atlas);
  for (auto& fold : part["split"]["folds"])
    for (const char* name : {"train", "validation", "test"}) {
      json kept = json::array();
      for (int i : fold.value(name, json::array()))
        if (const auto it = index.find(i); it != index.end()) kept.push_back(it->second);
      fold[name] = kept;
    }
  return part;
}

json trainAtlasEnsemble(Workspace& ws, const json& manifest, const std::vector<double>& cGrid, unsigned seed, ProgressDelegate& progress,
                        const std::string& calibration, const std::string& features) {
  return trainAtlasEnsemble(manifest, progress, [&](const std::string&, const json& part, ProgressDelegate& p) {
    return trainBaselineModel(ws, part, cGrid, seed, p, calibration, features);
  });
}

json trainAtlasEnsemble(const json& manifest, ProgressDelegate& progress, const AtlasMemberTrainer& trainMember) {
  const auto atlases = corpusAtlases(manifest);
  json members = json::array();
  json scans = json::object();
  for (std::size_t k = 0; k < atlases.size(); ++k) {
    ProgressRange part(progress, static_cast<double>(k) / static_cast<double>(atlases.size()),
                       static_cast<double>(k + 1) / static_cast<double>(atlases.size()));
    members.push_back(
        withContext("while training the " + atlases[k] + " member", [&] { return trainMember(atlases[k], atlasPart(manifest, atlases[k]), part); }));
  }
  const auto& first = members.front();
  json card = {{"kind", kAtlasEnsembleKind},
               {"format", 1},
               {"atlases", atlases},
               {"atlas", manifest.value("atlas", std::string())},
               {"members", members},
               {"combination", "the mean of the members' calibrated probabilities (one member per atlas)"},
               {"classes", first.at("classes")},
               {"positive_class", first.at("positive_class")},
               {"label_field", first.value("label_field", std::string())},
               {"corpus", {{"name", manifest.value("name", std::string())}, {"items", manifest.at("items").size()}}},
               {"training_scans", corpusTrainingScans(manifest)},
               {"trainable_parameters", 0}};
  std::int64_t parameters = 0;
  for (const auto& m : members) parameters += m.value("trainable_parameters", std::int64_t{0});
  card["trainable_parameters"] = parameters;
  if (const auto f = first.value("features", json()); !f.is_null()) card["features"] = f;
  for (const char* carried : {"preprocessing", "code_version", "method", "calibration"})
    if (first.contains(carried)) card[carried] = first[carried];
  return card;
}

json evaluateAtlasEnsemble(Workspace& ws, const json& manifest, const EvaluateRequest& req, ProgressDelegate& progress) {
  if (req.method != "logreg") throw Error(ErrorCode::Usage, "a multi-atlas corpus is evaluated with logreg or logreg-tangent (one regression per atlas)");
  auto memberRequest = req;
  memberRequest.split = "corpus";
  return evaluateAtlasEnsemble(
      manifest,
      {req.method, req.split, req.folds, req.seed, req.calibration, req.labelFraction, "one " + req.method + " per atlas (cross-fit calibrated, refitted)"},
      progress, [&](const std::string&, const json& part, ProgressDelegate& p) { return evaluateBaseline(ws, part, memberRequest, p); });
}

json evaluateAtlasEnsemble(const json& manifest, const AtlasEnsembleEvaluation& req, ProgressDelegate& progress, const AtlasMemberEvaluator& evaluateMember) {
  return withContext("while evaluating the " + req.method + " atlas ensemble on corpus '" + manifest.value("name", std::string()) + "'", [&] {
    const auto atlases = corpusAtlases(manifest);
    json whole = manifest;
    if (req.split != "corpus") {
      // Made once over subjects, so that every atlas's part has the same folds.
      std::vector<int> classIndex;
      std::vector<std::string> sites, groups;
      for (const auto& item : manifest.at("items")) {
        classIndex.push_back(item.at("class_index").get<int>());
        sites.push_back(item.value("site", std::string()));
        groups.push_back(item.value("dataset", std::string()) + "/" + item.value("subject", std::string()));
      }
      SplitSpec spec;
      spec.kind = req.split;
      spec.folds = req.folds;
      spec.seed = req.seed;
      whole["split"] = makeSplit(classIndex, sites, spec, groups);
    }
    // Each acquisition's graphs: by session, else by subject.
    std::map<std::int64_t, std::string> acquisitionOf;
    std::map<std::string, std::int64_t> firstAtlasScan;
    for (const auto& item : whole.at("items")) {
      const auto key = item.contains("session_id") ? std::to_string(item["session_id"].get<std::int64_t>())
                                                   : item.value("dataset", std::string()) + "/" + item.value("subject", std::string());
      acquisitionOf[item.at("scan_id").get<std::int64_t>()] = key;
      if (item.value("atlas", std::string()) == atlases.front()) firstAtlasScan[key] = item.at("scan_id").get<std::int64_t>();
    }
    struct Scored {
      double sum = 0, marginSum = 0;
      int members = 0, label = 0, fold = 0;
    };
    std::map<std::string, Scored> scored;
    json memberResults = json::array();
    double seconds = 0;
    std::map<std::int64_t, json> itemOf;
    for (const auto& item : whole.at("items")) itemOf[item.at("scan_id").get<std::int64_t>()] = item;
    for (std::size_t k = 0; k < atlases.size(); ++k) {
      ProgressRange part(progress, static_cast<double>(k) / static_cast<double>(atlases.size()),
                         static_cast<double>(k + 1) / static_cast<double>(atlases.size()));
      const auto result =
          withContext("while evaluating the " + atlases[k] + " member", [&] { return evaluateMember(atlases[k], atlasPart(whole, atlases[k]), part); });
      seconds += result.value("training_seconds", 0.0);
      memberResults.push_back({{"atlas", atlases[k]}, {"auc", result.at("metrics").at("auc")}});
      // What the member's model is (its features, prompt, pre-training), only where the member's result says it.
      for (const char* key : {"features", "prompt", "pretrained", "pretrain_atlases", "pretraining_seconds"})
        if (const auto v = result.value(key, json()); !v.is_null()) memberResults.back()[key] = v;
      for (const auto& p : result.at("predictions")) {
        auto& s = scored[acquisitionOf.at(p.at("scan_id").get<std::int64_t>())];
        s.sum += p.at("probability").get<double>();
        s.marginSum += p.at("margin").get<double>();
        ++s.members;
        s.label = p.at("label").get<int>();
        s.fold = p.at("fold").get<int>();
      }
    }
    std::map<int, std::pair<std::vector<int>, std::vector<double>>> byFold;
    json predictions = json::array();
    int incomplete = 0;
    for (const auto& [key, s] : scored) {
      if (s.members != static_cast<int>(atlases.size())) {
        ++incomplete;  // an acquisition without a graph in every atlas is scored by those it has
      }
      const double p = s.sum / s.members;
      byFold[s.fold].first.push_back(s.label);
      byFold[s.fold].second.push_back(p);
      const auto scan = firstAtlasScan.count(key) ? firstAtlasScan.at(key) : std::int64_t{0};
      const json item = scan ? itemOf.at(scan) : json::object();
      predictions.push_back(outOfFoldPrediction(s.fold, item, manifest.at("classes"), s.label, s.marginSum / s.members, p));
    }
    std::vector<BinaryMetrics> folds;
    std::vector<double> ece;
    json perFold = json::array();
    for (const auto& [fold, v] : byFold) {
      folds.push_back(binaryMetrics(v.first, v.second));
      ece.push_back(expectedCalibrationError(v.second, v.first));
      perFold.push_back({{"fold", fold}, {"test", v.first.size()}, {"auc", folds.back().auc}, {"ece", ece.back()}});
    }
    if (folds.empty()) throw Error(ErrorCode::Data, "no fold of the split has test scans, so there is nothing to evaluate");
    const auto e = interval95(ece);
    json out = {
        {"method", req.method},
        {"atlases", atlases},
        {"combination", "mean of the per-atlas models' calibrated probabilities"},
        {"members", memberResults},
        {"corpus", manifest.value("name", std::string())},
        {"positive_class", manifest.at("classes")[1]},
        {"items", scored.size()},
        {"acquisitions_missing_an_atlas", incomplete},
        {"split", {{"kind", whole.at("split").at("kind")}, {"seed", whole.at("split").value("seed", 0u)}, {"folds", whole.at("split").at("folds").size()}}},
        {"metrics", summarizeFolds(folds)},
        {"calibration", {{"ece", {{"mean", e.mean}, {"sd", e.sd}}}, {"method", req.calibration}}},
        {"label_fraction", req.labelFraction},
        {"folds_detail", perFold},
        {"predictions", predictions},
        {"training_seconds", seconds},
        {"procedure", "inside each outer fold, " + req.memberProcedure + ", probabilities averaged"}};
    for (const char* key : {"features", "prompt", "pretrained"})  // the members are one kind of model
      if (const auto v = memberResults.front().value(key, json()); !v.is_null()) out[key] = v;
    return out;
  });
}

std::vector<std::map<std::string, std::filesystem::path>> groupAtlasInputs(const std::vector<std::string>& files, const std::vector<std::string>& atlases) {
  std::vector<std::map<std::string, std::filesystem::path>> out;
  std::map<std::string, std::size_t> groupOf;  // the name with its atlas blanked -> its group
  std::string list;
  for (const auto& a : atlases) list += (list.empty() ? "" : " and ") + a;
  for (const auto& f : files) {
    const std::filesystem::path path(f);
    if (isNiftiPath(path)) {  // one BOLD file is parcellated with every atlas
      std::map<std::string, std::filesystem::path> all;
      for (const auto& a : atlases) all[a] = path;
      out.push_back(all);
      continue;
    }
    const auto name = path.filename().string();
    std::string found, key;
    for (const auto& a : atlases)
      for (const std::string& token : {"rois_" + a, "atlas-" + a}) {
        const auto at = name.find(token);
        if (at == std::string::npos) continue;
        const auto after = at + token.size();
        if (after < name.size() && std::isalnum(static_cast<unsigned char>(name[after]))) continue;  // "rois_ho" is not "rois_hox"
        found = a;
        key = name.substr(0, at) + "*" + name.substr(after);  // ABIDE keeps each atlas in its own folder: the name alone matches
      }
    if (found.empty())
      throw Error(ErrorCode::Usage, f + ": the model reads " + list + "; name each time-series file by its atlas (…_rois_" + atlases.front() +
                                        ".1D.gz or …_atlas-" + atlases.front() + "_…) so the files of one scan can be matched, or give the BOLD file");
    auto [it, isNew] = groupOf.emplace(key, out.size());
    if (isNew) out.emplace_back();
    auto& group = out[it->second];
    if (group.count(found)) throw Error(ErrorCode::Usage, f + ": a second " + found + " file for the scan of " + group[found].string());
    group[found] = path;
  }
  for (const auto& g : out)
    for (const auto& a : atlases)
      if (!g.count(a)) {
        const auto& given = g.begin()->second;
        std::string expected = given.filename().string();
        const auto from = expected.find(g.begin()->first, expected.find("rois_") != std::string::npos ? expected.find("rois_") : expected.find("atlas-"));
        if (from != std::string::npos) expected.replace(from, g.begin()->first.size(), a);
        throw Error(ErrorCode::Usage, given.string() + ": the model reads " + list + " and no " + a + " time series of the same scan was given (expected " +
                                          expected + "; or give the BOLD file, which is parcellated with every atlas)");
      }
  return out;
}

json predictAtlasEnsemble(const std::filesystem::path& modelFile, const ModelCard& model, const std::map<std::string, PredictionInput>& inputs,
                          ProgressDelegate& progress, const std::string& device, int threads) {
  const auto atlases = model.atlases();
  const auto& card = model.stored;
  const auto& members = card.at("members");
  json rows = json::array(), topRois = json::array();
  double p = 0, low = 0, high = 0;
  bool intervals = true, inTraining = false;
  std::vector<json> oods;
  for (std::size_t k = 0; k < atlases.size(); ++k) {
    const auto& input = inputs.at(atlases[k]);
    ProgressRange part(progress, static_cast<double>(k) / static_cast<double>(atlases.size()),
                       static_cast<double>(k + 1) / static_cast<double>(atlases.size()));
    json row;
    if (card.contains("member_files")) {
      // Graph-model members live in their own files beside the card, each checked against its recorded hash.
      const auto& entry = card["member_files"].at(k);
      const auto file = modelFile.parent_path() / entry.at("file").get<std::string>();
      if (!std::filesystem::exists(file))
        throw Error(ErrorCode::NoInput,
                    modelFile.string() + " needs its " + atlases[k] + " member " + file.string() + ", which is missing (keep the files train wrote together)");
      if (hashFile(file) != entry.at("sha256").get<std::string>())
        throw Error(ErrorCode::Data, file.string() + " is not the " + atlases[k] + " member " + modelFile.string() + " was trained with (its SHA-256 differs)");
      row = predictInput(file, ModelCard::read(file), input, device, threads, part);
    } else {
      row = predictInput(modelFile, ModelCard::fromJson(members.at(k), modelFile.string() + " (its " + atlases[k] + " member)"), input, device, threads, part);
    }
    p += row.at("probability").get<double>() / static_cast<double>(atlases.size());
    if (row.contains("interval") && row["interval"].is_object()) {
      low += row["interval"].value("low", 0.0) / static_cast<double>(atlases.size());
      high += row["interval"].value("high", 0.0) / static_cast<double>(atlases.size());
    } else {
      intervals = false;
    }
    oods.push_back(row.value("ood", json()));
    inTraining = inTraining || row.value("in_training_set", false);
    for (auto t : row.value("top_rois", json::array())) {
      t["atlas"] = atlases[k];
      t["atlas_rois"] = static_cast<int>(input.fc.rows());
      t["name"] = t.value("name", std::string()) + " [" + atlases[k] + "]";
      topRois.push_back(t);
    }
    rows.push_back({{"atlas", atlases[k]},
                    {"file", input.file.string()},
                    {"probability", row["probability"]},
                    {"top_rois", row["top_rois"]},
                    {"ood", row.value("ood", json())}});
  }
  // The ROIs that weigh most over both atlases, by their share of their own member's saliency as a
  // multiple of an even share of that atlas's ROIs (a raw share would favour the atlas with fewer ROIs).
  auto multiple = [](const json& t) { return t.value("saliency", 0.0) * t.value("atlas_rois", 1); };
  std::stable_sort(topRois.begin(), topRois.end(), [&](const json& a, const json& b) { return multiple(a) > multiple(b); });
  if (topRois.size() > 10) topRois.erase(topRois.begin() + 10, topRois.end());
  const auto& classes = model.classes;
  if (classes.size() != 2) throw Error(ErrorCode::Data, modelFile.string() + ": a multi-atlas model must have two classes");
  json out = {{"file", rows.front().at("file")},
              {"files",
               [&] {
                 json f = json::object();
                 for (const auto& r : rows) f[r["atlas"].get<std::string>()] = r["file"];
                 return f;
               }()},
              {"label", p >= 0.5 ? classes[1] : classes[0]},
              {"probability", p},
              {"positive_class", model.positiveClass},
              {"model", modelFile.string()},
              {"atlases", atlases},
              {"members", rows},
              {"top_rois", topRois},
              {"interval", intervals ? json{{"low", low}, {"high", high}, {"method", "the mean of the per-atlas members' intervals"}} : json()},
              {"ood", combineOod(oods)},
              {"in_training_set", inTraining}};
  if (inTraining) out["training_set_warning"] = "this scan was used to train the model: the result is not an independent test";
  return out;
}

}  // namespace bg
