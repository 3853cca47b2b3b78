#pragma once
// Helpers shared by the Qt Test suites.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <unistd.h>

#include <QProcess>
#include <QTest>

namespace bgtest {

// The data root the tests read (atlases/ and data/ below it): $BRAINGRAPH_DATA, set by CTest.
inline std::filesystem::path dataRoot() {
  const char* env = std::getenv("BRAINGRAPH_DATA");
  return env && *env ? std::filesystem::path(env) : std::filesystem::path(BRAINGRAPH_TEST_DATA);
}

// A fresh empty folder below the build tree's test scratch area.
inline std::filesystem::path scratchDir(const std::string& name) {
  // One folder per process, so concurrent runs never share one.
  const auto dir = std::filesystem::path(BRAINGRAPH_TEST_SCRATCH) / (name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

#ifdef BRAINGRAPH_CLI
// Runs braingraph-cli and collects what it printed.
struct CliResult {
  int exitCode;
  QString out, err;
};
inline CliResult runCli(const QStringList& args) {
  QProcess p;
  p.start(QStringLiteral(BRAINGRAPH_CLI), args);
  if (!p.waitForFinished(300000)) return {-1, {}, QStringLiteral("timeout")};
  return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
}
// The same with one compute thread and no progress bar (what the CLI suites run).
inline CliResult runCliQuietly(QStringList args) {
  args.prepend(QStringLiteral("--no-progress"));
  args.prepend(QStringLiteral("--threads=1"));
  return runCli(args);
}
#endif

}  // namespace bgtest
