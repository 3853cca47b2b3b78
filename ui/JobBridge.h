#pragma once
// Adapts bg::JobRunner to Qt: job changes arrive as a signal on the GUI thread.
// Workers never touch widgets; they only post snapshots here.
#include <QObject>

#include "jobs/JobRunner.h"

Q_DECLARE_METATYPE(bg::JobSnapshot)

namespace bg::ui {

class JobBridge : public QObject {
  Q_OBJECT
 public:
  explicit JobBridge(JobRunner& runner, QObject* parent = nullptr);
  ~JobBridge() override;
  JobRunner& runner() { return runner_; }

 Q_SIGNALS:
  void jobChanged(const bg::JobSnapshot& snapshot);

 private:
  JobRunner& runner_;
  int handle_ = 0;
};

}  // namespace bg::ui
