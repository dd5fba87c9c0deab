// SPDX-License-Identifier: Apache-2.0
// A thin RAII layer over the SQLite C API. Errors are values (bool + message)
// because a locked, corrupt or full database is an expected condition that
// must turn into a clear message, not a crash.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>

namespace mxpulse {

class SqliteStmt {
 public:
  SqliteStmt() = default;
  SqliteStmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  SqliteStmt(SqliteStmt&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  SqliteStmt& operator=(SqliteStmt&& o) noexcept;
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;
  ~SqliteStmt();

  explicit operator bool() const { return stmt_ != nullptr; }
  sqlite3_stmt* get() const { return stmt_; }

  SqliteStmt& bind(int index, std::int64_t v);
  SqliteStmt& bind(int index, int v) { return bind(index, static_cast<std::int64_t>(v)); }
  SqliteStmt& bind(int index, double v);
  SqliteStmt& bind(int index, const std::string& v);
  SqliteStmt& bindNull(int index);

  /// SQLITE_ROW, SQLITE_DONE or an error code.
  int step();
  /// Steps to completion; false on error.
  bool run();
  void reset();

  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  bool isNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const;
  int columns() const { return sqlite3_column_count(stmt_); }
  std::string columnName(int col) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteDb {
 public:
  enum class Mode { ReadWriteCreate, ReadOnly };

  SqliteDb() = default;
  SqliteDb(SqliteDb&& o) noexcept : db_(o.db_), path_(std::move(o.path_)) { o.db_ = nullptr; }
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  ~SqliteDb();

  /// Opens and verifies the file is a usable SQLite DB (a corrupt or foreign
  /// file is detected here, not at the first write).
  bool open(const std::string& path, Mode mode, std::string& error);
  bool isOpen() const { return db_ != nullptr; }

  bool exec(const std::string& sql, std::string& error);
  /// nullopt-like empty statement on error (message in `error`).
  SqliteStmt prepare(const std::string& sql, std::string& error);
  std::string lastError() const;
  int lastErrorCode() const { return db_ ? sqlite3_extended_errcode(db_) : SQLITE_MISUSE; }
  std::int64_t lastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }

  /// A message that names the file and says what to do, for common failures.
  std::string explain(int code, const std::string& detail) const;

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

/// BEGIN IMMEDIATE ... COMMIT, rolled back if not committed.
class SqliteTransaction {
 public:
  explicit SqliteTransaction(SqliteDb& db) : db_(db) {}
  bool begin(std::string& error);
  bool commit(std::string& error);
  ~SqliteTransaction();

 private:
  SqliteDb& db_;
  bool open_ = false;
};

}  // namespace mxpulse
