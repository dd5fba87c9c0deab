// SPDX-License-Identifier: Apache-2.0
#include "probes/sqlite_query.hpp"

#include <sqlite3.h>

#include <memory>

namespace mxpulse::probes {

namespace {
struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

DbPtr openReadOnly(const std::string& path, std::string& error) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    error = "cannot open " + path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    return nullptr;
  }
  sqlite3_busy_timeout(raw, 2000);
  sqlite3_exec(raw, "PRAGMA query_only=1", nullptr, nullptr, nullptr);
  return db;
}

StmtPtr prepareReadOnly(sqlite3* db, const std::string& query, std::string& error) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(db, query.c_str(), static_cast<int>(query.size()), &raw, &tail) !=
      SQLITE_OK) {
    error = sqlite3_errmsg(db);
    return nullptr;
  }
  StmtPtr stmt(raw);
  if (!stmt) {
    error = "empty query";
    return nullptr;
  }
  std::string rest = tail ? tail : "";
  if (rest.find_first_not_of(" \t\r\n;") != std::string::npos) {
    error = "only one statement is allowed";
    return nullptr;
  }
  if (!sqlite3_stmt_readonly(stmt.get())) {
    error = "the statement writes to the database; queries must be read-only";
    return nullptr;
  }
  return stmt;
}

int progressCheck(void* arg) {
  return static_cast<const Deadline*>(arg)->expired() ? 1 : 0;  // non-zero interrupts
}
}  // namespace

SqlRows sqliteQueryReadOnly(const std::string& path, const std::string& query, Deadline deadline) {
  SqlRows out;
  DbPtr db = openReadOnly(path, out.error);
  if (!db) return out;
  StmtPtr stmt = prepareReadOnly(db.get(), query, out.error);
  if (!stmt) return out;
  sqlite3_progress_handler(db.get(), 1000, progressCheck, &deadline);
  int n = sqlite3_column_count(stmt.get());
  for (int i = 0; i < n; ++i) out.columns.emplace_back(sqlite3_column_name(stmt.get(), i));
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    if (out.rows.size() >= kMaxSqlRows) {
      out.error = "query returned more than " + std::to_string(kMaxSqlRows) + " rows";
      return out;
    }
    std::vector<std::optional<std::string>> row;
    for (int i = 0; i < n; ++i) {
      const unsigned char* t = sqlite3_column_text(stmt.get(), i);
      if (t)
        row.emplace_back(std::string(reinterpret_cast<const char*>(t),
                                     static_cast<size_t>(sqlite3_column_bytes(stmt.get(), i))));
      else
        row.emplace_back(std::nullopt);
    }
    out.rows.push_back(std::move(row));
  }
  if (rc == SQLITE_INTERRUPT) {
    out.error = "query timed out";
    return out;
  }
  if (rc != SQLITE_DONE) {
    out.error = sqlite3_errmsg(db.get());
    return out;
  }
  out.ok = true;
  return out;
}

std::string sqliteCheckQuery(const std::string& path, const std::string& query) {
  std::string error;
  DbPtr db = openReadOnly(path, error);
  if (!db) return error;
  StmtPtr stmt = prepareReadOnly(db.get(), query, error);
  return stmt ? "" : error;
}

}  // namespace mxpulse::probes
