#pragma once
// The delegate long-running logic calls to report progress and learn of a
// cancel request. The job runner, the CLI and the GUI implement it; the logic
// never knows which.
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include "errors/Error.h"

namespace bg {

class ProgressDelegate {
 public:
  virtual ~ProgressDelegate() = default;
  // Current stage and its completed fraction (0..1). Returns true when a cancel was requested.
  virtual bool update(std::string_view stage, double fraction) = 0;
  virtual bool cancelRequested() const = 0;
  // A point of a training curve (series such as "loss/gcl", "validation/auc", "lr", "graphs_per_s";
  // x in epochs). Ignored unless someone records it (a tracked run writes them for the dashboard).
  virtual void metric(std::string_view series, double x, double value) { (void)series, (void)x, (void)value; }
  // A fact about the run for the dashboard (key "device": "CPU (2 threads)").
  virtual void note(std::string_view key, std::string_view value) { (void)key, (void)value; }
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
  // prefix: put before every stage name ("configuration 2 of 3: "). seriesTag: appended to this
  // part's curve names (foldSeriesTag: each fold's curves apart, each from its own epoch 1).
  ProgressRange(ProgressDelegate& parent, double begin, double end, std::string prefix = {}, std::string seriesTag = {})
      : parent_(parent), begin_(begin), end_(end), prefix_(std::move(prefix)), seriesTag_(std::move(seriesTag)) {}
  bool update(std::string_view stage, double fraction) override {
    const double at = begin_ + (end_ - begin_) * std::clamp(fraction, 0.0, 1.0);
    if (prefix_.empty()) return parent_.update(stage, at);
    return parent_.update(prefix_ + std::string(stage), at);
  }
  bool cancelRequested() const override { return parent_.cancelRequested(); }
  void metric(std::string_view series, double x, double value) override {
    if (seriesTag_.empty())
      parent_.metric(series, x, value);
    else
      parent_.metric(std::string(series) + seriesTag_, x, value);
  }
  void note(std::string_view key, std::string_view value) override { parent_.note(key, value); }

 private:
  ProgressDelegate& parent_;
  double begin_, end_;
  std::string prefix_;
  std::string seriesTag_;
};

}  // namespace bg
