// SPDX-License-Identifier: Apache-2.0
#include "agent/store/sqlite_db.hpp"

#include "agent/store/migrations.hpp"

#include <algorithm>
#include <set>

namespace mxpulse {

SqliteStmt& SqliteStmt::operator=(SqliteStmt&& o) noexcept {
  if (this != &o) {
    if (stmt_) sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = o.stmt_;
    o.stmt_ = nullptr;
  }
  return *this;
}

SqliteStmt::~SqliteStmt() {
  if (stmt_) sqlite3_finalize(stmt_);
}

SqliteStmt& SqliteStmt::bind(int index, std::int64_t v) {
  sqlite3_bind_int64(stmt_, index, v);
  return *this;
}
SqliteStmt& SqliteStmt::bind(int index, double v) {
  sqlite3_bind_double(stmt_, index, v);
  return *this;
}
SqliteStmt& SqliteStmt::bind(int index, const std::string& v) {
  sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
SqliteStmt& SqliteStmt::bindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

int SqliteStmt::step() { return sqlite3_step(stmt_); }

bool SqliteStmt::run() {
  int rc;
  while ((rc = sqlite3_step(stmt_)) == SQLITE_ROW) {
  }
  return rc == SQLITE_DONE;
}

void SqliteStmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string SqliteStmt::text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::string SqliteStmt::columnName(int col) const {
  const char* n = sqlite3_column_name(stmt_, col);
  return n ? n : "";
}

SqliteDb::~SqliteDb() {
  if (db_) sqlite3_close_v2(db_);
}

std::string SqliteDb::explain(int code, const std::string& detail) const {
  switch (code & 0xFF) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return "state DB " + path_ + " is corrupt or not a SQLite database (" + detail +
             "); move it aside (mv " + path_ + " " + path_ +
             ".corrupt) and restart: mxpulse creates a new one";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "state DB " + path_ + " is locked by another process (" + detail +
             "); is another mxpulse writing to it?";
    case SQLITE_FULL:
      return "state DB " + path_ + ": disk full (" + detail + "); free space on its file system";
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      return "state DB " + path_ + " cannot be opened for writing (" + detail +
             "); check that its directory exists and is writable by the mxpulse user";
    case SQLITE_IOERR:
      return "state DB " + path_ + ": I/O error (" + detail + "); check the disk";
    default:
      return "state DB " + path_ + ": " + detail;
  }
}

bool SqliteDb::open(const std::string& path, Mode mode, std::string& error) {
  path_ = path;
  int flags = mode == Mode::ReadOnly ? SQLITE_OPEN_READONLY
                                     : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;  // each connection is used by one thread
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    error = explain(rc, db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
    if (db_) sqlite3_close_v2(db_);
    db_ = nullptr;
    return false;
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 5000);
  // Touch the schema now so a foreign or corrupt file fails here.
  std::string detail;
  SqliteStmt probe = prepare("SELECT count(*) FROM sqlite_master", detail);
  if (!probe || probe.step() != SQLITE_ROW) {
    error = explain(lastErrorCode(), detail.empty() ? lastError() : detail);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    return false;
  }
  return true;
}

bool SqliteDb::exec(const std::string& sql, std::string& error) {
  char* msg = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg);
  if (rc != SQLITE_OK) {
    error = explain(rc, msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return false;
  }
  return true;
}

SqliteStmt SqliteDb::prepare(const std::string& sql, std::string& error) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    error = sqlite3_errmsg(db_);
    if (stmt) sqlite3_finalize(stmt);
    return SqliteStmt();
  }
  return SqliteStmt(db_, stmt);
}

std::string SqliteDb::lastError() const { return db_ ? sqlite3_errmsg(db_) : "not open"; }

bool SqliteTransaction::begin(std::string& error) {
  open_ = db_.exec("BEGIN IMMEDIATE", error);
  return open_;
}

bool SqliteTransaction::commit(std::string& error) {
  if (!open_) return false;
  if (!db_.exec("COMMIT", error)) return false;
  open_ = false;
  return true;
}

SqliteTransaction::~SqliteTransaction() {
  if (open_) {
    std::string ignored;
    db_.exec("ROLLBACK", ignored);
  }
}

bool applyMigrations(SqliteDb& db, std::string& error) {
  // Each applied migration is recorded by number, so one that lands after a
  // higher-numbered one (parallel branches) still runs. user_version mirrors
  // the highest applied number for tools that look there.
  if (!db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
               "name TEXT NOT NULL, applied_at INTEGER NOT NULL DEFAULT (strftime('%s','now')))",
               error))
    return false;
  SqliteStmt v = db.prepare("PRAGMA user_version", error);
  if (!v || v.step() != SQLITE_ROW) return false;
  int userVersion = static_cast<int>(v.int64(0));
  v = SqliteStmt();
  const auto& all = migrations();
  std::set<int> known, applied;
  for (const auto& m : all) known.insert(m.version);
  {
    SqliteStmt rows = db.prepare("SELECT version FROM schema_migrations", error);
    if (!rows) return false;
    while (rows.step() == SQLITE_ROW) applied.insert(static_cast<int>(rows.int64(0)));
  }
  int newestKnown = all.empty() ? 0 : all.back().version;
  if (userVersion > newestKnown) {
    error = "state DB " + db.path() + " has schema version " + std::to_string(userVersion) +
            " but this mxpulse knows only up to " + std::to_string(newestKnown) +
            "; run the newer mxpulse or restore an older DB";
    return false;
  }
  if (applied.empty() && userVersion > 0) {
    // A DB from before this table existed: what user_version covers is done.
    for (const auto& m : all)
      if (m.version <= userVersion) applied.insert(m.version);
  }
  for (int version : applied) {
    if (!known.count(version)) {
      error = "state DB " + db.path() + " has schema migration " + std::to_string(version) +
              " that this mxpulse does not know; run the newer mxpulse or restore an older DB";
      return false;
    }
  }
  int highest = applied.empty() ? 0 : *applied.rbegin();
  for (const auto& m : all) {
    bool done = applied.count(m.version) > 0;
    SqliteTransaction tx(db);
    if (!tx.begin(error)) return false;
    if (!done) {
      std::string detail;
      if (!db.exec(m.sql, detail)) {
        error = "migration " + std::string(m.name) + " failed: " + detail;
        return false;
      }
      highest = std::max(highest, m.version);
    }
    SqliteStmt rec = db.prepare("INSERT OR IGNORE INTO schema_migrations (version, name) VALUES (?, ?)",
                                error);
    if (!rec) return false;
    rec.bind(1, m.version).bind(2, std::string(m.name));
    if (!rec.run()) {
      error = db.lastError();
      return false;
    }
    if (!db.exec("PRAGMA user_version = " + std::to_string(highest), error)) return false;
    if (!tx.commit(error)) return false;
  }
  return true;
}

}  // namespace mxpulse
