#include "settings/Settings.h"

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "errors/Error.h"
#include "io/AtomicFile.h"
#include "platform/Strings.h"
#include "settings/UserDirs.h"

namespace bg {
using nlohmann::json;

std::filesystem::path Settings::defaultFile() {
  if (const char* v = std::getenv("BRAINGRAPH_SETTINGS"); v && *v) return v;
  return userConfigDir() / "settings.json";
}

std::string Settings::toJson() const {
  json j;
  j["data_path"] = json::array();
  for (const auto& p : dataPath) j["data_path"].push_back(p.string());
  j["device"] = device;
  j["compute_threads"] = computeThreads;
  j["job_workers"] = jobWorkers;
  j["workspace"] = workspace.string();
  j["display_convention"] = displayConvention;
  return j.dump(2) + "\n";
}

Settings Settings::load(const std::filesystem::path& file) {
  Settings s;
  if (!std::filesystem::exists(file)) return s;
  return withContext("while reading settings " + file.string(), [&] {
    std::ifstream in(file);
    if (!in) throw Error(ErrorCode::Io, "cannot open file");
    json j;
    try {
      j = json::parse(in);
    } catch (const json::exception& e) {
      throw Error(ErrorCode::Config, std::string("not valid JSON: ") + e.what());
    }
    if (!j.is_object()) throw Error(ErrorCode::Config, "top level must be a JSON object");
    try {
      if (j.contains("data_path")) {
        for (const auto& p : j.at("data_path")) s.dataPath.emplace_back(p.get<std::string>());
      }
      s.device = j.value("device", s.device);
      s.computeThreads = j.value("compute_threads", s.computeThreads);
      s.jobWorkers = j.value("job_workers", s.jobWorkers);
      s.workspace = j.value("workspace", std::string());
      s.displayConvention = j.value("display_convention", s.displayConvention);
    } catch (const json::exception& e) {
      throw Error(ErrorCode::Config, std::string("wrong value type: ") + e.what());
    }
    s.validate();
    return s;
  });
}

void Settings::save(const std::filesystem::path& file) const {
  validate();
  writeTextAtomically(file, toJson());
}

void Settings::validate() const {
  static const std::regex deviceRe("auto|cpu|cuda(:[0-9]+)?");
  if (!std::regex_match(device, deviceRe)) throw Error(ErrorCode::Config, "device '" + device + "' is not one of auto, cpu, cuda, cuda:N");
  if (computeThreads < 0 || computeThreads > 1024) throw Error(ErrorCode::Config, "compute_threads must be between 0 (all cores) and 1024");
  if (jobWorkers < 1 || jobWorkers > 64) throw Error(ErrorCode::Config, "job_workers must be between 1 and 64");
  if (displayConvention != "neurological" && displayConvention != "radiological")
    throw Error(ErrorCode::Config, "display_convention '" + displayConvention + "' is not neurological or radiological");
}

void Settings::set(const std::string& key, const std::string& value) {
  auto toInt = [&](const std::string& v) {
    try {
      size_t used = 0;
      int n = std::stoi(v, &used);
      if (used != v.size()) throw std::invalid_argument(v);
      return n;
    } catch (const std::exception&) {
      throw Error(ErrorCode::Usage, "setting '" + key + "' needs an integer, got '" + v + "'");
    }
  };
  if (key == "data_path") {
    const auto parts = splitList(value, ':');
    dataPath.assign(parts.begin(), parts.end());
  } else if (key == "workspace") {
    workspace = value;
  } else if (key == "device") {
    device = value;
  } else if (key == "compute_threads") {
    computeThreads = toInt(value);
  } else if (key == "job_workers") {
    jobWorkers = toInt(value);
  } else if (key == "display_convention") {
    displayConvention = value;
  } else {
    throw Error(ErrorCode::Usage, "unknown setting '" + key + "' (data_path, device, compute_threads, job_workers, workspace, display_convention)");
  }
  validate();
}

}  // namespace bg
