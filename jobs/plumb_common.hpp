// SPDX-License-Identifier: Apache-2.0
// Pieces shared by the pmta, oauth_expiry and dlq_depth job kinds: a SQL
// source read from params (a SQLite file or MySQL/MariaDB, read-only),
// reads of a kind's own state tables in the state DB, rough durations for
// summaries, and "top N plus other" metric labels.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/job.hpp"
#include "probes/mysql_client.hpp"
#include "probes/sql_rows.hpp"

namespace mxpulse {
class MapReader;
}

namespace mxpulse::jobs {

/// A read-only SQL source given in a job's params:
///   sqlite_path: FILE            (opened read-only), or
///   mysql: {host, port, socket, user, password | password_file, database}
///   query: one SELECT
struct SqlSourceSpec {
  std::string sqlitePath;
  bool mysql = false;
  probes::MysqlParams mysqlParams;  ///< password resolved; never logged
  std::string query;
  /// "sqlite:/path" or "mysql:user@host:port/db" (no password), for facts.
  std::string describe() const;
};

/// Reads the keys above from `r` (which the caller finish()es). Returns
/// nullopt after reporting errors when neither or both sources are given.
std::optional<SqlSourceSpec> parseSqlSource(MapReader& r, const JobBuildEnv& env);
probes::SqlRows runSqlSource(const SqlSourceSpec& spec, Deadline deadline);

/// Single-quoted SQL literal (quotes doubled) for values we build queries
/// with; the state DB is opened read-only with query_only set.
std::string sqlQuote(const std::string& s);
/// Runs a read-only query on the state DB; !ok when there is no state DB
/// (ad hoc checks) or the query fails (e.g. before migrations ran).
probes::SqlRows readState(const std::string& stateDb, const std::string& query, Deadline deadline);

/// "45s", "12m", "3h12m", "2d4h": two units at most, for summaries.
std::string roughDuration(std::int64_t seconds);
/// "1,234,567".
std::string groupDigits(std::int64_t n);

/// Keeps the `n` largest (by value) entries and sums the rest into one
/// entry named `other` (only when something was folded), so a metric's
/// label set stays bounded. Ties keep the input order.
std::vector<std::pair<std::string, double>> topWithOther(
    std::vector<std::pair<std::string, double>> values, size_t n,
    const std::string& other = "other");

}  // namespace mxpulse::jobs
