#include "JobBridge.h"

#include <QCoreApplication>
#include <QPointer>

namespace bg::ui {

JobBridge::JobBridge(JobRunner& runner, QObject* parent) : QObject(parent), runner_(runner) {
  qRegisterMetaType<bg::JobSnapshot>();
  QPointer<JobBridge> self(this);
  handle_ = runner_.addObserver([self](const JobSnapshot& snap) {
    // Called on a worker thread: hop to the GUI thread, where `self` is checked.
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [self, snap] {
          if (self) Q_EMIT self->jobChanged(snap);
        },
        Qt::QueuedConnection);
  });
}

JobBridge::~JobBridge() { runner_.removeObserver(handle_); }

}  // namespace bg::ui
