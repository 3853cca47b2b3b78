#include "workspace/RunTracking.h"
#include "platform/Process.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <csignal>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <SQLiteCpp/SQLiteCpp.h>
#include <spdlog/spdlog.h>

#include "workspace/Workspace.h"

namespace bg {

using nlohmann::json;

std::int64_t beginTrackedRun(Workspace& ws, const std::string& name, const std::string& command, int pid, const std::string& logPath, const json& config) {
  SQLite::Statement s(ws.db(), "INSERT INTO runs (kind, config_json, state, pid, stage, progress, command, log_path) VALUES (?, ?, 'running', ?, '', 0, ?, ?)");
  s.bind(1, name);
  s.bind(2, config.dump());
  s.bind(3, pid);
  s.bind(4, command);
  s.bind(5, logPath);
  s.exec();
  return ws.db().getLastInsertRowid();
}

void updateTrackedRun(Workspace& ws, std::int64_t id, const std::string& stage, double progress) {
  SQLite::Statement s(ws.db(), "UPDATE runs SET stage = ?, progress = ?, updated_at = datetime('now') WHERE id = ?");
  s.bind(1, stage);
  s.bind(2, progress);
  s.bind(3, id);
  s.exec();
}

void finishTrackedRun(Workspace& ws, std::int64_t id, JobState state, int exitCode, const std::string& error, const json& finalMetrics) {
  SQLite::Statement s(ws.db(),
                      "UPDATE runs SET state = ?1, exit_code = ?2, log = ?3, metrics_json = ?4, "
                      "progress = CASE WHEN ?1 = 'completed' THEN 1 ELSE progress END, "
                      // A completed run's last progress message ("epoch 59/60" when the final epoch wrote none) would read as unfinished;
                      // a cancelled or failed one keeps it: where it stopped.
                      "stage = CASE WHEN ?1 = 'completed' THEN 'done' ELSE stage END, updated_at = datetime('now') WHERE id = ?5");
  s.bind(1, std::string(jobStateName(state)));
  s.bind(2, exitCode);
  s.bind(3, error);
  s.bind(4, finalMetrics.dump());
  s.bind(5, id);
  s.exec();
}

void setTrackedRunEffectiveSettings(Workspace& ws, std::int64_t id, const json& effective) {
  SQLite::Statement q(ws.db(), "SELECT config_json FROM runs WHERE id = ?");
  q.bind(1, id);
  if (!q.executeStep()) return;
  json config = json::parse(q.getColumn(0).getString(), nullptr, false);
  if (!config.is_object()) config = json::object();
  config["effective"] = effective;
  SQLite::Statement s(ws.db(), "UPDATE runs SET config_json = ? WHERE id = ?");
  s.bind(1, config.dump());
  s.bind(2, id);
  s.exec();
}

json comparableRunSettings(const TrackedRun& run) {
  json out = run.config;
  if (!out.is_object() || !out.contains("effective")) return out;
  out["used"] = out["effective"];
  out.erase("effective");
  out.erase("config");  // the file's values; "used.config" holds them after defaults and overrides
  out.erase("argv");
  return out;
}

json effectiveRunSettings(const json& r) {
  json out = json::object();
  for (const char* key : {"method", "architecture", "adaptation", "kind", "config", "split", "label_fraction", "ensemble", "c", "input", "procedure",
                          "pretrained", "prompt", "features"})
    if (r.contains(key) && !r[key].is_null()) out[key] = r[key];
  if (!out.contains("config") && r.contains("tuning") && r["tuning"].is_object()) out["config"] = r["tuning"];  // a model card's
  if (r.contains("calibration") && r["calibration"].is_string()) out["calibration"] = r["calibration"];
  if (r.contains("calibration") && r["calibration"].is_object() && r["calibration"].contains("method")) out["calibration"] = r["calibration"]["method"];
  return out;
}

namespace {
// A JSON object stored in a column; an unreadable one (an older or damaged row) reads as {}.
json objectColumn(SQLite::Statement& q, int column) {
  json j = json::parse(q.getColumn(column).getString(), nullptr, false);
  return j.is_object() ? j : json::object();
}
}  // namespace

std::vector<TrackedRun> listTrackedRuns(Workspace& ws) {
  SQLite::Statement q(ws.db(),
                      "SELECT id, kind, command, state, stage, log_path, created_at, updated_at, log, progress, pid, COALESCE(exit_code, 0), "
                      "config_json, metrics_json "
                      "FROM runs WHERE pid IS NOT NULL ORDER BY id DESC");
  std::vector<TrackedRun> out;
  while (q.executeStep()) {
    TrackedRun r;
    r.id = q.getColumn(0).getInt64();
    r.name = q.getColumn(1).getString();
    r.command = q.getColumn(2).getString();
    const auto stateName = q.getColumn(3).getString();
    r.state = jobStateFromName(stateName).value_or(JobState::Failed);  // a name this version does not know: not running
    r.stage = q.getColumn(4).getString();
    r.logPath = q.getColumn(5).getString();
    r.createdAt = q.getColumn(6).getString();
    r.updatedAt = q.getColumn(7).getString();
    r.error = q.getColumn(8).getString();
    r.progress = q.getColumn(9).getDouble();
    r.pid = q.getColumn(10).getInt();
    r.exitCode = q.getColumn(11).getInt();
    r.config = objectColumn(q, 12);
    r.metrics = objectColumn(q, 13);
    out.push_back(r);
  }
  return out;
}

bool processPaused(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');  // the name may hold spaces and parentheses
  return close != std::string::npos && close + 2 < stat.size() && (stat[close + 2] == 'T' || stat[close + 2] == 't');
}

bool signalRun(int pid, RunSignal what) {
  if (!processExists(pid)) return false;
  switch (what) {
    case RunSignal::Pause:
      return ::kill(pid, SIGSTOP) == 0;
    case RunSignal::Resume:
      return ::kill(pid, SIGCONT) == 0;
    case RunSignal::Cancel:
      ::kill(pid, SIGCONT);  // a stopped process would never see the interrupt
      return ::kill(pid, SIGINT) == 0;
  }
  return false;
}

double processResidentMiB(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

json describeCommand(const std::vector<std::string>& argv) {
  // Options that take no value (global and per command).
  static const std::set<std::string> flags{"--no-progress",
                                           "--quiet",
                                           "-q",
                                           "--verbose",
                                           "-v",
                                           "--progress-json",
                                           "--resume",
                                           "--all-items",
                                           "--json",
                                           "--leave-site-out",
                                           "--pretrain-in-folds",
                                           "--first-order",
                                           "--explain",
                                           "--record",
                                           "--estimate",
                                           "--cross-atlas-views",
                                           "--adapt-new-sites",
                                           "--adapt-labelled"};
  json d{{"command", ""}, {"options", json::object()}, {"argv", json::array()}};
  for (std::size_t i = 1; i < argv.size(); ++i) d["argv"].push_back(argv[i]);
  for (std::size_t i = 1; i < argv.size(); ++i) {
    std::string a = argv[i];
    if (a == "-w") a = "--workspace";
    if (a.rfind("-", 0) != 0) {
      if (d["command"].get<std::string>().empty()) d["command"] = a;
      continue;
    }
    if (const auto eq = a.find('='); eq != std::string::npos) {
      d["options"][a.substr(0, eq)] = a.substr(eq + 1);
    } else if (!flags.count(a) && i + 1 < argv.size() && argv[i + 1].rfind("-", 0) != 0) {
      auto& slot = d["options"][a];
      if (slot.is_string()) slot = json::array({slot});  // repeated (--corpus in meta-train)
      if (slot.is_array())
        slot.push_back(argv[++i]);
      else
        slot = argv[++i];
    } else {
      d["options"][a] = true;
    }
  }
  for (const char* key : {"--config", "--pretrain-config"}) {
    const auto& o = d["options"];
    if (!o.contains(key) || !o[key].is_string()) continue;
    std::ifstream in(o[key].get<std::string>());
    const json c = json::parse(in, nullptr, false);
    if (!c.is_discarded()) d[std::string(key).substr(2)] = c;
  }
  return d;
}

namespace {
void flatten(const json& j, const std::string& prefix, std::map<std::string, json>& out) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else {
    out[prefix] = j;
  }
}
}  // namespace

std::vector<ConfigDifference> diffConfigurations(const json& left, const json& right) {
  std::map<std::string, json> a, b;
  flatten(left, "", a);
  flatten(right, "", b);
  a.erase("argv");  // the raw command line: its parts are compared as options
  b.erase("argv");
  std::set<std::string> keys;
  for (const auto& [k, v] : a) keys.insert(k);
  for (const auto& [k, v] : b) keys.insert(k);
  std::vector<ConfigDifference> out;
  for (const auto& k : keys) {
    const json l = a.count(k) ? a[k] : json(), r = b.count(k) ? b[k] : json();
    if (l != r) out.push_back({k, l, r});
  }
  return out;
}

std::string runMetricsPath(const std::string& logPath) {
  std::string base = logPath;
  if (base.size() > 4 && base.compare(base.size() - 4, 4, ".log") == 0) base.resize(base.size() - 4);
  return base + ".metrics.jsonl";
}

std::vector<double> RunMetrics::xs(const std::string& series) const {
  std::vector<double> v;
  for (const auto& p : points)
    if (p.series == series) v.push_back(p.x);
  return v;
}

std::vector<double> RunMetrics::values(const std::string& series) const {
  std::vector<double> v;
  for (const auto& p : points)
    if (p.series == series) v.push_back(p.value);
  return v;
}

std::vector<std::string> RunMetrics::seriesNames() const {
  std::vector<std::string> names;
  for (const auto& p : points)
    if (std::find(names.begin(), names.end(), p.series) == names.end()) names.push_back(p.series);
  return names;
}

json RunMetrics::finalValues() const { return summariseRunMetrics(points); }

std::string foldSeriesTag(int fold, int member) {
  return " [fold " + std::to_string(fold) + (member > 0 ? ", member " + std::to_string(member) : std::string()) + "]";
}

namespace {
// Where " [fold N...]" starts in a series name, or npos.
std::size_t foldTagAt(const std::string& series) { return series.find(" [fold "); }
}  // namespace

int seriesFold(const std::string& series) {
  const auto at = foldTagAt(series);
  if (at == std::string::npos) return 0;
  return std::atoi(series.c_str() + at + 7);
}

std::string seriesWithoutFold(const std::string& series) {
  const auto at = foldTagAt(series);
  if (at == std::string::npos) return series;
  const auto end = series.find(']', at);
  return series.substr(0, at) + (end == std::string::npos ? std::string() : series.substr(end + 1));
}

json summariseRunMetrics(const std::vector<MetricPoint>& points) {
  std::map<std::string, double> last;                 // every series' last value
  std::map<std::string, std::vector<double>> groups;  // untagged name -> values to average
  for (const auto& p : points) last[p.series] = p.value;
  for (const auto& p : points)
    if (p.series.rfind("test/", 0) == 0 && seriesFold(p.series) == 0) groups[p.series].push_back(p.value);
  for (const auto& [series, value] : last)
    if (seriesFold(series) > 0) groups[seriesWithoutFold(series)].push_back(value);
  json out = json::object();
  for (const auto& [series, value] : last)
    if (seriesFold(series) == 0 && !groups.count(series)) out[series] = value;
  for (const auto& [name, values] : groups) {
    double mean = 0, ss = 0;
    for (double v : values) mean += v;
    mean /= static_cast<double>(values.size());
    for (double v : values) ss += (v - mean) * (v - mean);
    out[name] = mean;
    if (values.size() > 1) out[name + " sd"] = std::sqrt(ss / static_cast<double>(values.size() - 1));
  }
  return out;
}

std::size_t readRunMetrics(const std::string& file, std::size_t offset, RunMetrics& into) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return offset;
  in.seekg(static_cast<std::streamoff>(offset));
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline yet: still being written
    offset += line.size() + 1;
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    if (j.contains("note")) {
      into.notes[j["note"].get<std::string>()] = j.value("value", std::string());
    } else if (j.contains("s")) {
      into.points.push_back({j["s"].get<std::string>(), j.value("x", 0.0), j.value("y", 0.0), j.value("t", 0.0)});
    }
  }
  return offset;
}

namespace {
double steadySeconds() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
}  // namespace

RunMetricsWriter::RunMetricsWriter(std::string file) : file_(std::move(file)), start_(steadySeconds()) {}

void RunMetricsWriter::metric(std::string_view series, double x, double value) {
  const double t = steadySeconds() - start_;
  {
    std::lock_guard lock(mutex_);
    points_.push_back({std::string(series), x, value, t});
  }
  append(json{{"s", series}, {"x", x}, {"y", value}, {"t", t}});
}

void RunMetricsWriter::note(std::string_view key, std::string_view value) { append(json{{"note", key}, {"value", value}}); }

json RunMetricsWriter::finalValues() const {
  std::lock_guard lock(mutex_);
  return summariseRunMetrics(points_);
}

void RunMetricsWriter::append(const json& line) {
  if (file_.empty()) return;
  std::lock_guard lock(mutex_);
  // One whole line per write, appended: a reader never sees half a line followed by more data.
  std::ofstream out(file_, std::ios::app | std::ios::binary);
  std::string text = line.dump();
  text.push_back('\n');
  out << text;
  if (!out) spdlog::debug("run metrics not written to {}", file_);
}

int reconcileTrackedRuns(Workspace& ws) {
  int n = 0;
  for (const auto& r : listTrackedRuns(ws))
    if (r.state == JobState::Running && !processExists(r.pid)) {
      finishTrackedRun(ws, r.id, JobState::Failed, 0, "the process ended without reporting (killed, or the machine restarted)");
      ++n;
    }
  return n;
}

}  // namespace bg
