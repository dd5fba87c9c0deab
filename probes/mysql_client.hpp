// SPDX-License-Identifier: Apache-2.0
// MySQL/MariaDB access through MariaDB Connector/C. Every call is bounded
// by connect/read/write timeouts derived from the caller's deadline, and
// server-side by max_statement_time (MariaDB) where the server supports it.
#pragma once

#include <chrono>
#include <string>

#include "probes/deadline.hpp"
#include "probes/sql_rows.hpp"

namespace mxpulse::probes {

struct MysqlParams {
  std::string host = "127.0.0.1";
  int port = 3306;
  std::string socket;  ///< a Unix socket path wins over host/port
  std::string user;
  std::string password;
  std::string database;
};

/// Runs one query inside a READ ONLY transaction and returns its rows.
/// Never throws; a down server, a timeout or a write attempt is `!ok`.
SqlRows mysqlQueryReadOnly(const MysqlParams& params, const std::string& query, Deadline deadline);

}  // namespace mxpulse::probes
