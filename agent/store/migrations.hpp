// SPDX-License-Identifier: Apache-2.0
// Forward-only schema migrations embedded from sql/ at build time. The
// schema version lives in PRAGMA user_version; each migration runs in its
// own transaction together with the version bump.
#pragma once

#include <string>
#include <vector>

namespace mxpulse {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

/// All migrations, in order (generated file).
const std::vector<Migration>& migrations();

class SqliteDb;
/// Brings `db` to the newest schema. Refuses a DB newer than this binary.
bool applyMigrations(SqliteDb& db, std::string& error);

}  // namespace mxpulse
