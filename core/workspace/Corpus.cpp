#include "workspace/Corpus.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "errors/Error.h"
#include "io/AtomicFile.h"
#include "jobs/Progress.h"
#include "io/Npy.h"
#include "io/StagedOutput.h"
#include "workspace/ArrayStore.h"
#include "workspace/ContentHash.h"
#include "workspace/Workspace.h"

namespace bg {
using nlohmann::json;

CorpusFilter CorpusFilter::parse(const std::string& e) {
  for (const char* op : {"!=", "<=", ">=", "=", "<", ">"}) {
    const auto pos = e.find(op);
    if (pos != std::string::npos && pos > 0) return {e.substr(0, pos), op, e.substr(pos + std::string(op).size())};
  }
  throw Error(ErrorCode::Usage, "filter '" + e + "' is not FIELD=VALUE, FIELD!=VALUE, FIELD<NUMBER, ... ");
}

namespace {

bool passes(const CorpusFilter& f, const std::map<std::string, std::string>& pheno) {
  auto it = pheno.find(f.field);
  if (it == pheno.end()) return false;
  const std::string& v = it->second;
  if (f.op == "=") return v == f.value;
  if (f.op == "!=") return v != f.value;
  char* e1 = nullptr;
  char* e2 = nullptr;
  const double a = std::strtod(v.c_str(), &e1), b = std::strtod(f.value.c_str(), &e2);
  if (*e1 != '\0' || *e2 != '\0') return false;
  if (f.op == "<") return a < b;
  if (f.op == "<=") return a <= b;
  if (f.op == ">") return a > b;
  return a >= b;
}

// Deterministic across standard libraries: Fisher-Yates with mt19937's raw output.
void shuffle(std::vector<int>& v, std::mt19937& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng() % i]);
}

std::vector<int> takeValidation(std::vector<int>& train, const std::vector<int>& classIndex, double fraction, std::mt19937& rng) {
  // Stratified: the same fraction of every class moves from training to validation.
  std::map<int, std::vector<int>> byClass;
  for (int i : train) byClass[classIndex[static_cast<std::size_t>(i)]].push_back(i);
  std::vector<int> validation;
  std::set<int> moved;
  for (auto& [c, members] : byClass) {
    shuffle(members, rng);
    const auto k = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(members.size())));
    for (std::size_t j = 0; j < k; ++j) {
      validation.push_back(members[j]);
      moved.insert(members[j]);
    }
  }
  std::erase_if(train, [&](int i) { return moved.count(i) > 0; });
  std::sort(validation.begin(), validation.end());
  return validation;
}

}  // namespace

Holdout stratifiedHoldout(const std::vector<int>& classIndex, double fraction, unsigned seed) {
  std::map<int, std::vector<std::size_t>> byClass;
  for (std::size_t i = 0; i < classIndex.size(); ++i) byClass[classIndex[i]].push_back(i);
  std::mt19937 rng(seed + 101u);
  Holdout h;
  for (auto& [label, idx] : byClass) {
    std::shuffle(idx.begin(), idx.end(), rng);
    const auto nv = std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(fraction * static_cast<double>(idx.size()))));
    for (std::size_t k = 0; k < idx.size(); ++k) (k < nv ? h.validation : h.train).push_back(idx[k]);
  }
  return h;
}

std::vector<std::size_t> stratifiedLabelShare(const std::vector<int>& classIndex, double fraction, unsigned seed) {
  std::vector<std::size_t> keep;
  if (fraction >= 1.0) {
    for (std::size_t i = 0; i < classIndex.size(); ++i) keep.push_back(i);
    return keep;
  }
  std::map<int, std::vector<std::size_t>> byClass;
  for (std::size_t i = 0; i < classIndex.size(); ++i) byClass[classIndex[i]].push_back(i);
  std::mt19937 rng(seed * 7919u + 17u);
  for (auto& [label, idx] : byClass) {
    std::shuffle(idx.begin(), idx.end(), rng);
    const auto n = std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(fraction * static_cast<double>(idx.size()))));
    keep.insert(keep.end(), idx.begin(), idx.begin() + static_cast<long>(std::min(n, idx.size())));
  }
  std::sort(keep.begin(), keep.end());
  return keep;
}

std::vector<Holdout> stratifiedFolds(const std::vector<int>& classIndex, int folds, unsigned seed) {
  if (folds < 2 || static_cast<std::size_t>(folds) > classIndex.size())
    throw Error(ErrorCode::Usage, std::to_string(folds) + " folds of " + std::to_string(classIndex.size()) + " items: need 2 <= folds <= items");
  std::map<int, std::vector<std::size_t>> byClass;
  for (std::size_t i = 0; i < classIndex.size(); ++i) byClass[classIndex[i]].push_back(i);
  std::mt19937 rng(seed + 211u);
  std::vector<int> fold(classIndex.size());
  std::size_t position = 0;  // continuing the count across classes keeps fold sizes balanced
  for (auto& [label, idx] : byClass) {
    std::shuffle(idx.begin(), idx.end(), rng);
    for (auto i : idx) fold[i] = static_cast<int>(position++ % static_cast<std::size_t>(folds));
  }
  std::vector<Holdout> out(static_cast<std::size_t>(folds));
  for (std::size_t i = 0; i < classIndex.size(); ++i)
    for (int k = 0; k < folds; ++k) (fold[i] == k ? out[static_cast<std::size_t>(k)].validation : out[static_cast<std::size_t>(k)].train).push_back(i);
  return out;
}

std::vector<std::string> corpusAtlases(const json& manifest) {
  if (manifest.contains("atlases") && manifest["atlases"].is_array() && !manifest["atlases"].empty())
    return manifest["atlases"].get<std::vector<std::string>>();
  return {manifest.value("atlas", std::string())};
}

void requireSingleAtlas(const json& manifest, const std::string& what) {
  const auto atlases = corpusAtlases(manifest);
  if (atlases.size() <= 1) return;
  std::string list;
  for (const auto& a : atlases) list += (list.empty() ? "" : ", ") + a;
  throw Error(ErrorCode::Usage, "corpus '" + manifest.value("name", std::string()) + "' holds several atlases (" + list + "); " + what +
                                    " reads one parcellation at a time: create a corpus per atlas (corpus create --atlas ID)");
}

json makeSplit(const std::vector<int>& classIndex, const std::vector<std::string>& sites, const SplitSpec& spec, const std::vector<std::string>& groups) {
  if (!groups.empty()) {
    // Split the groups, then give every item its group's place.
    if (groups.size() != classIndex.size()) throw Error(ErrorCode::Usage, "one group per item needed");
    std::map<std::string, int> groupOf;
    std::vector<int> groupClass;
    std::vector<std::string> groupSite;
    std::vector<int> itemGroup;
    for (std::size_t i = 0; i < groups.size(); ++i) {
      auto [it, fresh] = groupOf.emplace(groups[i], static_cast<int>(groupClass.size()));
      if (fresh) {
        groupClass.push_back(classIndex[i]);
        groupSite.push_back(i < sites.size() ? sites[i] : std::string());
      } else if (groupClass[static_cast<std::size_t>(it->second)] != classIndex[i]) {
        throw Error(ErrorCode::Data, "the items of '" + groups[i] + "' carry different labels");
      }
      itemGroup.push_back(it->second);
    }
    if (groupClass.size() != groups.size()) {
      json split = makeSplit(groupClass, groupSite, spec);
      std::vector<std::vector<int>> members(groupClass.size());
      for (std::size_t i = 0; i < itemGroup.size(); ++i) members[static_cast<std::size_t>(itemGroup[i])].push_back(static_cast<int>(i));
      for (auto& fold : split["folds"])
        for (const char* part : {"train", "validation", "test"}) {
          std::vector<int> items;
          for (int g : fold[part].get<std::vector<int>>())
            items.insert(items.end(), members[static_cast<std::size_t>(g)].begin(), members[static_cast<std::size_t>(g)].end());
          std::sort(items.begin(), items.end());
          fold[part] = items;
        }
      split["grouped_by"] = "subject";
      return split;
    }
  }
  const int n = static_cast<int>(classIndex.size());
  std::mt19937 rng(spec.seed);
  json folds = json::array();
  if (spec.kind == "kfold") {
    if (spec.folds < 2 || spec.folds > n) throw Error(ErrorCode::Usage, "k-fold needs 2 <= k <= number of items");
    std::map<int, std::vector<int>> byClass;
    for (int i = 0; i < n; ++i) byClass[classIndex[static_cast<std::size_t>(i)]].push_back(i);
    std::vector<int> fold(static_cast<std::size_t>(n));
    int position = 0;  // continuing the count across classes keeps fold sizes balanced
    for (auto& [c, members] : byClass) {
      shuffle(members, rng);
      for (int i : members) fold[static_cast<std::size_t>(i)] = position++ % spec.folds;
    }
    for (int f = 0; f < spec.folds; ++f) {
      std::vector<int> test, train;
      for (int i = 0; i < n; ++i) (fold[static_cast<std::size_t>(i)] == f ? test : train).push_back(i);
      const auto validation = takeValidation(train, classIndex, spec.innerValidationFraction, rng);
      folds.push_back({{"name", "fold " + std::to_string(f + 1)}, {"train", train}, {"validation", validation}, {"test", test}});
    }
  } else if (spec.kind == "leave-site-out") {
    std::set<std::string> unique(sites.begin(), sites.end());
    if (unique.size() < 2) throw Error(ErrorCode::Usage, "leave-site-out needs items from at least two sites");
    for (const auto& s : unique) {
      std::vector<int> test, train;
      for (int i = 0; i < n; ++i) (sites[static_cast<std::size_t>(i)] == s ? test : train).push_back(i);
      const auto validation = takeValidation(train, classIndex, spec.innerValidationFraction, rng);
      folds.push_back({{"name", s}, {"train", train}, {"validation", validation}, {"test", test}});
    }
  } else if (spec.kind == "fixed") {
    if (!(spec.trainFraction > 0 && spec.validationFraction >= 0 && spec.trainFraction + spec.validationFraction <= 1 + 1e-12))
      throw Error(ErrorCode::Usage, "a fixed split needs 0 < train, 0 <= validation and train + validation <= 1 (the rest is the test part); got train " +
                                        fmt::format("{:g}", spec.trainFraction) + ", validation " + fmt::format("{:g}", spec.validationFraction));
    std::map<int, std::vector<int>> byClass;
    for (int i = 0; i < n; ++i) byClass[classIndex[static_cast<std::size_t>(i)]].push_back(i);
    std::vector<int> train, validation, test;
    for (auto& [c, members] : byClass) {
      shuffle(members, rng);
      const auto m = static_cast<double>(members.size());
      const auto nt = static_cast<std::size_t>(std::llround(spec.trainFraction * m));
      const auto nv = static_cast<std::size_t>(std::llround(spec.validationFraction * m));
      for (std::size_t j = 0; j < members.size(); ++j) (j < nt ? train : j < nt + nv ? validation : test).push_back(members[j]);
    }
    for (auto* v : {&train, &validation, &test}) std::sort(v->begin(), v->end());
    folds.push_back({{"name", "fixed"}, {"train", train}, {"validation", validation}, {"test", test}});
  } else {
    throw Error(ErrorCode::Usage, "split '" + spec.kind + "' is not kfold, leave-site-out or fixed");
  }
  for (const auto& fold : folds)  // fine for pre-training; evaluate refuses a fold it cannot test
    if (fold.at("test").empty())
      spdlog::warn("the split leaves '{}' without test scans: the corpus can pre-train or train, but evaluate will refuse it",
                   fold.at("name").get<std::string>());
  return {{"kind", spec.kind}, {"seed", spec.seed}, {"folds", folds}};
}

json buildCorpusManifest(Workspace& ws, const CorpusSpec& spec) {
  return withContext("while building corpus '" + spec.name + "'", [&] {
    if (spec.name.empty()) throw Error(ErrorCode::Usage, "a corpus needs a name");
    // Phenotypes per subject.
    std::map<std::int64_t, std::map<std::string, std::string>> pheno;
    {
      SQLite::Statement q(ws.db(), "SELECT subject_id, name, value FROM phenotypes");
      while (q.executeStep()) pheno[q.getColumn(0).getInt64()][q.getColumn(1).getString()] = q.getColumn(2).getString();
    }
    const auto atlases = spec.atlases.empty() ? std::vector<std::string>{spec.atlas} : spec.atlases;
    const bool multi = atlases.size() > 1;
    json items = json::array();
    std::set<std::string> labelsFound;
    struct Row {
      json item;
      std::string label;
    };
    std::vector<Row> rows;
    for (const auto& atlas : atlases) {
      // The newest matching derivative of each scan for the atlas.
      SQLite::Statement q(ws.db(),
                          "SELECT sc.id, sc.content_hash, su.id, su.dataset, su.subject_key, d.series_array, d.fc_array, d.params_hash, se.id "
                          "FROM derivatives d JOIN scans sc ON sc.id = d.scan_id JOIN sessions se ON se.id = sc.session_id "
                          "JOIN subjects su ON su.id = se.subject_id WHERE d.atlas = ? AND (? = '' OR d.params_hash = ?) "
                          "ORDER BY sc.id, d.created_at DESC, d.id DESC");
      q.bind(1, atlas);
      q.bind(2, spec.paramsHash);
      q.bind(3, spec.paramsHash);
      std::set<std::int64_t> seen;
      while (q.executeStep()) {
        const auto scan = q.getColumn(0).getInt64();
        if (!seen.insert(scan).second) continue;
        const auto subject = q.getColumn(2).getInt64();
        const auto& p = pheno[subject];
        if (!std::all_of(spec.filters.begin(), spec.filters.end(), [&](const CorpusFilter& f) { return passes(f, p); })) continue;
        auto label = p.find(spec.labelField);
        if (label == p.end()) continue;  // unlabelled scans cannot train a classifier
        if (!spec.classes.empty() && std::find(spec.classes.begin(), spec.classes.end(), label->second) == spec.classes.end()) continue;
        auto site = p.find(spec.split.siteField);
        json item = {{"scan_id", scan},
                     {"content_hash", q.getColumn(1).getString()},
                     {"dataset", q.getColumn(3).getString()},
                     {"subject", q.getColumn(4).getString()},
                     {"series_array", q.getColumn(5).getString()},
                     {"fc_array", q.getColumn(6).getString()},
                     {"params_hash", q.getColumn(7).getString()},
                     {"site", site == p.end() ? "" : site->second}};
        if (multi) {
          item["atlas"] = atlas;
          item["session_id"] = q.getColumn(8).getInt64();  // one acquisition's graphs in several atlases share it
        }
        labelsFound.insert(label->second);
        rows.push_back({item, label->second});
      }
    }
    std::string atlasList;
    for (const auto& a : atlases) atlasList += (atlasList.empty() ? "" : "+") + a;
    if (rows.empty()) throw Error(ErrorCode::Data, "no derived scan of atlas '" + atlasList + "' passes the filters and has a '" + spec.labelField + "' label");
    std::vector<std::string> classes = spec.classes.empty() ? std::vector<std::string>(labelsFound.begin(), labelsFound.end()) : spec.classes;
    std::vector<int> classIndex;
    std::vector<std::string> sites, subjects;
    for (auto& r : rows) {
      subjects.push_back(r.item["dataset"].get<std::string>() + "/" + r.item["subject"].get<std::string>());
      const int c = static_cast<int>(std::find(classes.begin(), classes.end(), r.label) - classes.begin());
      r.item["label"] = r.label;
      r.item["class_index"] = c;
      classIndex.push_back(c);
      sites.push_back(r.item["site"].get<std::string>());
      items.push_back(r.item);
    }
    json filters = json::array();
    for (const auto& f : spec.filters) filters.push_back(f.field + f.op + f.value);
    json manifest{{"schema", 1},        {"name", spec.name},  {"atlas", atlasList}, {"label_field", spec.labelField},
                  {"classes", classes}, {"filters", filters}, {"items", items},     {"split", makeSplit(classIndex, sites, spec.split, subjects)}};
    if (multi) manifest["atlases"] = atlases;
    return manifest;
  });
}

std::int64_t saveCorpus(Workspace& ws, const json& manifest, CorpusExisting existing) {
  const std::string name = manifest.value("name", std::string());
  return withContext("while saving corpus '" + name + "'", [&] {
    if (manifest.value("schema", 0) != 1 || name.empty() || !manifest.contains("items") || !manifest.contains("split"))
      throw Error(ErrorCode::Data, "not a corpus manifest (schema 1 with name, items and split)");
    json checked = manifest;
    std::vector<std::string> missing;
    for (auto& item : checked["items"]) {
      // Items are matched by content, so ids from another workspace are remapped.
      SQLite::Statement q(ws.db(), "SELECT id FROM scans WHERE content_hash = ?");
      q.bind(1, item.at("content_hash").get<std::string>());
      if (!q.executeStep()) {
        missing.push_back("scan " + item.at("content_hash").get<std::string>() + " is not in this workspace");
        continue;
      }
      item["scan_id"] = q.getColumn(0).getInt64();
      for (const char* key : {"fc_array", "series_array"})
        if (!ws.arrays().contains(item.at(key).get<std::string>()))
          missing.push_back("array " + item.at(key).get<std::string>() + " is missing (derive the scans first)");
    }
    if (!missing.empty()) throw Error(ErrorCode::Data, std::to_string(missing.size()) + " problem(s), first: " + missing.front());
    const std::string text = checked.dump(2);
    const std::string hash = hashBytes(text.data(), text.size());
    SQLite::Transaction tx(ws.db());
    {
      SQLite::Statement q(ws.db(), "SELECT id, manifest_hash FROM corpora WHERE name = ?");
      q.bind(1, name);
      if (q.executeStep()) {
        const auto id = q.getColumn(0).getInt64();
        if (existing == CorpusExisting::KeepIfSame && q.getColumn(1).getString() == hash) {
          spdlog::info("corpus '{}' already exists with the same definition: kept as it is", name);
          return id;
        }
        if (existing != CorpusExisting::Replace)
          throw Error(ErrorCode::Usage, "a corpus named '" + name + "' already exists" +
                                            (existing == CorpusExisting::KeepIfSame ? std::string(" with another definition") : std::string()) +
                                            ": choose another name, or replace it (corpus create --replace; corpus delete " + name + ")");
        // In place: runs recorded on it keep their link (and are said to be of the old definition).
        SQLite::Statement up(ws.db(), "UPDATE corpora SET manifest_json = ?, manifest_hash = ? WHERE id = ?");
        up.bind(1, text);
        up.bind(2, hash);
        up.bind(3, id);
        up.exec();
        SQLite::Statement runs(ws.db(), "SELECT COUNT(*) FROM runs WHERE corpus_id = ?");
        runs.bind(1, id);
        const int recorded = runs.executeStep() ? runs.getColumn(0).getInt() : 0;
        if (recorded > 0)
          spdlog::warn("corpus '{}' replaced; its {} recorded run(s) were made on the previous definition", name, recorded);
        else
          spdlog::info("corpus '{}' replaced", name);
        tx.commit();
        return id;
      }
    }
    SQLite::Statement ins(ws.db(), "INSERT INTO corpora(name, manifest_json, manifest_hash) VALUES (?, ?, ?)");
    ins.bind(1, name);
    ins.bind(2, text);
    ins.bind(3, hash);
    ins.exec();
    const auto id = ws.db().getLastInsertRowid();
    tx.commit();
    return id;
  });
}

int deleteCorpus(Workspace& ws, const std::string& name) {
  SQLite::Statement q(ws.db(), "SELECT c.id, (SELECT COUNT(*) FROM runs r WHERE r.corpus_id = c.id) FROM corpora c WHERE c.name = ?");
  q.bind(1, name);
  if (!q.executeStep()) throw Error(ErrorCode::NoInput, "no corpus named '" + name + "' in workspace " + ws.dir().string());
  const auto id = q.getColumn(0).getInt64();
  const int runs = q.getColumn(1).getInt();
  // Recorded runs name their corpus through it: removing it would leave results nobody can place.
  if (runs > 0)
    throw Error(ErrorCode::Usage, "corpus '" + name + "' has " + std::to_string(runs) +
                                      " recorded run(s) (evaluations, training): it stays so that their "
                                      "results keep their corpus; replace its definition instead (corpus create --replace)");
  SQLite::Statement del(ws.db(), "DELETE FROM corpora WHERE id = ?");
  del.bind(1, id);
  del.exec();
  return 0;
}

json loadCorpus(Workspace& ws, const std::string& name) {
  SQLite::Statement q(ws.db(), "SELECT manifest_json FROM corpora WHERE name = ?");
  q.bind(1, name);
  if (!q.executeStep()) throw Error(ErrorCode::NoInput, "no corpus named '" + name + "' in workspace " + ws.dir().string());
  return json::parse(q.getColumn(0).getString());
}

nlohmann::json corpusTrainingScans(const nlohmann::json& manifest) {
  nlohmann::json hashes = nlohmann::json::array();
  for (const auto& item : manifest.at("items"))
    if (item.contains("content_hash")) hashes.push_back(item["content_hash"]);
  return {{"count", hashes.size()}, {"hashes", hashes}, {"hash", "XXH3-128 of each scan file's bytes"}};
}

std::size_t exportCorpus(Workspace& ws, const std::string& name, const std::filesystem::path& outDir, ProgressDelegate& progress) {
  const auto manifest = loadCorpus(ws, name);
  const auto& items = manifest["items"];
  return withContext("while exporting corpus " + name + " to " + outDir.string(), [&] {
    StagedOutput stage(outDir);
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (progress.update("writing FC matrices", static_cast<double>(i) / static_cast<double>(items.size()))) throw CancelledError();
      const auto fc = ws.arrays().read(items[i]["fc_array"].get<std::string>());
      writeNpyFloat32(stage.path("scan-" + std::to_string(items[i]["scan_id"].get<std::int64_t>()) + "_fc.npy"), fc);
    }
    writeTextAtomically(stage.path("manifest.json"), manifest.dump(2) + "\n");
    stage.commit();
    return items.size();
  });
}

std::vector<std::string> listCorpora(Workspace& ws) {
  std::vector<std::string> out;
  SQLite::Statement q(ws.db(), "SELECT name FROM corpora ORDER BY name");
  while (q.executeStep()) out.push_back(q.getColumn(0).getString());
  return out;
}

}  // namespace bg
