#pragma once
// What can be done with a tracked run now, decided once: the Runs panel enables its buttons by it
// and labels the run's state with it, and `runs pause|resume|cancel` refuses a verb that does not
// apply. No Qt: tested without a display.
#include <string>

#include "workspace/RunTracking.h"

namespace bg {

struct RunActions {
  std::string state;       // as shown: "paused" for a running run whose process is stopped, else the state's name
  bool pause = false;      // running, not paused
  bool resume = false;     // paused: continue the same process
  bool relaunch = false;   // a stopped pre-training: start it again from its checkpoint (pretrain --resume)
  bool cancel = false;     // running (paused or not)
  bool release = false;    // a completed train run whose model file is known (--out)
  bool adaptSite = false;  // ... of a graph model, whose file can carry per-site statistics (baseline files never do)
};

// `processPaused`: whether the run's process is stopped (platform/Process.h processPaused).
RunActions runActions(const TrackedRun& run, bool processPaused);

// The value a run was launched with for a command-line option ("" when not given).
std::string runOption(const TrackedRun& run, const std::string& option);

}  // namespace bg
