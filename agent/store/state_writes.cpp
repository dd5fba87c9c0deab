// SPDX-License-Identifier: Apache-2.0
#include "agent/store/state_writes.hpp"

#include <cctype>
#include <cstring>

#include "agent/log.hpp"

namespace mxpulse {

namespace {

struct Grant {
  std::string prefix;  ///< "<kind>_", lower case
  std::string denied;  ///< the first refused action, for the message
};

std::string lower(const char* s) {
  std::string out = s ? s : "";
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int authorize(void* user, int action, const char* a1, const char* a2, const char* dbName,
              const char*) {
  auto* grant = static_cast<Grant*>(user);
  auto deny = [&](const std::string& what) {
    if (grant->denied.empty()) grant->denied = what;
    return SQLITE_DENY;
  };
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE: {
      std::string table = lower(a1);
      bool mainDb = dbName && std::strcmp(dbName, "main") == 0;
      if (mainDb && table.size() > grant->prefix.size() &&
          table.compare(0, grant->prefix.size(), grant->prefix) == 0)
        return SQLITE_OK;
      return deny("writing table '" + table + "' (only " + grant->prefix + "* tables)");
    }
    default:
      (void)a2;
      return deny("statement type " + std::to_string(action) + " (only INSERT/UPDATE/DELETE)");
  }
}

}  // namespace

bool applyStateWrites(SqliteDb& db, const std::string& kind, const std::vector<StateWrite>& writes,
                      std::string& error) {
  if (writes.empty()) return true;
  if (kind.empty()) {
    error = "state writes need a job kind";
    return false;
  }
  std::string ignored;
  if (!db.exec("SAVEPOINT job_state", error)) return false;
  Grant grant{lower(kind.c_str()) + "_", {}};
  sqlite3* h = db.handle();
  bool ok = true;
  sqlite3_set_authorizer(h, authorize, &grant);
  for (size_t i = 0; ok && i < writes.size(); ++i) {
    const StateWrite& w = writes[i];
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(h, w.sql.c_str(), static_cast<int>(w.sql.size()), &stmt, &tail);
    std::string where =
        "state write " + std::to_string(i + 1) + " of " + std::to_string(writes.size()) + ": ";
    if (rc != SQLITE_OK || !stmt) {
      error = where + (grant.denied.empty() ? sqlite3_errmsg(h) : "not allowed: " + grant.denied);
      ok = false;
    } else if (tail && *tail && std::strspn(tail, " \t\r\n;") != std::strlen(tail)) {
      error = where + "more than one statement";
      ok = false;
    } else if (sqlite3_bind_parameter_count(stmt) != static_cast<int>(w.params.size())) {
      error = where + "expects " + std::to_string(sqlite3_bind_parameter_count(stmt)) +
              " parameters, got " + std::to_string(w.params.size());
      ok = false;
    } else if (sqlite3_stmt_readonly(stmt)) {
      error = where + "does not write";
      ok = false;
    } else {
      for (size_t p = 0; p < w.params.size(); ++p)
        sqlite3_bind_text(stmt, static_cast<int>(p + 1), w.params[p].data(),
                          static_cast<int>(w.params[p].size()), SQLITE_TRANSIENT);
      while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      }
      if (rc != SQLITE_DONE) {
        error = where + sqlite3_errmsg(h);
        ok = false;
      }
    }
    if (stmt) sqlite3_finalize(stmt);
  }
  sqlite3_set_authorizer(h, nullptr, nullptr);
  if (!ok) {
    db.exec("ROLLBACK TO job_state; RELEASE job_state", ignored);
    return false;
  }
  return db.exec("RELEASE job_state", error);
}

void applyJobStateWrites(SqliteDb& db, const std::string& job, const std::string& kind,
                         const std::vector<StateWrite>& writes) {
  std::string error;
  if (!applyStateWrites(db, kind, writes, error))
    log::error("job state not saved (results are) " + log::kv("job", job) + " " +
               log::kv("error", error));
}

}  // namespace mxpulse
