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
// The CLI as a user who cannot write the build tree's files: as root (who ignores permissions) it
// runs as nobody through setpriv; otherwise `readOnly` is made read-only for the call. The settings and
// caches go to a folder that user can write.
inline CliResult runCliWithoutWriteAccess(const QStringList& args, const std::filesystem::path& readOnly) {
  namespace fs = std::filesystem;
  const auto home = fs::temp_directory_path() / ("bg-other-user-" + std::to_string(::getpid()));
  fs::create_directories(home);
  fs::permissions(home, fs::perms::all);
  QProcess p;
  auto env = QProcessEnvironment::systemEnvironment();
  for (const char* key : {"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"})
    env.insert(QString::fromLatin1(key), QString::fromStdString(home.string()));
  env.insert(QStringLiteral("BRAINGRAPH_SETTINGS"), QString::fromStdString((home / "settings.json").string()));
  p.setProcessEnvironment(env);
  const bool root = ::geteuid() == 0;
  const auto saved = fs::status(readOnly).permissions();
  if (root) {
    p.start(
        QStringLiteral("setpriv"),
        QStringList{QStringLiteral("--reuid=65534"), QStringLiteral("--regid=65534"), QStringLiteral("--clear-groups"), QStringLiteral(BRAINGRAPH_CLI)} + args);
  } else {
    for (const auto& e : fs::recursive_directory_iterator(readOnly))
      fs::permissions(e.path(), fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write, fs::perm_options::remove);
    fs::permissions(readOnly, fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write, fs::perm_options::remove);
    p.start(QStringLiteral(BRAINGRAPH_CLI), args);
  }
  const bool finished = p.waitForFinished(300000);
  if (!root) {
    fs::permissions(readOnly, saved);
    for (const auto& e : fs::recursive_directory_iterator(readOnly)) fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  }
  std::error_code ec;
  fs::remove_all(home, ec);
  if (!finished) return {-1, {}, QStringLiteral("timeout")};
  return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
}
inline CliResult runCliQuietly(QStringList args) {
  args.prepend(QStringLiteral("--no-progress"));
  args.prepend(QStringLiteral("--threads=1"));
  return runCli(args);
}
#endif

}  // namespace bgtest
