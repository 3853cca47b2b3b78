#include "workspace/Workspace.h"

#include "workspace/StaleTemporaries.h"

#include <cstdlib>
#include <mutex>
#include <set>

#include <SQLiteCpp/SQLiteCpp.h>
#include <spdlog/spdlog.h>

#include "errors/Error.h"

namespace bg {
namespace {

// Migration i takes the schema from version i to i + 1. Never edit one that has shipped: add another.
const char* const kMigrations[] = {
    R"SQL(
CREATE TABLE subjects (
  id INTEGER PRIMARY KEY,
  dataset TEXT NOT NULL,
  subject_key TEXT NOT NULL,
  UNIQUE (dataset, subject_key));
CREATE TABLE sessions (
  id INTEGER PRIMARY KEY,
  subject_id INTEGER NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
  session_key TEXT NOT NULL,
  UNIQUE (subject_id, session_key));
CREATE TABLE scans (
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('bold', 'timeseries')),
  path TEXT NOT NULL,
  content_hash TEXT NOT NULL UNIQUE,
  tr REAL,
  shape TEXT,
  atlas TEXT,                 -- ROI time series: the parcellation their columns follow
  series_array TEXT,          -- ROI time series kept in the array store
  confounds_path TEXT,
  imported_at TEXT NOT NULL DEFAULT (datetime('now')));
CREATE TABLE phenotypes (
  subject_id INTEGER NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('number', 'text')),
  PRIMARY KEY (subject_id, name));
CREATE TABLE derivatives (
  id INTEGER PRIMARY KEY,
  scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
  atlas TEXT NOT NULL,
  params_hash TEXT NOT NULL,
  params_json TEXT NOT NULL,
  input_hash TEXT NOT NULL,
  series_array TEXT NOT NULL,
  fc_array TEXT NOT NULL,
  qc_json TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (datetime('now')),
  UNIQUE (scan_id, atlas, params_hash));
CREATE TABLE corpora (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  manifest_json TEXT NOT NULL,
  manifest_hash TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (datetime('now')));
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  corpus_id INTEGER REFERENCES corpora(id),
  config_json TEXT NOT NULL,
  state TEXT NOT NULL,
  log TEXT NOT NULL DEFAULT '',
  metrics_json TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL DEFAULT (datetime('now')),
  updated_at TEXT NOT NULL DEFAULT (datetime('now')));
CREATE TABLE models (
  id INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  parent_id INTEGER REFERENCES models(id),
  run_id INTEGER REFERENCES runs(id),
  config_json TEXT NOT NULL,
  card_json TEXT NOT NULL DEFAULT '{}',
  path TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (datetime('now')));
CREATE TABLE predictions (
  id INTEGER PRIMARY KEY,
  scan_id INTEGER NOT NULL REFERENCES scans(id),
  model_id INTEGER NOT NULL REFERENCES models(id),
  label TEXT NOT NULL,
  probability REAL NOT NULL,
  explanation_json TEXT NOT NULL DEFAULT '{}',
  operator TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL DEFAULT (datetime('now')));
CREATE INDEX derivatives_scan ON derivatives(scan_id);
CREATE INDEX phenotypes_name ON phenotypes(name, value);
)SQL",
    R"SQL(
CREATE TABLE reports (
  id TEXT PRIMARY KEY,        -- the report id printed on every page
  prediction_id INTEGER REFERENCES predictions(id),
  record_json TEXT NOT NULL,  -- everything the PDF shows; the PDF is regenerated from it
  signed_by TEXT NOT NULL DEFAULT '',
  pdf_path TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL DEFAULT (datetime('now')),
  updated_at TEXT NOT NULL DEFAULT (datetime('now')));
CREATE INDEX reports_prediction ON reports(prediction_id);
)SQL",
    R"SQL(
ALTER TABLE runs ADD COLUMN pid INTEGER;         -- set for runs a braingraph-cli process tracks itself
ALTER TABLE runs ADD COLUMN stage TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN progress REAL NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN command TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN log_path TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN exit_code INTEGER;
)SQL",
    R"SQL(
CREATE TABLE evaluation_predictions (   -- an evaluation's out-of-fold predictions, one JSON array
  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  predictions_json TEXT NOT NULL);
)SQL",
};

std::unique_ptr<SQLite::Database> connect(const std::filesystem::path& file, bool create) {
  try {
    auto db = std::make_unique<SQLite::Database>(file.string(), create ? (SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE) : SQLite::OPEN_READWRITE);
    // Another process (the GUI, a CLI batch) may hold the write lock for a while.
    db->setBusyTimeout(30000);
    db->exec("PRAGMA journal_mode=WAL");
    db->exec("PRAGMA foreign_keys=ON");
    db->exec("PRAGMA synchronous=NORMAL");
    return db;
  } catch (const SQLite::Exception& e) {
    throw Error(ErrorCode::Io, "cannot open database " + file.string() + ": " + e.what());
  }
}

}  // namespace

Workspace::Workspace(std::filesystem::path dir, std::unique_ptr<SQLite::Database> db) : dir_(std::move(dir)), db_(std::move(db)), arrays_(dir_ / "arrays") {}

Workspace::~Workspace() = default;

std::unique_ptr<Workspace> Workspace::create(const std::filesystem::path& dir) {
  return withContext("while creating workspace " + dir.string(), [&] {
    const auto file = dir / "workspace.sqlite";
    if (std::filesystem::exists(file)) throw Error(ErrorCode::Usage, "a workspace already exists there");
    std::filesystem::create_directories(dir);
    std::unique_ptr<Workspace> ws(new Workspace(dir, connect(file, true)));
    ws->migrate();
    return ws;
  });
}

std::unique_ptr<Workspace> Workspace::open(const std::filesystem::path& dir, bool cleanTemporaries) {
  return withContext("while opening workspace " + dir.string(), [&] {
    const auto file = dir / "workspace.sqlite";
    if (!std::filesystem::exists(file))
      throw Error(ErrorCode::NoInput, "not a workspace (no workspace.sqlite; create one with 'braingraph-cli workspace init')");
    std::unique_ptr<Workspace> ws(new Workspace(dir, connect(file, false)));
    ws->migrate();
    if (cleanTemporaries) {
      // Once per process and folder: the GUI reopens its workspace every second, and a walk of the
      // array store each time would cost more than the leftovers are worth.
      static std::mutex m;
      static std::set<std::string> cleaned;
      std::lock_guard lock(m);
      if (cleaned.insert(std::filesystem::absolute(dir).lexically_normal().string()).second) bg::removeStaleTemporaries(dir);
    }
    return ws;
  });
}

int Workspace::schemaVersion() const { return db_->execAndGet("PRAGMA user_version").getInt(); }

void Workspace::migrate() {
  const int version = schemaVersion();
  constexpr int latest = static_cast<int>(sizeof kMigrations / sizeof kMigrations[0]);
  static_assert(latest == kSchemaVersion);
  if (version > latest)
    throw Error(ErrorCode::Config, "the workspace has schema version " + std::to_string(version) + ", newer than this program understands (" +
                                       std::to_string(latest) + "); update BrainGraph Workbench");
  for (int v = version; v < latest; ++v) {
    SQLite::Transaction tx(*db_);
    db_->exec(kMigrations[v]);
    db_->exec("PRAGMA user_version = " + std::to_string(v + 1));
    tx.commit();
    if (version > 0) spdlog::info("workspace {}: schema migrated to version {}", dir_.string(), v + 1);
  }
}

WorkspaceCounts Workspace::counts() const {
  auto count = [&](const char* table) { return db_->execAndGet(std::string("SELECT count(*) FROM ") + table).getInt64(); };
  WorkspaceCounts c;
  SQLite::Transaction tx(*db_);  // one consistent snapshot
  c.subjects = count("subjects");
  c.sessions = count("sessions");
  c.scans = count("scans");
  c.phenotypes = count("phenotypes");
  c.derivatives = count("derivatives");
  c.corpora = count("corpora");
  c.runs = count("runs");
  c.models = count("models");
  c.predictions = count("predictions");
  return c;
}

WorkspaceCheck Workspace::check(bool verifyArrays, ProgressDelegate& progress) const {
  WorkspaceCheck r;
  progress.update("SQLite integrity", 0.0);
  {
    SQLite::Statement q(*db_, "PRAGMA integrity_check");
    while (q.executeStep()) {
      const std::string msg = q.getColumn(0).getString();
      if (msg != "ok") r.problems.push_back("sqlite: " + msg);
    }
    SQLite::Statement fk(*db_, "PRAGMA foreign_key_check");
    while (fk.executeStep()) r.problems.push_back("foreign key broken in table " + fk.getColumn(0).getString());
  }
  std::vector<std::string> hashes;
  {
    SQLite::Statement q(*db_,
                        "SELECT series_array FROM scans WHERE series_array IS NOT NULL "
                        "UNION SELECT series_array FROM derivatives UNION SELECT fc_array FROM derivatives");
    while (q.executeStep()) hashes.push_back(q.getColumn(0).getString());
  }
  for (const auto& t : findStaleTemporaries(dir_))
    r.notes.push_back("temporary file " + t.file.string() + " left by process " + std::to_string(t.pid) +
                      ", which no longer runs (the next command that opens the workspace removes it)");
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    if (i % 64 == 0 && progress.update("arrays", static_cast<double>(i) / static_cast<double>(hashes.size()))) throw CancelledError();
    try {
      if (verifyArrays) {
        arrays_.map(hashes[i], true);
      } else if (!arrays_.contains(hashes[i])) {
        throw Error(ErrorCode::NoInput, "array " + arrays_.pathOf(hashes[i]).string() + " is missing");
      }
      ++r.arraysChecked;
    } catch (const Error& e) {
      r.problems.push_back(e.what());
    }
  }
  r.ok = r.problems.empty();
  progress.update("done", 1.0);
  return r;
}

namespace {
// INSERT OR IGNORE a (parent, key) row, then return its id.
template <class Parent>
std::int64_t ensureRow(SQLite::Database& db, const char* table, const char* parentColumn, const char* keyColumn, const Parent& parent, const std::string& key) {
  SQLite::Statement ins(db, std::string("INSERT OR IGNORE INTO ") + table + "(" + parentColumn + ", " + keyColumn + ") VALUES (?, ?)");
  ins.bind(1, parent);
  ins.bind(2, key);
  ins.exec();
  SQLite::Statement q(db, std::string("SELECT id FROM ") + table + " WHERE " + parentColumn + " = ? AND " + keyColumn + " = ?");
  q.bind(1, parent);
  q.bind(2, key);
  q.executeStep();
  return q.getColumn(0).getInt64();
}
}  // namespace

std::int64_t Workspace::ensureSubject(const std::string& dataset, const std::string& key) {
  return ensureRow(*db_, "subjects", "dataset", "subject_key", dataset, key);
}

std::int64_t Workspace::ensureSession(std::int64_t subjectId, const std::string& key) {
  return ensureRow(*db_, "sessions", "subject_id", "session_key", subjectId, key);
}

void Workspace::setPhenotype(std::int64_t subjectId, const std::string& name, const std::string& value) {
  char* end = nullptr;
  std::strtod(value.c_str(), &end);
  const bool number = !value.empty() && end && *end == '\0';
  SQLite::Statement q(*db_, "INSERT OR REPLACE INTO phenotypes(subject_id, name, value, type) VALUES (?, ?, ?, ?)");
  q.bind(1, subjectId);
  q.bind(2, name);
  q.bind(3, value);
  q.bind(4, number ? "number" : "text");
  q.exec();
}

}  // namespace bg
