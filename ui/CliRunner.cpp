#include "CliRunner.h"

#include <csignal>
#include <memory>

#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QProcess>

#include <spdlog/spdlog.h>

#include "EngineInfo.h"
#include "errors/Error.h"
#include "jobs/Job.h"

namespace bg::ui {

QByteArray runCli(JobContext& job, const QStringList& args) {
  QProcess p;
  QStringList all = {QStringLiteral("--progress-json"), QStringLiteral("--no-progress")};
  all += args;
  p.start(EngineInfo::cliPath(), all);
  if (!p.waitForStarted(10000)) throw Error(ErrorCode::Config, "cannot start " + EngineInfo::cliPath().toStdString());
  QByteArray out, err, pending;
  bool interrupted = false;
  while (p.state() != QProcess::NotRunning) {
    p.waitForReadyRead(100);
    out += p.readAllStandardOutput();
    pending += p.readAllStandardError();
    int nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const QByteArray line = pending.left(nl);
      pending.remove(0, nl + 1);
      const auto doc = QJsonDocument::fromJson(line);
      if (doc.isObject() && doc.object().contains(QStringLiteral("progress"))) {
        job.update(doc.object().value(QStringLiteral("stage")).toString().toStdString(), doc.object().value(QStringLiteral("progress")).toDouble());
      } else if (!line.trimmed().isEmpty()) {
        err += line + '\n';
        spdlog::debug("braingraph-cli: {}", line.toStdString());
      }
    }
    if (job.cancelRequested() && !interrupted) {
      interrupted = true;
      ::kill(static_cast<pid_t>(p.processId()), SIGINT);  // the CLI cancels its job cleanly
    }
  }
  p.waitForFinished(-1);
  out += p.readAllStandardOutput();
  err += pending + p.readAllStandardError();
  if (interrupted) throw CancelledError();
  if (p.exitStatus() != QProcess::NormalExit) throw Error(ErrorCode::Internal, "braingraph-cli crashed: " + err.trimmed().toStdString());
  if (p.exitCode() != 0) {
    // The CLI's last error line says what went wrong, with its context chain.
    QString message = QString::fromUtf8(err).trimmed();
    const auto lines = message.split('\n');
    for (auto it = lines.rbegin(); it != lines.rend(); ++it)
      if (it->contains(QStringLiteral("error"))) {
        message = *it;
        break;
      }
    throw Error(static_cast<ErrorCode>(p.exitCode()), message.toStdString());
  }
  return out;
}

QProcess* startCli(QObject* owner, const QStringList& args, std::function<void(const QString& error)> done) {
  auto* p = new QProcess(owner);
  auto finish = std::make_shared<std::function<void(const QString&)>>(std::move(done));
  QObject::connect(p, &QProcess::finished, p, [p, finish](int code, QProcess::ExitStatus status) {
    const QString err = QString::fromUtf8(p->readAllStandardError()).trimmed();
    p->deleteLater();
    if (status == QProcess::NormalExit && code == 0)
      (*finish)(QString());
    else
      (*finish)(err.isEmpty() ? QObject::tr("braingraph-cli failed (exit %1)").arg(code) : err);
  });
  // Queued: start() may report a failure before the caller has the process in hand.
  QObject::connect(
      p, &QProcess::errorOccurred, p,
      [p, finish](QProcess::ProcessError e) {
        if (e != QProcess::FailedToStart) return;  // other errors end in finished()
        p->deleteLater();
        (*finish)(QObject::tr("cannot start %1").arg(EngineInfo::cliPath()));
      },
      Qt::QueuedConnection);
  p->start(EngineInfo::cliPath(), args);
  return p;
}

QProcess* startDialogCli(QObject* owner, const QStringList& args, QLabel* message, const QString& busy, const QString& done, std::function<void()> succeeded,
                         std::function<void()> failed) {
  message->setStyleSheet(QString());
  message->setText(busy);
  return startCli(owner, args, [message, done, succeeded = std::move(succeeded), failed = std::move(failed)](const QString& error) {
    if (error.isEmpty()) {
      message->setStyleSheet(QString());
      message->setText(done);
      succeeded();
    } else {
      failed();
      message->setStyleSheet(QStringLiteral("color: #cf222e"));
      message->setText(error);
    }
  });
}

}  // namespace bg::ui
