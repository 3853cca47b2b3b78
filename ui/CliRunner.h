#pragma once
// Model work (pre-training, tuning, evaluation, prediction) runs in braingraph-cli processes (see
// EngineInfo.h for why). runCli() runs one inside a JobRunner job: it forwards the process's
// `--progress-json` lines to the job's progress, turns a cancel into Ctrl-C for the process (which
// then stops cleanly and keeps its checkpoints), and returns its standard output.
#include <functional>

#include <QByteArray>
#include <QString>
#include <QStringList>

class QLabel;
class QObject;
class QProcess;

namespace bg {
class JobContext;
}

namespace bg::ui {

// Throws bg::Error with the CLI's own message and exit code when it fails, CancelledError when
// cancelled.
QByteArray runCli(JobContext& job, const QStringList& args);

// Starts braingraph-cli without blocking (for a dialog's short command). `done` runs once when it
// ends: with an empty string on success, else the CLI's own message (or its exit status, or why it
// could not start). The process is a child of `owner` and is deleted after `done`.
QProcess* startCli(QObject* owner, const QStringList& args, std::function<void(const QString& error)> done);

// startCli() for a dialog whose command writes one file: `message` reads `busy` while it runs and
// `done` afterwards, when `succeeded` runs; on failure `failed` runs (it re-checks the form) and the
// CLI's message then replaces the label's text, in red.
QProcess* startDialogCli(QObject* owner, const QStringList& args, QLabel* message, const QString& busy, const QString& done, std::function<void()> succeeded,
                         std::function<void()> failed);

}  // namespace bg::ui
