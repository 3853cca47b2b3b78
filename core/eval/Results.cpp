#include "eval/Results.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "errors/Error.h"

namespace bg {
using nlohmann::json;

namespace {
std::string fmt3(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", v);
  return b;
}

struct Row {
  std::vector<std::string> cells;
};

const char* kMetrics[] = {"auc", "accuracy", "sensitivity", "specificity", "f1", "balanced_accuracy"};

std::vector<std::string> header() {
  std::vector<std::string> h = {"id", "corpus", "method", "prompt", "split", "folds", "label_fraction"};
  for (const char* m : kMetrics) {
    h.push_back(std::string(m) + "_mean");
    h.push_back(std::string(m) + "_ci_low");
    h.push_back(std::string(m) + "_ci_high");
  }
  for (const char* x : {"ece", "trainable_parameters", "training_seconds", "pretraining_seconds"}) h.push_back(x);
  return h;
}

std::vector<std::string> cells(const EvaluationRecord& r) {
  const auto& j = r.result;
  auto str = [](const json& v) { return v.is_null() ? std::string() : v.is_string() ? v.get<std::string>() : v.dump(); };
  std::vector<std::string> c = {std::to_string(r.id),
                                r.corpus,
                                str(j.value("method", json())),
                                str(j.value("prompt", json())),
                                str(j.at("split").value("kind", json())),
                                str(j.at("split").value("folds", json())),
                                j.contains("label_fraction") ? str(j["label_fraction"]) : "1"};
  for (const char* m : kMetrics) {
    const auto& v = j.at("metrics").at(m);
    c.push_back(fmt3(v.at("mean").get<double>()));
    c.push_back(fmt3(v.at("ci95")[0].get<double>()));
    c.push_back(fmt3(v.at("ci95")[1].get<double>()));
  }
  c.push_back(j.contains("calibration") ? fmt3(j["calibration"]["ece"]["mean"].get<double>()) : "");
  c.push_back(j.contains("trainable_parameters") ? str(j["trainable_parameters"]) : "");
  c.push_back(j.contains("training_seconds") ? fmt3(j["training_seconds"].get<double>()) : "");
  c.push_back(j.contains("pretraining_seconds") ? fmt3(j["pretraining_seconds"].get<double>()) : "");
  return c;
}

}  // namespace

std::string csvCell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) {
    if (ch == '"') q += '"';
    q += ch;
  }
  return q + "\"";
}

std::string renderResults(const std::vector<EvaluationRecord>& rows, const std::string& format) {
  std::ostringstream out;
  if (format == "json") {
    json a = json::array();
    for (const auto& r : rows) a.push_back({{"id", r.id}, {"corpus", r.corpus}, {"created_at", r.createdAt}, {"request", r.request}, {"result", r.result}});
    out << a.dump(2) << "\n";
  } else if (format == "csv") {
    const auto h = header();
    for (std::size_t i = 0; i < h.size(); ++i) out << (i ? "," : "") << h[i];
    out << "\n";
    for (const auto& r : rows) {
      const auto c = cells(r);
      for (std::size_t i = 0; i < c.size(); ++i) out << (i ? "," : "") << csvCell(c[i]);
      out << "\n";
    }
  } else if (format == "md") {
    out << "| Method | Corpus | Split | Labels | AUC | Accuracy | Sensitivity | Specificity | F1 | ECE | Trainable params | Train s |\n"
        << "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& r : rows) {
      const auto& j = r.result;
      auto metric = [&](const char* m) {
        const auto& v = j.at("metrics").at(m);
        return fmt3(v.at("mean").get<double>()) + " [" + fmt3(v.at("ci95")[0].get<double>()) + ", " + fmt3(v.at("ci95")[1].get<double>()) + "]";
      };
      std::string method = j.contains("method") && j["method"].is_string() ? j["method"].get<std::string>() : std::string();
      if (j.contains("prompt") && j["prompt"].is_string()) method += " (" + j["prompt"].get<std::string>() + ")";
      if (j.contains("pretrained") && !j["pretrained"].is_null()) method += ", pre-trained";
      if (j.contains("features") && j["features"].is_string()) method += ", " + j["features"].get<std::string>();
      // Settings chosen inside the folds make another model than any one fixed setting.
      if (j.contains("c_selection")) method += ", C chosen in folds";
      if (j.contains("config_selection")) method += ", configuration chosen in folds";
      const double fraction = j.value("label_fraction", 1.0);
      out << "| " << method << " | " << r.corpus << " | " << j.at("split").value("kind", "") << " (" << j.at("split").value("folds", 0) << ") | "
          << fmt3(100 * fraction).substr(0, fmt3(100 * fraction).find('.') + 2) << "% | " << metric("auc") << " | " << metric("accuracy") << " | "
          << metric("sensitivity") << " | " << metric("specificity") << " | " << metric("f1") << " | "
          << (j.contains("calibration") ? fmt3(j["calibration"]["ece"]["mean"].get<double>()) : "") << " | "
          << (j.contains("trainable_parameters") ? j["trainable_parameters"].dump() : "") << " | "
          << (j.contains("training_seconds") ? fmt3(j["training_seconds"].get<double>()) : "") << " |\n";
    }
  } else {
    throw Error(ErrorCode::Usage, "results format '" + format + "' is not json, csv or md");
  }
  return out.str();
}

json outOfFoldPrediction(int fold, const json& item, const json& classes, int label, double margin, double probability) {
  return {{"fold", fold},
          {"scan_id", item.value("scan_id", std::int64_t{0})},
          {"subject", item.value("subject", std::string())},
          {"site", item.value("site", std::string())},
          {"label", label},
          {"class", classes.at(static_cast<std::size_t>(label))},
          {"margin", margin},
          {"probability", probability}};
}

std::string renderPredictionsCsv(const std::vector<json>& results) {
  std::ostringstream out;
  // A comparison's file names each row's model (a first column); evaluate's has one model.
  const bool named = std::any_of(results.begin(), results.end(), [](const json& r) { return r.contains("model"); });
  out << (named ? "model," : "") << "label_fraction,fold,scan_id,subject,site,label,class,margin,probability\n";
  char number[32];
  auto real = [&](const json& v) {
    if (v.is_null()) return std::string();
    std::snprintf(number, sizeof number, "%.17g", v.get<double>());
    return std::string(number);
  };
  for (const auto& r : results)
    for (const auto& p : r.value("predictions", json::array()))
      out << (named ? csvCell(r.value("model", std::string())) + "," : std::string()) << real(r.value("label_fraction", 1.0)) << ',' << p.at("fold").get<int>()
          << ',' << p.at("scan_id").get<std::int64_t>() << ',' << csvCell(p.at("subject").get<std::string>()) << ',' << csvCell(p.at("site").get<std::string>())
          << ',' << p.at("label").get<int>() << ',' << csvCell(p.at("class").get<std::string>()) << ',' << real(p.at("margin")) << ','
          << real(p.at("probability")) << '\n';
  return out.str();
}

}  // namespace bg
