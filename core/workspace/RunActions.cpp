#include "workspace/RunActions.h"

#include "methods/MethodCatalog.h"

namespace bg {

std::string runOption(const TrackedRun& run, const std::string& option) {
  const auto& o = run.config.value("options", nlohmann::json::object());
  return o.contains(option) && o[option].is_string() ? o[option].get<std::string>() : std::string();
}

RunActions runActions(const TrackedRun& run, bool processPaused) {
  RunActions a;
  const bool running = run.state == JobState::Running;
  const bool paused = running && processPaused;
  const auto command = run.config.value("command", std::string());
  a.state = paused ? "paused" : std::string(jobStateName(run.state));
  a.pause = running && !paused;
  a.resume = paused;
  a.relaunch = !running && run.state != JobState::Completed && command == "pretrain" && run.config.contains("argv");
  a.cancel = running;
  a.release = run.state == JobState::Completed && command == "train" && !runOption(run, "--out").empty();
  const auto* method = findMethod(runOption(run, "--method"));
  a.adaptSite = a.release && method && method->isGraphModel();
  return a;
}

}  // namespace bg
