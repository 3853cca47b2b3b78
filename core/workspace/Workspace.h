#pragma once
// A workspace is a folder: workspace.sqlite (records; WAL, foreign keys, versioned schema
// with migrations) and arrays/ (a content-addressed store of float32 matrices). The GUI
// and the CLI may open the same workspace at once: SQLite's WAL lets readers work while
// one writer commits.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "jobs/Progress.h"
#include "workspace/ArrayStore.h"

namespace SQLite {
class Database;
}

namespace bg {

struct WorkspaceCounts {
  std::int64_t subjects = 0, sessions = 0, scans = 0, phenotypes = 0, derivatives = 0, corpora = 0, runs = 0, models = 0, predictions = 0;
};

struct WorkspaceCheck {
  bool ok = true;
  std::vector<std::string> problems;
  std::vector<std::string> notes;  // harmless findings (killed processes' temporary files)
  std::int64_t arraysChecked = 0;
};

class Workspace {
 public:
  static constexpr int kSchemaVersion = 4;

  // Creates the folder's database (a folder that already holds one is an error).
  static std::unique_ptr<Workspace> create(const std::filesystem::path& dir);
  // Opens an existing workspace and migrates its schema; throws bg::Error naming the folder. Removes
  // the temporary files of killed processes (StaleTemporaries.h) unless told not to (workspace check
  // reports them first).
  static std::unique_ptr<Workspace> open(const std::filesystem::path& dir, bool removeStaleTemporaries = true);
  ~Workspace();

  SQLite::Database& db() { return *db_; }
  ArrayStore& arrays() { return arrays_; }
  const std::filesystem::path& dir() const { return dir_; }
  int schemaVersion() const;

  WorkspaceCounts counts() const;
  // SQLite integrity and foreign keys, and every array a record names exists (and, with
  // verifyArrays, matches its checksum).
  WorkspaceCheck check(bool verifyArrays, ProgressDelegate& progress) const;

  // Small helpers over the schema.
  std::int64_t ensureSubject(const std::string& dataset, const std::string& key);
  std::int64_t ensureSession(std::int64_t subjectId, const std::string& key);
  void setPhenotype(std::int64_t subjectId, const std::string& name, const std::string& value);

 private:
  Workspace(std::filesystem::path dir, std::unique_ptr<SQLite::Database> db);
  void migrate();
  std::filesystem::path dir_;
  std::unique_ptr<SQLite::Database> db_;
  ArrayStore arrays_;
};

}  // namespace bg
