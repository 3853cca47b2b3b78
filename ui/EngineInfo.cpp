#include "EngineInfo.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>

#include <spdlog/spdlog.h>

namespace bg::ui {

EngineInfo::EngineInfo(QObject* parent) : QObject(parent) {}

EngineInfo::~EngineInfo() {
  // The window may close before the query answers: end it rather than leave it orphaned.
  if (process_) {
    process_->disconnect(this);
    process_->kill();
    process_->waitForFinished(2000);
  }
}

QString EngineInfo::cliPath() {
  const QString env = qEnvironmentVariable("BRAINGRAPH_CLI");
  if (!env.isEmpty()) return env;
  const QString beside = QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("braingraph-cli"));
  if (QFileInfo(beside).isExecutable()) return beside;
  const QString onPath = QStandardPaths::findExecutable(QStringLiteral("braingraph-cli"));
  return onPath.isEmpty() ? beside : onPath;
}

void EngineInfo::query() {
  if (process_) return;
  process_ = new QProcess(this);
  connect(process_, &QProcess::finished, this, [this](int exitCode, QProcess::ExitStatus status) {
    const QByteArray out = process_->readAllStandardOutput();
    if (status != QProcess::NormalExit || exitCode != 0) {
      error_ = QString::fromUtf8(process_->readAllStandardError()).trimmed();
      device_ = tr("unavailable (%1)").arg(error_.isEmpty() ? tr("braingraph-cli failed") : error_);
    } else {
      const QJsonObject j = QJsonDocument::fromJson(out).object();
      torchVersion_ = j.value(QStringLiteral("libraries")).toObject().value(QStringLiteral("LibTorch")).toString();
      const QJsonObject device = j.value(QStringLiteral("device")).toObject();
      device_ = device.value(QStringLiteral("description")).toString();
      cudaDevices_ = device.value(QStringLiteral("cuda_devices")).toInt();
    }
    ready_ = true;
    process_->deleteLater();
    process_ = nullptr;
    Q_EMIT finished();
  });
  connect(process_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
    if (e != QProcess::FailedToStart) return;
    error_ = tr("cannot start %1").arg(cliPath());
    device_ = tr("unavailable (%1)").arg(error_);
    spdlog::warn("{}", error_.toStdString());
    ready_ = true;
    process_->deleteLater();
    process_ = nullptr;
    Q_EMIT finished();
  });
  process_->start(cliPath(), {QStringLiteral("--quiet"), QStringLiteral("info"), QStringLiteral("--json")});
}

}  // namespace bg::ui
