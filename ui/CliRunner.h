#pragma once
// Model work (pre-training, tuning, evaluation, prediction) runs in braingraph-cli processes (see
// EngineInfo.h for why). runCli() runs one inside a JobRunner job: it forwards the process's
// `--progress-json` lines to the job's progress, turns a cancel into Ctrl-C for the process (which
// then stops cleanly and keeps its checkpoints), and returns its standard output.
#include <QByteArray>
#include <QStringList>

namespace bg {
class JobContext;
}

namespace bg::ui {

// Throws bg::Error with the CLI's own message and exit code when it fails, CancelledError when
// cancelled.
QByteArray runCli(JobContext& job, const QStringList& args);

}  // namespace bg::ui
