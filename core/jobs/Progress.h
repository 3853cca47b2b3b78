#pragma once
// The delegate long-running logic calls to report progress and learn of a
// cancel request. The job runner, the CLI and the GUI implement it; the logic
// never knows which.
#include <string_view>

#include "errors/Error.h"

namespace bg {

class ProgressDelegate {
 public:
  virtual ~ProgressDelegate() = default;
  // Current stage and its completed fraction (0..1). Returns true when a cancel was requested.
  virtual bool update(std::string_view stage, double fraction) = 0;
  virtual bool cancelRequested() const = 0;
  void throwIfCancelled() const {
    if (cancelRequested()) throw CancelledError();
  }
};

class NullProgress final : public ProgressDelegate {
 public:
  bool update(std::string_view, double) override { return false; }
  bool cancelRequested() const override { return false; }
};

// Maps a sub-task's 0..1 onto [begin, end] of its parent's fraction.
class ProgressRange final : public ProgressDelegate {
 public:
  ProgressRange(ProgressDelegate& parent, double begin, double end) : parent_(parent), begin_(begin), end_(end) {}
  bool update(std::string_view stage, double fraction) override {
    return parent_.update(stage, begin_ + (end_ - begin_) * fraction);
  }
  bool cancelRequested() const override { return parent_.cancelRequested(); }

 private:
  ProgressDelegate& parent_;
  double begin_, end_;
};

}  // namespace bg
