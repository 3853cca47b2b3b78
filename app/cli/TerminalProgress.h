#pragma once
// A one-line progress bar with stage and ETA on stderr, drawn only on a terminal.
#include <string>

#include "jobs/Job.h"

namespace bg::cli {

class TerminalProgress {
 public:
  explicit TerminalProgress(bool enabled);
  ~TerminalProgress();
  void draw(const JobSnapshot& snap);
  void finish();
  static std::string formatDuration(double seconds);
  static std::string renderLine(const JobSnapshot& snap, int width);

 private:
  bool enabled_;
  bool drawn_ = false;
};

}  // namespace bg::cli
